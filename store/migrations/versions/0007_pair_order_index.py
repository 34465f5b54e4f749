"""An index on the pairs in the order status and export list them (start, then id).

`export contacts` joins each pair's months to the pairs in that order: with the index SQLite
reads the pairs already sorted and sorts only each pair's few months.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_pair_started_on_id", "pair", ["started_on", "id"])


def downgrade() -> None:
    op.drop_index("ix_pair_started_on_id", "pair")
