"""What the planner reads: the store's state of the program, as a `PlannerState`."""

from __future__ import annotations

import json

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
from ..planner_state import Bounce, Contact, DeliveryFailure, PairState, PlannerState, Question, UnknownSender
from ..planner_state import Person as PlannerPerson
from .times import as_utc


def planner_state(session: Session) -> PlannerState:
    """Everything the planner needs, read in one transaction."""
    from ..planner_state import CheckinRow, LetterRow, SpoofAttempt, SurveyAnswerRow

    people = {p.id: p for p in session.exec(select(Person))}

    def person(person_id: int) -> PlannerPerson:
        row = people[person_id]
        return PlannerPerson(person_id, row.name, row.email)

    contacts: dict[str, list[Contact]] = {}
    for pair_id, occurred_at, direction in session.exec(
        select(ContactEvent.pair_id, ContactEvent.occurred_at, ContactEvent.direction).order_by(
            ContactEvent.occurred_at
        )
    ):
        contacts.setdefault(pair_id, []).append(Contact(as_utc(occurred_at), direction))
    pairs = tuple(
        PairState(
            pair_id=pair.id,
            mentor=person(pair.mentor_id),
            mentee=person(pair.mentee_id),
            status=pair.status,
            started_on=pair.started_on,
            contacts=tuple(contacts.get(pair.id, ())),
        )
        for pair in session.exec(select(Pair).order_by(Pair.started_on, Pair.id))
    )
    pairs_of: dict[int, list[str]] = {}
    for pair in pairs:
        pairs_of.setdefault(pair.mentor.person_id, []).append(pair.pair_id)
        pairs_of.setdefault(pair.mentee.person_id, []).append(pair.pair_id)
    records = session.exec(
        select(IntakeRecord).where(IntakeRecord.outcome.in_(["bounce", "unknown_sender", "spoofed"]))
    ).all()
    bounces = tuple(
        Bounce(person(r.person_id), as_utc(r.occurred_at), tuple(pairs_of.get(r.person_id, ())))
        for r in records
        if r.outcome == "bounce" and r.person_id is not None
    )
    unknown = tuple(UnknownSender(r.address, as_utc(r.occurred_at)) for r in records if r.outcome == "unknown_sender")
    questions = tuple(
        Question(q.id, person(q.person_id), as_utc(q.received_at))
        for q in session.exec(select(QuestionMessage).where(QuestionMessage.forwarded_in.is_(None)))
        if q.id is not None
    )
    outbox = session.exec(select(OutboxMessage.key, OutboxMessage.kind, OutboxMessage.due_at)).all()
    failed = session.exec(select(OutboxMessage).where(OutboxMessage.status == "failed")).all()
    digests = [as_utc(due) for _, kind, due in outbox if kind == "digest"]
    # One row per survey and person: the latest, should a person have answered for two pairs.
    answers: dict[tuple[str, int], SurveyAnswerRow] = {}
    for response in session.exec(select(SurveyResponse).order_by(SurveyResponse.updated_at, SurveyResponse.id)):
        try:
            values = json.loads(response.answers)
        except ValueError:
            continue
        if isinstance(values, dict):
            answers[(response.survey_id, response.person_id)] = SurveyAnswerRow(
                response.survey_id, response.person_id, values
            )
    letters = session.exec(
        select(LetterRequest).where(LetterRequest.status == "requested").order_by(LetterRequest.id)
    ).all()
    return PlannerState(
        pairs=pairs,
        sent_keys=frozenset(key for key, _, _ in outbox),
        bounces=bounces,
        questions=questions,
        failures=tuple(
            DeliveryFailure(f.kind, f.recipients, f.last_error, as_utc(f.sent_at or f.next_attempt_at)) for f in failed
        ),
        unknown_senders=unknown,
        last_digest_at=max(digests, default=None),
        staff=tuple(person(pid) for pid, row in people.items() if pid is not None and row.staff),
        survey_answers=tuple(answers.values()),
        checkins=tuple(
            CheckinRow(c.pair_id, c.month, c.rating, c.wants_contact, as_utc(c.received_at))
            for c in session.exec(select(CheckinReply).order_by(CheckinReply.received_at))
        ),
        letter_requests=tuple(
            LetterRow(r.id, person(r.person_id), r.pair_id, as_utc(r.requested_at)) for r in letters if r.id is not None
        ),
        spoofed=tuple(SpoofAttempt(r.address, as_utc(r.occurred_at)) for r in records if r.outcome == "spoofed"),
    )
