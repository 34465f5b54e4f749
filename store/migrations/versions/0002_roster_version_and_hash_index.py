"""Roster version (so intake can cache the roster) and an index on contact message hashes.

`seen_before` looks events up by message_hash alone; the unique key (pair_id, message_hash)
starts with pair_id, so without this index every message scanned the whole table.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("program") as batch:
        batch.add_column(sa.Column("roster_version", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_contactevent_message_hash", "contactevent", ["message_hash"])


def downgrade() -> None:
    op.drop_index("ix_contactevent_message_hash", "contactevent")
    with op.batch_alter_table("program") as batch:
        batch.drop_column("roster_version")
