"""Incremental planning: each pair's next due moment and change counter, and the program-wide plan.

Every existing pair starts out as changed, so the first tick after the upgrade plans them all once.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pairplan",
        sa.Column("pair_id", sa.String(), sa.ForeignKey("pair.id"), primary_key=True),
        sa.Column("changes", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("planned_changes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("planned_at", sa.DateTime(), nullable=True),
        sa.Column("next_due_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_pairplan_next_due_at", "pairplan", ["next_due_at"])
    op.create_index("ix_pairplan_planned_at", "pairplan", ["planned_at"])
    changed = sa.text("changes != planned_changes")
    op.create_index("ix_pairplan_changed", "pairplan", ["pair_id"], sqlite_where=changed, postgresql_where=changed)
    op.execute("INSERT INTO pairplan (pair_id, changes, planned_changes) SELECT id, 1, 0 FROM pair")
    op.create_table(
        "programplan",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("planned_at", sa.DateTime(), nullable=True),
        sa.Column("next_due_at", sa.DateTime(), nullable=True),
        sa.Column("fingerprint", sa.String(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("programplan")
    op.drop_index("ix_pairplan_changed", "pairplan")
    op.drop_index("ix_pairplan_planned_at", "pairplan")
    op.drop_index("ix_pairplan_next_due_at", "pairplan")
    op.drop_table("pairplan")
