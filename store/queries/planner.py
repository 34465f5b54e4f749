"""What the planner reads: the store's state of the program, as a `PlannerState`.

Three readings of the same tables: `planner_state` (everything, for a preview or a test),
`pair_planner_state` (a batch of pairs, for an incremental tick: only the contacts that can
change a pair's plan) and `program_planner_state` (the committee's mail: every pair, but none of
their contacts).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, select

from ..models import (
    CheckinReply,
    ContactEvent,
    IntakeRecord,
    LetterRequest,
    OutboxMessage,
    Pair,
    Person,
    QuestionMessage,
    SurveyResponse,
)
from ..planner_state import (
    Bounce,
    CheckinRow,
    Contact,
    DeliveryFailure,
    LetterRow,
    PairState,
    PlannerState,
    Question,
    SpoofAttempt,
    SurveyAnswerRow,
    UnknownSender,
)
from ..planner_state import Person as PlannerPerson
from .plans import in_chunks
from .times import as_utc

# The committee's mail: what the program-wide plans look up in the outbox.
PROGRAM_KINDS = ("digest", "liaison_summary", "survey_results")


def planner_state(session: Session) -> PlannerState:
    """Everything the planner needs, read in one transaction."""
    contacts: dict[str, list[Contact]] = {}
    for pair_id, occurred_at, direction in session.exec(
        select(ContactEvent.pair_id, ContactEvent.occurred_at, ContactEvent.direction).order_by(
            ContactEvent.occurred_at
        )
    ):
        contacts.setdefault(pair_id, []).append(Contact(as_utc(occurred_at), direction))
    outbox = frozenset(session.exec(select(OutboxMessage.key)))
    surveys = _composed(session, "survey", None)
    return replace(program_planner_state(session, contacts), sent_keys=outbox, surveys_sent_at=surveys)


def pair_planner_state(session: Session, pair_ids: Collection[str], now: datetime) -> PlannerState:
    """The pairs `pair_ids` and every other pair of their members, for planning at `now`.

    Of each pair's contacts only those that can change its plan are read: per direction the
    first and the last up to `now` (the intro reminders look for a first mail from the mentor,
    the nudges for the last contact), and every contact after `now` (a nudge's quiet period
    restarts when it comes). The pair planner decides the same on these as on all of them, and
    a batch reads a few rows per pair however many contacts a pair has.
    """
    members = (
        select(Pair.mentor_id)
        .where(Pair.id.in_(pair_ids))
        .union(  # type: ignore[attr-defined]
            select(Pair.mentee_id).where(Pair.id.in_(pair_ids))  # type: ignore[attr-defined]
        )
    )
    pairs = session.exec(
        select(Pair)
        .where(or_(Pair.mentor_id.in_(members), Pair.mentee_id.in_(members)))  # type: ignore[attr-defined]
        .order_by(Pair.started_on, Pair.id)
    ).all()
    group = [pair.id for pair in pairs]
    person_ids = {pair.mentor_id for pair in pairs} | {pair.mentee_id for pair in pairs}
    people = _people(session, person_ids)
    contacts: dict[str, list[Contact]] = {}
    for chunk in in_chunks(group):
        in_chunk = ContactEvent.pair_id.in_(chunk)  # type: ignore[attr-defined]
        up_to_now = (
            select(
                ContactEvent.pair_id,
                ContactEvent.direction,
                func.min(ContactEvent.occurred_at),
                func.max(ContactEvent.occurred_at),
            )
            .where(in_chunk, ContactEvent.occurred_at <= now)
            .group_by(ContactEvent.pair_id, ContactEvent.direction)
        )
        for pair_id, direction, first, last in session.exec(up_to_now):
            moments = {as_utc(first), as_utc(last)}
            contacts.setdefault(pair_id, []).extend(Contact(moment, direction) for moment in moments)
        later = select(ContactEvent.pair_id, ContactEvent.direction, ContactEvent.occurred_at).where(
            in_chunk, ContactEvent.occurred_at > now
        )
        for pair_id, direction, moment in session.exec(later):
            contacts.setdefault(pair_id, []).append(Contact(as_utc(moment), direction))
    sent: set[str] = set()
    answers: list[SurveyAnswerRow] = []
    welcomed: dict[str, datetime] = {}
    surveys: dict[str, datetime] = {}
    for chunk in in_chunks(group):
        sent.update(session.exec(select(OutboxMessage.key).where(OutboxMessage.pair_id.in_(chunk))))  # type: ignore[union-attr]
        welcomed.update(_welcomed(session, chunk))
        surveys.update(_composed(session, "survey", chunk))
    for chunk in in_chunks(sorted(person_ids)):
        answers.extend(_survey_answers(session, SurveyResponse.person_id.in_(chunk)))  # type: ignore[attr-defined]
    return PlannerState(
        pairs=tuple(replace(_pair_state(pair, people, contacts), welcomed_at=welcomed.get(pair.id)) for pair in pairs),
        sent_keys=frozenset(sent),
        survey_answers=_latest_answers(answers),
        surveys_sent_at=surveys,
    )


def program_planner_state(session: Session, contacts: dict[str, list[Contact]] | None = None) -> PlannerState:
    """What the committee's mail is planned from: every pair (without contacts, unless given),
    the questions, bounces, failures, letters and answers, and the committee's mail already sent."""
    people = _people(session, None)

    def person(person_id: int) -> PlannerPerson:
        return people[person_id]

    welcomed = _welcomed(session, None)
    pairs = tuple(
        replace(_pair_state(pair, people, contacts or {}), welcomed_at=welcomed.get(pair.id))
        for pair in session.exec(select(Pair).order_by(Pair.started_on, Pair.id))
    )
    pairs_of: dict[int, list[str]] = {}
    for pair in pairs:
        pairs_of.setdefault(pair.mentor.person_id, []).append(pair.pair_id)
        pairs_of.setdefault(pair.mentee.person_id, []).append(pair.pair_id)
    records = session.exec(
        select(IntakeRecord).where(IntakeRecord.outcome.in_(["bounce", "unknown_sender", "spoofed"]))  # type: ignore[attr-defined]
    ).all()
    bounces = tuple(
        Bounce(person(r.person_id), as_utc(r.occurred_at), tuple(pairs_of.get(r.person_id, ())))
        for r in records
        if r.outcome == "bounce" and r.person_id is not None
    )
    unknown = tuple(UnknownSender(r.address, as_utc(r.occurred_at)) for r in records if r.outcome == "unknown_sender")
    questions = tuple(
        # A stranger's question (no person) is shown by its address alone.
        Question(q.id, person(q.person_id) if q.person_id is not None else PlannerPerson(0, "", q.address or ""),
                 as_utc(q.received_at))  # fmt: skip
        for q in session.exec(select(QuestionMessage).where(QuestionMessage.forwarded_in.is_(None)))  # type: ignore[union-attr]
        if q.id is not None
    )
    committee_mail = session.exec(
        select(OutboxMessage.key, OutboxMessage.kind, OutboxMessage.due_at).where(
            OutboxMessage.kind.in_(PROGRAM_KINDS)  # type: ignore[attr-defined]
        )
    ).all()
    failed = session.exec(select(OutboxMessage).where(OutboxMessage.status == "failed")).all()
    digests = [as_utc(due) for _, kind, due in committee_mail if kind == "digest"]
    letters = session.exec(
        select(LetterRequest).where(LetterRequest.status == "requested").order_by(LetterRequest.id)
    ).all()
    letter_contacts = _contact_counts(session, {r.pair_id for r in letters})
    return PlannerState(
        pairs=pairs,
        sent_keys=frozenset(key for key, _, _ in committee_mail),
        bounces=bounces,
        questions=questions,
        failures=tuple(
            DeliveryFailure(f.kind, f.recipients, f.last_error, as_utc(f.sent_at or f.next_attempt_at), f.key)
            for f in failed
        ),
        unknown_senders=unknown,
        last_digest_at=max(digests, default=None),
        staff=tuple(people[person_id] for person_id in _staff_ids(session) if person_id in people),
        survey_answers=_latest_answers(_survey_answers(session, None)),
        checkins=tuple(
            CheckinRow(c.pair_id, c.month, c.rating, c.wants_contact, as_utc(c.received_at))
            for c in session.exec(select(CheckinReply).order_by(CheckinReply.received_at))
        ),
        letter_requests=tuple(
            LetterRow(r.id, person(r.person_id), r.pair_id, as_utc(r.requested_at), letter_contacts.get(r.pair_id, 0))
            for r in letters
            if r.id is not None
        ),
        spoofed=tuple(SpoofAttempt(r.address, as_utc(r.occurred_at)) for r in records if r.outcome == "spoofed"),
    )


def _people(session: Session, person_ids: Collection[int] | None) -> dict[int, PlannerPerson]:
    statement = select(Person.id, Person.name, Person.email)
    if person_ids is None:
        return {pid: PlannerPerson(pid, name, email) for pid, name, email in session.exec(statement)}
    people: dict[int, PlannerPerson] = {}
    for chunk in in_chunks(sorted(person_ids)):
        for pid, name, email in session.exec(statement.where(Person.id.in_(chunk))):  # type: ignore[union-attr]
            people[pid] = PlannerPerson(pid, name, email)
    return people


def _welcomed(session: Session, pair_ids: Collection[str] | None) -> dict[str, datetime]:
    """pair id -> when its pairing mail was composed (a pair's own calendar starts then)."""
    statement = select(OutboxMessage.pair_id, OutboxMessage.composed_at, OutboxMessage.due_at).where(
        OutboxMessage.kind == "pairing"
    )
    if pair_ids is not None:
        statement = statement.where(OutboxMessage.pair_id.in_(pair_ids))  # type: ignore[union-attr]
    return {pair_id: as_utc(composed or due) for pair_id, composed, due in session.exec(statement) if pair_id}


def _composed(session: Session, kind: str, pair_ids: Collection[str] | None) -> dict[str, datetime]:
    """key -> when it was composed, of the mail of `kind` (to the pairs `pair_ids`)."""
    statement = select(OutboxMessage.key, OutboxMessage.composed_at, OutboxMessage.due_at).where(
        OutboxMessage.kind == kind
    )
    if pair_ids is not None:
        statement = statement.where(OutboxMessage.pair_id.in_(pair_ids))  # type: ignore[union-attr]
    return {key: as_utc(composed or due) for key, composed, due in session.exec(statement)}


def _contact_counts(session: Session, pair_ids: Collection[str]) -> dict[str, int]:
    """pair id -> its logged contacts, counted in SQL (a pair asking for a letter: a handful of pairs)."""
    counts: dict[str, int] = {}
    for chunk in in_chunks(sorted(pair_ids)):
        statement = (
            select(ContactEvent.pair_id, func.count())
            .where(ContactEvent.pair_id.in_(chunk))  # type: ignore[attr-defined]
            .group_by(ContactEvent.pair_id)
        )
        counts.update(dict(session.exec(statement).all()))
    return counts


def _staff_ids(session: Session) -> set[int]:
    return {pid for pid in session.exec(select(Person.id).where(Person.staff)) if pid is not None}


def _pair_state(pair: Pair, people: dict[int, PlannerPerson], contacts: dict[str, list[Contact]]) -> PairState:
    return PairState(
        pair_id=pair.id,
        mentor=people[pair.mentor_id],
        mentee=people[pair.mentee_id],
        status=pair.status,
        started_on=pair.started_on,
        contacts=tuple(sorted(contacts.get(pair.id, ()), key=lambda c: c.occurred_at)),
        round_id=pair.round_id,
    )


def _survey_answers(session: Session, where: object) -> list[SurveyAnswerRow]:
    statement = (
        select(SurveyResponse, Pair.round_id)
        .join(Pair, Pair.id == SurveyResponse.pair_id)  # type: ignore[arg-type]
        .order_by(SurveyResponse.updated_at, SurveyResponse.id)
    )
    if where is not None:
        statement = statement.where(where)  # type: ignore[arg-type]
    rows = []
    for response, round_id in session.exec(statement):
        try:
            values = json.loads(response.answers)
        except ValueError:
            continue
        if isinstance(values, dict):
            rows.append(SurveyAnswerRow(response.survey_id, response.person_id, values, round_id))
    return rows


def _latest_answers(rows: Iterable[SurveyAnswerRow]) -> tuple[SurveyAnswerRow, ...]:
    """One row per survey, person and round: the latest, should a person have answered for two
    pairs of a round."""
    latest: dict[tuple[str, int, str], SurveyAnswerRow] = {}
    for row in rows:
        latest[(row.survey_id, row.person_id, row.round_id)] = row
    return tuple(latest.values())
