"""A copy of one store's rows into another (`simulate` on a PostgreSQL store).

`simulate` works on a scratch SQLite copy so that the real store is never written. A SQLite store
is copied with SQLite's online backup; any other is copied table by table here, in one repeatable-read
transaction on the source (a consistent snapshot while the daemons go on writing) and in chunks of
bounded size, parents before children.
"""

from __future__ import annotations

from sqlalchemy import Engine, insert, select
from sqlmodel import SQLModel

from . import models  # noqa: F401  (the tables, declared on SQLModel.metadata)

CHUNK = 2_000  # rows per INSERT: bounded memory at any size


def copy_rows(source: Engine, target: Engine) -> int:
    """Copy every table's rows from `source` into `target` (migrated to the same revision, with no
    rows yet); the number of rows copied."""
    copied = 0
    with source.connect().execution_options(isolation_level="REPEATABLE READ") as reading, target.begin() as writing:
        for table in SQLModel.metadata.sorted_tables:
            rows = reading.execution_options(yield_per=CHUNK).execute(select(table))
            for chunk in rows.partitions(CHUNK):
                writing.execute(insert(table), [row._asdict() for row in chunk])
                copied += len(chunk)
    return copied
