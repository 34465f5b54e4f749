"""A person's address changing: `mentormail change-address OLD NEW` and the coordinators' `address`.

The person keeps everything (pairs, contacts, answers, reply tokens name them by id); only where
their mail goes changes. OLD becomes one of their aliases, so that a late copy of mail they wrote
from it still counts for their pair; the bounces recorded for them stop marking them as bouncing
(they were OLD's); mail queued for OLD goes to NEW; the roster version moves, so that intake's
cached roster is read again (in another process too), and their pairs are planned again. The
caller audits what was done.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, col, select

from ...parsers.addresses import normalise
from ..models import IntakeRecord, OutboxMessage, Person, Program
from ..outcomes import OutcomeKind
from .plans import people_changed
from .roster import bump_roster_version


class AddressChangeError(Exception):
    """Why an address cannot be changed, in one line that says what to do instead."""


@dataclass(frozen=True)
class AddressChange:
    old: str
    new: str
    name: str  # the person's name ("" for none)
    bounces_cleared: int  # bounce records that no longer mark the person
    mail_readdressed: int  # mail queued for OLD, not sent yet, now to be delivered to NEW

    def summary(self) -> str:
        who = f"{self.name} <{self.new}>" if self.name else self.new
        cleared = "; no longer marked as bouncing" if self.bounces_cleared else ""
        queued = f"; {self.mail_readdressed} unsent mail now goes to {self.new}" if self.mail_readdressed else ""
        return f"{who} now gets the program's mail at {self.new}; mail from {self.old} still counts{cleared}{queued}"


def change_address(session: Session, old_written: str, new_written: str) -> AddressChange:
    """Move the person whose address is OLD to NEW; raises AddressChangeError (nothing changed)."""
    old, new = normalise(old_written), normalise(new_written)
    if old is None:
        raise AddressChangeError(f"{old_written!r} is not an email address")
    if new is None:
        raise AddressChangeError(f"{new_written!r} is not an email address")
    if old == new:
        raise AddressChangeError(f"{old} is already the address: nothing to change")
    person = session.exec(select(Person).where(Person.email == old)).first()
    if person is None:
        owner = _owner_of(session, old)
        if owner is not None and owner.email == new:
            raise AddressChangeError(f"{old} already moved to {new}: nothing to change")
        if owner is not None:  # an alias: the address to name is the person's own
            raise AddressChangeError(
                f"{old} is an alias of {owner.email}, not the address mail goes to: change {owner.email} instead"
            )
        raise AddressChangeError(f"no one in the program has the address {old}")
    if person.staff:
        raise AddressChangeError(
            f"{old} is a coordinator's or the liaison's address: change it in the config's [people] section"
        )
    owner = _owner_of(session, new)
    if owner is not None and owner.id != person.id:
        raise AddressChangeError(
            f"{new} already belongs to {owner.name or owner.email}" + (f" <{owner.email}>" if owner.name else "")
        )
    program_address = session.exec(select(Program.address).where(Program.id == 1)).first()
    if program_address is not None and normalise(program_address) == new:
        raise AddressChangeError(f"{new} is the program's own address")
    # NEW may have been the person's own alias: it becomes the address, and OLD an alias.
    aliases = [alias for alias in person.aliases.split() if alias != new]
    person.email, person.aliases = new, " ".join([*aliases, old])
    session.add(person)
    # A bounce is about the address that bounced: its record stays (it makes a second copy of the
    # same bounce a duplicate) but no longer names the person, whose mail now goes elsewhere.
    cleared = session.execute(
        update(IntakeRecord)
        .where(col(IntakeRecord.person_id) == person.id, IntakeRecord.outcome == OutcomeKind.BOUNCE.value)
        .values(person_id=None)
    ).rowcount
    queued = _readdress_queued_mail(session, old, new)
    bump_roster_version(session)
    session.flush()
    assert person.id is not None
    people_changed(session, (person.id,))
    return AddressChange(old, new, person.name, cleared, queued)


def _readdress_queued_mail(session: Session, old: str, new: str) -> int:
    """Mail queued for OLD and not sent (due, retrying, or given up: `outbox retry` sends it again)
    is delivered to NEW: the envelope decides where mail goes. Its To line, written when it was
    composed, still shows OLD; its reply address names the person, not the address."""
    unsent = session.execute(
        select(OutboxMessage.id, OutboxMessage.recipients).where(
            col(OutboxMessage.status).in_(("pending", "failed")),
            col(OutboxMessage.recipients).contains(old, autoescape=True),
        )
    ).all()
    rows = [
        {"b_id": outbox_id, "b_recipients": " ".join(new if r == old else r for r in recipients.split())}
        for outbox_id, recipients in unsent
        if old in recipients.split()
    ]
    if rows:
        table = OutboxMessage.__table__
        session.execute(
            update(table).where(table.c.id == bindparam("b_id")).values(recipients=bindparam("b_recipients")),  # type: ignore[attr-defined]
            rows,
        )
    return len(rows)


def _owner_of(session: Session, address: str) -> Person | None:
    """The person whose address or alias `address` is. Aliases are space separated in one column:
    a LIKE finds the few candidates, and the split decides (a LIKE alone would match parts)."""
    candidates = session.exec(
        select(Person).where(or_(Person.email == address, col(Person.aliases).contains(address, autoescape=True)))
    ).all()
    return next((p for p in candidates if p.email == address or address in p.aliases.split()), None)
