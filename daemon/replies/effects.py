"""What a reply to the program does: the effect of each reply outcome, as a table.

The router has decided the kind; here a reported call becomes a contact event, survey answers
are kept, a check-in is noted, a coordinator's commands are obeyed (and audited), a letter is
requested or sent, and the writer gets a short answer saying what was understood. Everything
happens in intake's transaction, so a reply is handled completely or not at all, and the
answers go through the outbox like all the program's mail (delivered within a minute).

Spoofed mail, duplicates and machine mail are never answered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone

from sqlmodel import Session

from ...parsers.checkin import parse_checkin
from ...parsers.commands import BadCommand, Command, parse_commands
from ...parsers.reply import interleaved
from ...parsers.roster_csv import RosterError, RosterRow
from ...parsers.self_report import SelfReport, parse_self_report
from ...parsers.survey import missing, parse_answers, questions_of
from ...store import queries
from ...store.outcomes import OutcomeKind
from ...store.planner_state import Person
from ...store.roster import Participant, RosterPair
from ..intake.ingest import Decision
from ..mail.compose import Attachment, Composer
from ..mail.composing import compose_or_set_aside
from ..mail.letters import LetterFacts, letter_pdf
from ..mail.planner import DueMail, pair_ends_on_for
from ..settings import Settings, SurveySettings

VALID_COMMANDS = (
    "pause PAIR",
    "resume PAIR",
    "end PAIR [reason]",
    "nudge PAIR",
    "pair MENTOR_EMAIL MENTEE_EMAIL [start YYYY-MM-DD]",
    "approve letter N",
    "decline letter N [reason]",
    "status PAIR",
    "help",
)


class ReplyEffects:
    def __init__(self, settings: Settings, composer: Composer) -> None:
        self.settings = settings
        self.composer = composer
        self.zone = settings.program.zone

    def apply(self, session: Session, decision: Decision) -> None:
        effect = EFFECTS.get(decision.outcome.kind)
        if effect is not None and decision.facts is not None:
            effect(self, session, decision)

    # --- one method per outcome ---------------------------------------------------------------

    def self_report(self, session: Session, decision: Decision) -> None:
        writer = _sender(decision)
        if not decision.outcome.pairs:
            reason = decision.outcome.reason.removeprefix("not logged: ")
            self._answer(
                session, decision, writer, "We could not log your report",
                f"Thank you for letting us know. We could not log it: {reason}.",
                [
                    'Write one line such as "call 30 min", "phone call yesterday" or "we met on 3 November".',
                    "If you mentor more than one person, reply to one of our mails about that pair.",
                ],
            )  # fmt: skip
            return
        match = decision.outcome.pairs[0]
        pair = _pair(decision, match.pair_id)
        report = parse_self_report(decision.facts.text or "", decision.facts.today, pair.started_on)
        assert isinstance(report, SelfReport)
        # The stated day, at noon local time: the hour of a call is not reported and not needed.
        when = datetime.combine(report.on, time(12), tzinfo=self.zone).astimezone(timezone.utc)
        queries.record_reported_contact(
            session, match.pair_id, match.direction.value, report.channel, when, decision.message_hash
        )
        partner = pair.partner_of(writer.person_id)
        what = "phone call" if report.channel == "phone" else "meeting"
        length = f", {report.minutes} minutes" if report.minutes else ""
        self._answer(
            session, decision, writer, f"Logged: your {what} with {partner.name or partner.email}",
            f"Thank you! We logged a {what} with {partner.name or partner.email} on {_day(report.on)}{length}.", [],
        )  # fmt: skip

    def survey_reply(self, session: Session, decision: Decision) -> None:
        writer = _sender(decision)
        survey = self._survey_replied_to(decision)
        if survey is None:
            self._answer(session, decision, writer, "About your reply", "This survey is no longer open. Thank you!", [])
            return
        pairs = decision.roster.pairs_for(writer)
        latest = max(pairs, key=lambda p: p.started_on)
        closes_on = pair_ends_on_for(self.settings.program, latest.started_on) + timedelta(
            days=survey.closes_days_after_end
        )
        if decision.facts.today > closes_on:
            self._answer(
                session, decision, writer, f"{survey.title}: closed",
                f"Thank you for writing. The survey closed on {_day(closes_on)}, so we could not add your answers; "
                "please write to the coordinators if there is something you would like them to know.", [],
            )  # fmt: skip
            return
        questions = questions_of(survey)
        answers = parse_answers(questions, decision.facts.text or "", interleaved(decision.body or ""))
        stored = queries.save_survey_answers(
            session, survey.id, writer.person_id, latest.pair_id, dict(answers.values), decision.now
        )
        lines = []
        for question in questions:
            if question.id in answers.unclear:
                lines.append(
                    f"{question.number}. {question.text} We could not read your answer: {answers.unclear[question.id]}."
                )
            elif question.id in stored:
                lines.append(f"{question.number}. {question.text} {_shown(stored[question.id])}")
        still_missing = [q for q in missing(questions, answers) if q.id not in stored and q.id not in answers.unclear]
        for question in still_missing:
            lines.append(f"{question.number}. {question.text} (no answer yet)")
        intro = "Thank you! This is what we have from you so far. To change an answer, reply with its number and the new answer."
        self._answer(session, decision, writer, f"{survey.title}: your answers", intro, lines)

    def checkin_reply(self, session: Session, decision: Decision) -> None:
        writer = _sender(decision)
        replied = decision.facts.token.replied_to if decision.facts.token else None
        if not decision.outcome.pairs or replied is None:
            return
        month = int(replied.key.rsplit("month-", 1)[-1]) if "month-" in replied.key else 0
        checkin = parse_checkin(decision.facts.text or "")
        queries.save_checkin(
            session, decision.outcome.pairs[0].pair_id, month, checkin.rating, checkin.wants_contact, decision.now
        )
        lines = [f"Your rating: {checkin.rating} out of 5" if checkin.rating else "No rating given (1 to 5)."]
        if checkin.wants_contact:
            lines.append("The committee liaison will get in touch with you.")
        self._answer(session, decision, writer, "Thank you for checking in", "Thank you! We noted:", lines)

    def command(self, session: Session, decision: Decision) -> None:
        coordinator = decision.facts.coordinator
        assert coordinator is not None
        results = []
        replied_to = _replied_to(decision)
        for command in parse_commands(decision.facts.text or ""):
            if isinstance(command, BadCommand):
                results.append(f"{command.line}: not done: {command.reason}")
                continue
            earlier = None
            if command.verb not in _REPEATABLE:
                earlier = queries.earlier_use_of_command(session, replied_to, _understood(command), decision.now)
            if earlier is not None:
                day = _day(earlier.astimezone(self.zone).date())
                result = (
                    f"not done: already done on {day} in reply to the same mail of ours; "
                    "to do it again, reply to a newer mail from us"
                )
            else:
                result = self._obey(session, decision, command)
            queries.audit(session, decision.now, coordinator.email, command.line, result)
            results.append(f"{command.line}: {result}")
        if any(": not done:" in line for line in results):
            results.append("Valid commands, one a line: " + "; ".join(VALID_COMMANDS))
        self._answer(session, decision, coordinator, "Your commands", "Here is what was done, line by line:", results)

    def letter_request(self, session: Session, decision: Decision) -> None:
        writer = _sender(decision)
        pairs = [_pair(decision, m.pair_id) for m in decision.outcome.pairs]
        pair = max(pairs, key=lambda p: p.started_on)
        request_id, is_new = queries.request_letter(session, writer.person_id, pair.pair_id, decision.now)
        ends_on = pair_ends_on_for(self.settings.program, pair.started_on)
        if self.settings.letters.auto_approve_completed and decision.facts.today >= ends_on and pair.status != "paused":
            queries.decide_letter(
                session, request_id, "approved", "automatically (the round was completed)", decision.now
            )
            self._send_letter(session, decision, writer, pair)
            return
        intro = (
            "Thank you! Your request for a letter recognising your service is with the coordinators; "
            "you will receive it by email once they approve it."
            if is_new
            else "Your request for a letter is already with the coordinators; you will hear from us soon."
        )
        self._answer(session, decision, writer, "Your letter of recognition", intro, [])

    # --- coordinators' commands ---------------------------------------------------------------

    def _obey(self, session: Session, decision: Decision, command: Command) -> str:
        action = COMMANDS[command.verb]
        return action(self, session, decision, command)

    def _pause(self, session: Session, decision: Decision, command: Command) -> str:
        return _pair_status(session, command, "paused")

    def _resume(self, session: Session, decision: Decision, command: Command) -> str:
        return _pair_status(session, command, "active")

    def _end(self, session: Session, decision: Decision, command: Command) -> str:
        return _pair_status(session, command, "ended")

    def _nudge(self, session: Session, decision: Decision, command: Command) -> str:
        pair = _roster_pair(decision, command.pair)
        if pair is None:
            return f"not done: no pair {command.pair!r}"
        for role, person in (("mentor", pair.mentor), ("mentee", pair.mentee)):
            partner = pair.partner_of(person.person_id)
            mail = DueMail(
                key=f"nudge:pair-{pair.pair_id}:by-coordinator:{decision.message_hash[:16]}:{role}",
                kind="nudge",
                due_at=decision.now,
                to=(_person(person),),
                context=self._context(person, role, partner={"name": partner.name, "email": partner.email},
                                      days_since_contact=queries.days_since_contact(session, pair.pair_id, decision.now)),
                pair_id=pair.pair_id,
                reply_person=person.person_id,
                reference=f"pair-{pair.pair_id}",
            )  # fmt: skip
            queries.enqueue(session, compose_or_set_aside(self.composer, mail, now=decision.now))
        return f"done: both members of pair {pair.pair_id} will be nudged"

    def _pair(self, session: Session, decision: Decision, command: Command) -> str:
        mentor, mentee, *rest = command.args
        starts_on = date.fromisoformat(rest[0]) if rest else decision.facts.today
        row = RosterRow(
            line=command.number, mentor_email=mentor, mentor_name=queries.name_of(session, mentor),
            mentee_email=mentee, mentee_name=queries.name_of(session, mentee), pair_id=None, starts_on=starts_on,
            mentor_aliases=(), mentee_aliases=(),
        )  # fmt: skip
        try:
            with session.begin_nested():  # a refused pairing leaves the rest of the reply's work intact
                counts = queries.apply_roster(session, [row], starts_on, "command")
        except RosterError as error:
            return "not done: " + str(error).split(": ", 2)[-1]
        if not counts.added:
            return "not done: they are already a pair"
        return f"done: paired {mentor} with {mentee} from {_day(starts_on)}"

    def _approve(self, session: Session, decision: Decision, command: Command) -> str:
        request = queries.letter_request(session, int(command.args[1]))
        if request is None or request.status != "requested":
            return f"not done: no open letter request {command.args[1]}"
        coordinator = decision.facts.coordinator
        queries.decide_letter(session, request.id, "approved", coordinator.email if coordinator else "", decision.now)
        mentor = decision.roster.by_id(request.person_id)
        pair = _roster_pair(decision, request.pair_id)
        if mentor is None or pair is None:
            return "not done: the mentor or the pair is no longer on the roster"
        self._send_letter(session, decision, mentor, pair)
        return f"done: the letter for {mentor.name or mentor.email} is on its way (a copy to the coordinators)"

    def _decline(self, session: Session, decision: Decision, command: Command) -> str:
        request = queries.letter_request(session, int(command.args[1]))
        if request is None or request.status != "requested":
            return f"not done: no open letter request {command.args[1]}"
        reason = " ".join(command.args[2:])
        coordinator = decision.facts.coordinator
        queries.decide_letter(
            session, request.id, "declined", coordinator.email if coordinator else "", decision.now, reason
        )
        return "done: declined" + (f" ({reason})" if reason else "")

    def _status(self, session: Session, decision: Decision, command: Command) -> str:
        activity = next(iter(queries.pair_activity(session, command.pair)), None)
        if activity is None:
            return f"not done: no pair {command.pair!r}"
        last = activity.last_contact.date().isoformat() if activity.last_contact else "never"
        return (
            f"{activity.mentor} / {activity.mentee}: {activity.status}; {activity.mentor_to_mentee} from the mentor, "
            f"{activity.mentee_to_mentor} from the mentee, {activity.self_reported} reported calls; last contact {last}"
        )

    def _help(self, session: Session, decision: Decision, command: Command) -> str:
        return "commands, one a line: " + "; ".join(VALID_COMMANDS)

    # --- sending ------------------------------------------------------------------------------

    def _send_letter(self, session: Session, decision: Decision, mentor: Participant, pair: RosterPair) -> None:
        program = self.settings.program
        ends_on = pair_ends_on_for(program, pair.started_on)  # the round's end, a late pair's too
        pdf = letter_pdf(
            LetterFacts(
                program_name=program.name,
                mentor_name=mentor.name or mentor.email,
                round_starts_on=pair.started_on,
                round_ends_on=ends_on,
                issued_on=decision.facts.today,
                signatory=self.settings.letters.signatory,
                program_address=program.address,
            )
        )
        coordinators = tuple(Person(0, "", address) for address in self.settings.people.coordinators)
        mail = DueMail(
            key=f"recognition_letter:pair-{pair.pair_id}:person-{mentor.person_id}",
            kind="recognition_letter",
            due_at=decision.now,
            to=(_person(mentor), *coordinators),
            # The letter and its mail say what is true on the day it is issued (issue 10).
            context=self._context(
                mentor, "mentor", starts_on=pair.started_on, ends_on=ends_on, issued_on=decision.facts.today
            ),
            pair_id=pair.pair_id,
            reply_person=mentor.person_id,
            reference=f"letter-{pair.pair_id}",
        )
        filename = f"letter-of-recognition-{pair.pair_id}.pdf"
        queries.enqueue(
            session,
            compose_or_set_aside(
                self.composer, mail, attachments=(Attachment(filename, "application/pdf", pdf),), now=decision.now
            ),
        )

    def _answer(
        self, session: Session, decision: Decision, to: Participant, title: str, intro: str, lines: list[str]
    ) -> None:
        if decision.facts is not None and decision.facts.headers.suppresses_auto_responses:
            # The writer's client asked for no automatic answers (X-Auto-Response-Suppress, or
            # the mail is itself automatic): what it asked for is done, only the answer is not sent.
            return
        role = "coordinator" if decision.facts and decision.facts.coordinator is to else "participant"
        mail = DueMail(
            key=f"reply:{decision.message_hash[:32]}",
            kind="reply",
            due_at=decision.now,
            to=(_person(to),),
            context=self._context(to, role, title=title, intro=intro, lines=lines),
            reply_person=to.person_id,
            reference="reply",
            to_committee=role == "coordinator",
        )
        queries.enqueue(session, compose_or_set_aside(self.composer, mail, now=decision.now))

    def _context(self, recipient: Participant, role: str, **values: object) -> dict[str, object]:
        people = self.settings.people
        return {
            "program": {
                "name": self.settings.program.name,
                "address": self.settings.program.address,
                "coordinators": list(people.coordinators),
                "liaison": people.liaison,
            },
            "recipient": {"name": recipient.name, "email": recipient.email, "role": role},
            **values,
        }

    def _survey_replied_to(self, decision: Decision) -> SurveySettings | None:
        replied = decision.facts.token.replied_to if decision.facts.token else None
        if replied is None:
            return None
        survey_id = replied.key.split(":")[1] if replied.key.count(":") >= 1 else ""
        return next((s for s in self.settings.surveys if s.id == survey_id), None)


EFFECTS: dict[OutcomeKind, Callable[[ReplyEffects, Session, Decision], None]] = {
    OutcomeKind.SELF_REPORT: ReplyEffects.self_report,
    OutcomeKind.SURVEY_REPLY: ReplyEffects.survey_reply,
    OutcomeKind.CHECKIN_REPLY: ReplyEffects.checkin_reply,
    OutcomeKind.COMMAND: ReplyEffects.command,
    OutcomeKind.LETTER_REQUEST: ReplyEffects.letter_request,
}

COMMANDS: dict[str, Callable[[ReplyEffects, Session, Decision, Command], str]] = {
    "pause": ReplyEffects._pause,
    "resume": ReplyEffects._resume,
    "end": ReplyEffects._end,
    "nudge": ReplyEffects._nudge,
    "pair": ReplyEffects._pair,
    "approve": ReplyEffects._approve,
    "decline": ReplyEffects._decline,
    "status": ReplyEffects._status,
    "help": ReplyEffects._help,
}


# Commands that change nothing may be given again in reply to the same mail.
_REPEATABLE = frozenset({"status", "help"})


def _replied_to(decision: Decision) -> str:
    """Which mail of ours a command mail answers, as its token's claims (each mail's are its own)."""
    token = decision.facts.token if decision.facts else None
    assert token is not None and token.claims is not None, "the router obeys commands only with a token"
    claims = token.claims
    return hashlib.sha256(f"{claims.person}:{claims.reference}:{claims.expires_on}".encode()).hexdigest()


def _understood(command: Command) -> str:
    """A command as understood, so that "Pause  P3." and "pause p3" are one command."""
    return " ".join(part for part in (command.verb, command.pair, *command.args) if part).lower()


def _pair_status(session: Session, command: Command, status: str) -> str:
    reason = " ".join(command.args)
    if not queries.set_pair_status(session, command.pair or "", status):
        return f"not done: no pair {command.pair!r}"
    return f"done: pair {command.pair} is {status}" + (f" ({reason})" if reason else "")


def _sender(decision: Decision) -> Participant:
    assert decision.facts is not None and decision.facts.sender is not None
    return decision.facts.sender


def _pair(decision: Decision, pair_id: str) -> RosterPair:
    pair = _roster_pair(decision, pair_id)
    assert pair is not None, "the router matched a pair that the roster has"
    return pair


def _roster_pair(decision: Decision, pair_id: str | None) -> RosterPair | None:
    pairs = {p.pair_id: p for ps in decision.roster.pairs_of.values() for p in ps}
    return pairs.get(pair_id or "")


def _person(participant: Participant) -> Person:
    return Person(participant.person_id, participant.name, participant.email)


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
