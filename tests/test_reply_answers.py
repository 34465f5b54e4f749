"""The program's answers to mail written to it say what was understood and how to go on (issue 10).

In process, on a virtual clock (tests/in_process.py), through intake as mail arrives over SMTP:
pairs made by command with names, a mentor of two naming the mentee she called, staff mail
without a reply address of ours, threading, a call on a stated day, check-in comments, survey
answers that cannot be read, command answers, and a stranger's question. The test roster's
round starts on 1 September 2026 (Chicago); Ana mentors Ben (p1) and Cléo (p2), Dev mentors
Eve (p3).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from zoneinfo import ZoneInfo

from conftest import PROGRAM_ADDRESS, Program, message, reply
from in_process import InProcess, in_process
from mentormail.parsers.tokens import Claims, Purpose, make_token, reply_address
from mentormail.store import queries
from mentormail.store.outcomes import OutcomeKind
from test_mail_instructions import answers_to, contacts, first_mail, kind_to, text_of, to_program
from test_replies_daemon import SURVEY

ROUND_STARTS = datetime(2026, 9, 1, 16, tzinfo=timezone.utc)
LATER = ROUND_STARTS + timedelta(days=10)
CHICAGO = ZoneInfo("America/Chicago")
SURVEY_OPEN = datetime(2027, 5, 20, 16, tzinfo=timezone.utc)


def person_id(program: Program, email: str) -> int:
    [(found,)] = program.sql("SELECT id FROM person WHERE email = :email", email=email)
    return found


def command_mail(program: Program, text: str, reference: str = "digest", subject: str = "Re: digest") -> EmailMessage:
    """A coordinator's reply to a digest of ours (its reply address signed for them)."""
    secret = (program.root / "secret").read_bytes().strip()
    claims = Claims(
        Purpose.REPLY, person_id(program, "coordinator@example.org"), reference, LATER.date() + timedelta(days=30)
    )
    msg = EmailMessage()
    msg["From"] = "Rosa Okafor <coordinator@example.org>"
    msg["To"] = reply_address(PROGRAM_ADDRESS, make_token(secret, claims))
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg.set_content(text)
    return msg


def answer_to(daemon: InProcess, moment: datetime, address: str) -> str:
    return text_of(answers_to(daemon, moment, address)[-1])


def moment(stored_value: str | datetime) -> datetime:
    """A stored UTC moment: ISO text on SQLite, a naive datetime on PostgreSQL."""
    value = datetime.fromisoformat(stored_value) if isinstance(stored_value, str) else stored_value
    return value.replace(tzinfo=timezone.utc)


def stored(program: Program) -> str:
    """Everything the store holds, as text: the SQLite file and its WAL, or a pg_dump."""
    if not program.on_sqlite:
        return "".join(program.stored_text().values())
    files = program.database.parent.glob(program.database.name + "*")
    return "".join(path.read_bytes().decode("latin-1") for path in files)


def records(program: Program) -> list[tuple[str, str]]:
    return program.sql("SELECT outcome, address FROM intakerecord ORDER BY id")


# --- 1. pair, with names -------------------------------------------------------------------------


def test_pair_with_names_makes_a_named_pair_and_the_answer_names_its_id(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        command = """pair "Fay Green" <fay@example.org> "Gus O'Hara" <gus@example.net>\n"""
        assert daemon.ingest(command_mail(program, command), LATER).kind is OutcomeKind.COMMAND
        answer = answer_to(daemon, LATER, "coordinator@example.org")
        welcome = kind_to(daemon.run_at(LATER + timedelta(hours=1)), "pairing", "fay@example.org")

    (pair_id,) = re.findall(r"done: pair (\S+): Fay Green <fay@example.org> with Gus O'Hara <gus@example.net>", answer)
    assert [m["Subject"] for m in welcome] == ["Welcome to Test mentoring round: Fay Green and Gus O'Hara"]
    assert program.sql(
        "SELECT name FROM person JOIN pair ON mentor_id = person.id WHERE pair.id = :pair", pair=pair_id
    ) == [("Fay Green",)]


def test_pair_with_bare_addresses_keeps_working_and_names_the_pair(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        daemon.ingest(command_mail(program, "pair fay@example.org gus@example.net\n"), LATER)
        answer = answer_to(daemon, LATER, "coordinator@example.org")

    assert re.search(r"done: pair \S+: fay@example.org with gus@example.net", answer)


# --- 2. a mentor of two names the mentee -------------------------------------------------------


def test_a_mentor_of_two_naming_the_mentee_by_first_name_is_logged_for_that_pair(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        outcome = daemon.ingest(to_program("ana@example.org", "phone call with Ben 20 min today\n", LATER), LATER)
        answer = answer_to(daemon, LATER, "ana@example.org")

    assert outcome.kind is OutcomeKind.SELF_REPORT and outcome.pair == "p1", outcome.reason
    assert contacts(program) == [("p1", "mentor_to_mentee", "phone", "self_report")]
    assert "Ben O'Brien" in answer


def test_a_mentee_named_in_full_without_accents_or_capitals_is_found(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        outcome = daemon.ingest(to_program("ana@example.org", "We met with cleo martin yesterday.\n", LATER), LATER)

    assert outcome.pair == "p2", outcome.reason
    assert contacts(program) == [("p2", "mentor_to_mentee", "meeting", "self_report")]


def test_a_mentor_of_two_who_names_nobody_is_told_her_mentees_and_how_to_say_which(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        daemon.ingest(to_program("ana@example.org", "call 30 min yesterday\n", LATER), LATER)
        answer = answer_to(daemon, LATER, "ana@example.org")

    assert contacts(program) == []
    assert "Ben O'Brien" in answer and "Cléo Martin" in answer
    assert '"call 30 min yesterday with Ben"' in answer or "with Ben" in answer
    assert "the sender has several" not in answer and "for which pair?" not in answer


# --- 4. staff mail without a reply address of ours ------------------------------------------


def test_a_coordinators_copy_of_her_mail_to_a_participant_is_not_a_forgery(program: Program) -> None:
    canary = "CANARY-coordinator-copy-4b2d"  # her mail to Ben is Ben's too: never read
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        copies = [
            message("Rosa Okafor <coordinator@example.org>", ["ben@example.net"], [PROGRAM_ADDRESS],
                    subject=canary, body=f"{canary}\n", date=LATER + timedelta(minutes=n))
            for n in range(2)
        ]  # fmt: skip
        outcomes = [daemon.ingest(copy, LATER + timedelta(minutes=n)) for n, copy in enumerate(copies)]
        answers = answers_to(daemon, LATER + timedelta(minutes=5), "coordinator@example.org")
        digests = [text_of(m) for m in daemon.run_at(LATER + timedelta(days=2)) if m["X-Mentormail-Kind"] == "digest"]

    assert [o.kind for o in outcomes] == [OutcomeKind.STAFF_MAIL] * 2
    assert ("spoofed", "coordinator@example.org") not in records(program)
    assert not any("Forged" in digest and "coordinator@example.org" in digest for digest in digests)
    assert contacts(program) == []
    assert len(answers) == 1  # one a day, however many copies
    assert "reply to" in text_of(answers[0]) and "digest" in text_of(answers[0])
    assert canary not in stored(program)


def test_a_command_to_the_plain_address_is_answered_with_how_to_give_commands(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        outcome = daemon.ingest(to_program("coordinator@example.org", "pause p3\n", LATER), LATER)
        answer = answer_to(daemon, LATER, "coordinator@example.org")

    assert outcome.kind is not OutcomeKind.SPOOFED, outcome.reason
    assert program.status()["p3"]["status"] == "active"
    assert records(program) == [(outcome.kind.value, "coordinator@example.org")]
    assert "not done" in answer and "reply to" in answer and "digest" in answer


def test_a_liaisons_copy_of_her_mail_to_a_mentor_counts_nothing(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        copy = message("liaison@example.org", ["dev@example.org"], [PROGRAM_ADDRESS], date=LATER)
        outcome = daemon.ingest(copy, LATER)

    assert outcome.kind not in (OutcomeKind.SPOOFED, OutcomeKind.QUESTION, OutcomeKind.CONTACT), outcome.reason
    assert program.sql("SELECT count(*) FROM questionmessage") == [(0,)]


def test_a_command_with_an_altered_reply_address_is_still_spoofed(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        forged = command_mail(program, "pause p3\n")
        address = str(forged["To"])
        forged.replace_header("To", address.replace("+", "+a", 1))
        outcome = daemon.ingest(forged, LATER)

    assert outcome.kind is OutcomeKind.SPOOFED
    assert program.status()["p3"]["status"] == "active"


# --- 5. threading ----------------------------------------------------------------------------


def test_an_answer_threads_under_the_participants_mail(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        report = to_program("eve@example.com", "call 30 min\n", LATER, subject="Our call this morning")
        daemon.ingest(report, LATER)
        (answer,) = answers_to(daemon, LATER, "eve@example.com")

    their_id = str(report["Message-ID"])
    assert str(answer["In-Reply-To"]) == their_id
    assert their_id in str(answer["References"])
    assert str(answer["Subject"]) == "Re: Our call this morning"


def test_an_answer_to_a_coordinator_does_not_tell_her_to_write_to_herself(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        daemon.ingest(command_mail(program, "status p3\n", subject="Re: Coordinators' digest"), LATER)
        (answer,) = answers_to(daemon, LATER, "coordinator@example.org")

    assert "Write to us at coordinator@example.org" not in text_of(answer)
    assert str(answer["Subject"]) == "Re: Coordinators' digest"


# --- 6. a call on a stated day -----------------------------------------------------------------


def test_a_call_reported_with_only_a_date_is_on_that_date(program: Program) -> None:
    when = datetime(2026, 11, 20, 16, tzinfo=timezone.utc)
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        daemon.ingest(to_program("eve@example.com", "phone call 30 min on 3 November\n", when), when)
    [(occurred,)] = program.sql("SELECT occurred_at FROM contactevent")
    assert (
        moment(occurred).astimezone(CHICAGO).date().isoformat()
        == "2026-11-03"
    )
    assert program.status()["p3"]["last_contact"][:10] == "2026-11-03"


def test_a_call_reported_today_early_in_the_morning_is_not_in_the_future(program: Program) -> None:
    early = datetime(2026, 11, 20, 13, tzinfo=timezone.utc)  # 07:00 in Chicago
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        daemon.ingest(to_program("eve@example.com", "call 30 min today\n", early), early)
    [(occurred,)] = program.sql("SELECT occurred_at FROM contactevent")
    assert moment(occurred) <= early


# --- 7. check-in comments ----------------------------------------------------------------------


def test_a_checkin_comment_is_kept_for_the_liaison(program: Program) -> None:
    with in_process(program) as daemon:
        checkin, when = first_mail(daemon, "checkin", "dev@example.org", days=40)
        text = "1. 4\n2. no\nWe worked on her CV and a first interview.\n"
        daemon.ingest(reply(checkin, "Dev Patel <dev@example.org>", text), when)
        with daemon.store.session() as session:
            comments = queries.checkin_comments(session, ROUND_STARTS)

    assert [(c.pair_id, c.mentor, c.mentee, c.rating, c.comment) for c in comments] == [
        ("p3", "Dev Patel", "Eve Cohen", 4, "We worked on her CV and a first interview.")
    ]


def test_a_checkin_reply_in_words_gets_the_rating_question_back(program: Program) -> None:
    with in_process(program) as daemon:
        checkin, when = first_mail(daemon, "checkin", "dev@example.org", days=40)
        daemon.ingest(reply(checkin, "dev@example.org", "Pretty well, thanks! No need for the liaison.\n"), when)
        answer = answer_to(daemon, when, "dev@example.org")
    assert program.sql("SELECT rating, wants_contact FROM checkinreply") == [(None, False)]
    assert "from 1 (not well) to 5 (very well)" in answer and "Eve Cohen" in answer


# --- 8. survey answers that cannot be read -------------------------------------------------------


def survey_answer(program: Program, text: str) -> str:
    program.write_config(extra=SURVEY)
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        survey = kind_to(daemon.run_at(SURVEY_OPEN), "survey", "ben@example.net")[0]
        daemon.ingest(reply(survey, "ben@example.net", text), SURVEY_OPEN)
        return answer_to(daemon, SURVEY_OPEN, "ben@example.net")


def test_a_survey_reply_with_no_answer_we_can_read_says_so_and_shows_how(program: Program) -> None:
    answer = survey_answer(program, "It was great, 4 out of 5 overall\n")
    assert "could not find" in answer and "1. 4" in answer
    assert "This is what we have from you" not in answer


def test_an_out_of_range_survey_answer_says_what_is_allowed(program: Program) -> None:
    answer = survey_answer(program, "1. 7\n2. yes\n")
    assert "'7'" in answer and "1 to 5" in answer


def test_survey_answers_are_listed_in_question_order(program: Program) -> None:
    answer = survey_answer(program, "2. yes\n")
    first, second, third = (answer.index(f"{n}. ") for n in (1, 2, 3))
    assert first < second < third


# --- 9. command answers ------------------------------------------------------------------------


def test_a_second_approval_of_a_letter_says_it_was_already_approved(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        daemon.ingest(to_program("dev@example.org", "letter please\n", LATER), LATER)
        [(number,)] = program.sql("SELECT id FROM letterrequest")
        daemon.ingest(command_mail(program, f"approve letter {number}\n", "digest-1"), LATER)
        daemon.ingest(command_mail(program, f"approve letter {number}\n", "digest-2"), LATER + timedelta(hours=1))
        answer = answer_to(daemon, LATER + timedelta(hours=1), "coordinator@example.org")

    assert f"letter {number} was already approved" in answer


def test_a_pair_id_written_another_way_is_suggested(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        daemon.ingest(command_mail(program, "pause pair-03\n"), LATER)
        answer = answer_to(daemon, LATER, "coordinator@example.org")

    assert "no pair 'pair-03'" in answer and "did you mean 'p3'?" in answer


def test_help_lists_the_commands_once(program: Program) -> None:
    """Also when the mail goes on after it (a name under it is no command)."""
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        daemon.ingest(command_mail(program, "help\nRosa\n"), LATER)
        answer = answer_to(daemon, LATER, "coordinator@example.org")

    assert answer.count("approve letter N") == 1


# --- 10. a stranger's question ---------------------------------------------------------------


def test_a_strangers_question_to_the_program_is_forwarded_in_the_digest(program: Program) -> None:
    question = message("Zed Quinn <zed@elsewhere.example>", [PROGRAM_ADDRESS], subject="How do I join?",
                       body="How do I join the next round?\n", date=LATER)  # fmt: skip
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        outcome = daemon.ingest(question, LATER)
        (digest,) = [m for m in daemon.run_at(LATER + timedelta(days=1)) if m["X-Mentormail-Kind"] == "digest"]

    assert outcome.kind is OutcomeKind.QUESTION, outcome.reason
    assert "zed@elsewhere.example" in text_of(digest)
    attached = [part.get_content() for part in digest.iter_attachments() if part.get_content_type() == "message/rfc822"]
    assert [str(m["Subject"]) for m in attached] == ["How do I join?"]
    assert program.sql("SELECT raw FROM questionmessage") == [(None,)]  # forwarded, then wiped


def test_a_strangers_copy_of_mail_to_a_participant_is_not_read(program: Program) -> None:
    canary = "CANARY-stranger-9c1e"
    copy = message(
        "zed@elsewhere.example", ["ben@example.net"], [PROGRAM_ADDRESS], subject=canary, body=canary, date=LATER
    )
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        outcome = daemon.ingest(copy, LATER)

    assert outcome.kind is OutcomeKind.UNKNOWN_SENDER
    assert program.sql("SELECT count(*) FROM questionmessage") == [(0,)]
    assert canary not in stored(program)
