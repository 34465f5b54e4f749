"""A finished round's per-person data removed after `[privacy] keep_days_after_round` (README "Erasure").

A round whose end is more than the kept days ago (`rounds_due`) is purged in steps, each its own
short transaction, each safe to repeat and to stop after (a tick that dies midway leaves a
consistent store, and the next tick goes on where it stopped):

1. `count_round`: the round's figures go into `roundtally`, with the `roundpurge` row that says
   they were taken (so they are taken once, before anything is removed). Only counts are kept:
   pairs by status, mentors and mentees, contacts by local month, direction and channel, survey
   answers by question and answer (a free-text answer only as answered), check-in ratings and
   letter requests by status. Never a person, a pair id, a date finer than a month or a text.
2. `purge_pairs`, `PAIR_BATCH` pairs a call: each pair with all that hangs on it
   (`erasure.erase_pairs`), and then every member of theirs left with no pair in any round is
   forgotten as `forget EMAIL` forgets (`erasure.forget_person`: their remaining answers,
   intake records, questions, the program's mail to them, the audit's mentions of them). A
   person who is also in a later round keeps that round's pairs and everything of theirs not
   filed under the purged round's pairs.
3. `purge_strangers`: intake records and questions about no participant (strangers, machine
   mail) from before the round's end, `RECORD_BATCH` a call.
4. `finish_purge`: the round is marked purged.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, distinct, func, update
from sqlmodel import Session, col, select

from ..models import (
    CheckinReply,
    ContactEvent,
    IntakeRecord,
    LetterRequest,
    Pair,
    Person,
    QuestionMessage,
    Round,
    RoundPurge,
    RoundTally,
    SurveyResponse,
)
from .erasure import erase_pairs, forget_person
from .reports import _halving_case, _month_segments
from .roster import bump_roster_version
from .times import as_utc

# Pairs removed a transaction, with their events and their members' other rows: a round of
# 10,000 pairs is 100 short writes, each leaving the write lock to intake in between.
PAIR_BATCH = 100
RECORD_BATCH = 1000


@dataclass(frozen=True)
class PurgedRound:
    """What is kept of a purged round, for `status`."""

    round_id: str
    counted_at: datetime
    finished_at: datetime | None
    pairs: int
    people_forgotten: int
    tallies: tuple[tuple[str, str, str, str, int], ...]  # (kind, month, name, value, count)

    def contacts(self) -> dict[str, int]:
        """Contacts by direction and by channel, over the whole round."""
        totals: Counter[str] = Counter()
        for kind, _, name, value, count in self.tallies:
            if kind == "contacts":
                totals[name] += count
                totals[value] += count
        return dict(sorted(totals.items()))

    def of_kind(self, kind: str) -> list[dict[str, object]]:
        return [
            {"month": month, "name": name, "value": value, "count": count}
            for k, month, name, value, count in self.tallies
            if k == kind
        ]


def rounds_due(session: Session, today: date, keep_days: int) -> list[str]:
    """The rounds that ended more than `keep_days` before `today` and are not purged yet, the
    earliest first."""
    finished = select(RoundPurge.round_id).where(col(RoundPurge.finished_at).is_not(None))
    return list(
        session.exec(
            select(Round.id)
            .where(Round.ends_on < today - timedelta(days=keep_days), col(Round.id).not_in(finished))
            .order_by(col(Round.ends_on), col(Round.id))
        )
    )


def round_ends_on(session: Session, round_id: str) -> date | None:
    return session.exec(select(Round.ends_on).where(Round.id == round_id)).first()


def count_round(session: Session, round_id: str, zone: ZoneInfo, now: datetime, free_text: frozenset[str]) -> bool:
    """Take the round's counts into `roundtally`, unless they were taken already; True when taken
    now. `free_text`: the SURVEY.QUESTION keys whose answers are a person's own words, counted
    only as answered."""
    if session.get(RoundPurge, round_id) is not None:
        return False
    in_round = Pair.round_id == round_id
    tallies: Counter[tuple[str, str, str, str]] = Counter()
    for status, count in session.exec(select(Pair.status, func.count()).where(in_round).group_by(Pair.status)):
        tallies["pairs", "", status, ""] += count
    mentors, mentees = session.exec(
        select(func.count(distinct(Pair.mentor_id)), func.count(distinct(Pair.mentee_id))).where(in_round)
    ).one()
    tallies["people", "", "mentor", ""] += mentors
    tallies["people", "", "mentee", ""] += mentees
    for month, direction, channel, count in _contacts_by_month(session, round_id, zone):
        tallies["contacts", month, direction, channel] += count
    answers = select(SurveyResponse.survey_id, SurveyResponse.answers).join(
        Pair, col(Pair.id) == SurveyResponse.pair_id
    )
    for survey_id, stored in session.exec(answers.where(in_round)):
        for question, value in (stored if isinstance(stored, dict) else json.loads(stored)).items():
            key = f"{survey_id}.{question}"
            tallies["survey", "", key, "answered" if key in free_text else _value(value)] += 1
    ratings = select(CheckinReply.rating, func.count()).join(Pair, col(Pair.id) == CheckinReply.pair_id)
    for rating, count in session.exec(ratings.where(in_round).group_by(CheckinReply.rating)):
        tallies["checkins", "", "rating", "none" if rating is None else str(rating)] += count
    letters = select(LetterRequest.status, func.count()).join(Pair, col(Pair.id) == LetterRequest.pair_id)
    for status, count in session.exec(letters.where(in_round).group_by(LetterRequest.status)):
        tallies["letters", "", status, ""] += count
    session.add_all(
        RoundTally(round_id=round_id, kind=kind, month=month, name=name, value=value, count=count)
        for (kind, month, name, value), count in sorted(tallies.items())
    )
    pairs = sum(count for (kind, *_), count in tallies.items() if kind == "pairs")
    session.add(RoundPurge(round_id=round_id, counted_at=now, pairs=pairs))
    session.flush()
    return True


def purge_pairs(session: Session, round_id: str, now: datetime, limit: int = PAIR_BATCH) -> tuple[int, int]:
    """Up to `limit` of the round's pairs with their data, and their members who are left with no
    pair in any round: (pairs removed, people forgotten). (0, 0): none were left."""
    rows = session.exec(
        select(Pair.id, Pair.mentor_id, Pair.mentee_id)
        .where(Pair.round_id == round_id)
        .order_by(col(Pair.id))
        .limit(limit)
    ).all()
    if not rows:
        return 0, 0
    erase_pairs(session, [pair_id for pair_id, _, _ in rows])
    members = sorted({person for _, mentor, mentee in rows for person in (mentor, mentee)})
    still_paired = set(
        session.execute(
            select(Pair.mentor_id).where(col(Pair.mentor_id).in_(members))
            .union(select(Pair.mentee_id).where(col(Pair.mentee_id).in_(members)))
        ).scalars()
    )  # fmt: skip
    unpaired = [person for person in members if person not in still_paired]
    emails = session.exec(select(Person.email).where(col(Person.id).in_(unpaired), col(Person.staff).is_(False))).all()
    for email in emails:
        forget_person(session, email, now, None)  # audited once for the round, by the caller
    session.execute(
        update(RoundPurge)
        .where(RoundPurge.round_id == round_id)
        .values(people_forgotten=RoundPurge.people_forgotten + len(emails))
    )
    bump_roster_version(session)  # intake drops the pairs from the roster it caches
    return len(rows), len(emails)


def purge_strangers(session: Session, before: datetime, limit: int = RECORD_BATCH) -> int:
    """Up to `limit` intake records and as many questions about no participant (a stranger's
    address, machine mail) from before `before`: how many went."""
    records = select(IntakeRecord.id).where(col(IntakeRecord.person_id).is_(None), IntakeRecord.occurred_at < before)
    removed = session.execute(delete(IntakeRecord).where(col(IntakeRecord.id).in_(records.limit(limit))))
    questions = select(QuestionMessage.id).where(
        col(QuestionMessage.person_id).is_(None), QuestionMessage.received_at < before
    )
    asked = session.execute(delete(QuestionMessage).where(col(QuestionMessage.id).in_(questions.limit(limit))))
    return (removed.rowcount or 0) + (asked.rowcount or 0)  # type: ignore[attr-defined]


def finish_purge(session: Session, round_id: str, now: datetime) -> RoundPurge:
    purge = session.get(RoundPurge, round_id)
    assert purge is not None, "a round is counted before it is purged"
    purge.finished_at = now
    session.add(purge)
    session.flush()
    return purge


def purged_rounds(session: Session) -> list[PurgedRound]:
    """Every round purged or being purged, with what is kept of it, by the time it was counted."""
    tallies: dict[str, list[tuple[str, str, str, str, int]]] = {}
    for row in session.exec(select(RoundTally).order_by(col(RoundTally.round_id), col(RoundTally.id))):
        tallies.setdefault(row.round_id, []).append((row.kind, row.month, row.name, row.value, row.count))
    return [
        PurgedRound(
            purge.round_id,
            as_utc(purge.counted_at),
            as_utc(purge.finished_at) if purge.finished_at else None,
            purge.pairs,
            purge.people_forgotten,
            tuple(tallies.get(purge.round_id, ())),
        )
        for purge in session.exec(select(RoundPurge).order_by(col(RoundPurge.counted_at), col(RoundPurge.round_id)))
    ]


def _contacts_by_month(session: Session, round_id: str, zone: ZoneInfo) -> list[tuple[str, str, str, int]]:
    """(YYYY-MM, direction, channel, count) of the round's contact events, counted in SQL; the
    months are local, decided as `reports.monthly_contacts` decides them."""
    theirs = col(ContactEvent.pair_id).in_(select(Pair.id).where(Pair.round_id == round_id))
    first, last = session.exec(
        select(func.min(ContactEvent.occurred_at), func.max(ContactEvent.occurred_at)).where(theirs)
    ).one()
    if first is None:
        return []
    segments = _month_segments(as_utc(first), as_utc(last), zone)
    month = _halving_case(col(ContactEvent.occurred_at), [(start, n) for n, (start, _) in enumerate(segments)])
    events = select(
        month.label("n"), col(ContactEvent.direction).label("direction"), col(ContactEvent.channel).label("channel")
    ).where(theirs).subquery("events")
    counted = select(events.c.n, events.c.direction, events.c.channel, func.count()).group_by(
        events.c.n, events.c.direction, events.c.channel
    )
    return [(segments[n][1], direction, channel, count) for n, direction, channel, count in session.exec(counted)]


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)

