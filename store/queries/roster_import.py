"""Importing a roster CSV into the store: people and pairs added or updated, never removed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from ...parsers.roster_csv import RosterError, RosterRow
from ..models import Pair, Person
from .roster import bump_roster_version


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
