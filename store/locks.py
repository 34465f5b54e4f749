"""Locks between daemons sharing one store: who migrates, who plans, who watches a mailbox.

On PostgreSQL several daemons may share one database (DESIGN.md, "Several daemons"), so the work
only one of them may do at a time is guarded by advisory locks: they live in the server, vanish with
the connection that holds them (a daemon that dies frees its locks at once, and another takes over
at its next try), and need no table. Every lock is named; its 64-bit key is derived from the name, so
two programs' daemons on one server do not collide as long as their databases differ (advisory locks
are per database).

SQLite is one daemon's store: `SingleDaemon` holds an exclusive `flock` on a file beside the
database for the life of `run`, so a second `run` on the same file is refused with a clear message
instead of fighting over SQLite's write lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

MIGRATIONS = "migrations"
PLANNER = "planner"
PROGRAM_SYNC = "program-sync"


def imap_watcher(mailbox: str) -> str:
    """The lock of one IMAP mailbox's watcher (one per mailbox, however many daemons)."""
    return f"imap-watcher:{mailbox}"


def message(message_hash: str) -> str:
    """The lock of one message while a daemon decides it (its keyed hash: no Message-ID in it)."""
    return f"message:{message_hash}"


def key(name: str) -> int:
    """A signed 64-bit advisory-lock key for a lock's name (PostgreSQL's bigint)."""
    digest = hashlib.blake2b(f"mentormail:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def wait_in_transaction(connection: Connection, name: str) -> None:
    """Wait for the named lock and hold it until the connection's transaction ends (migrations:
    the second daemon waits for the first's upgrade, then finds the schema at head)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key(name)})


@contextmanager
def held_if_free(engine: Engine, name: str) -> Iterator[bool]:
    """Take the named lock if no other daemon holds it; yields whether this one has it, and frees it
    at the end. The lock lives on a connection of its own, kept for the block, so it is held across
    the block's short transactions (a planner tick commits every 100 pairs) and freed if the process
    dies. On SQLite there is one daemon (`SingleDaemon`), so the lock is always this daemon's."""
    if not is_postgresql(engine):
        yield True
        return
    with engine.connect() as connection:
        taken = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key(name)}).scalar())
        connection.commit()  # the lock is the session's, not the transaction's: end the transaction
        try:
            yield taken
        finally:
            if taken:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key(name)})
                connection.commit()


class AnotherDaemon(Exception):
    """A second `run` on a SQLite store that a daemon already serves; one line."""


class SingleDaemon:
    """For SQLite, the claim of one `run` on the database file; a no-op for other databases."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        database = parsed.database if parsed.get_backend_name() == "sqlite" else None
        self.path = Path(database + ".daemon-lock") if database not in (None, "", ":memory:") else None
        self._descriptor: int | None = None

    def __enter__(self) -> SingleDaemon:
        if self.path is None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise AnotherDaemon(
                f"another mentormail daemon is already running on {self.path.with_suffix('')}: "
                "a SQLite store serves one daemon (for several, use PostgreSQL: README, 'Several daemons')"
            ) from None
        self._descriptor = descriptor
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
            os.close(self._descriptor)
            self._descriptor = None
