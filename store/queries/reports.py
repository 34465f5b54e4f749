"""Reading for status and export: each pair's activity, contacts per month, survey answers,
the days since a pair's last contact.

Every aggregate is one grouped query: the database counts the events, Python sees a row per
pair (status) or per pair and month (export), never one per event. The export's rows are
yielded as the database returns them, so that `export contacts` writes as it reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, case, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from ..models import ContactEvent, IntakeRecord, Pair, Person, SurveyResponse
from ..outcomes import OutcomeKind
from .rounds import roster_pair_id
from .times import as_utc

MENTOR_TO_MENTEE, MENTEE_TO_MENTOR = "mentor_to_mentee", "mentee_to_mentor"
# Rows fetched at a time while an export streams.
STREAM_BATCH = 2_000


@dataclass(frozen=True)
class PairActivity:
    pair_id: str
    mentor: str
    mentee: str
    status: str
    started_on: date
    mentor_to_mentee: int
    mentee_to_mentor: int
    self_reported: int
    last_contact: datetime | None
    bouncing: bool


def pair_activity(session: Session, pair_id: str | None = None, round_id: str | None = None) -> list[PairActivity]:
    """Every pair of the round (or the one named by its key), in the order status lists them: by
    start, then id (ix_pair_round_started_on_id). `pair_id` of each is the roster's, as people
    name it within the round.

    One query: the events grouped by pair alone (read in the order of the pair_id index, with
    no sort), the counts taken with FILTER. Grouping by an expression (`channel != 'email'`)
    made PostgreSQL refuse the query, since the SELECT and the GROUP BY bound their own copies
    of the literal.
    """
    email = col(ContactEvent.channel) == "email"
    direction = col(ContactEvent.direction)
    events = (
        select(
            col(ContactEvent.pair_id).label("pair_id"),
            func.count().filter(email & (direction == MENTOR_TO_MENTEE)).label("mentor_to_mentee"),
            func.count().filter(email & (direction == MENTEE_TO_MENTOR)).label("mentee_to_mentor"),
            func.count().filter(~email).label("self_reported"),
            func.max(ContactEvent.occurred_at).label("last_contact"),
        )
        .group_by(col(ContactEvent.pair_id))
        .subquery("events")
    )
    mentor, mentee = aliased(Person), aliased(Person)
    query = (
        select(
            Pair.id,
            mentor.email,
            mentee.email,
            Pair.status,
            Pair.started_on,
            Pair.mentor_id,
            Pair.mentee_id,
            events.c.mentor_to_mentee,
            events.c.mentee_to_mentor,
            events.c.self_reported,
            events.c.last_contact,
        )
        .join(mentor, col(mentor.id) == Pair.mentor_id)
        .join(mentee, col(mentee.id) == Pair.mentee_id)
        .outerjoin(events, events.c.pair_id == Pair.id)
        .order_by(col(Pair.started_on), col(Pair.id))
    )
    if pair_id is not None:
        query = query.where(Pair.id == pair_id)
    if round_id is not None:
        query = query.where(Pair.round_id == round_id)
    bouncing = set(session.exec(select(IntakeRecord.person_id).where(IntakeRecord.outcome == OutcomeKind.BOUNCE.value)))
    return [
        PairActivity(
            pair_id=roster_pair_id(pid),
            mentor=mentor_email,
            mentee=mentee_email,
            status=status,
            started_on=started_on,
            mentor_to_mentee=to_mentee or 0,
            mentee_to_mentor=to_mentor or 0,
            self_reported=reported or 0,
            last_contact=last,
            bouncing=mentor_id in bouncing or mentee_id in bouncing,
        )
        for (
            pid,
            mentor_email,
            mentee_email,
            status,
            started_on,
            mentor_id,
            mentee_id,
            to_mentee,
            to_mentor,
            reported,
            last,
        ) in session.exec(query)
    ]


# One pair's contacts in one month, in the export's column order: pair_id, mentor, mentee,
# month (YYYY-MM in the program's time zone), mentor_to_mentee, mentee_to_mentor, email, phone,
# meeting. A plain tuple: an export of 10,000 pairs makes ~100,000 of them.
MonthlyContacts = tuple[str, str, str, str, int, int, int, int, int]


def monthly_contacts(session: Session, zone: ZoneInfo, through: date, round_id: str) -> Iterator[MonthlyContacts]:
    """Per pair of the round (its roster pair_id) and month (local time), pairs by start then id,
    months in order: every month
    from the pair's start (or an earlier contact) to `through`'s month (the round so far) or
    its last contact, whichever is later. A month without contact is a row of zeros: those are
    the quiet pairs a coordinator looks for. Yielded a pair at a time, as the query returns them.

    One query, in the pairs' order (ix_pair_round_started_on_id): for each pair, its events (found by
    ix_contactevent_pair_id) counted per month by direction and channel, and those few counts
    handed back as one short JSON text per pair (`[[n, a, b, c, d, e], ...]`). Counting each
    pair's events apart sorts 50 events 10,000 times instead of 500,000 events once, and needs
    no sort into the pairs' order afterwards: at 10,000 pairs the query costs 1.3-1.5 times a
    bare `GROUP BY pair_id, direction`, where grouping every event by pair and month, then
    joining the groups to the pairs and to a grid of months, cost 2.3-2.7 times. Python sees a
    row per pair and month, never one per event; the months without contact are the gaps it
    fills between the counted ones.

    The month of an event is decided in SQL by comparing its UTC time with the UTC instants at
    which the program's local months begin, computed here with zoneinfo (`_month_segments`):
    plain comparisons of the stored UTC values, the same on SQLite and PostgreSQL, correct
    across clock changes, with no time-zone support asked of the database. Converting in SQL
    would need the zone database inside SQLite; grouping by a UTC month and moving the events
    near a boundary afterwards would need a second pass over them.
    """
    in_round = select(Pair.id).where(Pair.round_id == round_id)
    first, last = session.exec(
        select(func.min(ContactEvent.occurred_at), func.max(ContactEvent.occurred_at)).where(
            col(ContactEvent.pair_id).in_(in_round)
        )
    ).one()
    segments = _month_segments(as_utc(first), as_utc(last), zone) if first is not None else []
    first_start = session.exec(select(func.min(Pair.started_on)).where(Pair.round_id == round_id)).one()
    if first_start is None:
        return  # no pairs, no rows
    # Every month a row can be in, numbered: from the earliest start or contact to the latest
    # contact or `through` (a pair starting later has its own month added below).
    labels = [_label(first_start), _label(through), *(label for _, label in segments)]
    months = list(_month_range(min(labels), max(labels)))
    number = {label: n for n, label in enumerate(months)}

    # Each of a pair's events with its month's number, grouped by that number one level up:
    # grouping by the CASE itself would bind its boundaries twice, and PostgreSQL refuses that.
    pieces = [(start, number[label]) for start, label in segments]
    month = _halving_case(col(ContactEvent.occurred_at), pieces) if pieces else literal(0)
    events = (
        select(
            col(ContactEvent.direction).label("direction"),
            col(ContactEvent.channel).label("channel"),
            month.label("n"),
        )
        .where(col(ContactEvent.pair_id) == col(Pair.id))
        .correlate(Pair)
        .subquery("events")
    )
    per_month = (
        select(
            events.c.n,
            *(
                func.count().filter(column_ == value).label(value)
                for column_, value in (
                    (events.c.direction, MENTOR_TO_MENTEE),
                    (events.c.direction, MENTEE_TO_MENTOR),
                    (events.c.channel, "email"),
                    (events.c.channel, "phone"),
                    (events.c.channel, "meeting"),
                )
            ),
        )
        .group_by(events.c.n)
        .subquery("per_month")
    )
    counted = select(_json_rows(per_month.c.n, *(per_month.c[name] for name in COUNTS))).scalar_subquery()
    mentor, mentee = aliased(Person), aliased(Person)
    query = (
        select(col(Pair.id), mentor.email, mentee.email, col(Pair.started_on), counted)
        .join(mentor, col(mentor.id) == Pair.mentor_id)
        .join(mentee, col(mentee.id) == Pair.mentee_id)
        .where(Pair.round_id == round_id)
        .order_by(col(Pair.started_on), col(Pair.id))
    )
    last_so_far = number[_label(through)]
    for pair_id, mentor_email, mentee_email, started_on, cells in session.connection().execute(query).yield_per(
        STREAM_BATCH
    ):
        own = _label(started_on)
        if own not in number:  # a pair starting after every contact and after `through`
            months.extend(_month_range(months[-1], own)[1:])
            number.update((label, n) for n, label in enumerate(months))
        by_month, roster_id = _parse_cells(cells), roster_pair_id(pair_id)
        lo = min(number[own], *by_month) if by_month else number[own]
        hi = max(number[own], last_so_far, *by_month)
        for n in range(lo, hi + 1):
            yield (roster_id, mentor_email, mentee_email, months[n], *by_month.get(n, _NO_CONTACT))


COUNTS = (MENTOR_TO_MENTEE, MENTEE_TO_MENTOR, "email", "phone", "meeting")
_NO_CONTACT = (0,) * len(COUNTS)


def _parse_cells(cells: str | None) -> dict[int, tuple[int, ...]]:
    """A pair's `[[n, a, b, c, d, e], ...]` as {n: (a, b, c, d, e)}."""
    return {n: tuple(counts) for n, *counts in json.loads(cells)} if cells else {}


class _json_rows(FunctionElement[str]):
    """The rows of a group as one JSON text, `[[a, b, ...], ...]`: a pair's few months handed back
    in one value, parsed by the json module's C code (SQLite and PostgreSQL spell it apart)."""

    type = String()
    inherit_cache = True
    name = "json_rows"


@compiles(_json_rows)
def _json_rows_sqlite(element: _json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(_json_rows, "postgresql")
def _json_rows_postgresql(element: _json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    # As text, so that the driver hands back what SQLite does (psycopg would decode json itself).
    return f"CAST(json_agg(json_build_array({compiler.process(element.clauses, **kw)})) AS TEXT)"


def _label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _month_segments(first: datetime, last: datetime, zone: ZoneInfo) -> list[tuple[datetime, str]]:
    """(from, month) pieces of UTC time covering `first` to `last`: from each instant on, up to
    the next, local time is in that month. The first piece starts at `first`.

    A month begins at local midnight on its first day, which a clock change can skip or repeat,
    or a change can step back over (Chile's clocks go back at midnight): so both readings of the
    midnight are candidates, with the change between them, and each piece is named by the month
    local time is actually in at its start.
    """

    def month_at(instant: datetime) -> str:
        return instant.astimezone(zone).strftime("%Y-%m")

    starts: set[datetime] = set()
    year, month = first.astimezone(zone).year, first.astimezone(zone).month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        readings = {datetime(year, month, 1, fold=fold, tzinfo=zone).astimezone(timezone.utc) for fold in (0, 1)}
        if min(readings) > last:
            break
        starts |= readings
        if len(readings) == 2:
            starts.add(_offset_change(min(readings), max(readings), zone))
    segments = [(first, month_at(first))]
    for start in sorted(starts):
        if first < start and month_at(start) != segments[-1][1]:
            segments.append((start, month_at(start)))
    return segments


def _offset_change(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant in (before, after] with the offset `after` has: the clock change."""
    offset = after.astimezone(zone).utcoffset()
    while after - before > timedelta(microseconds=1):
        middle = before + (after - before) / 2
        if middle.astimezone(zone).utcoffset() == offset:
            after = middle
        else:
            before = middle
    return after


def _halving_case(occurred_at: ColumnElement[datetime], pieces: Sequence[tuple[datetime, int]]) -> ColumnElement[int]:
    """The number of the piece `occurred_at` falls in, of (from, number) pieces in order, as a
    CASE that halves the pieces at each level: an event is compared with about log2(months)
    boundaries, however long the span of the store. Before the first boundary is the first piece."""
    if len(pieces) == 1:
        return literal(pieces[0][1])
    middle = len(pieces) // 2
    # The column type stores UTC; it takes aware datetimes only.
    boundary = pieces[middle][0].astimezone(timezone.utc)
    return case(
        (occurred_at < boundary, _halving_case(occurred_at, pieces[:middle])),
        else_=_halving_case(occurred_at, pieces[middle:]),
    )


def _month_range(first: str, last: str) -> tuple[str, ...]:
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


def days_since_contact(session: Session, pair_id: str, now: datetime) -> int | None:
    last = session.exec(select(func.max(ContactEvent.occurred_at)).where(ContactEvent.pair_id == pair_id)).one()
    return (now - as_utc(last)).days if last else None


@dataclass(frozen=True)
class SurveyRow:
    survey_id: str
    email: str
    name: str
    pair_id: str
    role: str  # mentor | mentee: the person's side of the pair the answers are about
    updated_at: datetime
    answers: dict[str, object]


def survey_rows(session: Session, round_id: str) -> Iterator[SurveyRow]:
    """One row per person, survey and pair of the round, in survey then person order; yielded as read."""
    query = (
        select(
            SurveyResponse.survey_id,
            Person.email,
            Person.name,
            SurveyResponse.pair_id,
            case((col(Pair.mentor_id) == SurveyResponse.person_id, "mentor"), else_="mentee"),
            SurveyResponse.updated_at,
            SurveyResponse.answers,
        )
        .join(Person, col(Person.id) == SurveyResponse.person_id)
        .join(Pair, col(Pair.id) == SurveyResponse.pair_id)
        .where(Pair.round_id == round_id)
        .order_by(col(SurveyResponse.survey_id), col(SurveyResponse.person_id), col(SurveyResponse.id))
        .execution_options(yield_per=STREAM_BATCH)
    )
    for survey_id, email, name, pair_id, role, updated_at, answers in session.exec(query):
        yield SurveyRow(survey_id, email, name, roster_pair_id(pair_id), role, as_utc(updated_at), json.loads(answers))
