"""The daemon as a user runs it (`mentormail run`), reading a real Dovecot mailbox over IMAP.

Catch-up after downtime, IDLE while running, copies gone after logging, SMTP and IMAP copies of
one message counted once, and a SIGKILL in the middle of a catch-up that loses nothing and
counts nothing twice.
"""

from __future__ import annotations

import re
import signal
import smtplib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from conftest import PROGRAM_ADDRESS, Daemon, Program, message, wait_until
from dovecot_server import Dovecot

pytestmark = pytest.mark.dovecot


def use_mailbox(program: Program, dovecot: Dovecot, after_logging: str = "delete") -> tuple[str, str]:
    username, password = dovecot.add_user("mentoring")
    program.write_config(
        extra=f"""
[intake.imap]
enabled = true
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{username}"
password = "{password}"
after_logging = "{after_logging}"
"""
    )
    return username, password


def append(dovecot: Dovecot, account: tuple[str, str], *messages: bytes) -> None:
    with dovecot.client(*account) as client:
        for raw in messages:
            client.append("INBOX", raw)


def inbox_count(dovecot: Dovecot, account: tuple[str, str]) -> int:
    with dovecot.client(*account) as client:
        return client.select_folder("INBOX", readonly=True)[b"EXISTS"]


def total_contacts(program: Program) -> int:
    return sum(a + b for a, b in program.contacts().values())


def test_catch_up_then_idle_and_copies_are_deleted_after_logging(
    program: Program, daemon: Daemon, dovecot: Dovecot
) -> None:
    account = use_mailbox(program, dovecot)
    # Arrived while the daemon was down.
    append(
        dovecot,
        account,
        message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]).as_bytes(),
        message("eve@example.com", ["dev@example.org"]).as_bytes(),  # a BCC copy
        message("ben@example.net", [PROGRAM_ADDRESS], subject="How do I report a call?").as_bytes(),
    )
    daemon.start()
    wait_until(lambda: total_contacts(program) == 2)
    # Arrives while it runs: IDLE brings it in.
    append(dovecot, account, message("cleo@example.net", ["ana@example.org"], [PROGRAM_ADDRESS]).as_bytes())
    wait_until(lambda: total_contacts(program) == 3)
    # The three contact copies are gone; the question stays for a coordinator to read.
    wait_until(lambda: inbox_count(dovecot, account) == 1)
    assert daemon.stop() == 0
    assert program.contacts() == {"p1": (1, 0), "p2": (0, 1), "p3": (0, 1)}


def test_the_same_message_over_smtp_and_imap_counts_once(program: Program, daemon: Daemon, dovecot: Dovecot) -> None:
    account = use_mailbox(program, dovecot)
    copy = message("dev@example.org", ["eve@example.com"], [PROGRAM_ADDRESS])
    daemon.start()
    with smtplib.SMTP("127.0.0.1", program.smtp_port, timeout=30) as smtp:
        smtp.send_message(copy, to_addrs=[PROGRAM_ADDRESS])
    append(dovecot, account, copy.as_bytes())
    wait_until(lambda: inbox_count(dovecot, account) == 0)  # logged (as a duplicate) and removed
    daemon.stop()
    assert program.contacts()["p3"] == (1, 0)


def committed_contacts(database: Path) -> int:
    """Contact events committed so far, read straight from the file: a CLI call is too slow to poll."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return db.execute("SELECT count(*) FROM contactevent").fetchone()[0]


@pytest.mark.sqlite
def test_sigkill_during_catch_up_loses_nothing_and_counts_nothing_twice(
    program: Program, daemon: Daemon, dovecot: Dovecot
) -> None:
    account = use_mailbox(program, dovecot, after_logging="keep")
    total = 1000  # five of the watcher's batches
    pairs = [("ana@example.org", "ben@example.net"), ("cleo@example.net", "ana@example.org")]
    raws = [
        message(*[[a] if i else a for i, a in enumerate(pairs[n % 2])], [PROGRAM_ADDRESS]).as_bytes()
        for n in range(total)
    ]
    with dovecot.client(*account) as client:
        client.multiappend("INBOX", raws)
    daemon.start()
    wait_until(lambda: program.database.exists() and committed_contacts(program.database) > 0, interval=0.005)
    # Hold the database's write lock while killing: the daemon can commit nothing more, so the count
    # read under the lock is exactly what the killed daemon had committed, however fast this machine is.
    with closing(sqlite3.connect(program.database, timeout=30, isolation_level=None)) as db:
        db.execute("BEGIN IMMEDIATE")
        counted_before_kill = db.execute("SELECT count(*) FROM contactevent").fetchone()[0]
        (checkpoint_before_kill,) = db.execute("SELECT last_uid FROM imapcheckpoint").fetchone()
        daemon.stop(signal.SIGKILL)
        db.execute("ROLLBACK")
    assert 0 < counted_before_kill < total, "the kill should land in the middle of the catch-up"
    assert committed_contacts(program.database) == counted_before_kill
    # The checkpoint was committed with the events of its batch: it names exactly the last
    # message counted, so the restart reads on from there.
    assert checkpoint_before_kill == counted_before_kill

    daemon.start()
    wait_until(lambda: total_contacts(program) == total, timeout=60)
    daemon.stop()
    assert program.contacts() == {"p1": (total // 2, 0), "p2": (0, total // 2), "p3": (0, 0)}
    assert inbox_count(dovecot, account) == total  # after_logging = "keep"


def test_a_wrong_password_backs_off_and_says_so(program: Program, daemon: Daemon, dovecot: Dovecot) -> None:
    """A refused login is not retried every few seconds (servers lock an account after a few
    failures): the wait doubles from `auth_retry_seconds` (a second here, a minute by default),
    and the log says what failed in words an operator acts on."""
    username, _ = use_mailbox(program, dovecot)
    program.write_config(extra=program.extra_config.replace('password = "', 'password = "wrong-') + AUTH_RETRY)
    refused = re.compile(
        rf"ERROR mentormail\.imap: authentication failed for {re.escape(username)} at {dovecot.host}; "
        r"next try in (\d+) s\b"
    )

    def waits() -> list[int]:
        return [int(wait) for wait in refused.findall(daemon.log())]

    daemon.start()
    wait_until(lambda: len(waits()) >= 4, timeout=90)
    assert waits()[:4] == [1, 2, 4, 8]
    assert daemon.stop() == 0
    # Dovecot saw as many attempts as the log says, not one every second.
    attempts = len(re.findall(rf"auth failed.*user=<{re.escape(username)}>", dovecot.log_text()))
    assert 4 <= attempts <= len(waits()) + 1


def test_once_the_password_is_right_the_watcher_logs_in_at_its_next_try(
    program: Program, daemon: Daemon, dovecot: Dovecot
) -> None:
    username, password = use_mailbox(program, dovecot)
    program.write_config(extra=program.extra_config.replace('password = "', 'password = "wrong-') + AUTH_RETRY)
    append(dovecot, (username, password), message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]).as_bytes())
    daemon.start()
    wait_until(lambda: "authentication failed for" in daemon.log(), timeout=60)
    # The operator changes the account's password to the one the config holds.
    passwd = dovecot.passwd.read_text(encoding="utf-8")
    dovecot.passwd.write_text(
        passwd.replace(f"{username}:{{PLAIN}}{password}:", f"{username}:{{PLAIN}}wrong-{password}:")
    )
    wait_until(lambda: total_contacts(program) == 1, timeout=60)
    assert daemon.stop() == 0


AUTH_RETRY = "auth_retry_seconds = 1\n"
