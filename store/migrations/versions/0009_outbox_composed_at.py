"""The outbox remembers when a mail was composed: a pair's calendar starts when its welcome went out.

A pairing mail that goes out late (the daemon first ran weeks into the round, or was down) makes
the pair's intro reminders, nudges, topics and check-ins count from the day it was sent, not from
the roster's start date (DESIGN.md, "Catching up"). Rows from before this revision were composed
when they were due, as far as anyone can tell now: `composed_at` is their `due_at`.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outboxmessage", sa.Column("composed_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE outboxmessage SET composed_at = due_at")


def downgrade() -> None:
    op.drop_column("outboxmessage", "composed_at")
