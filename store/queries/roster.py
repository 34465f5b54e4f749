"""The roster in the store: who is in the program, its version, the staff, a pair's status."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, col, select

from .. import locks
from ..models import Pair, Person, Program, Round
from ..roster import Participant, Roster, RosterPair
from .plans import people_changed


def load_roster(session: Session) -> Roster:
    people = {p.id: p for p in session.exec(select(Person))}
    everyone = {pid: Participant(pid, p.email, p.name) for pid, p in people.items() if pid is not None}
    pairs = [
        RosterPair(
            pair.id, everyone[pair.mentor_id], everyone[pair.mentee_id], pair.status, pair.started_on, *dates
        )
        for pair, *dates in session.exec(
            select(Pair, Round.starts_on, Round.ends_on, Round.id).join(Round, Round.id == Pair.round_id)  # type: ignore[arg-type]
        )
    ]
    paired = {pair.mentor.person_id for pair in pairs} | {pair.mentee.person_id for pair in pairs}
    # A coordinator who is also a mentor is both: a participant for their pair's mail.
    participants = [pid for pid in everyone if pid in paired or not people[pid].staff]
    return Roster.build(
        [(everyone[pid], tuple(people[pid].aliases.split())) for pid in participants],
        pairs,
        staff=tuple(everyone[pid] for pid in everyone if people[pid].staff),
    )


# Read once per intake batch, to know whether the cached roster is still the store's.
_ROSTER_VERSION = select(Program.__table__.c.roster_version).where(Program.__table__.c.id == 1)  # type: ignore[attr-defined]


def roster_version(session: Session) -> int:
    return session.execute(_ROSTER_VERSION).scalar() or 0


def bump_roster_version(session: Session) -> None:
    program = session.get(Program, 1)
    if program is not None:
        program.roster_version += 1
        session.add(program)


def sync_program(
    session: Session,
    name: str,
    address: str,
    starts_on: date,
    months: int,
    staff: tuple[str, ...] = (),
    staff_names: Mapping[str, str] | None = None,
) -> None:
    """Keep the program row and the staff (coordinators, liaison) in step with the config; a staff
    member the config names (`staff_names`) and the roster does not gets that name.
    Daemons starting together on PostgreSQL take turns here, as in the migrations: each would
    otherwise insert the same program row and staff."""
    locks.wait_in_transaction(session.connection(), locks.PROGRAM_SYNC)
    program = session.get(Program, 1) or Program(name=name, address=address, starts_on=starts_on, months=months)
    program.name, program.address, program.starts_on, program.months = name, address, starts_on, months
    session.add(program)
    session.flush()
    changed = False
    # Only the staff, past and present: this runs at every start (and `status`), and reading
    # every participant of a 10,000-pair program took longer than the status query itself.
    people = {
        p.email: p for p in session.exec(select(Person).where(or_(col(Person.staff), col(Person.email).in_(staff))))
    }
    for email in staff:
        person = people.get(email) or Person(email=email)
        if person.id is None or not person.staff:
            person.staff, changed = True, True
            session.add(person)
        # Only a name the person lacks: a coordinator who is also a mentor keeps the roster's.
        if (named := (staff_names or {}).get(email)) and not person.name:
            person.name, changed = named, True
            session.add(person)
    for person in people.values():
        if person.staff and person.email not in staff:
            person.staff, changed = False, True
            session.add(person)
    if changed:
        bump_roster_version(session)


def set_pair_status(session: Session, pair_id: str, status: str) -> bool:
    pair = session.get(Pair, pair_id)
    if pair is None:
        return False
    pair.status = status
    session.add(pair)
    bump_roster_version(session)
    people_changed(session, (pair.mentor_id, pair.mentee_id))
    return True


def name_of(session: Session, email: str) -> str:
    person = session.exec(select(Person).where(Person.email == email)).first()
    return person.name if person else ""
