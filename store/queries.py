"""Every read and write the daemon makes. Nothing outside store/ writes SQL.

Functions take an open `Session` so that the caller decides the transaction: intake records a
message's events and its IMAP checkpoint in one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from mentormail.daemon.outcomes import ImapCheckpoint as Checkpoint
from mentormail.daemon.outcomes import Outcome, OutcomeKind
from mentormail.daemon.roster import Participant, Roster, RosterPair
from mentormail.parsers.roster_csv import RosterError, RosterRow
from mentormail.store.models import ContactEvent, ImapCheckpoint, IntakeRecord, Pair, Person, Program


# --- the roster ------------------------------------------------------------------------------


def load_roster(session: Session) -> Roster:
    people = {p.id: p for p in session.exec(select(Person))}
    participants = {pid: Participant(pid, p.email, p.name) for pid, p in people.items() if pid is not None}
    pairs = [
        RosterPair(pair.id, participants[pair.mentor_id], participants[pair.mentee_id], pair.status)
        for pair in session.exec(select(Pair))
    ]
    return Roster.build(
        [(participants[pid], tuple(people[pid].aliases.split())) for pid in participants],
        pairs,
    )


def roster_version(session: Session) -> int:
    return session.exec(select(Program.roster_version).where(Program.id == 1)).one_or_none() or 0


def bump_roster_version(session: Session) -> None:
    program = session.get(Program, 1)
    if program is not None:
        program.roster_version += 1
        session.add(program)


def sync_program(session: Session, name: str, address: str, starts_on: date, months: int) -> None:
    program = session.get(Program, 1) or Program(name=name, address=address, starts_on=starts_on, months=months)
    program.name, program.address, program.starts_on, program.months = name, address, starts_on, months
    session.add(program)


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
    {OutcomeKind.QUESTION, OutcomeKind.BOUNCE, OutcomeKind.UNKNOWN_SENDER, OutcomeKind.AUTO_REPLY, OutcomeKind.LOOP}
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
