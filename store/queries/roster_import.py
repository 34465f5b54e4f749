"""Importing a roster CSV into the store: people and pairs added or updated, never removed.

Linear in the size of the roster and the store: the store's people and pairs are read once into
dicts (who owns which address, who is already whose mentor or mentee), every row is checked
against those dicts and applied to them, and only then is the outcome written, in a few bulk
statements. A roster of 10,000 pairs used to take a scan of every pair and every person per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, select

from ...parsers.roster_csv import RosterError, RosterRow
from ..models import Pair, Person
from .plans import roster_changed
from .roster import bump_roster_version
from .rounds import pair_key, roster_pair_id


@dataclass
class ImportCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class _PersonState:
    id: int | None  # None: added by this import, given an id when written
    email: str
    name: str
    aliases: str
    changed: bool = False


@dataclass
class _PairState:
    id: str  # the roster's pair_id, unique within the round (the store's key: rounds.pair_key)
    mentor: str  # email
    mentee: str  # email
    started_on: date
    stored: bool  # already in the store (False: added by this import)
    changed: bool = False


@dataclass
class _Roster:
    """The store's people and the round's pairs as the import sees them, kept up to date row by
    row. Other rounds' pairs are not read: an import for one round never changes another's, and
    roles and pair ids are the round's own (a former mentee may mentor in a later round)."""

    people: dict[str, _PersonState]  # email -> person
    pairs: dict[str, _PairState]  # roster pair id -> pair
    by_people: dict[tuple[str, str], _PairState]  # (mentor email, mentee email) -> pair
    owners: dict[str, str]  # any address (an email or an alias) -> the email of its person
    # email -> (position, pair id) of the first pair, in the order the store lists them, where
    # the person is the mentor (resp. the mentee): the pair the role errors name.
    first_as_mentor: dict[str, tuple[int, str]] = field(default_factory=dict)
    first_as_mentee: dict[str, tuple[int, str]] = field(default_factory=dict)
    highest_number: int = 0  # the largest pair id that is a number, among stored and claimed ids

    def add_pair(self, pair: _PairState) -> None:
        position = len(self.pairs)
        self.pairs[pair.id] = self.by_people[(pair.mentor, pair.mentee)] = pair
        self.first_as_mentor.setdefault(pair.mentor, (position, pair.id))
        self.first_as_mentee.setdefault(pair.mentee, (position, pair.id))

    def set_aliases(self, person: _PersonState, aliases: str) -> None:
        for alias in person.aliases.split():
            if self.owners.get(alias) == person.email:
                del self.owners[alias]
        person.aliases = aliases
        self.owners[person.email] = person.email
        # An import never gives an address two owners (`_check_aliases_are_free`), so setting
        # them here cannot take one away from someone else.
        self.owners.update(dict.fromkeys(aliases.split(), person.email))


def apply_roster(
    session: Session, rows: list[RosterRow], default_start: date, filename: str, round_id: str
) -> ImportCounts:
    """Add or update every row as a pair of round `round_id` (which starts on `default_start`);
    raises RosterError (and the caller's transaction rolls back)."""
    counts = ImportCounts()
    roster = _load(session, rows, round_id)
    for row in rows:
        _check_aliases_are_free(roster, row, filename)
        mentor, mentor_changed = _upsert_person(roster, row.mentor_email, row.mentor_name, row.mentor_aliases)
        mentee, mentee_changed = _upsert_person(roster, row.mentee_email, row.mentee_name, row.mentee_aliases)
        starts_on = row.starts_on or default_start
        pair = roster.by_people.get((mentor.email, mentee.email))
        if pair is None:
            _check_role_is_free(roster, row, mentor, mentee, filename)
            pair_id = row.pair_id or _next_pair_id(roster)
            if pair_id in roster.pairs:
                # Always a stored pair: ids claimed in the file are unique (the parser checks)
                # and automatic numbers avoid them, so its people have ids.
                raise RosterError(f"{filename}: line {row.line}: " + _pair_id_taken(roster, pair_id, mentor, mentee))
            roster.add_pair(_PairState(pair_id, mentor.email, mentee.email, starts_on, stored=False))
            counts.added += 1
            continue
        if row.pair_id is not None and row.pair_id != pair.id:
            raise RosterError(
                f"{filename}: line {row.line}: pair_id: this pair was imported as {pair.id!r}, not {row.pair_id!r}"
            )
        pair_changed = row.starts_on is not None and pair.started_on != row.starts_on
        if pair_changed:
            pair.started_on, pair.changed = starts_on, True
        if pair_changed or mentor_changed or mentee_changed:
            counts.updated += 1
        else:
            counts.unchanged += 1
    _write(session, roster, round_id)
    if counts.added or counts.updated:
        bump_roster_version(session)
        session.flush()
        roster_changed(session)  # the planner plans every pair again, the new ones with them
    session.flush()
    return counts


def _load(session: Session, rows: list[RosterRow], round_id: str) -> _Roster:
    people = {
        email: _PersonState(person_id, email, name, aliases)
        for person_id, email, name, aliases in session.exec(
            select(Person.id, Person.email, Person.name, Person.aliases)
        )
    }
    emails = {person.id: person.email for person in people.values()}
    owners = {email: email for email in people}
    for person in people.values():
        owners.update(dict.fromkeys(person.aliases.split(), person.email))
    roster = _Roster(people, {}, {}, owners)
    for key, mentor_id, mentee_id, started_on in session.exec(
        select(Pair.id, Pair.mentor_id, Pair.mentee_id, Pair.started_on).where(Pair.round_id == round_id)
    ):
        roster.add_pair(_PairState(roster_pair_id(key), emails[mentor_id], emails[mentee_id], started_on, stored=True))
    claimed = [row.pair_id for row in rows if row.pair_id]  # not for automatic numbers
    roster.highest_number = max((int(pid) for pid in (*roster.pairs, *claimed) if pid.isdigit()), default=0)
    return roster


def _pair_id_taken(roster: _Roster, pair_id: str, mentor: _PersonState, mentee: _PersonState) -> str:
    """Why a line's pair_id cannot be its pair's, and what to run instead: a known pair whose
    mentor or mentee has a new address is moved by `change-address`, not by a re-import (which
    would make a second person). People are named by name and address, never by internal id."""
    taken = roster.pairs[pair_id]
    was = {"mentor": roster.people[taken.mentor], "mentee": roster.people[taken.mentee]}
    now = {"mentor": mentor, "mentee": mentee}
    stored = f"pair_id {pair_id!r} is {_named(was['mentor'])} and {_named(was['mentee'])}"
    moved = [role for role in ("mentor", "mentee") if was[role].email != now[role].email]
    if len(moved) == 1:
        old, new = was[moved[0]].email, now[moved[0]].email
        return f"{stored}; if {old} changed address, run: mentormail change-address {old} {new}"
    return f"{stored}, not {mentor.email} and {mentee.email}: give this line another pair_id"


def _named(person: _PersonState) -> str:
    return f"{person.name} <{person.email}>" if person.name else person.email


def _check_role_is_free(
    roster: _Roster, row: RosterRow, mentor: _PersonState, mentee: _PersonState, filename: str
) -> None:
    """One person, one role, across imports too (the CSV parser checks within one file). The
    first pair (in the store's order) that breaks the rule is named, as a scan would find it."""
    as_mentee = roster.first_as_mentee.get(mentor.email)
    as_mentor = roster.first_as_mentor.get(mentee.email)
    if as_mentee is not None and (as_mentor is None or as_mentee[0] <= as_mentor[0]):
        raise RosterError(f"{filename}: line {row.line}: {mentor.email} is already a mentee (pair {as_mentee[1]})")
    if as_mentor is not None:
        raise RosterError(f"{filename}: line {row.line}: {mentee.email} is already a mentor (pair {as_mentor[1]})")


def _check_aliases_are_free(roster: _Roster, row: RosterRow, filename: str) -> None:
    """An alias may not be someone else's address or alias in the store (the file checks itself)."""
    for email, aliases in ((row.mentor_email, row.mentor_aliases), (row.mentee_email, row.mentee_aliases)):
        for address in (email, *aliases):
            owner = roster.owners.get(address, email)
            if owner != email and address == email:  # the line's address is now someone's alias
                raise RosterError(
                    f"{filename}: line {row.line}: {address} is an alias of {owner} (its address changed?): "
                    f"write {owner} in this line"
                )
            if owner != email:
                raise RosterError(f"{filename}: line {row.line}: {address} already belongs to {owner}")


def _upsert_person(roster: _Roster, email: str, name: str, aliases: tuple[str, ...]) -> tuple[_PersonState, bool]:
    person = roster.people.get(email)
    if person is None:
        person = roster.people[email] = _PersonState(None, email, name, "")
        roster.set_aliases(person, " ".join(aliases))
        return person, True
    new_aliases = " ".join(aliases) if aliases else person.aliases
    changed = (person.name, person.aliases) != (name, new_aliases)
    if changed:
        person.name = name
        person.changed = person.id is not None  # a person added by this import is written as it ends up
        roster.set_aliases(person, new_aliases)
    return person, changed


def _next_pair_id(roster: _Roster) -> str:
    roster.highest_number += 1
    return str(roster.highest_number)


def _write(session: Session, roster: _Roster, round_id: str) -> None:
    """The import's outcome in bulk statements: new people first (pairs need their ids)."""
    people = roster.people.values()
    new_people = [
        {"email": p.email, "name": p.name, "aliases": p.aliases, "staff": False} for p in people if p.id is None
    ]
    changed_people = [{"b_id": p.id, "b_name": p.name, "b_aliases": p.aliases} for p in people if p.changed]
    if new_people:
        session.execute(insert(Person), new_people)
        ids = dict(session.exec(select(Person.email, Person.id)).all())
        for person in people:
            person.id = ids[person.email]
    if changed_people:
        session.execute(
            update(Person.__table__)  # type: ignore[arg-type]
            .where(Person.__table__.c.id == bindparam("b_id"))  # type: ignore[attr-defined]
            .values(name=bindparam("b_name"), aliases=bindparam("b_aliases")),
            changed_people,
        )
    pairs = roster.pairs.values()
    new_pairs = [
        {
            "id": pair_key(round_id, pair.id),
            "round_id": round_id,
            "mentor_id": roster.people[pair.mentor].id,
            "mentee_id": roster.people[pair.mentee].id,
            "status": "active",
            "started_on": pair.started_on,
        }
        for pair in pairs
        if not pair.stored
    ]
    if new_pairs:
        session.execute(insert(Pair), new_pairs)
    changed_pairs = [
        {"b_id": pair_key(round_id, pair.id), "b_started_on": pair.started_on}
        for pair in pairs
        if pair.stored and pair.changed
    ]
    if changed_pairs:
        session.execute(
            update(Pair.__table__)  # type: ignore[arg-type]
            .where(Pair.__table__.c.id == bindparam("b_id"))  # type: ignore[attr-defined]
            .values(started_on=bindparam("b_started_on")),
            changed_pairs,
        )
