"""What replies record: reported contacts, survey answers, check-ins, coordinators' commands
(the audit, a command obeyed once per mail) and letter requests.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session, select

from ..models import AuditEntry, CheckinReply, CommandUse, ContactEvent, LetterRequest, SurveyResponse
from .inserts import insert_ignoring_repeat
from .plans import pairs_changed, people_changed
from .times import as_utc


def record_reported_contact(
    session: Session, pair_id: str, direction: str, channel: str, when: datetime, message_hash: str
) -> None:
    """A call or meeting a participant reported: counted like email, under its own channel."""
    insert_ignoring_repeat(
        session,
        ContactEvent,
        dict(
            pair_id=pair_id,
            direction=direction,
            channel=channel,
            occurred_at=when,
            source="self_report",
            message_hash=message_hash,
        ),
    )
    pairs_changed(session, (pair_id,))


def save_survey_answers(
    session: Session, survey_id: str, person_id: int, pair_id: str, answers: dict[str, object], now: datetime
) -> dict[str, object]:
    """Merge a reply's answers into the person's earlier ones; returns all answers so far."""
    row = session.exec(
        select(SurveyResponse).where(SurveyResponse.survey_id == survey_id, SurveyResponse.person_id == person_id)
    ).first()
    merged = {**(json.loads(row.answers) if row else {}), **answers}
    if row is None:
        row = SurveyResponse(survey_id=survey_id, person_id=person_id, pair_id=pair_id, answers="{}", updated_at=now)
    row.answers, row.updated_at = json.dumps(merged, ensure_ascii=False, sort_keys=True), now
    session.add(row)
    people_changed(session, (person_id,))  # their survey reminders stop
    return merged


def save_checkin(
    session: Session, pair_id: str, month: int, rating: int | None, wants_contact: bool | None, now: datetime
) -> None:
    row = session.exec(select(CheckinReply).where(CheckinReply.pair_id == pair_id, CheckinReply.month == month)).first()
    row = row or CheckinReply(pair_id=pair_id, month=month, received_at=now)
    # A later reply to the same check-in refines it; an absent value does not erase a given one.
    row.rating = rating if rating is not None else row.rating
    row.wants_contact = wants_contact if wants_contact is not None else row.wants_contact
    row.received_at = now
    session.add(row)


def audit(session: Session, at: datetime, coordinator: str, command: str, result: str) -> None:
    session.add(AuditEntry(at=at, coordinator=coordinator, command=command, result=result))


def earlier_use_of_command(session: Session, replied_to: str, command: str, now: datetime) -> datetime | None:
    """When `command` was already obeyed in reply to the mail `replied_to`; None the first time,
    which also records this use. Two daemons racing on one use meet the unique constraint, and
    the loser's message is retried by its transport and then finds this row."""
    earlier = session.exec(
        select(CommandUse.at).where(CommandUse.replied_to == replied_to, CommandUse.command == command)
    ).first()
    if earlier is not None:
        return as_utc(earlier)
    session.add(CommandUse(replied_to=replied_to, command=command, at=now))
    session.flush()
    return None


def request_letter(session: Session, person_id: int, pair_id: str, now: datetime) -> tuple[int, bool]:
    """(request id, whether it is new): an open request is not made twice."""
    open_request = session.exec(
        select(LetterRequest).where(LetterRequest.person_id == person_id, LetterRequest.status == "requested")
    ).first()
    if open_request is not None and open_request.id is not None:
        return open_request.id, False
    request = LetterRequest(person_id=person_id, pair_id=pair_id, requested_at=now)
    session.add(request)
    session.flush()
    assert request.id is not None
    return request.id, True


def letter_request(session: Session, request_id: int) -> LetterRequest | None:
    return session.get(LetterRequest, request_id)


def decide_letter(
    session: Session, request_id: int, status: str, decided_by: str, now: datetime, reason: str = ""
) -> None:
    request = session.get(LetterRequest, request_id)
    if request is not None:
        request.status, request.decided_by, request.decided_at, request.reason = status, decided_by, now, reason
        session.add(request)
