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
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, literal, null
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from ..models import ContactEvent, IntakeRecord, Pair, Person, SurveyResponse
from ..outcomes import OutcomeKind
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


def pair_activity(session: Session, pair_id: str | None = None) -> list[PairActivity]:
    """Every pair (or the one named), in the order status lists them: by start, then id.

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
    bouncing = set(session.exec(select(IntakeRecord.person_id).where(IntakeRecord.outcome == OutcomeKind.BOUNCE.value)))
    return [
        PairActivity(
            pair_id=pid,
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


class MonthlyContacts(NamedTuple):
    """One pair's contacts in one month; the fields in the order the export's columns have."""

    pair_id: str
    mentor: str
    mentee: str
    month: str  # YYYY-MM in the program's time zone
    mentor_to_mentee: int
    mentee_to_mentor: int
    email: int
    phone: int
    meeting: int


def monthly_contacts(session: Session, zone: ZoneInfo) -> Iterator[MonthlyContacts]:
    """Per pair and month (local time), every month from the pair's start to its last contact,
    pairs by start then id; yielded as the query returns them.

    The month of an event is decided in SQL by comparing its UTC time with the UTC instants at
    which the program's local months begin, computed here with zoneinfo (`_month_segments`):
    plain comparisons of the stored UTC values, the same on SQLite and PostgreSQL, correct
    across clock changes, with no time-zone support asked of the database. Converting in SQL
    would need the zone database inside SQLite; grouping by a UTC month and moving the events
    near a boundary afterwards would need a second pass over them.
    """
    first, last = session.exec(select(func.min(ContactEvent.occurred_at), func.max(ContactEvent.occurred_at))).one()
    month = _month_case(_month_segments(as_utc(first), as_utc(last), zone)) if first is not None else null()
    # The month is computed in a subquery and grouped by its name outside: grouping by the CASE
    # itself would bind its boundaries twice, and PostgreSQL refuses that (GroupingError).
    labelled = select(
        col(ContactEvent.pair_id).label("pair_id"),
        col(ContactEvent.direction).label("direction"),
        col(ContactEvent.channel).label("channel"),
        month.label("month"),
    ).subquery("labelled")
    per_month = (
        select(
            labelled.c.pair_id,
            labelled.c.month,
            *(
                func.count().filter(column == value).label(value)
                for column, value in (
                    (labelled.c.direction, MENTOR_TO_MENTEE),
                    (labelled.c.direction, MENTEE_TO_MENTOR),
                    (labelled.c.channel, "email"),
                    (labelled.c.channel, "phone"),
                    (labelled.c.channel, "meeting"),
                )
            ),
        )
        .group_by(labelled.c.pair_id, labelled.c.month)
        .subquery("per_month")
    )
    mentor, mentee = aliased(Person), aliased(Person)
    # Grouped by pair and month first (the events sorted once), then joined to the pairs in
    # their order (ix_pair_started_on_id): sorting the events by the pairs' order instead
    # joined every event to its pair and took twice as long.
    query = (
        select(
            Pair.id,
            mentor.email,
            mentee.email,
            Pair.started_on,
            per_month.c.month,
            per_month.c.mentor_to_mentee,
            per_month.c.mentee_to_mentor,
            per_month.c.email,
            per_month.c.phone,
            per_month.c.meeting,
        )
        .join(mentor, col(mentor.id) == Pair.mentor_id)
        .join(mentee, col(mentee.id) == Pair.mentee_id)
        .outerjoin(per_month, per_month.c.pair_id == Pair.id)
        .order_by(col(Pair.started_on), col(Pair.id), per_month.c.month)
    )
    rows = session.connection().execute(query).yield_per(STREAM_BATCH)
    pair: tuple[str, str, str, date] | None = None
    counted: dict[str, Sequence[int]] = {}
    for pair_id, mentor_email, mentee_email, started_on, label, *counts in rows:
        if pair is None or pair_id != pair[0]:
            if pair is not None:
                yield from _pair_months(*pair, counted)
            pair, counted = (pair_id, mentor_email, mentee_email, started_on), {}
        if label is not None:
            counted[label] = counts
    if pair is not None:
        yield from _pair_months(*pair, counted)


_NO_CONTACT = (0, 0, 0, 0, 0)


def _pair_months(
    pair_id: str, mentor: str, mentee: str, started_on: date, counted: dict[str, Sequence[int]]
) -> Iterator[MonthlyContacts]:
    start = started_on.strftime("%Y-%m")
    for label in _month_range(min(start, *counted) if counted else start, max(start, *counted) if counted else start):
        yield MonthlyContacts(pair_id, mentor, mentee, label, *counted.get(label, _NO_CONTACT))


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


def _month_case(segments: Sequence[tuple[datetime, str]]) -> ColumnElement[str]:
    """The month of `occurred_at`, as a CASE that halves the segments at each level: an event
    is compared with about log2(months) boundaries, however long the span of the store."""
    occurred_at = col(ContactEvent.occurred_at)
    if len(segments) == 1:
        return literal(segments[0][1])
    middle = len(segments) // 2
    # The column type stores UTC; it takes aware datetimes only.
    boundary = segments[middle][0].astimezone(timezone.utc)
    return case(
        (occurred_at < boundary, _month_case(segments[:middle])),
        else_=_month_case(segments[middle:]),
    )


@lru_cache(maxsize=1024)  # most pairs share their first and last month
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
    updated_at: datetime
    answers: dict[str, object]


def survey_rows(session: Session) -> Iterator[SurveyRow]:
    """One row per person, survey and pair, in survey then person order; yielded as read."""
    query = (
        select(
            SurveyResponse.survey_id,
            Person.email,
            Person.name,
            SurveyResponse.pair_id,
            SurveyResponse.updated_at,
            SurveyResponse.answers,
        )
        .join(Person, col(Person.id) == SurveyResponse.person_id)
        .order_by(col(SurveyResponse.survey_id), col(SurveyResponse.person_id), col(SurveyResponse.id))
        .execution_options(yield_per=STREAM_BATCH)
    )
    for survey_id, email, name, pair_id, updated_at, answers in session.exec(query):
        yield SurveyRow(survey_id, email, name, pair_id, as_utc(updated_at), json.loads(answers))
