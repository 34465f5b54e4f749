"""Fuzzing intake, the reply parsers and the planner tick (issue 7, item 6).

    make fuzz                                   # 600 s; FUZZ_SECONDS=60 as CI runs it
    .venv/bin/python -m tests.fuzz --inputs 100000 --seconds 0 --workers 2
    .venv/bin/python -m tests.fuzz.minimise /tmp/mentormail-fuzz-XXXX/findings/w0-0001-....eml

What runs (details in each module):
- seeds.py: the test suite's program (conftest.Program, tests/in_process.py) run up to the moment
  the fuzz happens at, so that the store holds the program's real mail; the seeds are every file
  of ../shared/corpus (skipped, with a message, where it is absent) and synthetic mail built from
  that program's mail: partners' CC and BCC copies, replies with tokens (survey answers, check-ins,
  reported calls), a coordinator's commands, questions, DSNs, auto-replies, our own mail looping.
- mutations.py: our mutation engine (blind byte mutations and mail-aware ones).
- structured.py: hypothesis's structured mail, a fifth of the inputs.
- target.py: each input through a real `Intake.ingest` and SQLite store and through the reply
  parsers; a planner tick after every generation of inputs; what counts as a finding.
- worker.py, __main__.py: worker processes under a supervisor, and the report.

Why our own mutation engine and not atheris's (3.0 is installed): `atheris.Mutate` refuses to
run before `atheris.Fuzz()` ("Fuzz() must be called before Mutate() can be called"), and `Fuzz()`
hands the process to libFuzzer for good. libFuzzer then owns the loop: it stops at the first
exception (we count every defect and go on), exits from C when done (no `atexit`, so no planner
tick after the inputs and no report of our own), and without coverage instrumentation it warns
that no input is "interesting" and mutates blindly; with `atheris.instrument_imports()` every
line of the daemon pays for coverage counters, which would distort the per-input
`time.process_time` the issue asks for. Blind byte mutation is easy to write; what finds mail
bugs is knowing mail (a field's name, a boundary, a charset, the roster's addresses), which
libFuzzer's mutator does not. So: mutations.py for bytes, hypothesis for structure.

Throughput: each worker has its own scratch copy of the store, with `synchronous=OFF` (the fuzz's
copy only; production code is unchanged). Most of an input's time is parsing (headers, MIME,
quotes), so more workers scale with free cores.

Reproducing: the run's seed is printed (`--seed`); every failing, slow or hanging input is written
with what it was (seed, mutations, transport) to the findings folder, outside the repository.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The test suite's helpers (conftest.Program, in_process, corpus_labels) import one another as
# top-level modules, the way pytest puts tests/ on the path; the fuzz does the same to reuse them.
TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
