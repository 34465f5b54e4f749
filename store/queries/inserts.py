"""Writing a row once: an INSERT that a row already there (same unique key) leaves alone."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session


def insert_ignoring_repeat(session: Session, table: type, values: dict[str, object]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: two intakes racing on one message count it once."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(table).values(**values).on_conflict_do_nothing())
