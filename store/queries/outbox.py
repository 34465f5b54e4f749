"""The program's own mail: enqueueing it, delivering it (due, sent, failed), listing what is
unsent, and finding our mail again by its Message-ID token or by its place in the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from ..models import OutboxMessage, QuestionMessage
from .plans import pairs_changed
from .times import as_utc


def enqueue(session: Session, row: OutboxMessage, forwards: tuple[int, ...] = ()) -> bool:
    """Add a mail to the outbox unless its key is there already; True when it was added."""
    values = {name: getattr(row, name) for name in _OUTBOX_COLUMNS}
    connection = session.connection()
    # The new row's id comes back only when the row was added: PostgreSQL's driver reports a row
    # count of -1 for this INSERT, which read as "added" every time.
    outbox_id = connection.execute(_ENQUEUE[connection.dialect.name == "postgresql"], values).scalar()
    added = outbox_id is not None
    if added and forwards:
        for question in session.exec(select(QuestionMessage).where(QuestionMessage.id.in_(forwards))):
            question.forwarded_in = outbox_id
            session.add(question)
    return added


# Built once (a tick enqueues thousands): INSERT ... ON CONFLICT DO NOTHING RETURNING id, for SQLite
# and PostgreSQL.
_OUTBOX_COLUMNS = [column.name for column in OutboxMessage.__table__.columns if column.name != "id"]  # type: ignore[attr-defined]
_ENQUEUE = tuple(
    dialect_insert(OutboxMessage).on_conflict_do_nothing().returning(OutboxMessage.id)  # type: ignore[attr-defined]
    for dialect_insert in (sqlite_insert, pg_insert)
)


@dataclass(frozen=True)
class OutboxEntry:
    """One mail of the outbox as `mentormail outbox` lists it (no body: it may be a digest)."""

    key: str
    kind: str
    recipients: str
    status: str  # pending | failed
    due_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str
    first_attempt_at: datetime | None = None


def unsent_mail(session: Session, *, failed_only: bool = False) -> list[OutboxEntry]:
    """The outbox's mail not yet sent (or only what was given up or set aside), oldest first."""
    statuses = ("failed",) if failed_only else ("pending", "failed")
    rows = session.exec(
        select(
            OutboxMessage.key,
            OutboxMessage.kind,
            OutboxMessage.recipients,
            OutboxMessage.status,
            OutboxMessage.due_at,
            OutboxMessage.attempts,
            OutboxMessage.next_attempt_at,
            OutboxMessage.last_error,
            OutboxMessage.first_attempt_at,
        )
        .where(OutboxMessage.status.in_(statuses))
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
    )
    return [
        OutboxEntry(key, kind, to, status, as_utc(due), attempts, as_utc(next_at), error, first and as_utc(first))
        for key, kind, to, status, due, attempts, next_at, error, first in rows
    ]


def claim_for_delivery(session: Session, now: datetime, lease: timedelta, limit: int = 20) -> list[OutboxMessage]:
    """Due mail that no daemon is sending, claimed by this one until `now + lease`, oldest first.

    On PostgreSQL the rows are locked as they are read (`FOR UPDATE SKIP LOCKED`): a second daemon
    claiming at the same moment passes over them and takes the next ones, so no mail is claimed
    twice. SQLite serves one daemon, and its write lock serialises the claim anyway. The claim is
    committed with the session; the lease is what keeps another daemon off while this one sends.
    """
    rows = list(
        session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),  # type: ignore[union-attr]
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if rows:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in rows]))  # type: ignore[union-attr]
            .values(claimed_until=now + lease)
        )
    return rows


@dataclass(frozen=True)
class SentRecently:
    """What delivery handed the relay lately, as a provider counts it against its sending limits."""

    last_minute: int  # messages
    last_day: int  # messages
    recipients_last_day: int  # a message to two people counts two


def sent_recently(session: Session, now: datetime) -> SentRecently:
    """The mail sent in the minute and the day before `now`: one indexed range of `sent_at` (a
    day's mail, 20,000 rows at 10,000 pairs), counted in SQL. Recipients are the envelope's,
    space separated, so a row's count is its spaces plus one (the same on SQLite and PostgreSQL)."""
    to = OutboxMessage.recipients
    recipients = func.length(to) - func.length(func.replace(to, " ", "")) + 1
    in_last_minute = case((OutboxMessage.sent_at > now - timedelta(minutes=1), 1), else_=0)
    minute, day, people = session.exec(
        select(func.coalesce(func.sum(in_last_minute), 0), func.count(), func.coalesce(func.sum(recipients), 0)).where(
            OutboxMessage.sent_at > now - timedelta(days=1)  # type: ignore[operator]
        )
    ).one()
    return SentRecently(int(minute), int(day), int(people))


def release_claim(session: Session, outbox_ids: list[int]) -> None:
    """Give back claimed mail unsent (the send rate reached mid-claim): the next round takes it."""
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(outbox_ids)).values(claimed_until=None)  # type: ignore[union-attr]
    )


def release_claims(session: Session) -> int:
    """End every claim: for a store that serves one daemon (SQLite), at its start, when any claim
    left is its own predecessor's, killed mid-delivery; how many there were."""
    return session.execute(
        update(OutboxMessage).where(OutboxMessage.claimed_until.is_not(None)).values(claimed_until=None)  # type: ignore[union-attr]
    ).rowcount


def next_delivery_attempt(session: Session) -> datetime | None:
    """When the next mail waiting in the outbox is to be tried (for `simulate`'s jumps)."""
    moment = session.exec(
        select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == "pending")
    ).one()
    return as_utc(moment) if moment else None


def mark_sent(session: Session, outbox_id: int, now: datetime) -> None:
    """Sent: the rendered message is wiped, and so is the text of any question it forwarded.
    On the session's connection, not through the ORM: its bulk-update path (synchronising a
    session that holds no rows) cost more than the two statements, once per mail sent."""
    connection = session.connection()
    connection.execute(_MARK_SENT, {"outbox_id": outbox_id, "now": now})
    connection.execute(_WIPE_FORWARDED, {"outbox_id": outbox_id})


# Built once: delivery marks every mail it sends, and building a statement costs more than running it.
_MARK_SENT = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("outbox_id"))
    .values(status="sent", sent_at=bindparam("now"), raw=None, last_error="", claimed_until=None)
)
_WIPE_FORWARDED = update(QuestionMessage).where(QuestionMessage.forwarded_in == bindparam("outbox_id")).values(raw=None)


def mark_attempt_failed(
    session: Session, outbox_id: int, reason: str, retry_at: datetime | None, now: datetime
) -> None:
    """A failed attempt: try again at `retry_at`, or give up (None) and let the digest say so.

    Given-up mail keeps its message, so that `mentormail outbox retry` can send it as it was (a
    digest's forwarded questions are wiped once it is delivered, as for any other digest).
    """
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        return
    row.attempts += 1
    row.last_error = reason
    row.first_attempt_at = row.first_attempt_at or now
    row.claimed_until = None
    if retry_at is None:
        row.status, row.sent_at = "failed", now
    else:
        row.next_attempt_at = retry_at
    session.add(row)


@dataclass(frozen=True)
class Requeued:
    """What `mentormail outbox retry` did: mail queued again as it was composed, and mail that had
    no message to send (set aside, or given up before messages were kept), removed so that the
    planner composes it again if it is still due."""

    resent: int = 0
    recomposed: int = 0

    @property
    def total(self) -> int:
        return self.resent + self.recomposed


def outbox_status(session: Session, key: str) -> str | None:
    """pending | sent | failed, or None when the outbox has no mail under `key`."""
    return session.exec(select(OutboxMessage.status).where(OutboxMessage.key == key)).first()


def requeue(session: Session, now: datetime, key: str | None = None) -> Requeued:
    """Queue again the mail under `key` (failed, or being retried), or every failed mail (None):
    due at `now`, its retries and its retry window counted afresh. Mail that has not failed yet
    is left alone (retrying it would send it before it is due)."""
    failed = OutboxMessage.status == "failed"
    where = [failed] if key is None else [
        OutboxMessage.key == key, or_(failed, (OutboxMessage.status == "pending") & (OutboxMessage.attempts > 0))
    ]  # fmt: skip
    kept, not_kept = OutboxMessage.raw.is_not(None), OutboxMessage.raw.is_(None)  # type: ignore[union-attr]
    resent = session.execute(
        update(OutboxMessage)
        .where(*where, kept)
        # A claim is left alone: a mail being retried may be in a daemon's hands this moment, and
        # marking it sent or failed ends the claim (failed mail holds none).
        .values(status="pending", attempts=0, first_attempt_at=None, next_attempt_at=now, last_error="", sent_at=None)
    ).rowcount
    lost = session.exec(select(OutboxMessage.id, OutboxMessage.pair_id).where(*where, not_kept)).all()
    ids = [outbox_id for outbox_id, _ in lost]
    if ids:
        # A digest's questions go back to waiting for the next digest, which forwards them.
        session.execute(
            update(QuestionMessage).where(QuestionMessage.forwarded_in.in_(ids)).values(forwarded_in=None)  # type: ignore[union-attr]
        )
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))  # type: ignore[union-attr]
        # Its pair is planned again at the next tick; the committee's mail is, since the count of
        # failed mail is part of the program plan's fingerprint.
        pairs_changed(session, {pair_id for _, pair_id in lost if pair_id})
    return Requeued(resent=resent, recomposed=len(ids))


def outbox_mail_for_token(session: Session, token: str) -> tuple[str, str, str | None] | None:
    """(kind, key, pair id) of our mail whose Message-ID carries `token` (see compose.py)."""
    row = session.exec(
        select(OutboxMessage.kind, OutboxMessage.key, OutboxMessage.pair_id).where(
            OutboxMessage.message_id.startswith(token + ".", autoescape=True)
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


def last_outbox_id(session: Session) -> int:
    return session.exec(select(func.max(OutboxMessage.id))).one() or 0


def sent_after(session: Session, after_id: int) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.id > after_id, OutboxMessage.status == "sent")
            .order_by(OutboxMessage.id)
        )
    )
