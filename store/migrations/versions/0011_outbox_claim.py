"""The outbox's claims: a daemon claims the mail it is about to send, for a lease.

Several daemons on one PostgreSQL database deliver the same outbox (DESIGN.md, "Several daemons").
A daemon first claims a few due rows (`claimed_until`, taken with `FOR UPDATE SKIP LOCKED`, so two
daemons never claim the same row), sends them, and marks each sent or failed, which ends its claim.
A daemon that dies holding claims leaves them to expire: another sends that mail then, so a kill
repeats at most the one mail it was sending. Rows from before this revision are unclaimed.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outboxmessage", sa.Column("claimed_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("outboxmessage", "claimed_until")
