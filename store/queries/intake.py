"""What intake records: a message's outcome, whether it was seen before, the IMAP checkpoints,
the text of a question to forward (and reading it back), and the simulator's stand-in contacts.

Intake commits messages in batches (DESIGN.md section 7, "Group commit"): `begin_intake_batch`
opens the batch's transaction, each message's reads and writes run on it, and
`end_intake_batch` writes what the batch as a whole changed (the planner's marks for the pairs
that had contacts, the IMAP checkpoints) just before the one commit. The statements a message
runs are built once (module level), and run on the session's connection: per message, the ORM's
statement building, cache-key work and bulk-insert bookkeeping took some 40 times as long as
SQLite took to run them (issue 8).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, null, select, union_all, update
from sqlmodel import Session

from .. import locks
from ..models import ContactEvent, ImapCheckpoint, IntakeRecord, PairPlan, QuestionMessage
from ..outcomes import ImapCheckpoint as Checkpoint
from ..outcomes import Outcome, OutcomeKind
from ..roster import Roster
from .inserts import ignoring_repeat, insert_ignoring_repeat
from .plans import pairs_changed

_CONTACTS = ContactEvent.__table__  # type: ignore[attr-defined]
_RECORDS = IntakeRecord.__table__  # type: ignore[attr-defined]
_PLANS = PairPlan.__table__  # type: ignore[attr-defined]

# `plans.pairs_changed` for a batch's contacts, as one executemany of a statement built once: the
# ORM's bulk UPDATE (with its session synchronisation) cost a few milliseconds per batch.
_PLAN_AGAIN = update(_PLANS).where(_PLANS.c.pair_id == bindparam("pair")).values(changes=_PLANS.c.changes + 1)

# Both earlier traces of a message in one round trip: the pairs it was a contact for, and the
# other outcomes recorded for it.
_SEEN_BEFORE = union_all(
    select(_CONTACTS.c.pair_id, null()).where(_CONTACTS.c.message_hash == bindparam("message_hash")),
    select(null(), _RECORDS.c.outcome).where(_RECORDS.c.message_hash == bindparam("message_hash")),
)


# The same for every message of a batch at once (`BatchRecorder`).
_SEEN_BEFORE_MANY = union_all(
    select(_CONTACTS.c.message_hash, _CONTACTS.c.pair_id, null()).where(
        _CONTACTS.c.message_hash.in_(bindparam("message_hashes", expanding=True))
    ),
    select(_RECORDS.c.message_hash, null(), _RECORDS.c.outcome).where(
        _RECORDS.c.message_hash.in_(bindparam("message_hashes", expanding=True))
    ),
)
# Hashes per read of `_SEEN_BEFORE_MANY`: each is bound twice, and SQLite allows 32,766 parameters.
_SEEN_CHUNK = 1000


def begin_intake_batch(session: Session) -> None:
    """Open a batch's transaction, holding the write lock from its first statement on SQLite.

    A batch reads (has this message been seen?) before it writes. In a deferred transaction, a
    commit by another connection in between (the planner, an import) would make the first write
    fail at once with SQLITE_BUSY, without waiting; BEGIN IMMEDIATE waits for the lock (the
    busy timeout) and then reads what is current. It also lets savepoints nest properly: the
    pysqlite driver opens no transaction of its own before a SAVEPOINT.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(frozen=True)
class SeenBefore:
    pairs: frozenset[str]
    outcomes: frozenset[str]


def seen_before(session: Session, message_hash: str) -> SeenBefore:
    """What the store already has of this message. The message is this transaction's from here to
    its commit: on PostgreSQL, a second daemon given the same message waits here (an advisory lock
    keyed by the hash) and then reads what the first committed, so it decides `duplicate` and its
    effects (a contact, a command, a survey answer) happen once. SQLite's batches are serial
    already (BEGIN IMMEDIATE)."""
    connection = session.connection()
    locks.wait_in_transaction(connection, locks.message(message_hash))
    rows = connection.execute(_SEEN_BEFORE, {"message_hash": message_hash}).all()
    return SeenBefore(
        frozenset(pair for pair, _ in rows if pair is not None),
        frozenset(outcome for _, outcome in rows if outcome is not None),
    )


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
        OutcomeKind.DATA_REQUEST,
        OutcomeKind.SELF_REPORT,
        OutcomeKind.SPOOFED,
        OutcomeKind.STAFF_MAIL,  # counted nowhere: the row only makes a second copy a duplicate
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
    """Write what the outcome means for the store. A repeat of an existing row is ignored.

    A contact's pairs are marked for the planner by `end_intake_batch`, once per batch.
    """
    connection = session.connection()
    if outcome.kind is OutcomeKind.CONTACT:
        if outcome.pairs:
            connection.execute(
                ignoring_repeat(connection.dialect.name, _CONTACTS),
                _contact_rows(outcome, message_hash, occurred_at, source),
            )
    elif outcome.kind in RECORDED_OUTCOMES:
        rows = []
        for address in outcome.addresses or ("",):
            person = roster.participant(address)
            rows.append(
                dict(
                    outcome=outcome.kind.value,
                    address=address,
                    person_id=person.person_id if person else None,
                    occurred_at=occurred_at,
                    source=source,
                    message_hash=message_hash,
                )
            )
        connection.execute(ignoring_repeat(connection.dialect.name, _RECORDS), rows)


class BatchRecorder:
    """`seen_before` and `record_outcome` for a whole batch, in bulk where that changes nothing.

    One statement per message for each cost SQLAlchemy some 40 µs of work around it, most of an
    IMAP catch-up's store time (issue 8: a third of the watcher's time over 10,000 CC copies),
    while a batch is nearly all contacts (and duplicates), which nothing else follows. So:

    - what the store has of every message of the batch is read in one statement, at the start
      (on PostgreSQL after taking each message's advisory lock, in hash order, as `seen_before`
      would one at a time: a second daemon's batch waits for this one's commit);
    - a contact's rows are held, and written with the batch's other contacts in one executemany
      before the batch commits (`write_through`); what they add is remembered, so a second copy
      of a message later in the batch is still a duplicate;
    - any outcome that writes something else (an intake record), or that a reply's effects
      follow (the caller calls `write_through` first: effects may read and write anything), ends
      the bulk part: the held rows are written, and from then on each message is read and
      written on its own, exactly as `seen_before` and `record_outcome` do.
    """

    def __init__(self, session: Session, message_hashes: Iterable[str]) -> None:
        self._session = session
        self._held: list[dict[str, object]] = []
        self._known: dict[str, SeenBefore] | None = _seen_before_many(session, set(message_hashes))

    def seen_before(self, message_hash: str) -> SeenBefore:
        if self._known is None or message_hash not in self._known:
            return seen_before(self._session, message_hash)
        return self._known[message_hash]

    def record(self, outcome: Outcome, *, message_hash: str, occurred_at: datetime, source: str, roster: Roster) -> None:
        """`record_outcome`, a contact's rows held until `write_through` while the bulk part lasts."""
        if self._known is not None and message_hash in self._known:
            if outcome.kind is OutcomeKind.CONTACT:
                self._held.extend(_contact_rows(outcome, message_hash, occurred_at, source))
                seen = self._known[message_hash]
                self._known[message_hash] = SeenBefore(
                    seen.pairs | {match.pair_id for match in outcome.pairs}, seen.outcomes
                )
                return
            if outcome.kind not in RECORDED_OUTCOMES:
                return  # nothing to write
        self.write_through()
        record_outcome(
            self._session, outcome, message_hash=message_hash, occurred_at=occurred_at, source=source, roster=roster
        )

    def write_through(self) -> None:
        """Write the held rows; from now on every message is read and written on its own."""
        self._known = None
        if self._held:
            connection = self._session.connection()
            connection.execute(ignoring_repeat(connection.dialect.name, _CONTACTS), self._held)
            self._held = []


def _seen_before_many(session: Session, message_hashes: set[str]) -> dict[str, SeenBefore]:
    connection = session.connection()
    ordered = sorted(message_hashes)
    for message_hash in ordered:
        locks.wait_in_transaction(connection, locks.message(message_hash))
    pairs: dict[str, set[str]] = {message_hash: set() for message_hash in ordered}
    outcomes: dict[str, set[str]] = {message_hash: set() for message_hash in ordered}
    for start in range(0, len(ordered), _SEEN_CHUNK):
        chunk = ordered[start : start + _SEEN_CHUNK]
        for message_hash, pair, outcome in connection.execute(_SEEN_BEFORE_MANY, {"message_hashes": chunk}):
            if pair is not None:
                pairs[message_hash].add(pair)
            if outcome is not None:
                outcomes[message_hash].add(outcome)
    return {h: SeenBefore(frozenset(pairs[h]), frozenset(outcomes[h])) for h in ordered}


def _contact_rows(outcome: Outcome, message_hash: str, occurred_at: datetime, source: str) -> list[dict[str, object]]:
    return [
        dict(
            pair_id=match.pair_id,
            direction=match.direction.value,
            channel="email",
            occurred_at=occurred_at,
            source=source,
            message_hash=message_hash,
        )
        for match in outcome.pairs
    ]


def end_intake_batch(session: Session, contact_pairs: Iterable[str], checkpoints: Iterable[Checkpoint]) -> None:
    """What a batch changed as a whole, written in its transaction just before it commits: the
    pairs that had a contact are planned again, and each IMAP folder's checkpoint moves on."""
    pairs = sorted(set(contact_pairs))
    if pairs:
        session.connection().execute(_PLAN_AGAIN, [{"pair": pair} for pair in pairs])
    for checkpoint in checkpoints:
        save_checkpoint(session, checkpoint)


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
    session: Session, message_hash: str, person_id: int | None, address: str | None, received_at: datetime, raw: bytes
) -> None:
    """A question to forward: from a person on the roster (`person_id`), or from a stranger known
    by `address` alone (person None)."""
    statement = ignoring_repeat(session.get_bind().dialect.name, QuestionMessage.__table__)  # type: ignore[attr-defined]
    session.execute(
        statement,
        dict(message_hash=message_hash, person_id=person_id, address=address, received_at=received_at, raw=raw),
    )


def question_texts(session: Session, question_ids: tuple[int, ...]) -> list[bytes]:
    rows = session.execute(select(QuestionMessage.raw).where(QuestionMessage.id.in_(question_ids)))  # type: ignore[union-attr]
    return [raw for (raw,) in rows if raw is not None]


def record_simulated_contacts(session: Session, contacts: Sequence[tuple[str, datetime, str, str]]) -> None:
    """Synthetic contacts (pair id, when, direction, key) for `mentormail simulate`, together
    (only ever written to its scratch store)."""
    for pair_id, when, direction, key in contacts:
        values = dict(pair_id=pair_id, direction=direction, channel="email", occurred_at=when, source="simulated")
        insert_ignoring_repeat(session, ContactEvent, {**values, "message_hash": key})
    pairs_changed(session, (pair_id for pair_id, _, _, _ in contacts))
