"""A check-in reply keeps the mentor's comment; a question may come from someone not on the roster.

The check-in mail invites "a line or two more", written to the program: the comment is kept for
the liaison summary (`checkinreply.comment`). A stranger's mail to the program ("How do I join?")
is forwarded in the digest like a participant's question, so a question names its writer by
address (`questionmessage.address`) and has no person when the writer is not on the roster.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checkinreply") as batch:
        batch.add_column(sa.Column("comment", sa.Text(), nullable=True))
    with op.batch_alter_table("questionmessage") as batch:
        batch.add_column(sa.Column("address", sa.String(), nullable=True))
        batch.alter_column("person_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM questionmessage WHERE person_id IS NULL")
    with op.batch_alter_table("questionmessage") as batch:
        batch.alter_column("person_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("address")
    with op.batch_alter_table("checkinreply") as batch:
        batch.drop_column("comment")
