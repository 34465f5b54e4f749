"""What is kept of a round after `[privacy] keep_days_after_round`: `roundpurge` (which rounds are
being or have been purged, and when) and `roundtally` (their counts), issue 12, part 3.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roundpurge",
        sa.Column("round_id", sa.String(), primary_key=True),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("people_forgotten", sa.Integer(), nullable=False),
    )
    op.create_table(
        "roundtally",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("month", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.UniqueConstraint("round_id", "kind", "month", "name", "value"),
    )
    op.create_index("ix_roundtally_round_id", "roundtally", ["round_id"])


def downgrade() -> None:
    op.drop_index("ix_roundtally_round_id", "roundtally")
    op.drop_table("roundtally")
    op.drop_table("roundpurge")
