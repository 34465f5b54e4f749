"""Group commit over SMTP: the daemon's own SMTP handler and intake (as `mentormail run` builds
them) on an in-process aiosmtpd server, a real SQLite file, and real smtplib clients on parallel
connections.

To put several messages in one batch for certain, a test holds the database's write lock (as
another writer would) until every message is in intake's hands: they then wait together for the
next commit. Failures are SQLite's own, made with triggers: a statement refused (one message's
savepoint is undone) or a COMMIT refused (the whole batch is).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from conftest import PROGRAM_ADDRESS, Program, free_port, message, send_each, wait_until
from mentormail.daemon.intake.ingest import Intake
from mentormail.daemon.intake.smtp import IntakeHandler, server_class
from mentormail.daemon.service import build_intake, open_store
from mentormail.daemon.settings import load_settings

OK = 250
TRY_AGAIN_LATER = 451

# Every transaction that records a contact breaks a deferred foreign key, so SQLite refuses its
# COMMIT while each statement succeeds: the commit itself fails, as on a disk that fills up.
BREAK_COMMITS = (
    "CREATE TABLE commit_guard (id INTEGER PRIMARY KEY)",
    "CREATE TABLE commit_breaker (guard INTEGER REFERENCES commit_guard (id) DEFERRABLE INITIALLY DEFERRED)",
    "CREATE TRIGGER break_commit AFTER INSERT ON contactevent BEGIN INSERT INTO commit_breaker VALUES (-1); END",
)
# One pair's contacts are refused, statement by statement: only the messages about it fail.
REFUSE_P2 = (
    (
        "CREATE TRIGGER refuse_p2 BEFORE INSERT ON contactevent WHEN NEW.pair_id = 'p2'"
        " BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ),
)


# Failures injected through SQLite itself (triggers, its write lock): the PostgreSQL run has its own tests.
pytestmark = pytest.mark.sqlite


@dataclass
class Server:
    port: int
    intake: Intake
    database: Path

    def contacts(self) -> list[tuple[str, str]]:
        """(pair, keyed message hash) of every contact event, as the file has them."""
        with closing(sqlite3.connect(self.database)) as db:
            return db.execute("SELECT pair_id, message_hash FROM contactevent ORDER BY id").fetchall()

    @contextmanager
    def write_locked(self, *, then: tuple[str, ...] = ()) -> Iterator[None]:
        """Hold the write lock for the block; on leaving, run the statements `then` in the same
        transaction and let the lock go with its COMMIT."""
        with closing(sqlite3.connect(self.database, timeout=30, isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                for statement in then:
                    db.execute(statement)
                db.execute("COMMIT")

    def run_sql(self, *statements: str) -> None:
        with closing(sqlite3.connect(self.database, timeout=30)) as db:
            for statement in statements:
                db.execute(statement)
            db.commit()


class _IntakeController(Controller):
    """aiosmtpd's Controller serving the daemon's own SMTP class (its line limit)."""

    def factory(self) -> SMTP:
        return server_class(False)(self.handler, hostname="example.org", ident="mentormail")


@pytest.fixture
def server(program: Program) -> Iterator[Server]:
    settings = load_settings(program.config)
    store = open_store(settings)
    intake = build_intake(settings, store)
    handler = IntakeHandler(intake, settings.program.address, lmtp=False)
    controller = _IntakeController(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield Server(controller.port, intake, program.database)
    finally:
        controller.stop()
        handler.close()
        store.close()


def in_parallel(port: int, shares: list[list[EmailMessage]]) -> Callable[[], list[list[int]]]:
    """Start one connection per share now; the returned call waits for them and gives their codes."""
    results: list[list[int]] = [[] for _ in shares]
    errors: list[BaseException] = []

    def client(index: int) -> None:
        try:
            results[index] = send_each(port, shares[index])
        except BaseException as exc:  # surfaced in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(shares))]
    for thread in threads:
        thread.start()

    def finish() -> list[list[int]]:
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        return results

    return finish


def copies(count: int, pairs: tuple[tuple[str, str], ...]) -> list[EmailMessage]:
    return [message(pairs[i % len(pairs)][0], [pairs[i % len(pairs)][1]], [PROGRAM_ADDRESS]) for i in range(count)]


P1, P2, P3 = (
    ("ana@example.org", "ben@example.net"),
    ("cleo@example.net", "ana@example.org"),
    ("dev@example.org", "eve@example.com"),
)


def test_parallel_connections_each_get_250_and_every_message_is_counted_once(server: Server) -> None:
    messages = copies(120, (P1, P2, P3))
    # Every fourth message is also sent on another connection at the same time (a CC copy and a
    # BCC copy of one mail): the two may land in one batch, and still count once.
    again = messages[::4]
    shares = [messages[i::6] for i in range(6)] + [again[::-1]]
    codes = in_parallel(server.port, shares)()
    assert all(code == OK for share in codes for code in share)
    recorded = server.contacts()
    assert len(recorded) == len(messages)
    assert len(set(recorded)) == len(recorded)
    assert sorted(pair for pair, _ in recorded) == sorted(["p1", "p2", "p3"] * 40)


def test_a_batch_whose_commit_fails_answers_451_to_each_of_its_messages_and_stores_none(server: Server) -> None:
    messages = copies(8, (P1, P2, P3))
    with server.write_locked(then=BREAK_COMMITS):
        finish = in_parallel(server.port, [[m] for m in messages])
        # All eight wait on the lock: at most two batches (the one whose BEGIN waits, and the
        # rest, queued behind it), and both fail at COMMIT once the lock is let go.
        wait_until(lambda: server.intake.in_hand == len(messages), timeout=60)
    assert [codes for codes in finish()] == [[TRY_AGAIN_LATER]] * len(messages)
    assert server.contacts() == []

    # What the sending servers do next: try again, and each is counted once.
    server.run_sql("DROP TRIGGER break_commit")
    assert in_parallel(server.port, [[m] for m in messages])() == [[OK]] * len(messages)
    assert len(server.contacts()) == len(messages)


def test_a_message_that_fails_alone_is_undone_alone_and_its_batch_commits(server: Server) -> None:
    messages = copies(9, (P1, P2, P3))  # every third about p2, which the store now refuses
    server.run_sql(*REFUSE_P2)
    with server.write_locked():
        finish = in_parallel(server.port, [[m] for m in messages])
        wait_until(lambda: server.intake.in_hand == len(messages), timeout=60)
    codes = [share[0] for share in finish()]
    assert codes == [OK, TRY_AGAIN_LATER, OK] * 3
    assert sorted(pair for pair, _ in server.contacts()) == ["p1"] * 3 + ["p3"] * 3
