"""Reading for status and export: each pair's activity, contacts per month, survey answers,
the days since a pair's last contact.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from ..models import ContactEvent, IntakeRecord, Pair, Person, SurveyResponse
from ..outcomes import OutcomeKind
from .times import as_utc


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


def pair_activity(session: Session) -> list[PairActivity]:
    people = {p.id: p.email for p in session.exec(select(Person))}
    counts: dict[tuple[str, str, bool], int] = {}
    last: dict[str, datetime] = {}
    rows = session.exec(
        select(
            ContactEvent.pair_id,
            ContactEvent.direction,
            ContactEvent.channel != "email",
            func.count(),
            func.max(ContactEvent.occurred_at),
        ).group_by(ContactEvent.pair_id, ContactEvent.direction, ContactEvent.channel != "email")
    )
    for pair_id, direction, reported, count, latest in rows:
        counts[(pair_id, direction, bool(reported))] = count
        last[pair_id] = max(latest, last.get(pair_id, latest))
    bouncing = set(session.exec(select(IntakeRecord.person_id).where(IntakeRecord.outcome == OutcomeKind.BOUNCE.value)))
    result = []
    for pair in session.exec(select(Pair).order_by(Pair.started_on, Pair.id)):

        def n(direction: str, reported: bool) -> int:
            return counts.get((pair.id, direction, reported), 0)

        result.append(
            PairActivity(
                pair_id=pair.id,
                mentor=people[pair.mentor_id],
                mentee=people[pair.mentee_id],
                status=pair.status,
                started_on=pair.started_on,
                mentor_to_mentee=n("mentor_to_mentee", False),
                mentee_to_mentor=n("mentee_to_mentor", False),
                self_reported=n("mentor_to_mentee", True) + n("mentee_to_mentor", True),
                last_contact=last.get(pair.id),
                bouncing=bool({pair.mentor_id, pair.mentee_id} & bouncing),
            )
        )
    return result


@dataclass(frozen=True)
class MonthlyContacts:
    pair_id: str
    mentor: str
    mentee: str
    month: str  # YYYY-MM in the program's time zone
    by_direction: dict[str, int]
    by_channel: dict[str, int]


def monthly_contacts(session: Session, zone: ZoneInfo) -> list[MonthlyContacts]:
    """Per pair and month (local time), every month from the pair's start to its last contact."""
    people = {p.id: p.email for p in session.exec(select(Person))}
    pairs = {p.id: p for p in session.exec(select(Pair).order_by(Pair.started_on, Pair.id))}
    directions: dict[tuple[str, str], Counter[str]] = {}
    channels: dict[tuple[str, str], Counter[str]] = {}
    for pair_id, occurred_at, direction, channel in session.exec(
        select(ContactEvent.pair_id, ContactEvent.occurred_at, ContactEvent.direction, ContactEvent.channel)
    ):
        month = as_utc(occurred_at).astimezone(zone).strftime("%Y-%m")
        directions.setdefault((pair_id, month), Counter())[direction] += 1
        channels.setdefault((pair_id, month), Counter())[channel] += 1
    result = []
    for pair in pairs.values():
        months = {month for pid, month in directions if pid == pair.id}
        months.add(pair.started_on.strftime("%Y-%m"))
        for month in _month_range(min(months), max(months)):
            result.append(
                MonthlyContacts(
                    pair.id,
                    people[pair.mentor_id],
                    people[pair.mentee_id],
                    month,
                    dict(directions.get((pair.id, month), {})),
                    dict(channels.get((pair.id, month), {})),
                )
            )
    return result


def _month_range(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


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


def survey_rows(session: Session) -> list[SurveyRow]:
    people = {p.id: p for p in session.exec(select(Person))}
    return [
        SurveyRow(
            r.survey_id,
            people[r.person_id].email,
            people[r.person_id].name,
            r.pair_id,
            as_utc(r.updated_at),
            json.loads(r.answers),
        )
        for r in session.exec(select(SurveyResponse).order_by(SurveyResponse.survey_id, SurveyResponse.person_id))
    ]
