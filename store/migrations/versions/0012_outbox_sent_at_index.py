"""An index on the outbox's `sent_at`: the send rate counts the mail sent in the last minute and day.

Delivery keeps to `[delivery] max_messages_per_minute` / `max_messages_per_day` (the providers'
sending limits: Exchange Online 30 a minute, Google Workspace 2,000 a day) by counting the rows
sent since a moment, before every claim; without the index that count reads every mail the
program ever sent.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outboxmessage_sent_at", "outboxmessage", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_outboxmessage_sent_at", "outboxmessage")
