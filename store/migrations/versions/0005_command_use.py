"""Commands are once-only per mail they answer (a replayed command mail changes nothing).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commanduse",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("replied_to", sa.String(), nullable=False),
        sa.Column("command", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("replied_to", "command"),
    )


def downgrade() -> None:
    op.drop_table("commanduse")
