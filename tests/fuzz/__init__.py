"""Fuzzing intake, the reply parsers and the planner tick (issue 7, item 6): `python -m tests.fuzz`.

(The design notes are completed below once the harness is in place.)
"""

from __future__ import annotations

import sys
from pathlib import Path

# The test suite's helpers (conftest.Program, in_process, corpus_labels) import one another as
# top-level modules, the way pytest puts tests/ on the path; the fuzz does the same to reuse them.
TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
