"""Benchmarks (not tests): `make bench`, or `.venv/bin/python -m tests.bench.run`. See run.py."""

import sys
from pathlib import Path

# tests/conftest.py imports its neighbours (postgres_server) as pytest lets it, from tests/ itself:
# every benchmark that builds a test Program needs tests/ on the path too.
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.append(_TESTS)
