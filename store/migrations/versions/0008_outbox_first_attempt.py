"""The outbox remembers when a mail was first tried: delivery's retry window counts from then.

Counted from the mail's due time instead, mail that fell due while the daemon was down (or
before a relay was reachable) was given up at its first failure. A mail already being retried
at the upgrade gets its whole window from the upgrade on: when it was first tried is not known,
and giving it more time loses nothing.

Revision ID: 0008
Revises: 0007
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outboxmessage", sa.Column("first_attempt_at", sa.DateTime(), nullable=True))
    # Stored moments are naive UTC (store/queries/times.py), bound from Python so that SQLite and
    # PostgreSQL store the same value.
    op.get_bind().execute(
        sa.text("UPDATE outboxmessage SET first_attempt_at = :now WHERE status = 'pending' AND attempts > 0"),
        {"now": datetime.now(timezone.utc).replace(tzinfo=None)},
    )


def downgrade() -> None:
    op.drop_column("outboxmessage", "first_attempt_at")
