"""The initial schema: program, people, pairs, contact events, intake records, IMAP checkpoints.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "program",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("aliases", sa.String(), nullable=False),
    )
    op.create_index("ix_person_email", "person", ["email"], unique=True)
    op.create_table(
        "pair",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("mentor_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("mentee_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.UniqueConstraint("mentor_id", "mentee_id"),
    )
    op.create_index("ix_pair_mentor_id", "pair", ["mentor_id"])
    op.create_index("ix_pair_mentee_id", "pair", ["mentee_id"])
    op.create_table(
        "contactevent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pair_id", sa.String(), sa.ForeignKey("pair.id"), nullable=False),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("message_hash", sa.String(), nullable=False),
        sa.UniqueConstraint("pair_id", "message_hash"),
    )
    op.create_index("ix_contactevent_pair_id", "contactevent", ["pair_id"])
    op.create_table(
        "intakerecord",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("message_hash", sa.String(), nullable=False),
        sa.UniqueConstraint("message_hash", "outcome", "address"),
    )
    op.create_index("ix_intakerecord_outcome", "intakerecord", ["outcome"])
    op.create_table(
        "imapcheckpoint",
        sa.Column("mailbox_key", sa.String(), primary_key=True),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in ("imapcheckpoint", "intakerecord", "contactevent", "pair", "person", "program"):
        op.drop_table(table)
