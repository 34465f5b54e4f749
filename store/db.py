"""The engine, its sessions, and the migrations applied at start.

SQLite is the embedded default. It runs in WAL mode so that `status` can read while the daemon
writes, with `synchronous=FULL` because an SMTP `250` promises the event is on disk, and with a
busy timeout because the SMTP and IMAP intakes commit from different threads.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

from . import locks

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class StoreDescription:
    """Where a store URL leads, for `check-config`: reached without changing anything."""

    database: str  # "SQLite file PATH" | "PostgreSQL 15.18 at HOST:PORT/NAME"
    revision: str | None  # the schema revision it holds; None: no schema yet
    head: str  # the newest revision this release knows
    # round id -> its pairs, in a store that has rounds (revision 0013 on): which rounds the
    # config must keep listing.
    rounds_with_pairs: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        if self.revision is None:
            state = "no schema yet (the first `run` or `import-roster` creates it)"
        elif self.revision == self.head:
            state = f"schema revision {self.revision}, current"
        else:
            state = f"schema revision {self.revision}; the next start migrates it to {self.head}"
        return f"store: {self.database}: {state}"


def describe(url: str) -> StoreDescription:
    """Reach the store without migrating or creating it; raises SQLAlchemyError if it cannot be reached."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head() or ""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.exists():
            return StoreDescription(f"SQLite file {path} (not created yet)", None, head)
        url = f"sqlite:///file:{path}?mode=ro&uri=true"  # read-only: checking changes nothing
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            version = connection.dialect.server_version_info or ()
            # A store with no schema yet has no pair table to inspect (an empty PostgreSQL database).
            has_rounds = bool(revision) and "round_id" in {c["name"] for c in inspect(connection).get_columns("pair")}
            rounds = connection.execute(_ROUNDS_WITH_PAIRS).all() if has_rounds else []
    finally:
        engine.dispose()
    if parsed.get_backend_name() == "sqlite":
        where = f"SQLite file {parsed.database}"
    else:
        server = ".".join(str(part) for part in version[:2])
        name = _SERVER_NAMES.get(parsed.get_backend_name(), parsed.get_backend_name())
        where = f"{name} {server} at {parsed.host}:{parsed.port or 5432}/{parsed.database}"
    return StoreDescription(where, revision, head, dict(rounds))  # type: ignore[arg-type]


_ROUNDS_WITH_PAIRS = text("SELECT round_id, count(*) FROM pair GROUP BY round_id")


_SERVER_NAMES = {"postgresql": "PostgreSQL"}


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


class Store:
    """One database: open it with `Store.open(url)`, then use `with store.session() as s:`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, durable: bool = True) -> Store:
        """`durable=False` is for a scratch copy (`simulate`): SQLite then does not wait for the
        disk at each commit, since nothing in it must survive a crash."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas if durable else _scratch_pragmas)
        store = cls(engine)
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> None:
        """Bring the schema to the newest revision; a no-op when it is already there. On
        PostgreSQL, daemons starting together take turns (an advisory lock for the transaction):
        the first upgrades, the others then find the schema at head."""
        config = _alembic_config()
        with self.engine.begin() as connection:
            locks.wait_in_transaction(connection, locks.MIGRATIONS)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @property
    def shared(self) -> bool:
        """Whether other daemons may use this store at the same time (PostgreSQL; SQLite serves one)."""
        return locks.is_postgresql(self.engine)

    def lock_if_free(self, name: str) -> AbstractContextManager[bool]:
        """The named lock between daemons (store/locks.py), if no other daemon holds it."""
        return locks.held_if_free(self.engine, name)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A short session: commits when the block ends normally, rolls back on an exception."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def compact(self) -> bool:
        """Rewrite the store so that deleted rows leave no bytes behind (`forget`); False when
        another process kept the WAL from being emptied. SQLite: VACUUM rebuilds the file
        (secure_delete already zeroes freed pages; VACUUM also drops the old copies of pages),
        and a TRUNCATE checkpoint before and after empties the WAL, which VACUUM itself writes
        through. PostgreSQL: VACUUM marks the dead rows' space for reuse; their bytes stay in the
        server's files until overwritten (README, "Erasure")."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            if locks.is_postgresql(self.engine):
                connection.exec_driver_sql("VACUUM")
                return True
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.exec_driver_sql("VACUUM")
            for _ in range(20):  # a daemon's reader holds the WAL for a moment at most
                busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
                if not busy:
                    return True
                time.sleep(0.5)
            return False

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten, not left in free pages: `forget` must really forget.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _scratch_pragmas(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()
