# The README's two commands: `make run` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG := config/example.toml
# How long `make fuzz` feeds inputs; CI runs a one-minute fuzz after the tests.
FUZZ_SECONDS ?= 600

.PHONY: run test bench bench-scale fuzz install lock clean

# A fresh virtual environment with the pinned versions (requirements.lock), then the project.
$(BIN)/mentormail: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/mentormail

# The secret that keys Message-ID hashes: made once, readable by its owner only.
var/secret:
	mkdir -p var
	umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_hex(32))' > $@

run: install var/secret
	$(BIN)/mentormail -c $(CONFIG) check-config
	$(BIN)/mentormail -c $(CONFIG) import-roster config/roster.example.csv
	$(BIN)/mentormail -c $(CONFIG) run

# Workers for the suite (pytest-xdist): its tests mostly wait on subprocesses, sockets and servers,
# each worker starting its own Dovecot and PostgreSQL cluster. PYTEST_WORKERS=0 runs it serially in
# one process; PYTEST_ARGS passes more options (a file, -k, --durations=25).
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

test: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m tests.bench.run

# status, export, import-roster (and the planner's and the summary's figures) at 100, 1,000 and
# 10,000 pairs beside their ceilings (tests/bench/README.md, "Scale"). BENCH_SCALE_ARGS passes
# options: --sizes 100,1000 --only status --rebuild.
bench-scale: install
	$(BIN)/python -m tests.bench.scale $(BENCH_SCALE_ARGS)

# Mutated corpus and synthetic mail through intake, the reply parsers and a planner tick (tests/fuzz);
# fails on unhandled errors or inputs with no outcome. FUZZ_ARGS passes more options (see --help).
fuzz: install
	$(BIN)/python -m tests.fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_ARGS)

# After changing dependencies in pyproject.toml: record the exact versions that were tested.
lock:
	$(BIN)/pip freeze --exclude-editable | grep -v '^mentormail' > requirements.lock

clean:
	rm -rf $(VENV) var *.egg-info
