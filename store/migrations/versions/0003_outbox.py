"""The outbox (the program's own mail) and questions kept until a digest forwards them.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outboxmessage",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(), nullable=False, unique=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("pair_id", sa.String(), nullable=True),
        sa.Column("recipients", sa.String(), nullable=False),
        sa.Column("envelope_sender", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_outboxmessage_kind", "outboxmessage", ["kind"])
    op.create_index("ix_outboxmessage_pair_id", "outboxmessage", ["pair_id"])
    op.create_index("ix_outboxmessage_status", "outboxmessage", ["status"])
    op.create_table(
        "questionmessage",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_hash", sa.String(), nullable=False, unique=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("forwarded_in", sa.Integer(), sa.ForeignKey("outboxmessage.id"), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("questionmessage")
    op.drop_table("outboxmessage")
