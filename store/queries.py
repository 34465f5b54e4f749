"""Every read and write the daemon makes. Nothing outside store/ writes SQL.

Functions take an open `Session` so that the caller decides the transaction: intake records a
message's events and its IMAP checkpoint in one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from mentormail.store.outcomes import ImapCheckpoint as Checkpoint
from mentormail.store.outcomes import Outcome, OutcomeKind
from mentormail.store.roster import Participant, Roster, RosterPair
from mentormail.parsers.roster_csv import RosterError, RosterRow
from mentormail.store.planner_state import Bounce, Contact, DeliveryFailure, PairState, PlannerState, Question, UnknownSender
from mentormail.store.planner_state import Person as PlannerPerson
from mentormail.store.models import (
    AuditEntry,
    CheckinReply,
    CommandUse,
    ContactEvent,
    ImapCheckpoint,
    IntakeRecord,
    OutboxMessage,
    Pair,
    Person,
    LetterRequest,
    Program,
    QuestionMessage,
    SurveyResponse,
)


# --- the roster ------------------------------------------------------------------------------


def load_roster(session: Session) -> Roster:
    people = {p.id: p for p in session.exec(select(Person))}
    everyone = {pid: Participant(pid, p.email, p.name) for pid, p in people.items() if pid is not None}
    pairs = [
        RosterPair(pair.id, everyone[pair.mentor_id], everyone[pair.mentee_id], pair.status, pair.started_on)
        for pair in session.exec(select(Pair))
    ]
    paired = {pair.mentor.person_id for pair in pairs} | {pair.mentee.person_id for pair in pairs}
    # A coordinator who is also a mentor is both: a participant for their pair's mail.
    participants = [pid for pid in everyone if pid in paired or not people[pid].staff]
    return Roster.build(
        [(everyone[pid], tuple(people[pid].aliases.split())) for pid in participants],
        pairs,
        staff=tuple(everyone[pid] for pid in everyone if people[pid].staff),
    )


def roster_version(session: Session) -> int:
    return session.exec(select(Program.roster_version).where(Program.id == 1)).one_or_none() or 0


def bump_roster_version(session: Session) -> None:
    program = session.get(Program, 1)
    if program is not None:
        program.roster_version += 1
        session.add(program)


def sync_program(
    session: Session, name: str, address: str, starts_on: date, months: int, staff: tuple[str, ...] = ()
) -> None:
    """Keep the program row and the staff (coordinators, liaison) in step with the config."""
    program = session.get(Program, 1) or Program(name=name, address=address, starts_on=starts_on, months=months)
    program.name, program.address, program.starts_on, program.months = name, address, starts_on, months
    session.add(program)
    session.flush()
    changed = False
    people = {p.email: p for p in session.exec(select(Person))}
    for email in staff:
        person = people.get(email) or Person(email=email)
        if person.id is None or not person.staff:
            person.staff, changed = True, True
            session.add(person)
    for person in people.values():
        if person.staff and person.email not in staff:
            person.staff, changed = False, True
            session.add(person)
    if changed:
        bump_roster_version(session)


# --- what intake records ---------------------------------------------------------------------


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
            _insert_ignoring_repeat(
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
            _insert_ignoring_repeat(
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


def _insert_ignoring_repeat(session: Session, table: type, values: dict[str, object]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: two intakes racing on one message count it once."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(table).values(**values).on_conflict_do_nothing())


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


# --- reading for status ----------------------------------------------------------------------


@dataclass(frozen=True)
class PairActivity:
    pair_id: str
    mentor: str
    mentee: str
    status: str
    started_on: date
    mentor_to_mentee: int
    mentee_to_mentor: int
    self_reported: int
    last_contact: datetime | None
    bouncing: bool


def pair_activity(session: Session) -> list[PairActivity]:
    people = {p.id: p.email for p in session.exec(select(Person))}
    counts: dict[tuple[str, str, bool], int] = {}
    last: dict[str, datetime] = {}
    rows = session.exec(
        select(
            ContactEvent.pair_id,
            ContactEvent.direction,
            ContactEvent.channel != "email",
            func.count(),
            func.max(ContactEvent.occurred_at),
        ).group_by(ContactEvent.pair_id, ContactEvent.direction, ContactEvent.channel != "email")
    )
    for pair_id, direction, reported, count, latest in rows:
        counts[(pair_id, direction, bool(reported))] = count
        last[pair_id] = max(latest, last.get(pair_id, latest))
    bouncing = set(session.exec(select(IntakeRecord.person_id).where(IntakeRecord.outcome == OutcomeKind.BOUNCE.value)))
    result = []
    for pair in session.exec(select(Pair).order_by(Pair.started_on, Pair.id)):

        def n(direction: str, reported: bool) -> int:
            return counts.get((pair.id, direction, reported), 0)

        result.append(
            PairActivity(
                pair_id=pair.id,
                mentor=people[pair.mentor_id],
                mentee=people[pair.mentee_id],
                status=pair.status,
                started_on=pair.started_on,
                mentor_to_mentee=n("mentor_to_mentee", False),
                mentee_to_mentor=n("mentee_to_mentor", False),
                self_reported=n("mentor_to_mentee", True) + n("mentee_to_mentor", True),
                last_contact=last.get(pair.id),
                bouncing=bool({pair.mentor_id, pair.mentee_id} & bouncing),
            )
        )
    return result


# --- roster import ---------------------------------------------------------------------------


@dataclass
class ImportCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def apply_roster(session: Session, rows: list[RosterRow], default_start: date, filename: str) -> ImportCounts:
    """Add or update every row; raises RosterError (and the caller's transaction rolls back)."""
    counts = ImportCounts()
    people = {p.email: p for p in session.exec(select(Person))}
    pairs = {p.id: p for p in session.exec(select(Pair))}
    by_people = {(p.mentor_id, p.mentee_id): p for p in pairs.values()}
    claimed = {row.pair_id for row in rows if row.pair_id}  # not for automatic numbers
    for row in rows:
        _check_aliases_are_free(people, row, filename)
        mentor, mentor_changed = _upsert_person(session, people, row.mentor_email, row.mentor_name, row.mentor_aliases)
        mentee, mentee_changed = _upsert_person(session, people, row.mentee_email, row.mentee_name, row.mentee_aliases)
        starts_on = row.starts_on or default_start
        pair = by_people.get((mentor.id, mentee.id))
        if pair is None:
            _check_role_is_free(pairs.values(), row, mentor, mentee, filename)
            pair_id = row.pair_id or _next_pair_id(pairs.keys() | claimed)
            if pair_id in pairs:
                taken = pairs[pair_id]
                raise RosterError(
                    f"{filename}: line {row.line}: pair_id: {pair_id!r} already belongs to another pair "
                    f"(mentor id {taken.mentor_id}, mentee id {taken.mentee_id})"
                )
            pair = Pair(id=pair_id, mentor_id=mentor.id, mentee_id=mentee.id, started_on=starts_on)
            session.add(pair)
            pairs[pair_id] = by_people[(mentor.id, mentee.id)] = pair
            counts.added += 1
            continue
        if row.pair_id is not None and row.pair_id != pair.id:
            raise RosterError(
                f"{filename}: line {row.line}: pair_id: this pair was imported as {pair.id!r}, not {row.pair_id!r}"
            )
        pair_changed = row.starts_on is not None and pair.started_on != row.starts_on
        if pair_changed:
            pair.started_on = starts_on
            session.add(pair)
        if pair_changed or mentor_changed or mentee_changed:
            counts.updated += 1
        else:
            counts.unchanged += 1
    if counts.added or counts.updated:
        bump_roster_version(session)
    session.flush()
    return counts


def _check_role_is_free(pairs: Iterable[Pair], row: RosterRow, mentor: Person, mentee: Person, filename: str) -> None:
    """One person, one role, across imports too (the CSV parser checks within one file)."""
    for pair in pairs:
        if pair.mentee_id == mentor.id:
            raise RosterError(f"{filename}: line {row.line}: {mentor.email} is already a mentee (pair {pair.id})")
        if pair.mentor_id == mentee.id:
            raise RosterError(f"{filename}: line {row.line}: {mentee.email} is already a mentor (pair {pair.id})")


def _check_aliases_are_free(people: dict[str, Person], row: RosterRow, filename: str) -> None:
    """An alias may not be someone else's address or alias in the store (the file checks itself)."""
    owners = {email: email for email in people}
    owners.update({alias: person.email for person in people.values() for alias in person.aliases.split()})
    for email, aliases in ((row.mentor_email, row.mentor_aliases), (row.mentee_email, row.mentee_aliases)):
        for address in (email, *aliases):
            if owners.get(address, email) != email:
                raise RosterError(f"{filename}: line {row.line}: {address} already belongs to {owners[address]}")


def _upsert_person(
    session: Session, people: dict[str, Person], email: str, name: str, aliases: tuple[str, ...]
) -> tuple[Person, bool]:
    person = people.get(email)
    if person is None:
        person = Person(email=email, name=name, aliases=" ".join(aliases))
        session.add(person)
        session.flush()  # gives the person an id for the pair
        people[email] = person
        return person, True
    new_aliases = " ".join(aliases) if aliases else person.aliases
    changed = (person.name, person.aliases) != (name, new_aliases)
    if changed:
        person.name, person.aliases = name, new_aliases
        session.add(person)
    return person, changed


def _next_pair_id(taken: set[str]) -> str:
    numbers = [int(pid) for pid in taken if pid.isdigit()]
    return str(max(numbers, default=0) + 1)


# --- the program's own mail ----------------------------------------------------------------


def planner_state(session: Session) -> PlannerState:
    """Everything the planner needs, read in one transaction."""
    from mentormail.store.planner_state import CheckinRow, LetterRow, SpoofAttempt, SurveyAnswerRow

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


def enqueue(session: Session, row: OutboxMessage, forwards: tuple[int, ...] = ()) -> bool:
    """Add a mail to the outbox unless its key is there already; True when it was added."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = row.model_dump(exclude={"id"})
    result = session.execute(insert(OutboxMessage).values(**values).on_conflict_do_nothing())
    added = bool(result.rowcount)
    if added and forwards:
        outbox_id = session.exec(select(OutboxMessage.id).where(OutboxMessage.key == row.key)).one()
        for question in session.exec(select(QuestionMessage).where(QuestionMessage.id.in_(forwards))):
            question.forwarded_in = outbox_id
            session.add(question)
    return added


def question_texts(session: Session, question_ids: tuple[int, ...]) -> list[bytes]:
    rows = session.exec(select(QuestionMessage).where(QuestionMessage.id.in_(question_ids))).all()
    return [q.raw for q in rows if q.raw is not None]


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
        )
        .where(OutboxMessage.status.in_(statuses))
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
    )
    return [
        OutboxEntry(key, kind, to, status, as_utc(due), attempts, as_utc(next_at), error)
        for key, kind, to, status, due, attempts, next_at, error in rows
    ]


def due_for_delivery(session: Session, now: datetime, limit: int = 100) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )


def mark_sent(session: Session, outbox_id: int, now: datetime) -> None:
    """Sent: the rendered message is wiped, and so is the text of any question it forwarded."""
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        return
    row.status, row.sent_at, row.raw, row.last_error = "sent", now, None, ""
    session.add(row)
    for question in session.exec(select(QuestionMessage).where(QuestionMessage.forwarded_in == outbox_id)):
        question.raw = None
        session.add(question)


def mark_attempt_failed(
    session: Session, outbox_id: int, reason: str, retry_at: datetime | None, now: datetime
) -> None:
    """A failed attempt: try again at `retry_at`, or give up (None) and let the digest say so."""
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        return
    row.attempts += 1
    row.last_error = reason
    if retry_at is None:
        row.status, row.sent_at, row.raw = "failed", now, None
    else:
        row.next_attempt_at = retry_at
    session.add(row)


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


def record_simulated_contact(session: Session, pair_id: str, when: datetime, direction: str, key: str) -> None:
    """A synthetic contact for `mentormail simulate` (only ever written to its scratch store)."""
    _insert_ignoring_repeat(
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


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; everything stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class MonthlyContacts:
    pair_id: str
    mentor: str
    mentee: str
    month: str  # YYYY-MM in the program's time zone
    by_direction: dict[str, int]
    by_channel: dict[str, int]


def monthly_contacts(session: Session, zone: ZoneInfo) -> list[MonthlyContacts]:
    """Per pair and month (local time), every month from the pair's start to its last contact."""
    people = {p.id: p.email for p in session.exec(select(Person))}
    pairs = {p.id: p for p in session.exec(select(Pair).order_by(Pair.started_on, Pair.id))}
    directions: dict[tuple[str, str], Counter[str]] = {}
    channels: dict[tuple[str, str], Counter[str]] = {}
    for pair_id, occurred_at, direction, channel in session.exec(
        select(ContactEvent.pair_id, ContactEvent.occurred_at, ContactEvent.direction, ContactEvent.channel)
    ):
        month = as_utc(occurred_at).astimezone(zone).strftime("%Y-%m")
        directions.setdefault((pair_id, month), Counter())[direction] += 1
        channels.setdefault((pair_id, month), Counter())[channel] += 1
    result = []
    for pair in pairs.values():
        months = {month for pid, month in directions if pid == pair.id}
        months.add(pair.started_on.strftime("%Y-%m"))
        for month in _month_range(min(months), max(months)):
            result.append(
                MonthlyContacts(
                    pair.id,
                    people[pair.mentor_id],
                    people[pair.mentee_id],
                    month,
                    dict(directions.get((pair.id, month), {})),
                    dict(channels.get((pair.id, month), {})),
                )
            )
    return result


def _month_range(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# --- replies ---------------------------------------------------------------------------------


def record_reported_contact(
    session: Session, pair_id: str, direction: str, channel: str, when: datetime, message_hash: str
) -> None:
    """A call or meeting a participant reported: counted like email, under its own channel."""
    _insert_ignoring_repeat(
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


def set_pair_status(session: Session, pair_id: str, status: str) -> bool:
    pair = session.get(Pair, pair_id)
    if pair is None:
        return False
    pair.status = status
    session.add(pair)
    bump_roster_version(session)
    return True


def name_of(session: Session, email: str) -> str:
    person = session.exec(select(Person).where(Person.email == email)).first()
    return person.name if person else ""


def days_since_contact(session: Session, pair_id: str, now: datetime) -> int | None:
    last = session.exec(select(func.max(ContactEvent.occurred_at)).where(ContactEvent.pair_id == pair_id)).one()
    return (now - as_utc(last)).days if last else None


@dataclass(frozen=True)
class SurveyRow:
    survey_id: str
    email: str
    name: str
    pair_id: str
    updated_at: datetime
    answers: dict[str, object]


def survey_rows(session: Session) -> list[SurveyRow]:
    people = {p.id: p for p in session.exec(select(Person))}
    return [
        SurveyRow(
            r.survey_id,
            people[r.person_id].email,
            people[r.person_id].name,
            r.pair_id,
            as_utc(r.updated_at),
            json.loads(r.answers),
        )
        for r in session.exec(select(SurveyResponse).order_by(SurveyResponse.survey_id, SurveyResponse.person_id))
    ]
