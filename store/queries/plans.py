"""The planner's bookkeeping: which pairs need planning, what changed, and the program-wide plan.

Incremental planning (DESIGN.md section 4) rests on one rule: whoever writes something a pair's
mail is planned from raises that pair's `PairPlan.changes` in the same transaction. The writers
are few and all here in store/: contacts (intake, reported calls, the simulator), survey answers
(a person's pairs), a pair's status (its members' pairs), the roster import (every pair). The
program-wide mail needs no such hook: its inputs are compared by `program_fingerprint`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, union, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from ..models import (
    CheckinReply,
    IntakeRecord,
    LetterRequest,
    OutboxMessage,
    Pair,
    PairPlan,
    Program,
    ProgramPlan,
    QuestionMessage,
    SurveyResponse,
)
from .times import as_utc

# SQLite allows 32,766 bound parameters; IN lists are cut well below that.
IN_CHUNK = 500


@dataclass(frozen=True)
class PairToPlan:
    pair_id: str
    changes: int  # the value planned from: written back as `planned_changes`


def pairs_changed(session: Session, pair_ids: Iterable[str]) -> None:
    """Something these pairs' own mail depends on changed (a contact): plan them again."""
    for chunk in in_chunks(sorted(set(pair_ids))):
        session.execute(
            update(PairPlan).where(PairPlan.pair_id.in_(chunk)).values(changes=PairPlan.changes + 1)  # type: ignore[attr-defined]
        )


def people_changed(session: Session, person_ids: Iterable[int]) -> None:
    """Something about these people changed (a survey answer, a pair's status): every pair of
    theirs is planned again, since a person's survey is timed by all their pairs."""
    for chunk in in_chunks(sorted(set(person_ids))):
        pairs = select(Pair.id).where(or_(Pair.mentor_id.in_(chunk), Pair.mentee_id.in_(chunk)))  # type: ignore[attr-defined]
        session.execute(
            update(PairPlan).where(PairPlan.pair_id.in_(pairs)).values(changes=PairPlan.changes + 1)  # type: ignore[attr-defined]
        )


def roster_changed(session: Session) -> None:
    """After an import: every pair is planned again (a roster import is rare, and replanning
    all pairs is bounded work done a batch at a time), a new pair with the rest."""
    adopt_new_pairs(session)
    session.execute(update(PairPlan).values(changes=PairPlan.changes + 1))


def adopt_new_pairs(session: Session) -> None:
    """A row for every pair that has none, as changed: the import makes them, and the tick checks
    (two counts) so that a pair made any other way is planned too."""
    pairs = session.execute(select(func.count()).select_from(Pair)).scalar()
    plans = session.execute(select(func.count()).select_from(PairPlan)).scalar()
    if pairs != plans:
        missing = select(Pair.id, 1, 0).where(Pair.id.not_in(select(PairPlan.pair_id)))  # type: ignore[attr-defined]
        columns = ["pair_id", "changes", "planned_changes"]
        session.execute(PairPlan.__table__.insert().from_select(columns, missing))  # type: ignore[attr-defined]


def pairs_to_plan(session: Session, now: datetime, after: str, limit: int) -> list[PairToPlan]:
    """Up to `limit` pairs, in id order after `after`, that changed or whose moment has come.

    So does a pair planned for a later time than `now` (a clock set back, `simulate` on a copy of
    the store): what is due at a moment is then the same whatever was planned before. Paging by
    id makes a tick end even while intake keeps changing pairs. Three indexed reads, one per
    reason (an OR of them would scan every pair), so a tick with nothing to do costs the same
    at any size.
    """
    reasons = (
        PairPlan.changes != PairPlan.planned_changes,  # the partial index ix_pairplan_changed
        PairPlan.next_due_at <= now,  # type: ignore[operator]
        PairPlan.planned_at > now,  # type: ignore[operator]
    )
    found = union(
        *(select(PairPlan.pair_id, PairPlan.changes).where(PairPlan.pair_id > after, reason) for reason in reasons)
    ).subquery()
    rows = session.execute(select(found.c.pair_id, found.c.changes).order_by(found.c.pair_id).limit(limit))
    return [PairToPlan(pair_id, changes) for pair_id, changes in rows]


def record_pair_plans(session: Session, now: datetime, plans: Iterable[tuple[PairToPlan, datetime | None]]) -> None:
    """Each pair planned from `changes`, with its next due moment. A change that landed since it
    was read has raised `changes` past the value written here, so the pair is planned again."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [
        {"pair_id": pair.pair_id, "changes": pair.changes, "planned_changes": pair.changes, "planned_at": now,
         "next_due_at": next_due_at}
        for pair, next_due_at in plans
    ]  # fmt: skip
    for start in range(0, len(rows), IN_CHUNK // 5):  # five parameters a row
        statement = insert(PairPlan).values(rows[start : start + IN_CHUNK // 5])
        planned = {name: statement.excluded[name] for name in ("planned_changes", "planned_at", "next_due_at")}
        session.execute(statement.on_conflict_do_update(index_elements=["pair_id"], set_=planned))


def next_planned_moment(session: Session) -> datetime | None:
    """The earliest moment at which the planner has anything to do (for `simulate`'s jumps)."""
    pairs = session.execute(select(func.min(PairPlan.next_due_at))).scalar()
    program = session.execute(select(ProgramPlan.next_due_at).where(ProgramPlan.id == 1)).scalar()
    moments = [as_utc(m) for m in (pairs, program) if m is not None]
    return min(moments, default=None)


# --- the program-wide plan ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramPlanRow:
    planned_at: datetime
    next_due_at: datetime | None
    fingerprint: str

    def current(self, now: datetime, fingerprint: str) -> bool:
        """Nothing to plan: the same inputs, and `now` between the last plan and the next moment."""
        return (
            fingerprint == self.fingerprint
            and self.planned_at <= now
            and (self.next_due_at is None or now < self.next_due_at)
        )


def program_plan(session: Session) -> ProgramPlanRow | None:
    row = session.get(ProgramPlan, 1)
    if row is None or row.planned_at is None:
        return None
    return ProgramPlanRow(as_utc(row.planned_at), as_utc(row.next_due_at) if row.next_due_at else None, row.fingerprint)


def record_program_plan(session: Session, planned_at: datetime, next_due_at: datetime | None, fingerprint: str) -> None:
    row = session.get(ProgramPlan, 1) or ProgramPlan(id=1)
    row.planned_at, row.next_due_at, row.fingerprint = planned_at, next_due_at, fingerprint
    session.add(row)


def program_fingerprint(session: Session) -> str:
    """What the committee's mail is planned from, in a few indexed reads: the roster's version,
    the newest row of each table the digest, the summary and the survey results read, and the
    counts that a decision changes (questions forwarded, mail given up, letters decided). Any
    new question, bounce, failure, letter request or answer changes it.

    Newest by id: on SQLite ids follow commit order. On PostgreSQL a row committed after one
    with a higher id is seen at the next program-wide moment instead (the next digest time, at
    most a day), which the digest's own "since the last digest" window makes harmless.
    """
    roster = session.execute(select(Program.roster_version).where(Program.id == 1)).scalar() or 0
    parts: list[object] = [roster]
    for table in (IntakeRecord, QuestionMessage, LetterRequest, SurveyResponse, CheckinReply):
        parts.append(session.execute(select(func.max(table.id))).scalar())  # type: ignore[attr-defined]
    unforwarded = select(func.count()).where(QuestionMessage.forwarded_in.is_(None))  # type: ignore[union-attr]
    failed = select(func.count()).where(OutboxMessage.status == "failed")
    requested = select(func.count()).where(LetterRequest.status == "requested")
    parts.extend(session.execute(statement).scalar() for statement in (unforwarded, failed, requested))
    return " ".join(str(part) for part in parts)


def in_chunks(items: Collection[str] | Collection[int]) -> Iterable[list]:  # type: ignore[type-arg]
    """`items` in lists short enough for an IN (...) of bound parameters."""
    listed = list(items)
    for start in range(0, len(listed), IN_CHUNK):
        yield listed[start : start + IN_CHUNK]
