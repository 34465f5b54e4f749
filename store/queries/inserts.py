"""Writing a row once: an INSERT that a row already there (same unique key) leaves alone."""

from __future__ import annotations

from sqlalchemy import Insert, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

# One statement per (dialect, table), built once: constructing an INSERT ... ON CONFLICT and
# working out its cache key cost more than SQLite's running it (issue 8's intake profile).
_IGNORING_REPEAT: dict[tuple[str, str], Insert] = {}


def ignoring_repeat(dialect: str, table: Table) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING into `table`, values given at execution."""
    key = (dialect, table.name)
    statement = _IGNORING_REPEAT.get(key)
    if statement is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = _IGNORING_REPEAT[key] = insert(table).on_conflict_do_nothing()
    return statement


def insert_ignoring_repeat(session: Session, table: type, values: dict[str, object]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: two intakes racing on one message count it once."""
    statement = ignoring_repeat(session.get_bind().dialect.name, table.__table__)  # type: ignore[attr-defined]
    session.execute(statement, values)
