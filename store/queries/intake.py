"""What intake records: a message's outcome, whether it was seen before, the IMAP checkpoints,
the text of a question to forward (and reading it back), and the simulator's stand-in contacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from ..models import ContactEvent, ImapCheckpoint, IntakeRecord, QuestionMessage
from ..outcomes import ImapCheckpoint as Checkpoint
from ..outcomes import Outcome, OutcomeKind
from ..roster import Roster
from .inserts import insert_ignoring_repeat


@dataclass(frozen=True)
class SeenBefore:
    pairs: frozenset[str]
    outcomes: frozenset[str]


def seen_before(session: Session, message_hash: str) -> SeenBefore:
    pairs = session.exec(select(ContactEvent.pair_id).where(ContactEvent.message_hash == message_hash))
    outcomes = session.exec(select(IntakeRecord.outcome).where(IntakeRecord.message_hash == message_hash))
    return SeenBefore(frozenset(pairs), frozenset(outcomes))


# Outcomes worth a row of their own: the digest and the liaison summary will list them.
# Duplicates and unreadable mail leave nothing but a log line.
RECORDED_OUTCOMES = frozenset(
    {
        OutcomeKind.QUESTION,
        OutcomeKind.BOUNCE,
        OutcomeKind.UNKNOWN_SENDER,
        OutcomeKind.AUTO_REPLY,
        OutcomeKind.LOOP,
        # Replies, so that the same reply arriving twice (SMTP and IMAP) is handled once:
        OutcomeKind.COMMAND,
        OutcomeKind.SURVEY_REPLY,
        OutcomeKind.CHECKIN_REPLY,
        OutcomeKind.LETTER_REQUEST,
        OutcomeKind.SELF_REPORT,
        OutcomeKind.SPOOFED,
    }
)


def record_outcome(
    session: Session,
    outcome: Outcome,
    *,
    message_hash: str,
    occurred_at: datetime,
    source: str,
    roster: Roster,
) -> None:
    """Write what the outcome means for the store. A repeat of an existing row is ignored."""
    if outcome.kind is OutcomeKind.CONTACT:
        for match in outcome.pairs:
            insert_ignoring_repeat(
                session,
                ContactEvent,
                dict(
                    pair_id=match.pair_id,
                    direction=match.direction.value,
                    channel="email",
                    occurred_at=occurred_at,
                    source=source,
                    message_hash=message_hash,
                ),
            )
    elif outcome.kind in RECORDED_OUTCOMES:
        for address in outcome.addresses or ("",):
            person = roster.participant(address)
            insert_ignoring_repeat(
                session,
                IntakeRecord,
                dict(
                    outcome=outcome.kind.value,
                    address=address,
                    person_id=person.person_id if person else None,
                    occurred_at=occurred_at,
                    source=source,
                    message_hash=message_hash,
                ),
            )


def save_checkpoint(session: Session, checkpoint: Checkpoint) -> None:
    row = session.get(ImapCheckpoint, checkpoint.mailbox_key)
    if row is None:
        row = ImapCheckpoint(mailbox_key=checkpoint.mailbox_key, uidvalidity=checkpoint.uidvalidity, last_uid=0)
    if row.uidvalidity != checkpoint.uidvalidity:
        row.uidvalidity, row.last_uid = checkpoint.uidvalidity, 0
    row.last_uid = max(row.last_uid, checkpoint.uid)
    session.add(row)


def load_checkpoint(session: Session, mailbox_key: str) -> ImapCheckpoint | None:
    return session.get(ImapCheckpoint, mailbox_key)


def record_question_text(
    session: Session, message_hash: str, person_id: int, received_at: datetime, raw: bytes
) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(QuestionMessage)
        .values(message_hash=message_hash, person_id=person_id, received_at=received_at, raw=raw)
        .on_conflict_do_nothing()
    )


def question_texts(session: Session, question_ids: tuple[int, ...]) -> list[bytes]:
    rows = session.exec(select(QuestionMessage).where(QuestionMessage.id.in_(question_ids))).all()
    return [q.raw for q in rows if q.raw is not None]


def record_simulated_contact(session: Session, pair_id: str, when: datetime, direction: str, key: str) -> None:
    """A synthetic contact for `mentormail simulate` (only ever written to its scratch store)."""
    insert_ignoring_repeat(
        session,
        ContactEvent,
        dict(
            pair_id=pair_id,
            direction=direction,
            channel="email",
            occurred_at=when,
            source="simulated",
            message_hash=key,
        ),
    )
