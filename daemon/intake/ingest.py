"""The one entry for every message: `Intake.ingest(raw, source) -> Outcome`.

SMTP, IMAP and `mentormail ingest` all come here (`ingest_many` is the same entry for a list of
messages, as an IMAP catch-up reads them). Intake gathers the facts, asks the router for the
outcome, records it and applies what a reply asks for (`replies.ReplyEffects`), all of a
message or none of it (a savepoint each). Messages are committed in batches (`batches.py`):
those that arrive while a commit is in progress share the next one, with the IMAP checkpoint
of the batch, and each caller hears back only once its batch has committed.

Confidentiality: a body is read in two cases only, and never for mail between partners.
Mail neither from nor to a participant (`_may_read_body`): to find the address a bounce is
about. Mail from a participant or coordinator addressed to the program itself, with no partner
among the recipients (`_written_to_program`): to read the reply. Over IMAP a body is not even
fetched otherwise (`load_full`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from email.parser import BytesHeaderParser
from email.policy import compat32, default
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session

from ...parsers.authresults import passes_for_domain
from ...parsers.headers import HeaderFacts, names_program, parse_headers
from ...parsers.machine import (
    MachineKind,
    MachineVerdict,
    bounced_addresses,
    classify_headers,
    classify_message,
)
from ...parsers.reply import body_text, strip_quotes
from ...parsers.structure import Structure, examine, sender_problem
from ...parsers.tokens import Claims, Purpose, Rejected, token_in, verify
from ...store import queries
from ...store.db import Store
from ...store.outcomes import ImapCheckpoint, Outcome, OutcomeKind, Source
from ...store.roster import Participant, Roster
from ..logs import describe_exception
from .batches import GroupCommit, Pending
from .router import MessageFacts, RepliedTo, ReplyToken, route

if TYPE_CHECKING:  # replies.py composes mail; intake only hands it the decision
    from ..replies.effects import ReplyEffects

log = logging.getLogger("mentormail.intake")

# Where the Subject of mail to the program is looked for (parsers/headers.py's bound on a header
# block), and the longest one an answer's "Re: " takes.
_MAX_HEADER_BLOCK = 64 * 1024
_MAX_SUBJECT = 2000

# A Date header this far ahead of the clock is a wrong clock, not the time the mail was sent.
_FUTURE_TOLERANCE = timedelta(hours=26)

# Outcomes whose recording and effects never touch people or pairs. After any other (a
# coordinator's command can pause a pair or add one), the roster's version is read again before
# the next message of the batch.
_ROSTER_UNTOUCHED = frozenset(
    {
        OutcomeKind.CONTACT,
        OutcomeKind.DUPLICATE,
        OutcomeKind.MALFORMED,
        OutcomeKind.BOUNCE,
        OutcomeKind.AUTO_REPLY,
        OutcomeKind.LOOP,
        OutcomeKind.UNKNOWN_SENDER,
        OutcomeKind.SPOOFED,
        OutcomeKind.STAFF_MAIL,
        OutcomeKind.QUESTION,
        OutcomeKind.DATA_REQUEST,
    }
)


class _MessageFailed(Exception):
    """A message of a batch run without savepoints failed: the batch must run again with them."""


@dataclass(frozen=True)
class Arrival:
    """A message handed to intake: its bytes (over IMAP, its header block), where it came from,
    and, over IMAP, how to read the rest should intake be allowed to (`load_full`)."""

    raw: bytes
    source: Source
    load_full: Callable[[], bytes] | None = None


@dataclass(frozen=True)
class _Prepared:
    """What can be known of a message without the store: its header facts, its keyed hash, and
    what the headers say of machine mail. Worked out on the caller's thread before the message
    joins a batch, so that it overlaps the commit in progress (which waits on the disk with the
    GIL released) instead of lengthening the next one."""

    arrival: Arrival
    headers: HeaderFacts | None  # None: the header block could not be parsed
    message_hash: str
    machine: MachineVerdict | None


@dataclass(frozen=True)
class IntakePolicy:
    """What intake needs of the config beyond the program address and the secret."""

    coordinators: frozenset[str] = frozenset()
    trusted_authserv_id: str | None = None
    zone: ZoneInfo = ZoneInfo("UTC")


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    message_hash: str
    occurred_at: datetime  # aware, UTC
    roster: Roster
    now: datetime
    facts: MessageFacts | None = None  # None when the headers could not be parsed
    body: str | None = None  # a reply's whole text, quotes included (survey answers typed under them)
    full: bytes | None = None  # the whole message, when it was read (a question to forward)
    subject: str | None = None  # of mail written to the program, for the answer's "Re: ..."

    @property
    def writer(self) -> Participant | None:
        return (self.facts.sender or self.facts.staff) if self.facts else None


@dataclass(frozen=True)
class Explanation:
    """What `explain` shows: the outcome, and what mail-parser found in the message."""

    outcome: Outcome
    # Defects and Received hops, for the person running explain only (never logged or stored).
    # Of the header block alone unless intake read the body too (`_may_read_body`,
    # `_written_to_program`): mail between partners is never examined past its headers.
    structure: Structure


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Intake:
    def __init__(
        self,
        store: Store,
        program_address: str,
        secret: bytes,
        clock: Callable[[], datetime] = utc_now,
        *,
        policy: IntakePolicy = IntakePolicy(),
        effects: ReplyEffects | None = None,
    ) -> None:
        self.store = store
        self.program_address = program_address
        self.secret = secret
        self.clock = clock
        self.policy = policy
        self.effects = effects  # None: replies are recorded but nothing is done or answered
        self._roster: tuple[int, Roster] | None = None  # (roster_version, roster)
        self._commits = GroupCommit[_Prepared, Outcome](self._commit_batch)

    def ingest(self, raw: bytes, source: Source, *, load_full: Callable[[], bytes] | None = None) -> Outcome:
        """Decide and record. Returns once the message is committed. Raises only when the store
        fails: the caller must then keep the message (SMTP 451, pipe exit 75, IMAP retries) so
        nothing is lost."""
        (pending,) = self._commits.run([self._prepare(Arrival(raw, source, load_full))])
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None
        return pending.result

    def ingest_many(self, arrivals: Sequence[Arrival]) -> list[Outcome | BaseException]:
        """`ingest` for several messages at once, committed together (up to `MAX_BATCH` a
        commit): each one's outcome, or what kept it from being recorded. Over IMAP, a message
        that fails stops its folder: the later messages of the same folder in the batch are not
        recorded either (they fail with it), as the watcher reads a folder in UID order and
        starts again from the failed one."""
        prepared = [self._prepare(arrival) for arrival in arrivals]
        return [p.error if p.error is not None else p.result for p in self._commits.run(prepared)]  # type: ignore[misc]

    @property
    def in_hand(self) -> int:
        """Messages handed to intake and not yet answered (waiting for a commit, or in one)."""
        return self._commits.in_hand

    def _commit_batch(self, batch: list[Pending[_Prepared, Outcome]]) -> None:
        """One transaction for the batch; settles every message once it has committed (or not).

        Messages hardly ever fail one by one, and a savepoint per message costs SQLAlchemy more
        than the message's own statements, so a batch first runs without them. Should a message
        fail, that transaction is rolled back whole and the batch runs again with a savepoint
        per message: only the failed messages fail, and nothing of theirs is kept.
        """
        try:
            try:
                results = self._run_batch(batch, isolated=False)
            except _MessageFailed:
                results = self._run_batch(batch, isolated=True)
        except Exception as exc:  # the commit (or the transaction) failed: nothing of the batch is stored
            for pending in batch:
                pending.fail(exc)
            return
        for pending, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                pending.fail(result)
                continue
            outcome = result.outcome
            log.info(
                "%s via %s [%s]: %s",
                outcome.kind.value,
                pending.item.arrival.source.transport.value,
                result.message_hash[:12],
                outcome.reason,
            )
            pending.succeed(outcome)

    def _run_batch(self, batch: list[Pending[_Prepared, Outcome]], *, isolated: bool) -> list[Decision | BaseException]:
        """Record the batch in one transaction and commit it: each message's decision, or (when
        `isolated`, each in a savepoint) what made it fail. Not isolated, a message that fails
        raises `_MessageFailed` and nothing is committed."""
        roster_before = self._roster
        results: list[Decision | BaseException] = []
        try:
            with self.store.session() as session:
                queries.begin_intake_batch(session)
                roster = self._current_roster(session)
                # Not isolated, the batch's messages are read and their contacts written in bulk;
                # in savepoints, each on its own, so that a failed one leaves nothing behind.
                recorder = None if isolated else queries.BatchRecorder(session, self._hashes_to_look_up(batch))
                contact_pairs: set[str] = set()
                checkpoints: dict[str, ImapCheckpoint] = {}
                stopped: dict[str, BaseException] = {}  # IMAP folders in which a message failed
                for pending in batch:
                    checkpoint = pending.item.arrival.source.checkpoint
                    if checkpoint is not None and checkpoint.mailbox_key in stopped:
                        results.append(stopped[checkpoint.mailbox_key])
                        continue
                    if not isolated:
                        try:
                            decision = self._record(session, pending.item, roster, recorder)
                        except Exception as exc:
                            raise _MessageFailed from exc
                    else:
                        savepoint = session.begin_nested()
                        try:
                            decision = self._record(session, pending.item, roster, None)
                            savepoint.commit()
                        except Exception as exc:
                            # Only this message is undone. Should even the rollback fail, the
                            # transaction is lost: that raises, and the whole batch fails.
                            savepoint.rollback()
                            results.append(exc)
                            if checkpoint is not None:
                                stopped[checkpoint.mailbox_key] = exc
                            continue
                    results.append(decision)
                    outcome = decision.outcome
                    if outcome.kind is OutcomeKind.CONTACT:
                        contact_pairs.update(match.pair_id for match in outcome.pairs)
                    if checkpoint is not None:
                        checkpoints[checkpoint.mailbox_key] = _later(
                            checkpoints.get(checkpoint.mailbox_key), checkpoint
                        )
                    if outcome.kind not in _ROSTER_UNTOUCHED:
                        roster = self._current_roster(session)
                if recorder is not None:
                    try:
                        recorder.write_through()
                    except Exception as exc:  # one message's rows refused: find which, in savepoints
                        raise _MessageFailed from exc
                queries.end_intake_batch(session, contact_pairs, checkpoints.values())
        except BaseException:
            if self._roster is not roster_before:
                self._roster = None  # read inside a transaction that did not commit: not the store's
            raise
        return results

    def _record(
        self, session: Session, prepared: _Prepared, roster: Roster, recorder: queries.BatchRecorder | None
    ) -> Decision:
        """Decide one message and write what it means, in the batch's transaction (through the
        batch's `recorder`, or on its own when there is none)."""
        arrival = prepared.arrival
        source, load_full = arrival.source, arrival.load_full
        seen_before = recorder.seen_before if recorder is not None else partial(queries.seen_before, session)
        decision = self._decide(session, prepared, roster, seen_before)
        record = recorder.record if recorder is not None else partial(queries.record_outcome, session)
        record(
            decision.outcome,
            message_hash=decision.message_hash,
            occurred_at=decision.occurred_at,
            source=source.transport.value,
            roster=decision.roster,
        )
        if _keeps_text(decision):
            # A question written to the program: kept until the coordinators' digest
            # forwards it, then wiped.
            full = decision.full or (load_full() if load_full is not None else arrival.raw)
            writer = decision.writer
            queries.record_question_text(
                session,
                decision.message_hash,
                writer.person_id if writer else None,  # None: a stranger, known by address alone
                decision.facts.headers.from_address if decision.facts else None,
                decision.occurred_at,
                full,
            )
        if self.effects is not None and self.effects.acts_on(decision):
            if recorder is not None:
                recorder.write_through()  # what the reply does may read or write what the batch holds
            self.effects.apply(session, decision)
        return decision

    @staticmethod
    def _hashes_to_look_up(batch: list[Pending[_Prepared, Outcome]]) -> list[str]:
        """The messages whose past `_decide` asks about: those whose headers could be read."""
        return [pending.item.message_hash for pending in batch if pending.item.headers is not None]

    def explain(self, raw: bytes, source: Source) -> Explanation:
        """What `ingest` would decide, changing nothing; and what is wrong with the message."""
        with self.store.session() as session:
            decision = self._decide(
                session,
                self._prepare(Arrival(raw, source)),
                self._current_roster(session),
                partial(queries.seen_before, session),
            )
            session.rollback()
        return Explanation(decision.outcome, examine(raw, whole=decision.full is not None))

    def _prepare(self, arrival: Arrival) -> _Prepared:
        try:
            headers = parse_headers(arrival.raw)
        except Exception as exc:  # the parsers are built not to raise; if one does, the message is unreadable
            log.warning("header parser failed: %s", describe_exception(exc))
            return _Prepared(arrival, None, self._hash_bytes(arrival.raw), None)
        message_hash = self.message_hash(headers, arrival.raw)
        return _Prepared(arrival, headers, message_hash, classify_headers(headers, self.program_address))

    def _decide(
        self, session: Session, prepared: _Prepared, roster: Roster, seen_before: Callable[[str], queries.SeenBefore]
    ) -> Decision:
        now = self.clock()
        raw, source, load_full = prepared.arrival.raw, prepared.arrival.source, prepared.arrival.load_full
        headers, message_hash = prepared.headers, prepared.message_hash
        if headers is None:
            unreadable = Outcome(OutcomeKind.MALFORMED, "the header block could not be parsed")
            return Decision(unreadable, message_hash, now, roster, now)
        seen = seen_before(message_hash)
        sender = roster.participant(headers.from_address)
        staff = roster.staff_member(headers.from_address)
        coordinator = staff if headers.from_address in self.policy.coordinators else None
        machine = prepared.machine
        bounced: frozenset[str] = frozenset()
        full: bytes | None = None
        if _may_read_body(headers, sender, machine, roster):
            # Reading past the headers is needed to recognise bounces that only their body gives
            # away (some look like auto-replies from their headers alone).
            full = load_full() if load_full is not None else raw
            machine = classify_message(full, self.program_address, headers)
            if machine is not None and machine.kind is MachineKind.BOUNCE:
                bounced = bounced_addresses(full) | self._verp_bounced(headers, source, roster, now)
        today = now.astimezone(self.policy.zone).date()
        body = text = subject = None
        token = None
        if _written_to_program(headers, sender, machine, roster, self.program_address):
            full = full or (load_full() if load_full is not None else raw)
            body = body_text(full)
            text = strip_quotes(body)
            subject = _subject(full)
            token = self._reply_token(session, headers, source, today)
        facts = MessageFacts(
            headers=headers,
            sender=sender,
            machine=machine,
            bounced=bounced,
            program_address=self.program_address,
            envelope_recipients=source.envelope_recipients,
            seen_pairs=seen.pairs,
            seen_outcomes=seen.outcomes,
            coordinator=coordinator,
            staff=staff,
            token=token,
            authenticated=self._authenticated(headers),
            text=text,
            subject=subject,
            today=today,
            from_problem=sender_problem(raw) if headers.from_address is None else None,
        )
        outcome = route(facts, roster)
        return Decision(outcome, message_hash, _occurred_at(headers, now), roster, now, facts, body, full, subject)

    def _reply_token(self, session: Session, headers: HeaderFacts, source: Source, today: date) -> ReplyToken | None:
        """The signed token a reply carries: in a `program+TOKEN` address, else in the Message-ID
        of our mail it answers (In-Reply-To, then References, newest first)."""
        addresses = (*source.envelope_recipients, *headers.delivered_to, *headers.recipients)
        token = next((t for a in addresses if (t := token_in(a, self.program_address))), None)
        if token is None:
            local, _, domain = self.program_address.partition("@")
            for message_id in (headers.in_reply_to, *reversed(headers.references)):
                if message_id and message_id.lower().endswith("@" + domain):
                    candidate = message_id.split(".", 1)[0]
                    if token_in(f"{local}+{candidate}@{domain}", self.program_address):
                        token = candidate.lower()
                        break
        if token is None:
            return None
        claims = verify(self.secret, token, today)
        if isinstance(claims, Rejected):
            return ReplyToken(None, claims.reason)
        if claims.purpose is not Purpose.REPLY:
            return ReplyToken(None, "a bounce address used as a reply address")
        replied = queries.outbox_mail_for_token(session, token)
        return ReplyToken(claims, None, RepliedTo(*replied) if replied else None)

    def _authenticated(self, headers: HeaderFacts) -> bool:
        """DMARC or DKIM pass from the trusted server, where one is configured."""
        trusted = self.policy.trusted_authserv_id
        if trusted is None:
            return True
        domain = (headers.from_address or "").rpartition("@")[2]
        return passes_for_domain(headers.authentication_results, trusted, domain)

    def _current_roster(self, session: Session) -> Roster:
        """The cached roster, reloaded when its version in the store has moved on.

        Every change to people or pairs raises `program.roster_version` in its own transaction
        (an import by another process, a coordinator's command), so one small read per batch,
        in the batch's transaction, says whether the snapshot is still the store's. Rebuilding
        the roster for every message was the largest cost of intake (see tests/bench).
        """
        version = queries.roster_version(session)
        if self._roster is None or self._roster[0] != version:
            self._roster = (version, queries.load_roster(session))
        return self._roster[1]

    def _verp_bounced(self, headers: HeaderFacts, source: Source, roster: Roster, now: datetime) -> frozenset[str]:
        """The participant a bounce was for, named by the signed envelope sender of our mail.

        A bounce comes back to `program+TOKEN@domain`; the token says whose mail bounced even
        when the report itself names no address (or an alias).
        """
        found = set()
        for address in (*source.envelope_recipients, *headers.delivered_to, *headers.to):
            token = token_in(address, self.program_address)
            claims = verify(self.secret, token, now.date()) if token else None
            if isinstance(claims, Claims) and claims.purpose is Purpose.BOUNCE:
                person = roster.by_id(claims.person)
                if person is not None:
                    found.add(person.email)
        return frozenset(found)

    def message_hash(self, headers: HeaderFacts, raw: bytes) -> str:
        """A keyed hash of the Message-ID: the same message is recognised, its ID is not kept.

        Without a Message-ID, the sender, date and recipients stand in for it (never the
        subject): copies of one message still match, different messages almost never do.
        """
        if headers.message_id:
            key = "id:" + headers.message_id
        else:
            key = "noid:" + "|".join(
                [headers.from_address or "", headers.date.isoformat() if headers.date else "", *headers.recipients]
            )
        return hmac.new(self.secret, key.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()

    def _hash_bytes(self, raw: bytes) -> str:
        return hmac.new(self.secret, b"raw:" + raw, hashlib.sha256).hexdigest()


def _keeps_text(decision: Decision) -> bool:
    facts = decision.facts
    return (
        decision.outcome.kind is OutcomeKind.QUESTION
        and facts is not None
        and names_program(facts.headers, facts.program_address)
    )


def _written_to_program(
    headers: HeaderFacts, sender: Participant | None, machine: MachineVerdict | None, roster: Roster, program: str
) -> bool:
    """Mail a person wrote to the program itself, which may be read (DESIGN.md section 3): not
    machine mail, the program named in To/Cc, and no partner among the recipients. For a
    participant, none of their partners; for anyone else (a coordinator, the liaison, a
    stranger), no participant at all: a copy of their mail to a participant is that
    participant's mail too, and only its headers are looked at."""
    if machine is not None or not names_program(headers, program):
        return False
    if sender is not None:
        return not roster.pairs_with(sender, headers.recipients)
    return not any(roster.participant(address) for address in headers.recipients)


def _subject(full: bytes) -> str | None:
    """The Subject of mail written to the program, for the answer's "Re: ..."; None if unreadable
    or longer than a subject is (the header registry's parse grows with the header)."""
    try:
        raw = BytesHeaderParser(policy=compat32).parsebytes(full[:_MAX_HEADER_BLOCK]).get("Subject")
        if raw is None or len(str(raw)) > _MAX_SUBJECT:
            return None
        return " ".join(str(default.header_factory("Subject", str(raw))).split())
    except Exception:  # noqa: BLE001 - a header the registry cannot read: the answer keeps its own subject
        return None


def _may_read_body(
    headers: HeaderFacts, sender: Participant | None, machine: MachineVerdict | None, roster: Roster
) -> bool:
    """The confidentiality gate (DESIGN.md section 3): only mail that cannot be between partners.

    Not from a participant, and addressed to no participant either: a participant writing from
    an address the roster does not know is still writing to their partner, and that mail is
    never read past its headers. Mail the headers already show to be our own or a list's needs
    no more reading.
    """
    if sender is not None or any(roster.participant(a) for a in headers.recipients):
        return False
    return machine is None or machine.kind in (MachineKind.BOUNCE, MachineKind.AUTO_REPLY)


def _occurred_at(headers: HeaderFacts, now: datetime) -> datetime:
    """When the mail was written: its Date header, unless that is missing or implausible."""
    if headers.date is None or headers.date > now + _FUTURE_TOLERANCE:
        return now
    return headers.date.astimezone(timezone.utc)


def _later(checkpoint: ImapCheckpoint | None, other: ImapCheckpoint) -> ImapCheckpoint:
    """Of two checkpoints of one folder, the one to keep: the higher UID, or the newer numbering."""
    if checkpoint is None or checkpoint.uidvalidity != other.uidvalidity or other.uid > checkpoint.uid:
        return other
    return checkpoint
