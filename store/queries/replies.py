"""What replies record: reported contacts, survey answers, check-ins, coordinators' commands
(the audit, a command obeyed once per mail) and letter requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from ..models import AuditEntry, CheckinReply, CommandUse, ContactEvent, LetterRequest, Pair, Person, SurveyResponse
from .inserts import insert_ignoring_repeat
from .plans import pairs_changed, people_changed
from .rounds import roster_pair_id
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
    session: Session,
    pair_id: str,
    month: int,
    rating: int | None,
    wants_contact: bool | None,
    comment: str | None,
    now: datetime,
) -> CheckinReply:
    """Merge a reply into the pair's check-in of `month`; returns the check-in as it now is."""
    row = session.exec(select(CheckinReply).where(CheckinReply.pair_id == pair_id, CheckinReply.month == month)).first()
    row = row or CheckinReply(pair_id=pair_id, month=month, received_at=now)
    # A later reply to the same check-in refines it; an absent value does not erase a given one,
    # and a second comment is added to the first (both were written for the liaison).
    row.rating = rating if rating is not None else row.rating
    row.wants_contact = wants_contact if wants_contact is not None else row.wants_contact
    if comment and comment != row.comment:
        row.comment = f"{row.comment}\n{comment}"[-MAX_COMMENT:] if row.comment else comment[:MAX_COMMENT]
    row.received_at = now
    session.add(row)
    return row


# What a check-in keeps of a mentor's comments: two replies' worth (parsers/checkin.py's MAX_NOTE each).
MAX_COMMENT = 1000


@dataclass(frozen=True)
class CheckinComment:
    """A mentor's comment on a monthly check-in, for the liaison summary."""

    pair_id: str
    mentor: str  # names, or the address of someone without one
    mentee: str
    month: int
    rating: int | None
    wants_contact: bool | None
    comment: str
    received_at: datetime  # aware, UTC


def checkin_comments(session: Session, since: datetime) -> list[CheckinComment]:
    """The check-ins answered since `since` that carry a comment, oldest first: one indexed read
    bounded by time (a week's replies, however large the program)."""
    mentor, mentee = aliased(Person), aliased(Person)
    rows = session.execute(
        select(
            CheckinReply.pair_id,
            mentor.name,
            mentor.email,
            mentee.name,
            mentee.email,
            CheckinReply.month,
            CheckinReply.rating,
            CheckinReply.wants_contact,
            CheckinReply.comment,
            CheckinReply.received_at,
        )  # fmt: skip
        .join(Pair, col(Pair.id) == col(CheckinReply.pair_id))
        .join(mentor, col(mentor.id) == col(Pair.mentor_id))
        .join(mentee, col(mentee.id) == col(Pair.mentee_id))
        .where(col(CheckinReply.comment).is_not(None), col(CheckinReply.received_at) >= since.astimezone(timezone.utc))
        .order_by(col(CheckinReply.received_at), col(CheckinReply.id))
    )
    return [
        CheckinComment(
            pair_id,
            mentor_name or mentor_email,
            mentee_name or mentee_email,
            month,
            rating,
            wants,
            comment,
            as_utc(received_at),
        )  # fmt: skip
        for (pair_id, mentor_name, mentor_email, mentee_name, mentee_email, month, rating, wants, comment,
             received_at) in rows
    ]  # fmt: skip


def pair_id_of(session: Session, mentor_email: str, mentee_email: str, round_id: str) -> str | None:
    """The roster id of the round's pair of these two people, if they are one."""
    mentor, mentee = aliased(Person), aliased(Person)
    key = session.execute(
        select(Pair.id)
        .join(mentor, col(mentor.id) == col(Pair.mentor_id))
        .join(mentee, col(mentee.id) == col(Pair.mentee_id))
        .where(col(mentor.email) == mentor_email, col(mentee.email) == mentee_email, Pair.round_id == round_id)
    ).scalar()
    return roster_pair_id(key) if key is not None else None


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
