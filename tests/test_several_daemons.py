"""Several daemons on one store: refused on SQLite, taking turns on PostgreSQL (issue 11).

A SQLite file serves one `mentormail run`; a second one on the same file must say so in one line
rather than fight over SQLite's write lock. On PostgreSQL several daemons share one database, and
daemons starting together on an empty database must not race each other through the migrations.
"""

from __future__ import annotations

import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import postgres_server
import pytest
from conftest import (
    MENTORMAIL,
    PROGRAM_ADDRESS,
    Daemon,
    Program,
    free_port,
    message,
    send_each,
    wait_for_port,
    wait_until,
)

STARTUP_TIMEOUT = 120  # seconds: generous, the machines are busy


def sharing(first: Program, root: Path, url: str) -> Program:
    """A second program folder (own port, config, log) whose store is `url`."""
    root.mkdir()
    second = Program(root, free_port())
    second.store_url = url
    second.write_config()
    return second


def test_a_second_daemon_on_one_sqlite_file_is_refused_in_one_line(tmp_path: Path) -> None:
    first = Program(tmp_path / "first", free_port()) if (tmp_path / "first").mkdir() is None else None
    assert first is not None
    if not first.on_sqlite:
        pytest.skip("about SQLite files; the PostgreSQL run has its own tests below")
    first.cli("import-roster", str(first.root / "roster.csv"))
    second = sharing(first, tmp_path / "second", f"sqlite:///{first.database}")
    running = Daemon(first).start()
    try:
        refused = subprocess.run(
            [*MENTORMAIL, "-c", str(second.config), "run"],
            capture_output=True, text=True, cwd=second.root, timeout=STARTUP_TIMEOUT,
        )
        assert refused.returncode == 1
        assert refused.stderr.strip().splitlines() == [
            f"mentormail: another mentormail daemon is already running on {first.database}: a SQLite store "
            "serves one daemon (for several, use PostgreSQL: README, 'Several daemons')"
        ]
        assert running.process is not None and running.process.poll() is None  # the first goes on
    finally:
        assert running.stop() == 0
    # Once the first has stopped, the file is free again.
    again = Daemon(second).start()
    assert again.stop() == 0


def test_three_daemons_starting_together_on_an_empty_postgresql_database_all_come_up(tmp_path: Path) -> None:
    url = postgres_server.cluster().empty_database()
    programs = []
    for name in ("one", "two", "three"):
        (tmp_path / name).mkdir()
        program = Program(tmp_path / name, free_port())
        program.store_url = url
        program.write_config()
        programs.append(program)
    daemons = [Daemon(program) for program in programs]
    for daemon in daemons:  # all three at once: nothing has migrated the database yet
        daemon.log_path = daemon.program.root / "daemon.log"
        with daemon.log_path.open("ab") as log:
            daemon.process = subprocess.Popen(
                [*MENTORMAIL, "-c", str(daemon.program.config), "run"],
                stdout=log, stderr=subprocess.STDOUT, cwd=daemon.program.root,
            )
    try:
        for daemon in daemons:
            wait_for_port(daemon.program.smtp_port, daemon.process, timeout=STARTUP_TIMEOUT)
        time.sleep(1)
        for daemon in daemons:
            assert daemon.process is not None and daemon.process.poll() is None, daemon.log()
            assert "Traceback" not in daemon.log() and "UniqueViolation" not in daemon.log()
        revisions = programs[0].sql("SELECT version_num FROM alembic_version")
        assert len(revisions) == 1
        programs[0].cli("import-roster", str(programs[0].root / "roster.csv"))
        status = programs[1].cli("status", "--json")  # another daemon's config, the same database
        assert '"p1"' in status.stdout
    finally:
        codes = [daemon.stop() for daemon in daemons]  # every one stopped, whatever the first says
        assert codes == [0] * len(daemons), [daemon.log() for daemon in daemons]


def two_daemons_on_one_postgresql_database(tmp_path: Path) -> tuple[list[Program], list[Daemon]]:
    url = postgres_server.cluster().new_database()
    programs = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        program = Program(tmp_path / name, free_port())
        program.store_url = url
        program.write_config()
        programs.append(program)
    # One program, one secret: the daemons recognise a message by its hash keyed with it.
    (programs[1].root / "secret").write_text((programs[0].root / "secret").read_text())
    programs[0].cli("import-roster", str(programs[0].root / "roster.csv"))
    return programs, [Daemon(program).start() for program in programs]


def test_the_same_messages_sent_to_two_daemons_at_once_are_decided_once(tmp_path: Path) -> None:
    """Issue 11: 300 messages to both daemons at once gave 300 events but 304 logged `contact`
    outcomes; for a reply, the effect could have been applied twice."""
    programs, daemons = two_daemons_on_one_postgresql_database(tmp_path)
    copies = [
        message("ana@example.org", ["ben@example.net"], cc=[PROGRAM_ADDRESS], message_id=f"<race-{n}@example.org>")
        for n in range(300)
    ]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda program: send_each(program.smtp_port, copies), programs))
        assert answers == [[250] * 300, [250] * 300]
        logs = "".join(daemon.log() for daemon in daemons)
        assert logs.count("contact via smtp") == 300
        assert logs.count("duplicate via smtp") == 300
        assert programs[0].sql("SELECT count(*) FROM contactevent") == [(300,)]
    finally:
        codes = [daemon.stop() for daemon in daemons]  # every one stopped, whatever the first says
        assert codes == [0] * len(daemons), [daemon.log() for daemon in daemons]


@pytest.mark.dovecot
def test_one_daemon_watches_a_mailbox_and_another_takes_over_when_it_dies(tmp_path: Path, dovecot) -> None:  # type: ignore[no-untyped-def]
    from test_imap_daemon import append, inbox_count, use_mailbox

    programs, daemons = two_daemons_on_one_postgresql_database(tmp_path)
    for daemon in daemons:
        daemon.stop()
    account = use_mailbox(programs[0], dovecot)
    programs[1].write_config(extra=programs[0].extra_config)  # the same mailbox in both configs
    first, second = (Daemon(program).start() for program in programs)
    try:
        copy = message("ana@example.org", ["ben@example.net"], cc=[PROGRAM_ADDRESS])
        append(dovecot, account, copy.as_bytes())
        wait_until(lambda: inbox_count(dovecot, account) == 0, timeout=60)
        wait_until(lambda: "standing by" in second.log(), timeout=60)
        assert "standing by" not in first.log()
        first.stop(signal.SIGKILL)  # its lock goes with its connection
        later = message("ben@example.net", ["ana@example.org"], cc=[PROGRAM_ADDRESS])
        append(dovecot, account, later.as_bytes())
        wait_until(lambda: inbox_count(dovecot, account) == 0, timeout=120)  # within STANDBY_POLL
        assert programs[1].contacts()["p1"] == (1, 1)
    finally:
        codes = [daemon.stop() for daemon in (first, second) if daemon.process is not None]
    assert codes == [0]
