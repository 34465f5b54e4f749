"""Which outcome a message has: a decision table over the facts, read top to bottom.

Pure: the facts (`MessageFacts`, gathered by `intake`) and the roster in, an `Outcome` out; no
clock, no database. The first row whose predicate holds decides. To add a way a message can end,
add a row here and a kind in `outcomes.py` (see the note there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mentormail.daemon.outcomes import Outcome, OutcomeKind, PairMatch
from mentormail.daemon.roster import Participant, Roster, RosterPair
from mentormail.parsers.headers import HeaderFacts, names_program
from mentormail.parsers.machine import MachineKind, MachineVerdict


@dataclass(frozen=True)
class MessageFacts:
    headers: HeaderFacts
    sender: Participant | None  # the From address looked up in the roster
    machine: MachineVerdict | None
    bounced: frozenset[str]  # addresses a bounce names (empty unless machine says bounce)
    program_address: str
    envelope_recipients: tuple[str, ...]
    seen_pairs: frozenset[str]  # pairs that already have an event for this message
    seen_outcomes: frozenset[str]  # other outcomes already recorded for this message


@dataclass(frozen=True)
class Rule:
    name: str
    applies: Callable[[MessageFacts, Roster], bool]
    decide: Callable[[MessageFacts, Roster], Outcome]


def route(facts: MessageFacts, roster: Roster) -> Outcome:
    for rule in DECISION_TABLE:
        if rule.applies(facts, roster):
            return rule.decide(facts, roster)
    raise AssertionError("the last row of DECISION_TABLE always applies")


# --- predicates and decisions, in the order the table uses them ------------------------------


def _no_sender(facts: MessageFacts, _: Roster) -> bool:
    return facts.headers.from_address is None


def _malformed(facts: MessageFacts, _: Roster) -> Outcome:
    return Outcome(OutcomeKind.MALFORMED, "no readable sender address in From")


def _is_machine(*kinds: MachineKind) -> Callable[[MessageFacts, Roster], bool]:
    return lambda facts, _: facts.machine is not None and facts.machine.kind in kinds


def _loop(facts: MessageFacts, _: Roster) -> Outcome:
    assert facts.machine is not None
    return Outcome(OutcomeKind.LOOP, f"the daemon's own mail: {facts.machine.reason}")


def _bounce(facts: MessageFacts, roster: Roster) -> Outcome:
    assert facts.machine is not None
    bounced = tuple(sorted(a for a in facts.bounced if roster.participant(a) is not None))
    who = ", ".join(bounced) if bounced else "no participant address found in it"
    return Outcome(OutcomeKind.BOUNCE, f"{facts.machine.reason}; bounced: {who}", addresses=bounced)


def _auto_reply(facts: MessageFacts, _: Roster) -> Outcome:
    assert facts.machine is not None
    return Outcome(OutcomeKind.AUTO_REPLY, f"machine-generated, never counted: {facts.machine.reason}")


def _stranger(facts: MessageFacts, _: Roster) -> bool:
    return facts.sender is None


def _unknown_sender(facts: MessageFacts, _: Roster) -> Outcome:
    address = facts.headers.from_address or ""
    return Outcome(OutcomeKind.UNKNOWN_SENDER, f"{address} is not on the roster", addresses=(address,))


def _partner_pairs(facts: MessageFacts, roster: Roster) -> tuple[RosterPair, ...]:
    """The sender's pairs whose other member is among the To/Cc recipients."""
    assert facts.sender is not None
    recipients = {p.person_id for a in facts.headers.recipients if (p := roster.participant(a))}
    return tuple(
        pair
        for pair in roster.pairs_for(facts.sender)
        if pair.partner_of(facts.sender.person_id).person_id in recipients
    )


def _all_seen(facts: MessageFacts, roster: Roster) -> bool:
    pairs = _partner_pairs(facts, roster)
    return bool(pairs) and all(p.pair_id in facts.seen_pairs for p in pairs)


def _duplicate_contact(facts: MessageFacts, roster: Roster) -> Outcome:
    ids = ", ".join(p.pair_id for p in _partner_pairs(facts, roster))
    return Outcome(OutcomeKind.DUPLICATE, f"already logged for pair {ids}", duplicate_of=OutcomeKind.CONTACT)


def _has_partner(facts: MessageFacts, roster: Roster) -> bool:
    return bool(_partner_pairs(facts, roster))


def _contact(facts: MessageFacts, roster: Roster) -> Outcome:
    assert facts.sender is not None
    new_pairs = [p for p in _partner_pairs(facts, roster) if p.pair_id not in facts.seen_pairs]
    matches = tuple(PairMatch(p.pair_id, p.direction_from(facts.sender.person_id)) for p in new_pairs)
    if names_program(facts.headers, facts.program_address):
        copy = "CC copy"
    elif facts.envelope_recipients:
        copy = "BCC copy (program address only in the envelope)"
    else:
        copy = "copy not addressed to the program in its headers (BCC, or fed by hand)"
    described = "; ".join(f"pair {m.pair_id}, {m.direction.value.replace('_', ' ')}" for m in matches)
    return Outcome(OutcomeKind.CONTACT, f"{copy}: {described}", pairs=matches)


def _question_seen(facts: MessageFacts, _: Roster) -> bool:
    return OutcomeKind.QUESTION.value in facts.seen_outcomes


def _duplicate_question(facts: MessageFacts, _: Roster) -> Outcome:
    return Outcome(OutcomeKind.DUPLICATE, "this question was already recorded", duplicate_of=OutcomeKind.QUESTION)


def _always(_facts: MessageFacts, _roster: Roster) -> bool:
    return True


def _question(facts: MessageFacts, _: Roster) -> Outcome:
    assert facts.sender is not None
    return Outcome(
        OutcomeKind.QUESTION,
        "from a participant to the program, with no partner among the recipients",
        addresses=(facts.sender.email,),
    )


DECISION_TABLE: tuple[Rule, ...] = (
    Rule("loop", _is_machine(MachineKind.OWN), _loop),
    Rule("bounce", _is_machine(MachineKind.BOUNCE), _bounce),
    Rule("auto_reply", _is_machine(MachineKind.AUTO_REPLY, MachineKind.LIST), _auto_reply),
    # After the machine rows: some mail systems send bounces with no usable From.
    Rule("malformed", _no_sender, _malformed),
    Rule("unknown_sender", _stranger, _unknown_sender),
    Rule("duplicate_contact", _all_seen, _duplicate_contact),
    Rule("contact", _has_partner, _contact),
    Rule("duplicate_question", _question_seen, _duplicate_question),
    Rule("question", _always, _question),
)
