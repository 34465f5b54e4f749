"""What the program holds about one participant, for their `my data` request (README "Erasure").

Everything here is the person's own: their name, addresses and aliases; their pairs with the
partner's *name* only (they were introduced by name in the pairing mail, and a pair is told apart
by it; the partner's address, aliases, answers and bounces are the partner's); their pairs'
logged contacts counted by month, direction and channel (both directions: the person wrote or
received each of those mails); their own survey answers; the check-in replies they wrote (a
mentor's: a mentee is never shown what her mentor told the program about her); their letter
requests; and whether mail to them has bounced.

The work is bounded by the person: a few pairs, their events counted in SQL per month (the
months decided as `reports.monthly_contacts` decides them), a few indexed reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from ..models import CheckinReply, ContactEvent, IntakeRecord, LetterRequest, Pair, Person, SurveyResponse
from ..outcomes import OutcomeKind
from .reports import _halving_case, _month_segments
from .times import as_utc


@dataclass(frozen=True)
class HeldPair:
    pair_id: str
    role: str  # mentor | mentee: theirs in the pair
    started_on: date
    status: str
    partner_name: str  # "" when the roster has none; never the partner's address


@dataclass(frozen=True)
class HeldContacts:
    """A pair's logged contacts in one month (the program's time zone)."""

    pair_id: str
    month: str  # YYYY-MM
    mentor_to_mentee: int
    mentee_to_mentor: int
    email: int
    phone: int
    meeting: int


@dataclass(frozen=True)
class HeldSurveyAnswers:
    survey_id: str
    pair_id: str
    answers: dict[str, object]  # question id -> the parsed answer
    updated_at: datetime


@dataclass(frozen=True)
class HeldCheckin:
    pair_id: str
    month: int
    rating: int | None
    wants_contact: bool | None
    comment: str | None
    received_at: datetime


@dataclass(frozen=True)
class HeldLetter:
    pair_id: str
    requested_at: datetime
    status: str
    decided_at: datetime | None


@dataclass(frozen=True)
class HeldData:
    name: str
    email: str
    aliases: tuple[str, ...]
    pairs: tuple[HeldPair, ...]
    contacts: tuple[HeldContacts, ...]  # by pair, then month
    surveys: tuple[HeldSurveyAnswers, ...]
    checkins: tuple[HeldCheckin, ...]
    letters: tuple[HeldLetter, ...]
    bounced_at: datetime | None  # the latest bounce of mail to them; None: none recorded


def held_about(session: Session, person_id: int, zone: ZoneInfo) -> HeldData | None:
    """What is held about the person, or None when there is no such person (forgotten meanwhile)."""
    person = session.get(Person, person_id)
    if person is None:
        return None
    pairs = _pairs(session, person_id)
    pair_ids = [pair.pair_id for pair in pairs]
    mentored = [pair.pair_id for pair in pairs if pair.role == "mentor"]
    surveys = session.exec(
        select(SurveyResponse.survey_id, SurveyResponse.pair_id, SurveyResponse.answers, SurveyResponse.updated_at)
        .where(SurveyResponse.person_id == person_id)
        .order_by(col(SurveyResponse.updated_at), col(SurveyResponse.id))
    ).all()
    checkins = session.exec(
        select(CheckinReply)
        .where(col(CheckinReply.pair_id).in_(mentored))
        .order_by(col(CheckinReply.pair_id), col(CheckinReply.month))
    ).all()
    letters = session.exec(
        select(LetterRequest).where(LetterRequest.person_id == person_id).order_by(col(LetterRequest.id))
    ).all()
    bounced_at = session.exec(
        select(func.max(IntakeRecord.occurred_at)).where(
            IntakeRecord.person_id == person_id, IntakeRecord.outcome == OutcomeKind.BOUNCE.value
        )
    ).one()
    return HeldData(
        name=person.name,
        email=person.email,
        aliases=tuple(person.aliases.split()),
        pairs=pairs,
        contacts=_contacts(session, pair_ids, zone),
        surveys=tuple(
            HeldSurveyAnswers(survey_id, pair_id, answers if isinstance(answers, dict) else json.loads(answers),
                              as_utc(updated_at))
            for survey_id, pair_id, answers, updated_at in surveys
        ),  # fmt: skip
        checkins=tuple(
            HeldCheckin(c.pair_id, c.month, c.rating, c.wants_contact, c.comment, as_utc(c.received_at))
            for c in checkins
        ),
        letters=tuple(
            HeldLetter(letter.pair_id, as_utc(letter.requested_at), letter.status,
                       as_utc(letter.decided_at) if letter.decided_at else None)
            for letter in letters
        ),  # fmt: skip
        bounced_at=as_utc(bounced_at) if bounced_at is not None else None,
    )


def _pairs(session: Session, person_id: int) -> tuple[HeldPair, ...]:
    # Joined to the partner, for their name only.
    rows = session.exec(
        select(Pair, Person.name)
        .join(Person, or_(
            (col(Pair.mentor_id) == person_id) & (col(Person.id) == Pair.mentee_id),
            (col(Pair.mentee_id) == person_id) & (col(Person.id) == Pair.mentor_id),
        ))
        .order_by(col(Pair.started_on), col(Pair.id))
    ).all()  # fmt: skip
    return tuple(
        HeldPair(pair.id, "mentor" if pair.mentor_id == person_id else "mentee", pair.started_on, pair.status, name)
        for pair, name in rows
    )


def _contacts(session: Session, pair_ids: list[str], zone: ZoneInfo) -> tuple[HeldContacts, ...]:
    """Counted in SQL per pair and local month; months without contact are left out."""
    if not pair_ids:
        return ()
    theirs = col(ContactEvent.pair_id).in_(pair_ids)
    first, last = session.exec(
        select(func.min(ContactEvent.occurred_at), func.max(ContactEvent.occurred_at)).where(theirs)
    ).one()
    if first is None:
        return ()
    segments = _month_segments(as_utc(first), as_utc(last), zone)
    labels = [label for _, label in segments]
    pieces = [(start, n) for n, (start, _) in enumerate(segments)]
    month = _halving_case(col(ContactEvent.occurred_at), pieces)
    events = (
        select(col(ContactEvent.pair_id).label("pair_id"), col(ContactEvent.direction).label("direction"),
               col(ContactEvent.channel).label("channel"), month.label("n"))
        .where(theirs)
        .subquery("events")
    )  # fmt: skip
    counted = (
        select(
            events.c.pair_id,
            events.c.n,
            *(
                func.count().filter(column == value).label(value)
                for column, value in (
                    (events.c.direction, "mentor_to_mentee"),
                    (events.c.direction, "mentee_to_mentor"),
                    (events.c.channel, "email"),
                    (events.c.channel, "phone"),
                    (events.c.channel, "meeting"),
                )
            ),
        )
        .group_by(events.c.pair_id, events.c.n)
        .order_by(events.c.pair_id, events.c.n)
    )
    return tuple(
        HeldContacts(pair_id, labels[n], to_mentee, to_mentor, email, phone, meeting)
        for pair_id, n, to_mentee, to_mentor, email, phone, meeting in session.exec(counted)
    )
