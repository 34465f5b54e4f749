"""Replies to the program's mail: survey answers, check-ins, letter requests, the audit trail.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("staff", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "surveyresponse",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("survey_id", sa.String(), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("pair_id", sa.String(), sa.ForeignKey("pair.id"), nullable=False),
        sa.Column("answers", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("survey_id", "person_id", "pair_id"),
    )
    op.create_table(
        "checkinreply",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pair_id", sa.String(), sa.ForeignKey("pair.id"), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("wants_contact", sa.Boolean(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("pair_id", "month"),
    )
    op.create_table(
        "letterrequest",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("pair_id", sa.String(), sa.ForeignKey("pair.id"), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
    )
    op.create_table(
        "auditentry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("coordinator", sa.String(), nullable=False),
        sa.Column("command", sa.String(), nullable=False),
        sa.Column("result", sa.String(), nullable=False),
    )


def downgrade() -> None:
    for table in ("auditentry", "letterrequest", "checkinreply", "surveyresponse"):
        op.drop_table(table)
    with op.batch_alter_table("person") as batch:
        batch.drop_column("staff")
