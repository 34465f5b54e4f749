"""What a reply to the program does: the effect of each reply outcome, as a table.

The router has decided the kind; here a reported call becomes a contact event, survey answers
are kept, a check-in is noted, a coordinator's commands are obeyed (and audited), a letter is
requested or sent, and the writer gets a short answer saying what was understood. Everything
happens in intake's transaction, so a reply is handled completely or not at all, and the
answers go through the outbox like all the program's mail (delivered within a minute).

Spoofed mail, duplicates and machine mail are never answered.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone

from sqlmodel import Session

from ...parsers.checkin import parse_checkin
from ...parsers.commands import BadCommand, Command, parse_commands
from ...parsers.reply import interleaved
from ...parsers.roster_csv import RosterError, RosterRow
from ...parsers.self_report import SelfReport, parse_self_report
from ...parsers.survey import Question, parse_answers, questions_of
from ...store import queries
from ...store.models import LetterRequest
from ...store.outcomes import OutcomeKind
from ...store.planner_state import Person
from ...store.queries.times import as_utc
from ...store.roster import Participant, RosterPair
from ..intake.ingest import Decision
from ..mail.compose import Attachment, Composer
from ..mail.composing import compose_or_set_aside
from ..mail.letters import LetterFacts, letter_pdf
from ..mail.planner import DueMail, pair_ends_on_for, round_key_suffix, round_of_key
from ..settings import Settings, SurveySettings

VALID_COMMANDS = (
    "pause PAIR",
    "resume PAIR",
    "end PAIR [reason]",
    "nudge PAIR",
    'pair "Mentor Name" <MENTOR_EMAIL> "Mentee Name" <MENTEE_EMAIL> [start YYYY-MM-DD]',
    "address OLD_EMAIL NEW_EMAIL",
    "forget EMAIL",
    "approve letter N",
    "decline letter N [reason]",
    "status PAIR",
    "help",
)
_CHANNEL_WORDS = {"phone": "phone call", "meeting": "meeting", "email": "email"}
_MONTH_OF_KEY = re.compile(r"month-(\d+)")


class ReplyEffects:
    def __init__(self, settings: Settings, composer: Composer) -> None:
        self.settings = settings
        self.composer = composer
        self.zone = settings.program.zone

    def acts_on(self, decision: Decision) -> bool:
        """Whether `apply` does anything for this decision (contacts and duplicates: nothing)."""
        return decision.outcome.kind in EFFECTS and decision.facts is not None

    def apply(self, session: Session, decision: Decision) -> None:
        if self.acts_on(decision):
            EFFECTS[decision.outcome.kind](self, session, decision)

    # --- one method per outcome ---------------------------------------------------------------

    def self_report(self, session: Session, decision: Decision) -> None:
        writer = _sender(decision)
        if not decision.outcome.pairs:
            pairs = decision.roster.pairs_for(writer)
            if decision.outcome.reason.startswith("not logged: ") or len(pairs) < 2:
                reason = decision.outcome.reason.removeprefix("not logged: ")
                self._answer(
                    session, decision, writer, "We could not log your report",
                    f"Thank you for letting us know. We could not log it: {reason}.",
                    [
                        'Write one line such as "call 30 min", "emailed", "phone call yesterday" '
                        'or "we met on 3 November".'
                    ],
                )  # fmt: skip
                return
            # A mentor of several who did not say whom she was in touch with: her partners, and how to say.
            partners = [(pair.pair_id, pair.partner_of(writer.person_id)) for pair in pairs]
            first = next((p.name.split()[0] for _, p in partners if p.name.split()), "")
            self._answer(
                session, decision, writer, "Which of your pairs was it?",
                "Thank you for letting us know. You are in touch with more than one person in the program, and "
                "we could not tell whom you mean, so we have not logged it yet. Please send the line again with "
                "their name" + (f', for example "call 30 min yesterday with {first}"' if first else "")
                + ", or reply to one of our mails about that pair. You are paired with:",
                [f"{partner.name or partner.email} (pair {pair_id})" for pair_id, partner in partners],
            )  # fmt: skip
            return
        match = decision.outcome.pairs[0]
        pair = _pair(decision, match.pair_id)
        report = parse_self_report(decision.facts.text or "", decision.facts.today, pair.started_on)
        assert isinstance(report, SelfReport)
        # The stated day, at noon local time (the hour of a call is not reported and not needed),
        # but never later than now: a call "today" reported in the morning is not in the future.
        noon = datetime.combine(report.on, time(12), tzinfo=self.zone).astimezone(timezone.utc)
        when = min(noon, decision.now)
        queries.record_reported_contact(
            session, match.pair_id, match.direction.value, report.channel, when, decision.message_hash
        )
        partner = pair.partner_of(writer.person_id)
        who = partner.name or partner.email
        what = _CHANNEL_WORDS[report.channel]
        length = f", {report.minutes} minutes" if report.minutes else ""
        if report.channel == "email":  # "emailed": an email to the partner that we did not see
            title, intro = (
                f"Logged: your email to {who}",
                f"Thank you! We logged that you emailed {who} on {_day(report.on)}.",
            )
        else:
            title, intro = (
                f"Logged: your {what} with {who}",
                f"Thank you! We logged a {what} with {who} on {_day(report.on)}{length}.",
            )
        self._answer(session, decision, writer, title, intro, [])

    def survey_reply(self, session: Session, decision: Decision) -> None:
        writer = _sender(decision)
        answered = self._survey_replied_to(decision)
        if answered is None:
            self._answer(session, decision, writer, "About your reply", "This survey is no longer open. Thank you!", [])
            return
        survey, round_id = answered
        # The answers are about their pair in the survey's round, not a newer one in a later round.
        theirs = decision.roster.pairs_for(writer)
        pairs = [p for p in theirs if p.round_id == round_id] or theirs
        latest = max(pairs, key=lambda p: p.started_on)
        closes_on = pair_ends_on_for(self.settings.round(latest.round_id), latest.started_on) + timedelta(
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
        # A reply to this answer is read as answers to the same survey (see the router).
        key = f"reply:survey:{survey.id}:{decision.message_hash[:32]}{round_key_suffix(round_id)}"
        example = [f"{q.number}. {_example_answer(q)}" for q in questions[:3]]
        if not answers.values and not answers.unclear:
            self._answer(
                session, decision, writer, f"{survey.title}: how to answer",
                "Thank you for writing! We could not find an answer to any of the questions in your reply, so "
                "nothing was saved. Please reply to this email with one answer per line, each starting with the "
                "question's number:",
                [f"{q.number}. {q.text} {_allowed(q)}" for q in questions], example=example, key=key,
            )  # fmt: skip
            return
        stored = queries.save_survey_answers(
            session, survey.id, writer.person_id, latest.pair_id, dict(answers.values), decision.now
        )
        lines = []
        for question in questions:  # in the survey's order, as its mail numbers them
            if question.id in answers.unclear:
                why = answers.unclear[question.id]
                lines.append(
                    f"{question.number}. {question.text} We could not read your answer: {why}. {_allowed(question)}"
                )
            elif question.id in stored:
                lines.append(f"{question.number}. {question.text} {_shown(stored[question.id])}")
            else:
                lines.append(f"{question.number}. {question.text} (no answer yet)")
        intro = (
            "Thank you! This is what we have from you so far. "
            "To change an answer, reply with its number and the new answer."
        )
        unread = bool(answers.unclear)
        self._answer(
            session, decision, writer, f"{survey.title}: your answers", intro, lines,
            example=example if unread else (), key=key,
        )  # fmt: skip

    def checkin_reply(self, session: Session, decision: Decision) -> None:
        writer = _sender(decision)
        replied = decision.facts.token.replied_to if decision.facts.token else None
        if not decision.outcome.pairs or replied is None:
            return
        found = _MONTH_OF_KEY.search(replied.key)
        month = int(found[1]) if found else 0
        pair = _pair(decision, decision.outcome.pairs[0].pair_id)
        mentee = pair.partner_of(writer.person_id)
        who = mentee.name or mentee.email
        checkin = parse_checkin(decision.facts.text or "")
        # The comment was written to the program, for the liaison: kept for the liaison summary.
        saved = queries.save_checkin(
            session, pair.pair_id, month, checkin.rating, checkin.wants_contact, checkin.note or None, decision.now
        )
        # A reply to this answer is read as the same check-in (the router knows the key).
        key = f"reply:checkin:pair-{pair.pair_id}:month-{month}:{decision.message_hash[:32]}"
        helper = "our committee liaison" if self.settings.people.liaison else "one of the coordinators"
        lines = []
        if saved.wants_contact:
            lines.append(f"{helper[0].upper()}{helper[1:]} will get in touch with you.")
        elif saved.wants_contact is False:
            lines.append(f"No need for {helper} to get in touch.")
        if saved.comment:
            lines.append(
                "Your comment is passed on to the coordinators"
                + (" and the liaison." if self.settings.people.liaison else ".")
            )
        if saved.rating is None:
            intro = (
                f"Thank you for your note about {who}! One thing is missing: how is the mentoring relationship "
                "going, from 1 (not well) to 5 (very well)? Just reply to this email with the number."
            )
            self._answer(session, decision, writer, f"How is it going with {who}?", intro, lines, example=["4"],
                         key=key, pair_id=pair.pair_id)  # fmt: skip
            return
        lines.insert(0, f"Your rating: {saved.rating} out of 5")
        title, intro = f"Thank you for checking in about {who}", f"Thank you! About your mentoring of {who}, we noted:"
        self._answer(session, decision, writer, title, intro, lines, key=key, pair_id=pair.pair_id)

    def command(self, session: Session, decision: Decision) -> None:
        coordinator = decision.facts.coordinator
        assert coordinator is not None
        results = []
        replied_to = _replied_to(decision)
        key = None  # our answer's; one asking to confirm a `forget` names it
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
            line = command.line
            if command.verb == "forget":
                if result.startswith(_CONFIRM):  # a reply to this answer is what confirms it
                    key = queries.forget_confirmation_key(command.args[0]) + decision.message_hash[:16]
                elif result.startswith("done"):
                    line = "forget"  # the audit says that an erasure happened, never whose
            queries.audit(session, decision.now, coordinator.email, line, result)
            results.append(f"{line}: {result}")
        asked_for_help = any(
            isinstance(c, Command) and c.verb == "help" for c in parse_commands(decision.facts.text or "")
        )
        if any(": not done:" in line for line in results) and not asked_for_help:  # help lists them already
            results.append("Valid commands, one a line: " + "; ".join(VALID_COMMANDS))
        self._answer(
            session, decision, coordinator, "Your commands", "Here is what was done, line by line:", results, key=key
        )  # fmt: skip

    def letter_request(self, session: Session, decision: Decision) -> None:
        writer = _sender(decision)
        pairs = [_pair(decision, m.pair_id) for m in decision.outcome.pairs]
        pair = max(pairs, key=lambda p: p.started_on)
        request_id, is_new = queries.request_letter(session, writer.person_id, pair.pair_id, decision.now)
        ends_on = pair_ends_on_for(self.settings.round(pair.round_id), pair.started_on)
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

    def data_request(self, session: Session, decision: Decision) -> None:
        """`my data`: what the program holds about the writer, mailed to their roster address (the
        answer's only recipient, and its envelope's), never to the request's From or Reply-To: a
        forged From gets its owner's data sent to its owner, not to the forger. One answer per
        person and day (its key), so that requests cannot be used to flood anyone's inbox."""
        writer = _sender(decision)
        key = f"my_data:person-{writer.person_id}:{decision.facts.today.isoformat()}"
        if queries.outbox_status(session, key) is not None:
            return  # answered today already
        held = queries.held_about(session, writer.person_id, self.zone)
        if held is None:
            return
        mail = DueMail(
            key=key,
            kind="my_data",
            due_at=decision.now,
            to=(Person(writer.person_id, held.name, held.email),),
            context=self._context(writer, "participant", **self._held_context(held)),
            reply_person=writer.person_id,
            reference="my-data",
        )
        queries.enqueue(session, compose_or_set_aside(self.composer, mail, now=decision.now))

    def _held_context(self, held: queries.HeldData) -> dict[str, object]:
        """The `my_data` template's context: dates in the program's zone, survey answers under
        their questions' text."""
        surveys = {survey.id: survey for survey in self.settings.surveys}

        def local(moment: datetime) -> date:
            return moment.astimezone(self.zone).date()

        def answers(survey_id: str, values: dict[str, object]) -> list[str]:
            survey = surveys.get(survey_id)
            questions = {q.id: q.text for q in survey.questions} if survey else {}
            return [f"{questions.get(qid, qid)} {_shown(value)}" for qid, value in values.items()]

        return {
            "person": {"name": held.name, "email": held.email, "aliases": list(held.aliases)},
            "pairs": [
                {"pair_id": p.pair_id, "role": p.role, "started_on": p.started_on, "status": p.status,
                 "partner": {"name": p.partner_name}}
                for p in held.pairs
            ],
            "contacts": [
                {"pair_id": c.pair_id, "month": f"{date.fromisoformat(c.month + '-01'):%B %Y}",
                 "mentor_to_mentee": c.mentor_to_mentee, "mentee_to_mentor": c.mentee_to_mentor,
                 "email": c.email, "phone": c.phone, "meeting": c.meeting}
                for c in held.contacts
            ],
            "surveys": [
                {"title": surveys[a.survey_id].title if a.survey_id in surveys else a.survey_id,
                 "pair_id": a.pair_id, "answered_on": local(a.updated_at), "answers": answers(a.survey_id, a.answers)}
                for a in held.surveys
            ],
            "checkins": [
                {"pair_id": c.pair_id, "month": c.month, "rating": c.rating, "wants_contact": c.wants_contact,
                 "comment": c.comment or "", "received_on": local(c.received_at)}
                for c in held.checkins
            ],
            "letters": [
                {"pair_id": letter.pair_id, "requested_on": local(letter.requested_at), "status": letter.status,
                 "decided_on": local(letter.decided_at) if letter.decided_at else None}
                for letter in held.letters
            ],
            "bounced_on": local(held.bounced_at) if held.bounced_at else None,
            "keep_days": self.settings.privacy.keep_days_after_round,  # 0: kept until forgotten
        }  # fmt: skip

    def staff_mail(self, session: Session, decision: Decision) -> None:
        """A coordinator's or the liaison's mail without a reply address of ours: nothing was done or
        counted; they hear how to give commands. At most one such answer a day each (its key)."""
        facts = decision.facts
        staff = facts.staff
        assert staff is not None
        key = f"reply:staff:person-{staff.person_id}:{facts.today.isoformat()}"
        coordinators = ", ".join(self.settings.people.coordinators)
        if facts.coordinator is None:  # the liaison gives no commands
            self._answer(
                session, decision, staff, "Your mail to the program",
                "Thank you! Nothing needed counting: the program counts only mail between mentors and mentees, "
                f"and keeps no copy of yours. To reach the coordinators, write to them at {coordinators}.",
                [], key=key, role="liaison",
            )  # fmt: skip
            return
        lines = [
            f"{c.line}: not done: not in reply to mail we sent you"
            for c in parse_commands(facts.text or "") if isinstance(c, Command)
        ]  # fmt: skip
        self._answer(
            session, decision, staff, "How to give the program commands",
            "Your mail came to the program's address, not in reply to mail we sent to you alone, so nothing was "
            "done and nothing was counted (a copy of your own mail to a participant needs nothing more). Commands "
            "are taken only in reply to mail signed for you, so that nobody can give them in your name: reply to "
            "your latest digest, or to this email, with one command a line.",
            [*lines, "Valid commands, one a line: " + "; ".join(VALID_COMMANDS)], key=key,
        )  # fmt: skip

    # --- coordinators' commands ---------------------------------------------------------------

    def _obey(self, session: Session, decision: Decision, command: Command) -> str:
        action = COMMANDS[command.verb]
        if command.pair is not None:  # a pair id names the current round's pair (README, "Rounds")
            current = self.settings.current_round(decision.facts.today).id
            command = replace(command, pair=queries.named_pair_key(command.pair, current))
        return action(self, session, decision, command)

    def _pause(self, session: Session, decision: Decision, command: Command) -> str:
        return _pair_status(session, decision, command, "paused")

    def _resume(self, session: Session, decision: Decision, command: Command) -> str:
        return _pair_status(session, decision, command, "active")

    def _end(self, session: Session, decision: Decision, command: Command) -> str:
        return _pair_status(session, decision, command, "ended")

    def _nudge(self, session: Session, decision: Decision, command: Command) -> str:
        pair = _roster_pair(decision, command.pair)
        if pair is None:
            return _no_pair(decision, command.pair)
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
        given = command.names or ("", "")
        # A name given is the person's name from now on (as in a roster import); none keeps theirs.
        mentor_name = given[0] or queries.name_of(session, mentor)
        mentee_name = given[1] or queries.name_of(session, mentee)
        starts_on = date.fromisoformat(rest[0]) if rest else decision.facts.today
        current = self.settings.current_round(decision.facts.today)
        row = RosterRow(
            line=command.number, mentor_email=mentor, mentor_name=mentor_name,
            mentee_email=mentee, mentee_name=mentee_name, pair_id=None, starts_on=starts_on,
            mentor_aliases=(), mentee_aliases=(),
        )  # fmt: skip
        try:
            with session.begin_nested():  # a refused pairing leaves the rest of the reply's work intact
                counts = queries.apply_roster(session, [row], starts_on, "command", current.id)
        except RosterError as error:
            return "not done: " + str(error).split(": ", 2)[-1]
        pair_id = queries.pair_id_of(session, mentor, mentee, current.id)
        people = f"{_named(mentor_name, mentor)} with {_named(mentee_name, mentee)}"
        if not counts.added:
            if counts.updated and command.names:
                return f"done: pair {pair_id} already existed; the names are now {people}"
            return f"not done: they are already pair {pair_id}"
        nameless = [address for name, address in ((mentor_name, mentor), (mentee_name, mentee)) if not name]
        hint = (
            f' (no name for {" or ".join(nameless)}: the mail greets them without one; to add one, write '
            '"pair" again with names: pair "First Last" <address> ...)'
            if nameless else ""
        )  # fmt: skip
        return f"done: pair {pair_id}: {people}, from {_day(starts_on)}{hint}"

    def _address(self, session: Session, decision: Decision, command: Command) -> str:
        old, new = command.args
        try:
            with session.begin_nested():  # a refused change leaves the rest of the reply's work intact
                change = queries.change_address(session, old, new)
        except queries.AddressChangeError as error:
            return f"not done: {error}"
        return f"done: {change.summary()}"

    def _forget(self, session: Session, decision: Decision, command: Command) -> str:
        """Done only in reply to our answer that asked to confirm it (the key of the mail a signed
        reply answers says which address), so one mistyped line cannot forget anyone."""
        (address,) = command.args
        token = decision.facts.token if decision.facts else None
        answered = token.replied_to if token is not None else None
        confirmed = answered is not None and answered.key.startswith(queries.forget_confirmation_key(address))
        try:
            with session.begin_nested():  # a refusal leaves the rest of the reply's work intact
                # The audit entry is the command's own (`command`), written after this.
                erasure = queries.forget_person(session, address, decision.now, None, dry_run=not confirmed)
        except queries.CannotForget as error:
            return f"not done: {error}"
        if not confirmed:
            return (
                f"{_CONFIRM}: this would forget {erasure.summary()}, and cannot be undone. To confirm, reply "
                "to this email with the same line"
            )
        return f"done: forgot {erasure.summary()}"

    def _approve(self, session: Session, decision: Decision, command: Command) -> str:
        request = queries.letter_request(session, int(command.args[1]))
        if request is None or request.status != "requested":
            return self._not_open(request, command.args[1])
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
            return self._not_open(request, command.args[1])
        reason = " ".join(command.args[2:])
        coordinator = decision.facts.coordinator
        queries.decide_letter(
            session, request.id, "declined", coordinator.email if coordinator else "", decision.now, reason
        )
        return "done: declined" + (f" ({reason})" if reason else "")

    def _not_open(self, request: LetterRequest | None, number: str) -> str:
        """Why a letter cannot be decided: there is no such request, or it was decided already."""
        if request is None:
            return f"not done: there is no letter request {number}"
        when = f" on {_day(as_utc(request.decided_at).astimezone(self.zone).date())}" if request.decided_at else ""
        by = f" by {request.decided_by}" if request.decided_by else ""
        return f"not done: letter {number} was already {request.status}{when}{by}"

    def _status(self, session: Session, decision: Decision, command: Command) -> str:
        activity = next(iter(queries.pair_activity(session, command.pair)), None)
        if activity is None:
            return _no_pair(decision, command.pair)
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
        ends_on = pair_ends_on_for(self.settings.round(pair.round_id), pair.started_on)  # a late pair's too
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
        self,
        session: Session,
        decision: Decision,
        to: Participant,
        title: str,
        intro: str,
        lines: list[str],
        *,
        example: Sequence[str] = (),
        key: str | None = None,
        pair_id: str | None = None,
        role: str | None = None,
    ) -> None:
        """Answer the mail `decision` is about, in its thread ("Re: " its subject, where it had one).

        `key` makes a reply to this answer findable (a survey's, a check-in's) or limits answers
        (one a day); `pair_id` is the pair a reply to it is about."""
        if decision.facts is not None and decision.facts.headers.suppresses_auto_responses:
            # The writer's client asked for no automatic answers (X-Auto-Response-Suppress, or
            # the mail is itself automatic): what it asked for is done, only the answer is not sent.
            return
        if role is None:
            role = "coordinator" if decision.facts and decision.facts.coordinator is to else "participant"
        # Threaded under mail written to the program only: a copy of mail to a participant (staff
        # mail) is not theirs alone, and its Message-ID is kept nowhere but as a keyed hash.
        headers = decision.facts.headers if decision.facts and decision.facts.text is not None else None
        thread = (*headers.references[-2:], headers.message_id) if headers and headers.message_id else ()
        mail = DueMail(
            key=key or f"reply:{decision.message_hash[:32]}",
            kind="reply",
            due_at=decision.now,
            to=(_person(to),),
            context=self._context(
                to, role, title=_re(decision.subject) or title, intro=intro, lines=lines, example=list(example)
            ),
            pair_id=pair_id,
            reply_person=to.person_id,
            reference="reply",
            to_committee=role != "participant",
            thread=thread,
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

    def _survey_replied_to(self, decision: Decision) -> tuple[SurveySettings, str] | None:
        """The survey a reply answers and the round it was sent for."""
        replied = decision.facts.token.replied_to if decision.facts.token else None
        if replied is None:
            return None
        # "survey:ID:...", "survey_reminder:ID:...", or our answer to a reply: "reply:survey:ID:...",
        # each ending in ":round-R" outside round "1".
        parts = replied.key.split(":")
        survey_id = parts[2] if parts[0] == "reply" and len(parts) > 2 else parts[1] if len(parts) > 1 else ""
        survey = next((s for s in self.settings.surveys if s.id == survey_id), None)
        return None if survey is None else (survey, round_of_key(replied.key))


EFFECTS: dict[OutcomeKind, Callable[[ReplyEffects, Session, Decision], None]] = {
    OutcomeKind.SELF_REPORT: ReplyEffects.self_report,
    OutcomeKind.SURVEY_REPLY: ReplyEffects.survey_reply,
    OutcomeKind.CHECKIN_REPLY: ReplyEffects.checkin_reply,
    OutcomeKind.COMMAND: ReplyEffects.command,
    OutcomeKind.LETTER_REQUEST: ReplyEffects.letter_request,
    OutcomeKind.DATA_REQUEST: ReplyEffects.data_request,
    OutcomeKind.STAFF_MAIL: ReplyEffects.staff_mail,
}

COMMANDS: dict[str, Callable[[ReplyEffects, Session, Decision, Command], str]] = {
    "pause": ReplyEffects._pause,
    "resume": ReplyEffects._resume,
    "end": ReplyEffects._end,
    "nudge": ReplyEffects._nudge,
    "pair": ReplyEffects._pair,
    "address": ReplyEffects._address,
    "forget": ReplyEffects._forget,
    "approve": ReplyEffects._approve,
    "decline": ReplyEffects._decline,
    "status": ReplyEffects._status,
    "help": ReplyEffects._help,
}


# Commands that change nothing may be given again in reply to the same mail.
# `forget` asks to be confirmed, and once done finds nobody: no use of it is kept (it names them).
_REPEATABLE = frozenset({"status", "help", "forget"})
_CONFIRM = "not done yet"


def _replied_to(decision: Decision) -> str:
    """Which mail of ours a command mail answers, as its token's claims (each mail's are its own)."""
    token = decision.facts.token if decision.facts else None
    assert token is not None and token.claims is not None, "the router obeys commands only with a token"
    claims = token.claims
    return hashlib.sha256(f"{claims.person}:{claims.reference}:{claims.expires_on}".encode()).hexdigest()


def _understood(command: Command) -> str:
    """A command as understood, so that "Pause  P3." and "pause p3" are one command."""
    return " ".join(part for part in (command.verb, command.pair, *command.args) if part).lower()


def _pair_status(session: Session, decision: Decision, command: Command, status: str) -> str:
    reason = " ".join(command.args)
    if not queries.set_pair_status(session, command.pair or "", status):
        return _no_pair(decision, command.pair)
    return f"done: pair {command.pair} is {status}" + (f" ({reason})" if reason else "")


def _no_pair(decision: Decision, written: str | None) -> str:
    """There is no such pair; the one meant, if it can be told: "pair-07" is 7, "P3" is p3."""
    ids = sorted({p.pair_id for ps in decision.roster.pairs_of.values() for p in ps})
    text = written or ""

    def number(pair_id: str) -> int | None:
        digits = re.sub(r"\D", "", pair_id)
        return int(digits) if digits else None

    wanted = number(text)
    same_number = [i for i in ids if wanted is not None and number(i) == wanted]
    close = same_number or difflib.get_close_matches(text.casefold(), ids, n=1, cutoff=0.6)
    return f"not done: no pair {text!r}" + (f" (did you mean '{close[0]}'?)" if close else "")


def _named(name: str, address: str) -> str:
    return f"{name} <{address}>" if name else address


def _re(subject: str | None) -> str | None:
    """The Subject of an answer to mail whose subject was `subject`: "Re: ..." (once)."""
    if not subject or not subject.isprintable():
        return None
    subject = subject[:200]
    return subject if subject[:3].casefold() == "re:" else f"Re: {subject}"


def _allowed(question: Question) -> str:
    """What an answer to `question` may be, in words."""
    if question.kind == "scale":
        high = len(question.labels) or 5
        ends = f" (1 = {question.labels[0]}, {high} = {question.labels[-1]})" if question.labels else ""
        return f"Answer with a number from 1 to {high}{ends}."
    if question.kind == "yesno":
        return "Answer yes or no."
    if question.kind == "choice":
        choices = ", ".join(f"{n} = {label}" for n, label in enumerate(question.labels, start=1))
        return f"Answer with the number of a choice: {choices}."
    return "Answer in your own words, on one line."


def _example_answer(question: Question) -> str:
    return {"scale": "4", "yesno": "yes", "choice": "1"}.get(question.kind, "in a few words")


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
