"""What the planner gives back (`DueMail`), and what every mail's template is given."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from ....store.planner_state import PairState, Person, PlannerState
from ..attachment import Attachment
from .calendar import Calendar


@dataclass(frozen=True)
class DueMail:
    key: str
    kind: str
    due_at: datetime
    to: tuple[Person, ...]
    context: dict[str, object]  # for the template of `kind`
    pair_id: str | None = None
    # Who a reply is expected from (0: any recipient) and what it refers to: the signed
    # Reply-To is made from these.
    reply_person: int = 0
    reference: str = ""
    to_committee: bool = False  # coordinators or the liaison, whose replies may carry commands
    forwards: tuple[int, ...] = field(default=())  # question ids attached to a digest
    attachments: tuple[Attachment, ...] = ()  # files the mail carries (the liaison summary's CSV)
    # The Message-IDs (without <>) of the thread an answer replies in, the mail it answers last:
    # In-Reply-To and References, so that the answer shows under what the person sent.
    thread: tuple[str, ...] = ()


def is_running(pair: PairState) -> bool:
    return pair.status == "active"


def template_context(calendar: Calendar, recipient: Person, role: str, **values: object) -> dict[str, object]:
    return {
        "program": {
            "name": calendar.program_name,
            "address": calendar.program_address,
            "coordinators": list(calendar.coordinators),
            "liaison": calendar.liaison,
            # The names the config gives them ("" for none), for signatures.
            "coordinator_names": [calendar.staff_name(address) for address in calendar.coordinators],
            "liaison_name": calendar.staff_name(calendar.liaison),
        },
        "recipient": {"name": recipient.name, "email": recipient.email, "role": role},
        **values,
    }


def person_fields(person: Person) -> dict[str, str]:
    return {"name": person.name, "email": person.email}


def members(pair: PairState) -> Iterator[tuple[str, Person]]:
    yield "mentor", pair.mentor
    yield "mentee", pair.mentee


def committee_members(calendar: Calendar, state: PlannerState) -> list[tuple[str, Person]]:
    """(role, person) of each coordinator and the liaison, each address once."""
    members: list[tuple[str, Person]] = []
    for role, email in [*(("coordinator", c) for c in calendar.coordinators), ("liaison", calendar.liaison)]:
        if email and all(person.email.casefold() != email.casefold() for _, person in members):
            members.append((role, state.staff_person(email)))
    return members
