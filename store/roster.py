"""A read-only snapshot of who is in the program, for the router to decide with.

Built by `store.queries.load_roster` inside the same transaction that records the outcome, so the
decision and its effect see the same roster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .outcomes import Direction
from .planner_state import FIRST_ROUND


@dataclass(frozen=True)
class Participant:
    person_id: int
    email: str
    name: str


@dataclass(frozen=True)
class RosterPair:
    pair_id: str
    mentor: Participant
    mentee: Participant
    status: str
    started_on: date = date.min
    # Its round's first and last day (the day it ends): which of two pairs of the same people,
    # in two rounds, a CC copy counts for.
    round_starts_on: date = date.min
    round_ends_on: date = date.max
    round_id: str = FIRST_ROUND

    def running_on(self, day: date) -> bool:
        return self.round_starts_on <= day < self.round_ends_on

    def partner_of(self, person_id: int) -> Participant:
        return self.mentee if person_id == self.mentor.person_id else self.mentor

    def direction_from(self, person_id: int) -> Direction:
        if person_id == self.mentor.person_id:
            return Direction.MENTOR_TO_MENTEE
        return Direction.MENTEE_TO_MENTOR


def _pair_on(pairs: list[RosterPair], day: date) -> RosterPair:
    if len(pairs) == 1:
        return pairs[0]
    running = [pair for pair in pairs if pair.running_on(day)]
    return max(running or pairs, key=lambda pair: (pair.round_starts_on, pair.started_on))


@dataclass(frozen=True)
class Roster:
    by_address: dict[str, Participant] = field(default_factory=dict)  # every address and alias
    pairs_of: dict[int, tuple[RosterPair, ...]] = field(default_factory=dict)  # by person id
    staff: dict[str, Participant] = field(default_factory=dict)  # coordinators and the liaison

    def staff_member(self, address: str | None) -> Participant | None:
        return self.staff.get(address) if address else None

    def pairs_with(
        self, sender: Participant, addresses: tuple[str, ...], day: date = date.max
    ) -> tuple[RosterPair, ...]:
        """The sender's pairs whose other member is among `addresses`; of two people paired in
        several rounds, the one pair whose round is running on `day` (else their latest)."""
        present = {p.person_id for a in addresses if (p := self.participant(a))}
        by_partner: dict[int, list[RosterPair]] = {}
        for pair in self.pairs_for(sender):
            partner = pair.partner_of(sender.person_id).person_id
            if partner in present:
                by_partner.setdefault(partner, []).append(pair)
        return tuple(_pair_on(pairs, day) for pairs in by_partner.values())

    def by_id(self, person_id: int) -> Participant | None:
        return next((p for p in self.by_address.values() if p.person_id == person_id), None)

    def participant(self, address: str | None) -> Participant | None:
        return self.by_address.get(address) if address else None

    def pairs_for(self, participant: Participant) -> tuple[RosterPair, ...]:
        return self.pairs_of.get(participant.person_id, ())

    @classmethod
    def build(
        cls,
        people: list[tuple[Participant, tuple[str, ...]]],
        pairs: list[RosterPair],
        staff: tuple[Participant, ...] = (),
    ) -> Roster:
        """`people` is each participant with their aliases; `staff` the coordinators and liaison."""
        by_address: dict[str, Participant] = {}
        for person, aliases in people:
            by_address[person.email] = person
            for alias in aliases:
                by_address[alias] = person
        pairs_of: dict[int, list[RosterPair]] = {}
        for pair in pairs:
            pairs_of.setdefault(pair.mentor.person_id, []).append(pair)
            pairs_of.setdefault(pair.mentee.person_id, []).append(pair)
        return cls(by_address, {k: tuple(v) for k, v in pairs_of.items()}, {p.email: p for p in staff})
