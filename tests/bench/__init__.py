"""Benchmarks (not tests): `make bench`, or `.venv/bin/python -m tests.bench.run`. See run.py."""
