"""Forgetting a person on request (`mentormail forget EMAIL`, README "Erasure").

A person is removed with everything that refers to them, in one transaction. What goes:

- the person (and so their aliases), their survey answers, and every pair of theirs with all
  that hangs on the pair: its contact events, check-in replies, letter requests, the planner's
  row and the pair's own mail. The partner stays, with their other pairs, which are planned
  again. A survey answer is one person's, filed under their latest pair: the partner's answer
  filed under a forgotten pair moves to their latest remaining pair, and goes only when they
  have none (it was then about the forgotten pair alone).
- intake records and questions naming the person or one of their addresses;
- the program's mail to them, and mail not yet sent whose text names them (a digest forwarding
  their question, a bounce line); the planner composes such program-wide mail again without
  them, and another participant's question forwarded by a deleted digest is forwarded again;
- command uses and audit entries naming them, their pairs or their letters: a command use goes
  (it only keeps a command from being obeyed twice), an audit entry keeps who acted and when,
  with its text replaced by `ERASED` (the audit says that an erasure happened, not about whom).

Survey answers are deleted, not anonymised into the aggregate: an answer is kept per person and
pair, so in a round of pairs a "nameless" answer would still be identified by its pair, its role
and its free text; the results mail counts the responses there are, so it simply counts one less.

The work is bounded by the person: a few pairs, their events, and indexed lookups; the only
scans are over the outbox's unsent rows (by the database, for the text) and the audit's matches.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Delete, Update, delete, func, or_, select, text, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from ..models import (
    AuditEntry,
    CheckinReply,
    CommandUse,
    ContactEvent,
    IntakeRecord,
    LetterRequest,
    OutboxMessage,
    Pair,
    PairPlan,
    Person,
    QuestionMessage,
    SurveyResponse,
)
from .plans import people_changed
from .roster import bump_roster_version

# What an audit entry about a forgotten person says instead of its command and result.
ERASED = "ERASED"


class CannotForget(Exception):
    """The address is not someone mentormail may forget; the message says why, in one line."""


@dataclass
class Erasure:
    """What forgetting one person removes (or would remove), counted by kind."""

    people: int = 0
    pairs: int = 0
    contact_events: int = 0
    checkin_replies: int = 0
    survey_responses: int = 0
    letter_requests: int = 0
    questions: int = 0
    intake_records: int = 0
    outbox_messages: int = 0
    command_uses: int = 0
    audit_entries: int = 0  # rewritten to ERASED, not deleted

    def summary(self) -> str:
        """`1 person, 1 pair, 4 contact events, ...`: what was found (kinds with none left out),
        never whose."""
        counts = [(getattr(self, item.name), _NOUNS[item.name]) for item in fields(self)]
        return ", ".join(f"{n} {one if n == 1 else many}" for n, (one, many) in counts if n or one == "person")


_NOUNS = {
    "people": ("person", "people"),
    "pairs": ("pair", "pairs"),
    "contact_events": ("contact event", "contact events"),
    "checkin_replies": ("check-in reply", "check-in replies"),
    "survey_responses": ("survey response", "survey responses"),
    "letter_requests": ("letter request", "letter requests"),
    "questions": ("question", "questions"),
    "intake_records": ("intake record", "intake records"),
    "outbox_messages": ("mail in the outbox", "mails in the outbox"),
    "command_uses": ("command use", "command uses"),
    "audit_entries": ("audit entry rewritten", "audit entries rewritten"),
}


@dataclass(frozen=True)
class _Target:
    person_id: int
    name: str
    addresses: tuple[str, ...]  # the address and every alias, normalised
    pair_ids: tuple[str, ...]
    partner_ids: tuple[int, ...]
    letter_ids: tuple[int, ...]


def forget_confirmation_key(address: str) -> str:
    """How the key of the program's answer asking a coordinator to confirm `forget ADDRESS` starts:
    a reply to that answer confirms it. A digest, not the address; the erasure deletes the answer."""
    return f"reply:forget:{hashlib.sha256(address.strip().lower().encode()).hexdigest()[:24]}:"


def forget_person(session: Session, email: str, now: datetime, by: str | None, *, dry_run: bool = False) -> Erasure:
    """Remove the person known by `email` (their address or an alias) and everything about them.
    `by` names who asked, for the audit entry recording that an erasure happened (None: the
    caller audits it, as a coordinator's command is). With `dry_run` the same work is done in a
    savepoint rolled back: the counts are exactly what would go. Raises CannotForget for an
    unknown address or a staff member."""
    target = _target(session, email)
    if not dry_run:
        return _erase(session, target, now, by)
    savepoint = session.begin_nested()
    try:
        return _erase(session, target, now, by)
    finally:
        savepoint.rollback()


def _erase(session: Session, target: _Target, now: datetime, by: str | None) -> Erasure:
    def removed(statement: Delete | Update) -> int:
        return session.execute(statement).rowcount or 0  # type: ignore[attr-defined]

    pairs = list(target.pair_ids)
    questions = _questions(target)
    outbox_ids = _outbox_ids(session, target)
    # Another person's question that a deleted digest forwarded is forwarded again, by the next one.
    session.execute(
        update(QuestionMessage)
        .where(col(QuestionMessage.forwarded_in).in_(outbox_ids), ~questions)
        .values(forwarded_in=None)
    )
    erasure = Erasure(people=1, pairs=len(pairs), questions=removed(delete(QuestionMessage).where(questions)))
    _refile_partners_answers(session, target)
    erasure.survey_responses = removed(
        delete(SurveyResponse).where(
            or_(SurveyResponse.person_id == target.person_id, col(SurveyResponse.pair_id).in_(pairs))
        )
    )
    erasure.letter_requests = removed(delete(LetterRequest).where(col(LetterRequest.id).in_(target.letter_ids)))
    _erase_pair_rows(session, pairs, erasure)
    erasure.intake_records = removed(delete(IntakeRecord).where(_intake_records(target)))
    erasure.outbox_messages = removed(delete(OutboxMessage).where(col(OutboxMessage.id).in_(outbox_ids)))
    erasure.command_uses = removed(delete(CommandUse).where(col(CommandUse.id).in_(_command_use_ids(session, target))))
    erasure.audit_entries = removed(
        update(AuditEntry)
        .where(col(AuditEntry.id).in_(_audit_ids(session, target)))
        .values(command=ERASED, result=ERASED)
    )
    session.execute(delete(Pair).where(col(Pair.id).in_(pairs)))
    session.execute(delete(Person).where(Person.id == target.person_id))
    # The partners' other pairs are planned again (a person's survey is timed by all their pairs),
    # and intake reloads the roster it caches.
    people_changed(session, target.partner_ids)
    bump_roster_version(session)
    if by is not None:
        session.add(AuditEntry(at=now, coordinator=by, command="forget", result=f"forgot {erasure.summary()}"))
    session.flush()  # within the savepoint of a dry run, which then undoes it with the rest
    return erasure


def erase_pairs(session: Session, pair_ids: Sequence[str]) -> Erasure:
    """The pairs and what hangs on them alone, their people kept (a finished round's retention,
    `retention.py`): contact events, check-in replies, letter requests and survey answers filed
    under them, the planner's rows and the pairs' own mail. Counted as `forget_person` counts."""
    pairs = list(pair_ids)
    erasure = Erasure(pairs=len(pairs))
    erasure.survey_responses = _removed(
        session, delete(SurveyResponse).where(col(SurveyResponse.pair_id).in_(pairs))
    )
    erasure.letter_requests = _removed(session, delete(LetterRequest).where(col(LetterRequest.pair_id).in_(pairs)))
    _erase_pair_rows(session, pairs, erasure)
    # A pair's own mail (its welcome, topics, check-ins, letters): mail about several pairs (the
    # digest, the liaison summary) has no pair, and its text was wiped when it was sent.
    erasure.outbox_messages = _removed(session, delete(OutboxMessage).where(col(OutboxMessage.pair_id).in_(pairs)))
    session.execute(delete(Pair).where(col(Pair.id).in_(pairs)))
    return erasure


def _erase_pair_rows(session: Session, pairs: list[str], erasure: Erasure) -> None:
    """What only a pair has, whoever is forgotten: check-in replies, contact events, the plan."""
    erasure.checkin_replies = _removed(session, delete(CheckinReply).where(col(CheckinReply.pair_id).in_(pairs)))
    erasure.contact_events = _removed(session, delete(ContactEvent).where(col(ContactEvent.pair_id).in_(pairs)))
    session.execute(delete(PairPlan).where(col(PairPlan.pair_id).in_(pairs)))


def _removed(session: Session, statement: Delete | Update) -> int:
    return session.execute(statement).rowcount or 0  # type: ignore[attr-defined]


def _refile_partners_answers(session: Session, target: _Target) -> None:
    """The partners' survey answers filed under a forgotten pair, under their latest other pair
    (as a survey reply files them); those of a partner with no other pair are then deleted."""
    pairs = list(target.pair_ids)
    for partner in target.partner_ids:
        theirs = or_(Pair.mentor_id == partner, Pair.mentee_id == partner)
        latest = session.execute(
            select(Pair.id)
            .where(theirs, col(Pair.id).not_in(pairs))
            .order_by(col(Pair.started_on).desc(), col(Pair.id).desc())
            .limit(1)
        ).scalar()
        if latest is not None:
            session.execute(
                update(SurveyResponse)
                .where(SurveyResponse.person_id == partner, col(SurveyResponse.pair_id).in_(pairs))
                .values(pair_id=latest)
            )


def _target(session: Session, email: str) -> _Target:
    address = email.strip().lower()
    person = session.execute(select(Person).where(Person.email == address)).scalars().first()
    if person is None:  # an alias: few people have any, and the LIKE only narrows the exact check
        candidates = session.execute(select(Person).where(col(Person.aliases).contains(address, autoescape=True)))
        person = next((p for p in candidates.scalars() if address in p.aliases.split()), None)
    if person is None or person.id is None:
        raise CannotForget("no one in the program has that address (`mentormail status` lists the pairs)")
    if person.staff:
        raise CannotForget(
            "that address is a coordinator's or the liaison's: remove it from [people] in the config first"
        )
    theirs = or_(Pair.mentor_id == person.id, Pair.mentee_id == person.id)
    pairs = session.execute(select(Pair).where(theirs)).scalars().all()
    pair_ids = tuple(sorted(pair.id for pair in pairs))
    partners = {pair.mentee_id if pair.mentor_id == person.id else pair.mentor_id for pair in pairs}
    letters = session.execute(
        select(LetterRequest.id).where(
            or_(LetterRequest.person_id == person.id, col(LetterRequest.pair_id).in_(pair_ids))
        )
    ).scalars()
    return _Target(
        person_id=person.id,
        name=person.name.strip(),
        addresses=(person.email, *person.aliases.split()),
        pair_ids=pair_ids,
        partner_ids=tuple(sorted(partners)),
        letter_ids=tuple(sorted(letters)),
    )


def _questions(target: _Target) -> ColumnElement[bool]:
    return or_(QuestionMessage.person_id == target.person_id, col(QuestionMessage.address).in_(target.addresses))


def _intake_records(target: _Target) -> ColumnElement[bool]:
    return or_(IntakeRecord.person_id == target.person_id, col(IntakeRecord.address).in_(target.addresses))


def _outbox_ids(session: Session, target: _Target) -> list[int]:
    """Mail to them, their pairs' mail, and unsent mail whose text names them (sent mail's text
    is wiped at delivery)."""
    to_them = or_(*(col(OutboxMessage.recipients).contains(a, autoescape=True) for a in target.addresses))
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.recipients, OutboxMessage.pair_id).where(
            or_(to_them, col(OutboxMessage.pair_id).in_(target.pair_ids))
        )
    )
    addresses = set(target.addresses)
    found = {row.id for row in rows if row.pair_id in target.pair_ids or addresses & set(row.recipients.split())}
    for address in target.addresses:  # the answers that asked a coordinator to confirm forgetting them
        confirming = col(OutboxMessage.key).startswith(forget_confirmation_key(address), autoescape=True)
        found.update(session.execute(select(OutboxMessage.id).where(confirming)).scalars())
    needles = [a.encode() for a in target.addresses] + ([target.name.encode()] if target.name else [])
    unsent = OutboxMessage.raw.isnot(None)  # type: ignore[union-attr]
    for needle in needles:
        found.update(session.execute(select(OutboxMessage.id).where(unsent, _bytes_contain(session, needle))).scalars())
    return sorted(found)


def _bytes_contain(session: Session, needle: bytes) -> ColumnElement[bool]:
    """Whether the outbox row's raw message holds `needle`, byte for byte, searched by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return text("position(CAST(:needle AS bytea) IN outboxmessage.raw) > 0").bindparams(needle=needle)  # type: ignore[return-value]
    return text("instr(outboxmessage.raw, :needle) > 0").bindparams(needle=needle)  # type: ignore[return-value]


def _mentions(target: _Target) -> list[re.Pattern[str]]:
    """A command or audit line that is about them: an address, their name, one of their pairs'
    ids or letters as a word (`pause p1`, `approve letter #3`, not `pause p10`)."""
    words = [re.escape(word) for word in (*target.addresses, *target.pair_ids)]
    words += [rf"letter\s+#?{n}" for n in target.letter_ids]
    patterns = [re.compile(rf"(?<![\w.@-]){word}(?![\w@-])", re.IGNORECASE) for word in words]
    if target.name:
        patterns.append(re.compile(re.escape(target.name), re.IGNORECASE))
    return patterns


def _narrowing(columns: Iterable[ColumnElement[str]], target: _Target) -> ColumnElement[bool]:
    """A LIKE that finds every row a pattern of `_mentions` may match (and some more)."""
    words = [*target.addresses, *target.pair_ids, *(str(n) for n in target.letter_ids)]
    if target.name:
        words.append(target.name)
    return or_(*(func.lower(column).contains(word.lower(), autoescape=True) for column in columns for word in words))


def _command_use_ids(session: Session, target: _Target) -> list[int]:
    patterns = _mentions(target)
    rows = session.execute(
        select(CommandUse.id, CommandUse.command).where(_narrowing([col(CommandUse.command)], target))
    )
    return [row.id for row in rows if any(p.search(row.command) for p in patterns)]


def _audit_ids(session: Session, target: _Target) -> list[int]:
    patterns = _mentions(target)
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.command, AuditEntry.result).where(
            _narrowing([col(AuditEntry.command), col(AuditEntry.result)], target)
        )
    )
    return [row.id for row in rows if any(p.search(row.command) or p.search(row.result) for p in patterns)]
