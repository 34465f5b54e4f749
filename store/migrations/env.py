"""Alembic environment: migrations run on the connection that `store.db.migrate` hands over.

There is no alembic.ini; the daemon applies migrations itself at start, so an operator never
runs Alembic by hand. A developer adds a revision with `make migration MESSAGE="..."`.
"""

from alembic import context

from mentormail.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from sqlmodel import SQLModel

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
)
with context.begin_transaction():
    context.run_migrations()
