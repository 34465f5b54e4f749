"""`mentormail check-config` says which store it reached and the schema revision it holds (issue 11),
changing nothing; a store it cannot reach is a one-line error."""

from __future__ import annotations

import re
from pathlib import Path

import postgres_server
from conftest import Program, free_port

HEAD = sorted(p.name[:4] for p in (Path(__file__).parents[1] / "store/migrations/versions").glob("0*.py"))[-1]


def store_line(program: Program) -> str:
    lines = program.cli("check-config").stdout.splitlines()
    return next(line for line in lines if line.startswith("store: "))


def test_an_imported_program_names_its_store_and_a_current_schema(program: Program) -> None:
    line = store_line(program)
    where = f"SQLite file {program.database}" if program.on_sqlite else r"PostgreSQL \d+\.\d+ at 127\.0\.0\.1:\d+/\w+"
    assert re.fullmatch(f"store: {where}: schema revision {HEAD}, current", line), line


def test_a_store_not_made_yet_is_said_so_and_not_made(tmp_path: Path) -> None:
    fresh = Program(tmp_path, free_port())
    if not fresh.on_sqlite:
        fresh.store_url = postgres_server.cluster().empty_database()
        fresh.write_config()
    line = store_line(fresh)
    assert line.endswith(": no schema yet (the first `run` or `import-roster` creates it)"), line
    if fresh.on_sqlite:
        assert not fresh.database.exists()
    else:
        assert fresh.sql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == [(0,)]


def test_a_store_that_cannot_be_reached_is_one_line(tmp_path: Path) -> None:
    fresh = Program(tmp_path, free_port())
    fresh.store_url = f"postgresql+psycopg://mentormail:hunter2@127.0.0.1:{free_port()}/mentormail"
    fresh.write_config()
    result = fresh.cli("check-config", check=False)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("mentormail: store: cannot reach postgresql+psycopg://mentormail:***@127.0.0.1:"), line
    assert "refused" in line.lower() and "hunter2" not in line


def test_a_command_whose_store_fails_says_so_in_one_line(tmp_path: Path) -> None:
    fresh = Program(tmp_path, free_port())
    fresh.store_url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/mentormail"
    fresh.write_config()
    result = fresh.cli("status", check=False)
    assert result.returncode == 75  # EX_TEMPFAIL: try again later
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("mentormail: the store failed: connection failed:"), line
