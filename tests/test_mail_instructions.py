"""Every instruction the program's mail gives works when followed (issue 10).

Each test takes a mail as the program sends it, does what the mail says (a one-line email such as
"emailed", a reply with numbered answers, the word "letter", a command under a digest), hands
the result to intake as it arrives over SMTP, and checks what it did. In process, on a virtual
clock (tests/in_process.py): the test roster's round starts on 1 September 2026 (Chicago); Ana
mentors Ben (p1) and Cléo (p2), Dev mentors Eve (p3).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from conftest import PROGRAM_ADDRESS, REPO, Program, message, reply
from in_process import InProcess, in_process
from mentormail.parsers.self_report import SelfReport, parse_self_report
from mentormail.store.outcomes import OutcomeKind
from test_replies_daemon import SURVEY

ROUND_STARTS = datetime(2026, 9, 1, 16, tzinfo=timezone.utc)  # 11:00 in Chicago: after send_time
SURVEY_OPEN = datetime(2027, 5, 20, 16, tzinfo=timezone.utc)
ROUND_ENDED = datetime(2027, 6, 1, 16, tzinfo=timezone.utc)


def kind_to(sent: list[EmailMessage], kind: str, address: str) -> list[EmailMessage]:
    return [m for m in sent if m["X-Mentormail-Kind"] == kind and address in str(m["To"])]


def first_mail(daemon: InProcess, kind: str, address: str, start: datetime = ROUND_STARTS, days: int = 70):
    """Step the clock a day at a time until the program sends `kind` to `address`: (mail, when)."""
    for day in range(days):
        moment = start + timedelta(days=day)
        found = kind_to(daemon.run_at(moment), kind, address)
        if found:
            return found[-1], moment
    pytest.fail(f"no {kind} to {address} within {days} days")


def answers_to(daemon: InProcess, moment: datetime, address: str) -> list[EmailMessage]:
    return kind_to(daemon.run_at(moment), "reply", address)


def text_of(mail: EmailMessage) -> str:
    return " ".join(mail.get_body(("plain",)).get_content().split())  # the templates wrap lines


def contacts(program: Program) -> list[tuple[str, str, str, str]]:
    return program.sql("SELECT pair_id, direction, channel, source FROM contactevent ORDER BY id")


def survey_answers(program: Program) -> list[dict]:
    """Each stored survey response's answers (a JSON column: text on SQLite, parsed on PostgreSQL)."""
    return [json.loads(a) if isinstance(a, str) else a for (a,) in program.sql("SELECT answers FROM surveyresponse")]


def to_program(sender: str, body: str, when: datetime, subject: str = "Update") -> EmailMessage:
    return message(sender, [PROGRAM_ADDRESS], subject=subject, body=body, date=when)


# --- the one-line reports the mails suggest ------------------------------------------------------

# "such as "emailed" or "call 30 min"", "for example "call 30 min"": every example of a one-line
# report a participant mail gives.
_EXAMPLES = re.compile(r'(?:such as|for example|e\.g\.)\s+"([^"]+)"(?:\s+or\s+"([^"]+)")?')


def suggested_reports() -> list[str]:
    found = set()
    for path in [*(REPO / "templates").glob("*.txt.j2"), *(REPO / "templates").glob("*.html.j2")]:
        text = " ".join(re.sub(r"<[^>]+>|&quot;|&[lr]dquo;|[“”]", '"', path.read_text(encoding="utf-8")).split())
        for match in _EXAMPLES.finditer(text):
            found.update(example for example in match.groups() if example and not example.startswith("{"))
    return sorted(found)


def test_the_templates_suggest_the_reports_these_tests_follow() -> None:
    assert {"emailed", "call 30 min"} <= set(suggested_reports())


@pytest.mark.parametrize("example", suggested_reports())
def test_every_suggested_one_line_report_is_a_report(example: str) -> None:
    today = ROUND_STARTS.date() + timedelta(days=20)
    assert isinstance(parse_self_report(example, today, ROUND_STARTS.date()), SelfReport), example


def test_emailed_in_reply_to_a_nudge_is_logged_as_contact_by_email(program: Program) -> None:
    with in_process(program) as daemon:
        nudge, when = first_mail(daemon, "nudge", "dev@example.org")
        assert '"emailed"' in text_of(nudge)
        outcome = daemon.ingest(reply(nudge, "Dev Patel <dev@example.org>", "emailed\n"), when + timedelta(hours=1))
        (answer,) = answers_to(daemon, when + timedelta(hours=1), "dev@example.org")

    assert outcome.kind is OutcomeKind.SELF_REPORT, outcome.reason
    assert contacts(program) == [("p3", "mentor_to_mentee", "email", "self_report")]
    assert "Eve Cohen" in text_of(answer) and "email" in text_of(answer)


def test_call_30_min_to_the_program_after_a_nudge_is_logged(program: Program) -> None:
    with in_process(program) as daemon:
        nudge, when = first_mail(daemon, "nudge", "eve@example.com")
        later = when + timedelta(hours=2)
        outcome = daemon.ingest(to_program("Eve Cohen <eve@example.com>", "call 30 min\n", later), later)

    assert outcome.kind is OutcomeKind.SELF_REPORT, outcome.reason
    assert contacts(program) == [("p3", "mentee_to_mentor", "phone", "self_report")]


def test_emailed_in_reply_to_an_intro_reminder_stops_the_next_reminder(program: Program) -> None:
    """Ana mentors two: the reminder she answers says which pair she means."""
    with in_process(program) as daemon:
        reminder, when = first_mail(daemon, "intro_reminder", "ana@example.org")
        pair = reminder["Subject"]
        mentee_pair = "p1" if "Ben" in pair else "p2"
        assert '"emailed"' in text_of(reminder)
        outcome = daemon.ingest(reply(reminder, "ana@example.org", "Emailed!\n"), when + timedelta(hours=1))
        later = [
            m
            for day in range(1, 30)
            for m in kind_to(daemon.run_at(when + timedelta(days=day)), "intro_reminder", "ana@")
        ]

    assert outcome.kind is OutcomeKind.SELF_REPORT, outcome.reason
    assert contacts(program) == [(mentee_pair, "mentor_to_mentee", "email", "self_report")]
    mentee = "Ben" if mentee_pair == "p1" else "Cl"
    assert not [m for m in later if mentee in str(m["Subject"]) and m["Message-ID"] != reminder["Message-ID"]]


def test_emailed_to_the_plain_address_by_a_mentor_of_one(program: Program) -> None:
    with in_process(program) as daemon:
        reminder, when = first_mail(daemon, "intro_reminder", "dev@example.org")
        later = when + timedelta(hours=3)
        outcome = daemon.ingest(to_program("dev@example.org", "emailed\n", later), later)

    assert outcome.kind is OutcomeKind.SELF_REPORT, outcome.reason
    assert contacts(program) == [("p3", "mentor_to_mentee", "email", "self_report")]


def test_a_copy_to_the_program_of_mail_to_the_partner_is_contact(program: Program) -> None:
    """Every participant mail asks: when you email your partner, CC or BCC the program."""
    with in_process(program) as daemon:
        nudge, when = first_mail(daemon, "nudge", "eve@example.com")
        assert f"CC or BCC {PROGRAM_ADDRESS}" in text_of(nudge)
        copy = message("eve@example.com", ["dev@example.org"], [PROGRAM_ADDRESS], date=when)
        outcome = daemon.ingest(copy, when)

    assert outcome.kind is OutcomeKind.CONTACT
    assert contacts(program) == [("p3", "mentee_to_mentor", "email", "smtp")]


def test_a_pairing_mail_asks_for_a_call_report_and_it_counts(program: Program) -> None:
    with in_process(program) as daemon:
        pairing, when = first_mail(daemon, "pairing", "eve@example.com")
        assert '"call 30 min"' in text_of(pairing)
        outcome = daemon.ingest(reply(pairing, "eve@example.com", "call 30 min"), when + timedelta(days=2))

    assert outcome.kind is OutcomeKind.SELF_REPORT, outcome.reason
    assert contacts(program) == [("p3", "mentee_to_mentor", "phone", "self_report")]


# --- numbered answers --------------------------------------------------------------------------


def checkin_of(program: Program) -> list[tuple]:
    return program.sql("SELECT pair_id, rating, wants_contact FROM checkinreply")


def test_a_checkin_answered_as_its_example_is_kept(program: Program) -> None:
    with in_process(program) as daemon:
        checkin, when = first_mail(daemon, "checkin", "dev@example.org", days=70)
        assert "1. 4 2. no" in text_of(checkin)
        outcome = daemon.ingest(reply(checkin, "dev@example.org", "1. 4\n2. no\n"), when + timedelta(hours=1))

    assert outcome.kind is OutcomeKind.CHECKIN_REPLY
    assert checkin_of(program) == [("p3", 4, False)]


def test_a_rating_sent_in_reply_to_the_checkin_confirmation_is_kept(program: Program) -> None:
    """A check-in reply without a rating is asked for one; the answer to that question counts."""
    with in_process(program) as daemon:
        checkin, when = first_mail(daemon, "checkin", "dev@example.org", days=70)
        daemon.ingest(reply(checkin, "dev@example.org", "Pretty well, thanks! No need for the liaison.\n"), when)
        (question,) = answers_to(daemon, when, "dev@example.org")
        assert "from 1 (not well) to 5 (very well)" in text_of(question)
        outcome = daemon.ingest(reply(question, "dev@example.org", "4\n"), when + timedelta(hours=1))

    assert outcome.kind is OutcomeKind.CHECKIN_REPLY, outcome.reason
    assert checkin_of(program) == [("p3", 4, False)]


def test_a_survey_answered_as_asked_and_corrected_in_reply_to_the_confirmation(program: Program) -> None:
    """The confirmation says: to change an answer, reply with its number and the new answer."""
    program.write_config(extra=SURVEY)
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        survey = kind_to(daemon.run_at(SURVEY_OPEN), "survey", "ben@example.net")[0]
        assert (
            daemon.ingest(reply(survey, "ben@example.net", "1. 4\n2. yes\n"), SURVEY_OPEN).kind
            is OutcomeKind.SURVEY_REPLY
        )
        (confirmation,) = answers_to(daemon, SURVEY_OPEN, "ben@example.net")
        assert "reply with its number and the new answer" in text_of(confirmation)
        outcome = daemon.ingest(reply(confirmation, "ben@example.net", "2. no\n"), SURVEY_OPEN + timedelta(hours=1))

    assert outcome.kind is OutcomeKind.SURVEY_REPLY, outcome.reason
    assert survey_answers(program) == [{"recommend": False, "useful": 4}]


# --- the round's end and letters -----------------------------------------------------------------


def test_letter_in_reply_to_the_round_end_mail_asks_for_a_letter(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        closing = kind_to(daemon.run_at(ROUND_ENDED), "round_end", "dev@example.org")[0]
        assert 'the word "letter"' in text_of(closing)
        outcome = daemon.ingest(reply(closing, "dev@example.org", "letter\n"), ROUND_ENDED + timedelta(hours=1))

    assert outcome.kind is OutcomeKind.LETTER_REQUEST
    assert program.sql("SELECT pair_id FROM letterrequest") == [("p3",)]


def digest_for(daemon: InProcess, after: datetime) -> tuple[EmailMessage, datetime]:
    return first_mail(daemon, "digest", "coordinator@example.org", start=after, days=3)


def test_approve_letter_in_reply_to_the_digest_sends_the_letter(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        asked = ROUND_STARTS + timedelta(days=40)
        daemon.ingest(to_program("dev@example.org", "letter please\n", asked), asked)
        digest, when = digest_for(daemon, asked + timedelta(hours=12))
        (command,) = re.findall(r"approve letter \d+", text_of(digest))
        outcome = daemon.ingest(reply(digest, "coordinator@example.org", command + "\n"), when)
        letters = kind_to(daemon.run_at(when), "recognition_letter", "dev@example.org")

    assert outcome.kind is OutcomeKind.COMMAND, outcome.reason
    assert len(letters) == 1


def test_a_command_in_reply_to_the_answer_to_commands_is_obeyed(program: Program) -> None:
    """The answer to a mistyped command lists the valid ones: replying with one works."""
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        asked = ROUND_STARTS + timedelta(days=3)
        daemon.ingest(to_program("ben@example.net", "How do I change my address?\n", asked), asked)
        digest, when = digest_for(daemon, asked + timedelta(hours=12))
        daemon.ingest(reply(digest, "coordinator@example.org", "pasue p3\n"), when)
        (answer,) = answers_to(daemon, when, "coordinator@example.org")
        assert "pause PAIR" in text_of(answer)
        outcome = daemon.ingest(reply(answer, "coordinator@example.org", "pause p3\n"), when + timedelta(hours=1))

    assert outcome.kind is OutcomeKind.COMMAND, outcome.reason
    assert program.status()["p3"]["status"] == "paused"


def test_a_report_sent_again_as_the_answer_to_which_pair_asks_is_logged(program: Program) -> None:
    """A mentor of two who does not say which mentee is told how to; doing so works."""
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        when = ROUND_STARTS + timedelta(days=5)
        daemon.ingest(to_program("ana@example.org", "phone call 20 min today\n", when), when)
        (answer,) = answers_to(daemon, when, "ana@example.org")
        assert "Ben O'Brien" in text_of(answer) and "Cléo Martin" in text_of(answer)
        outcome = daemon.ingest(reply(answer, "ana@example.org", "phone call with Cleo 20 min today\n"), when)

    assert outcome.kind is OutcomeKind.SELF_REPORT, outcome.reason
    assert contacts(program) == [("p2", "mentor_to_mentee", "phone", "self_report")]


def test_a_survey_reminder_answered_as_asked_is_kept(program: Program) -> None:
    program.write_config(extra=SURVEY)
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        daemon.run_at(SURVEY_OPEN)
        reminder, when = first_mail(daemon, "survey_reminder", "eve@example.com", start=SURVEY_OPEN, days=30)
        assert "one answer per line" in text_of(reminder)
        outcome = daemon.ingest(reply(reminder, "eve@example.com", "1. 5\n2. yes\n"), when)

    assert outcome.kind is OutcomeKind.SURVEY_REPLY, outcome.reason
    assert survey_answers(program) == [{"recommend": True, "useful": 5}]


def test_decline_letter_in_reply_to_the_digest_closes_the_request(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        asked = ROUND_STARTS + timedelta(days=40)
        daemon.ingest(to_program("dev@example.org", "letter please\n", asked), asked)
        digest, when = digest_for(daemon, asked + timedelta(hours=12))
        (number,) = re.findall(r"approve letter (\d+)", text_of(digest))
        assert '"decline letter N"' in text_of(digest)
        outcome = daemon.ingest(reply(digest, "coordinator@example.org", f"decline letter {number} too early\n"), when)

    assert outcome.kind is OutcomeKind.COMMAND, outcome.reason
    assert program.sql("SELECT status, reason FROM letterrequest") == [("declined", "too early")]
