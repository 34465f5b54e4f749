"""Which outcome a message has: a decision table over the facts, read top to bottom.

Pure: the facts (`MessageFacts`, gathered by `intake`) and the roster in, an `Outcome` out; no
clock, no database. The first row whose predicate holds decides. To add a way a message can end,
add a row here and a kind in `outcomes.py` (see the note there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ...parsers.commands import BadCommand, Command, is_data_request, is_letter_request, parse_commands
from ...parsers.headers import HeaderFacts, names_program
from ...parsers.machine import MachineKind, MachineVerdict
from ...parsers.self_report import NotAReport, SelfReport, named, parse_self_report
from ...parsers.tokens import Claims
from ...store.outcomes import Outcome, OutcomeKind, PairMatch
from ...store.roster import Participant, Roster, RosterPair


@dataclass(frozen=True)
class RepliedTo:
    """The program's mail a reply answers, found from its signed token."""

    kind: str  # the X-Mentormail-Kind of that mail
    key: str  # its planner key
    pair_id: str | None


@dataclass(frozen=True)
class ReplyToken:
    """A token the message carries (in a +address or in In-Reply-To/References)."""

    claims: Claims | None  # None when it did not verify
    problem: str | None  # why it did not: "bad signature", "expired on ..."
    replied_to: RepliedTo | None = None


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
    # Replies to the program (all empty for mail between partners, which is never read):
    coordinator: Participant | None = None  # the sender, when a configured coordinator
    staff: Participant | None = None  # the sender, when a coordinator or the liaison
    token: ReplyToken | None = None
    authenticated: bool = True  # Authentication-Results from the trusted server, where one is set
    text: str | None = None  # the new text of a message to the program; None when not read
    subject: str | None = None  # the Subject of a message to the program; None when not read
    today: date = date.min  # in the program's time zone, for reported calls
    from_problem: str | None = None  # why From has no readable address, in words (parsers/structure.py)


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
    why = f": {facts.from_problem}" if facts.from_problem else ""
    return Outcome(OutcomeKind.MALFORMED, f"no readable sender address in From{why}")


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
    return facts.sender is None and facts.staff is None


def _stranger_writing_to_program(facts: MessageFacts, roster: Roster) -> bool:
    """Someone not on the roster writing to the program itself ("How do I join?"): intake read
    the text (the program named in To/Cc, no participant among the recipients), so it is a
    question for the coordinators, not an address to list."""
    return _stranger(facts, roster) and facts.text is not None


def _strangers_question(facts: MessageFacts, _: Roster) -> Outcome:
    return Outcome(OutcomeKind.QUESTION, "from someone not on the roster, to the program", addresses=_from(facts))


def _unknown_sender(facts: MessageFacts, _: Roster) -> Outcome:
    address = facts.headers.from_address or ""
    return Outcome(OutcomeKind.UNKNOWN_SENDER, f"{address} is not on the roster", addresses=(address,))


def _partner_pairs(facts: MessageFacts, roster: Roster) -> tuple[RosterPair, ...]:
    """The sender's pairs whose other member is among the To/Cc recipients."""
    if facts.sender is None:
        return ()
    return roster.pairs_with(facts.sender, facts.headers.recipients, facts.today)


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


# --- replies to the program ---------------------------------------------------------------

REPLY_OUTCOMES = (
    OutcomeKind.COMMAND,
    OutcomeKind.SURVEY_REPLY,
    OutcomeKind.CHECKIN_REPLY,
    OutcomeKind.LETTER_REQUEST,
    OutcomeKind.DATA_REQUEST,
    OutcomeKind.SELF_REPORT,
    OutcomeKind.SPOOFED,
    OutcomeKind.STAFF_MAIL,
    OutcomeKind.QUESTION,
)


def _reply_seen(facts: MessageFacts, _: Roster) -> bool:
    return any(kind.value in facts.seen_outcomes for kind in REPLY_OUTCOMES)


def _duplicate_reply(facts: MessageFacts, _: Roster) -> Outcome:
    first = next(kind for kind in REPLY_OUTCOMES if kind.value in facts.seen_outcomes)
    return Outcome(OutcomeKind.DUPLICATE, f"this {first.value} was already handled", duplicate_of=first)


def _bad_token(facts: MessageFacts, _: Roster) -> bool:
    return facts.token is not None and facts.token.claims is None


def _someone_elses_token(facts: MessageFacts, _: Roster) -> bool:
    """A token made out to one person, used by another (0 means: any recipient of that mail)."""
    if facts.token is None or facts.token.claims is None or facts.token.claims.person == 0:
        return False
    writer = facts.sender or facts.staff
    return writer is None or writer.person_id != facts.token.claims.person


def _spoofed_token(facts: MessageFacts, _: Roster) -> Outcome:
    assert facts.token is not None
    why = facts.token.problem or "the reply address was made out to someone else"
    return Outcome(OutcomeKind.SPOOFED, f"reply token rejected: {why}", addresses=_from(facts))


def _staff_without_token(facts: MessageFacts, _: Roster) -> bool:
    """A coordinator or the liaison writing without a reply address of ours. Not a forgery: a
    copy of their own mail to a participant, or commands sent to the plain address. (A token that
    does not verify, or is someone else's, was decided by the rows above.)"""
    return facts.staff is not None and facts.sender is None and facts.token is None


def _staff_mail(facts: MessageFacts, _: Roster) -> Outcome:
    return Outcome(
        OutcomeKind.STAFF_MAIL,
        "from a coordinator or the liaison, without a reply address of ours: nothing done or counted",
        addresses=_from(facts),
    )


def _from_coordinator_with_commands(facts: MessageFacts, _: Roster) -> bool:
    return facts.coordinator is not None and facts.sender is None and bool(_commands(facts))


def _command(facts: MessageFacts, _: Roster) -> Outcome:
    assert facts.coordinator is not None
    # Without a token the mail is staff mail (the row above); a token that did not verify was spoofed.
    assert facts.token is not None and facts.token.claims is not None
    if facts.token.claims.person != facts.coordinator.person_id:
        # Only mail sent to this coordinator alone carries a token made out to them (compose.py);
        # a token for "any recipient" is on mail participants hold too, so it proves nothing
        # about who is writing.
        return Outcome(
            OutcomeKind.SPOOFED,
            "a command in reply to mail that was not sent to this coordinator alone",
            addresses=_from(facts),
        )
    if not facts.authenticated:
        return Outcome(
            OutcomeKind.SPOOFED, "a command without DMARC or DKIM pass from the trusted server", addresses=_from(facts)
        )
    commands = _commands(facts)
    return Outcome(OutcomeKind.COMMAND, f"{len(commands)} command line(s) from a coordinator", addresses=_from(facts))


def _replying_to(*kinds: str) -> Callable[[MessageFacts, Roster], bool]:
    """A participant's reply to mail of one of `kinds`, or to our answer to such a reply (a survey
    confirmation says "to change an answer, reply with its number"; an answer to a check-in asks
    for the rating): those answers are kind `reply`, their keys `reply:KIND:...`."""

    def applies(facts: MessageFacts, _: Roster) -> bool:
        replied = facts.token.replied_to if facts.token else None
        if facts.sender is None or replied is None:
            return False
        return replied.kind in kinds or (replied.kind == "reply" and replied.key.split(":")[1:2] == [kinds[0]])

    return applies


def _asks_for_data(facts: MessageFacts, _: Roster) -> bool:
    """A participant's own mail to the program saying `my data`. Who wrote it is only what From
    claims: the answer goes to the roster's address for that person, never to the writer's, so a
    forged From sends the data to its owner, not to the forger."""
    return facts.sender is not None and facts.text is not None and is_data_request(facts.text, facts.subject)


def _data_request(facts: MessageFacts, _: Roster) -> Outcome:
    return Outcome(
        OutcomeKind.DATA_REQUEST, "a participant asks what the program holds about them", addresses=_from(facts)
    )


def _survey_reply(facts: MessageFacts, roster: Roster) -> Outcome:
    return Outcome(OutcomeKind.SURVEY_REPLY, "a reply to a survey", pairs=_reply_pair_match(facts, roster))


def _checkin_reply(facts: MessageFacts, roster: Roster) -> Outcome:
    return Outcome(OutcomeKind.CHECKIN_REPLY, "a mentor's reply to a check-in", pairs=_reply_pair_match(facts, roster))


def _asks_for_letter(facts: MessageFacts, roster: Roster) -> bool:
    if facts.sender is None or facts.text is None or not is_letter_request(facts.text):
        return False
    return any(pair.mentor.person_id == facts.sender.person_id for pair in roster.pairs_for(facts.sender))


def _letter_request(facts: MessageFacts, roster: Roster) -> Outcome:
    return Outcome(
        OutcomeKind.LETTER_REQUEST, "a mentor asks for a letter of recognition", pairs=_mentor_pairs(facts, roster)
    )


def _reports_contact(facts: MessageFacts, roster: Roster) -> bool:
    return facts.sender is not None and facts.text is not None and _self_report(facts, roster) is not None


def _reported(facts: MessageFacts, roster: Roster) -> Outcome:
    assert facts.sender is not None
    pair = _about_pair(facts, roster)
    report = _self_report(facts, roster)
    if pair is None:
        return Outcome(
            OutcomeKind.SELF_REPORT,
            "a reported call or meeting, but for which pair? (the sender has several and names none of them)",
            addresses=_from(facts),
        )
    if isinstance(report, NotAReport):
        return Outcome(OutcomeKind.SELF_REPORT, f"not logged: {report.reason}", addresses=_from(facts))
    assert report is not None
    match = PairMatch(pair.pair_id, pair.direction_from(facts.sender.person_id))
    return Outcome(
        OutcomeKind.SELF_REPORT,
        f"a reported {report.channel} on {report.on.isoformat()}, pair {pair.pair_id}",
        pairs=(match,),
    )


def _always(_facts: MessageFacts, _roster: Roster) -> bool:
    return True


def _question(facts: MessageFacts, _: Roster) -> Outcome:
    writer = facts.sender or facts.staff
    assert writer is not None
    who = "a participant" if facts.sender else "a coordinator or the liaison"
    return Outcome(
        OutcomeKind.QUESTION,
        f"from {who} to the program, with no partner among the recipients",
        addresses=(writer.email,),
    )


# --- helpers for the reply rows -------------------------------------------------------------


def _from(facts: MessageFacts) -> tuple[str, ...]:
    return (facts.headers.from_address,) if facts.headers.from_address else ()


def _commands(facts: MessageFacts) -> list[Command | BadCommand]:
    return parse_commands(facts.text) if facts.text is not None else []


def _about_pair(facts: MessageFacts, roster: Roster) -> RosterPair | None:
    """The pair a reply is about: the one of the mail it answers, the sender's only pair, or the
    one whose partner the text names ("phone call with Ben": a mentor of several says which)."""
    assert facts.sender is not None
    pairs = roster.pairs_for(facts.sender)
    replied = facts.token.replied_to if facts.token else None
    if replied is not None and replied.pair_id is not None:
        return next((p for p in pairs if p.pair_id == replied.pair_id), None)
    if len(pairs) == 1:
        return pairs[0]
    partners = [pair.partner_of(facts.sender.person_id).name for pair in pairs]
    found = named(facts.text or "", partners)
    return pairs[found[0]] if len(found) == 1 else None


def _reply_pair_match(facts: MessageFacts, roster: Roster) -> tuple[PairMatch, ...]:
    assert facts.sender is not None
    pair = _about_pair(facts, roster)
    return (PairMatch(pair.pair_id, pair.direction_from(facts.sender.person_id)),) if pair else ()


def _mentor_pairs(facts: MessageFacts, roster: Roster) -> tuple[PairMatch, ...]:
    assert facts.sender is not None
    return tuple(
        PairMatch(p.pair_id, p.direction_from(facts.sender.person_id))
        for p in roster.pairs_for(facts.sender)
        if p.mentor.person_id == facts.sender.person_id
    )


def _self_report(facts: MessageFacts, roster: Roster) -> SelfReport | NotAReport | None:
    pair = _about_pair(facts, roster)
    started_on = pair.started_on if pair is not None else date.min
    return parse_self_report(facts.text or "", facts.today, started_on)


DECISION_TABLE: tuple[Rule, ...] = (
    Rule("loop", _is_machine(MachineKind.OWN), _loop),
    Rule("bounce", _is_machine(MachineKind.BOUNCE), _bounce),
    Rule("auto_reply", _is_machine(MachineKind.AUTO_REPLY, MachineKind.LIST), _auto_reply),
    # After the machine rows: some mail systems send bounces with no usable From.
    Rule("malformed", _no_sender, _malformed),
    # Mail between partners is decided on its headers alone, before anything looks at tokens.
    Rule("duplicate_contact", _all_seen, _duplicate_contact),
    Rule("contact", _has_partner, _contact),
    Rule("duplicate_reply", _reply_seen, _duplicate_reply),
    Rule("forged_token", _bad_token, _spoofed_token),
    Rule("someone_elses_token", _someone_elses_token, _spoofed_token),
    Rule("staff_mail", _staff_without_token, _staff_mail),
    Rule("command", _from_coordinator_with_commands, _command),
    Rule("strangers_question", _stranger_writing_to_program, _strangers_question),
    Rule("unknown_sender", _stranger, _unknown_sender),
    # Before the replies to our mail: "my data" in reply to a survey or a welcome asks for the data.
    Rule("data_request", _asks_for_data, _data_request),
    Rule("survey_reply", _replying_to("survey", "survey_reminder"), _survey_reply),
    Rule("checkin_reply", _replying_to("checkin"), _checkin_reply),
    Rule("letter_request", _asks_for_letter, _letter_request),
    Rule("self_report", _reports_contact, _reported),
    Rule("question", _always, _question),
)
