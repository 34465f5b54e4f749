"""Rounds: a program runs a round a year, and every pair belongs to one (issue 12, part 1).

A `round` table (the config's rounds, synced at every start) and `pair.round_id`. Every existing
pair goes into round "1", which is what the one-round config (`[program] starts_on`) means, with
the program row's start and months, so nothing is lost and nothing changes meaning: `pair.id`
stays the key every other table refers to (the roster's pair_id in round "1"; `ROUND/PAIR_ID`
in later rounds, DESIGN.md section 7), so no foreign key moves.

The same two people may be paired again in a later round, so the pair's unique key becomes
(round, mentor, mentee). SQLite cannot drop a constraint: the table is made anew. Other tables
refer to `pair`, and with foreign keys on (the store's connections have them on, and PRAGMA
foreign_keys cannot change inside the migration's transaction) dropping it orphans their rows
for a moment; with the checks deferred to the commit, the rows are copied back into the new
`pair` after the old one is gone, which settles every reference before the commit checks them.

Revision ID: 0013
Revises: 0012
"""

import calendar
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

FIRST_ROUND = "1"


def upgrade() -> None:
    op.create_table(
        "round",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
    )
    bind = op.get_bind()
    # Round "1" from the program row (kept in step with [program] at every start). A store with
    # pairs but no program row (made by import-roster alone, never run) takes its earliest pair's
    # start and the default nine months; the first start corrects both from the config.
    program = bind.execute(sa.text("SELECT starts_on, months FROM program WHERE id = 1")).first()
    earliest = bind.execute(sa.text("SELECT min(started_on) FROM pair")).scalar()
    if program is not None or earliest is not None:
        starts_on, months = (program[0], program[1]) if program is not None else (earliest, 9)
        if isinstance(starts_on, str):  # SQLite hands a raw SELECT's date back as its text
            starts_on = date.fromisoformat(starts_on)
        bind.execute(
            sa.text("INSERT INTO round (id, starts_on, months, ends_on) VALUES (:id, :starts_on, :months, :ends_on)"),
            {"id": FIRST_ROUND, "starts_on": starts_on, "months": months, "ends_on": _add_months(starts_on, months)},
        )
    if bind.dialect.name == "sqlite":
        _remake_pair_on_sqlite()
    else:
        op.add_column("pair", sa.Column("round_id", sa.String(), nullable=True))
        op.execute(sa.text(f"UPDATE pair SET round_id = '{FIRST_ROUND}'"))
        op.alter_column("pair", "round_id", nullable=False)
        op.create_foreign_key("fk_pair_round_id", "pair", "round", ["round_id"], ["id"])
        for constraint in sa.inspect(bind).get_unique_constraints("pair"):
            if constraint["column_names"] == ["mentor_id", "mentee_id"]:
                op.drop_constraint(constraint["name"], "pair", type_="unique")
        op.create_unique_constraint("uq_pair_round_mentor_mentee", "pair", ["round_id", "mentor_id", "mentee_id"])
        op.drop_index("ix_pair_started_on_id", "pair")
        op.create_index("ix_pair_round_started_on_id", "pair", ["round_id", "started_on", "id"])


def _remake_pair_on_sqlite() -> None:
    op.execute("PRAGMA defer_foreign_keys = ON")
    op.execute("CREATE TEMPORARY TABLE pair_before_rounds AS SELECT * FROM pair")
    op.execute("DROP TABLE pair")
    op.create_table(
        "pair",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("round_id", sa.String(), sa.ForeignKey("round.id"), nullable=False),
        sa.Column("mentor_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("mentee_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.UniqueConstraint("round_id", "mentor_id", "mentee_id", name="uq_pair_round_mentor_mentee"),
    )
    op.execute(
        f"INSERT INTO pair (id, round_id, mentor_id, mentee_id, status, started_on) "
        f"SELECT id, '{FIRST_ROUND}', mentor_id, mentee_id, status, started_on FROM pair_before_rounds"
    )
    op.execute("DROP TABLE pair_before_rounds")
    op.create_index("ix_pair_mentor_id", "pair", ["mentor_id"])
    op.create_index("ix_pair_mentee_id", "pair", ["mentee_id"])
    op.create_index("ix_pair_round_started_on_id", "pair", ["round_id", "started_on", "id"])


def _add_months(day: date, months: int) -> date:
    """As the planner's calendar counts (the migration may not import the daemon)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def downgrade() -> None:
    raise NotImplementedError("rounds cannot be undone: pairs of later rounds would have nowhere to go")
