"""Replies by email, end to end through the running daemon (`mentormail run`).

The round ends in ten days, so the survey is open and a check-in is out. The program's mail is
delivered over SMTP to a relay run by the test; replies are written the way mail clients write
them and sent to the daemon's SMTP intake; what the daemon understood comes back by mail.
"""

from __future__ import annotations

import io
import json
import smtplib
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from zoneinfo import ZoneInfo

import pytest

from conftest import PROGRAM_ADDRESS, Daemon, Program, message, reply, wait_until
from mentormail.daemon.mail.planner import add_months
from mentormail.parsers.tokens import Claims, Purpose, make_token, reply_address
from relay import Relay

TODAY = datetime.now(ZoneInfo("America/Chicago")).date()
STARTED = add_months(TODAY + timedelta(days=10), -9)  # the round ends in ten days
ROSTER = f"""\
mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on
ana@example.org,Ana Álvarez,ben@example.net,Ben O'Brien,p1,{STARTED}
ana@example.org,Ana Álvarez,cleo@example.net,Cléo Martin,p2,{STARTED}
dev@example.org,Dev Patel,eve@example.com,Eve Cohen,p3,{STARTED}
"""
SURVEY = """
[[surveys]]
id = "feedback"
title = "End-of-round feedback"
audience = "both"
opens_days_before_end = 21
closes_days_after_end = 14
[[surveys.questions]]
id = "useful"
text = "The program was useful to me."
kind = "scale"
[[surveys.questions]]
id = "recommend"
text = "Would you recommend it to a colleague?"
kind = "yesno"
[[surveys.questions]]
id = "change"
text = "What should we change?"
kind = "text"
"""


@pytest.fixture
def running(program: Program, daemon: Daemon, relay: Relay) -> tuple[Program, Daemon, Relay]:
    (program.root / "round.csv").write_text(ROSTER, encoding="utf-8")
    program.deliver_to(
        relay.controller.port,
        f"""
[security]
trusted_authserv_id = "mx.example.org"
{SURVEY}""",
    )
    program.fresh_store()
    program.cli("import-roster", str(program.root / "round.csv"))
    daemon.start()
    wait_until(lambda: relay.kinds()["survey"] == 5)  # one per person: Ana, Ben, Cléo, Dev, Eve
    return program, daemon, relay


def mail_to(relay: Relay, kind: str, address: str) -> EmailMessage:
    return next(m for m in relay.messages() if m["X-Mentormail-Kind"] == kind and address in str(m["To"]))


def replies_to(relay: Relay, address: str) -> list[EmailMessage]:
    return [m for m in relay.messages() if m["X-Mentormail-Kind"] == "reply" and address in str(m["To"])]


def send(program: Program, msg: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", program.smtp_port, timeout=30) as smtp:
        smtp.send_message(msg, to_addrs=[PROGRAM_ADDRESS])


def answers_of(program: Program, email: str) -> dict:
    rows = program.sql(
        "SELECT answers FROM surveyresponse JOIN person ON person.id = person_id WHERE email = :email", email=email
    )
    return (rows[0][0] if isinstance(rows[0][0], dict) else json.loads(rows[0][0])) if rows else {}


def quoted(original: EmailMessage, header: str) -> str:
    body = original.get_body(("plain",)).get_content()
    return header + "\n" + "\n".join("> " + line for line in body.splitlines())


# --- surveys --------------------------------------------------------------------------------


def test_a_top_posted_survey_reply_is_read_and_confirmed(running) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running
    survey = mail_to(relay, "survey", "ben@example.net")
    text = "1. 4\n2. yes\n3. More about interviews, please.\n\n" + quoted(
        survey, "On Mon, 1 Jun 2026, mentoring wrote:"
    )
    send(program, reply(survey, "ben@example.net", text))
    confirmation = wait_until(lambda: replies_to(relay, "ben@example.net"))[0]
    assert answers_of(program, "ben@example.net") == {
        "useful": 4,
        "recommend": True,
        "change": "More about interviews, please.",
    }
    body = confirmation.get_body(("plain",)).get_content()
    assert "4" in body and "yes" in body and "More about interviews" in body


def test_answers_typed_under_the_quoted_questions_are_read(running) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running
    survey = mail_to(relay, "survey", "eve@example.com")
    lines = []
    for line in survey.get_body(("plain",)).get_content().splitlines():
        lines.append("> " + line)
        if "useful to me" in line:
            lines.append("agree")
        elif "recommend it" in line:
            lines.append("no")
    text = "Le 1 juin 2026, mentoring a écrit :\n" + "\n".join(lines)
    send(program, reply(survey, "eve@example.com", text))
    wait_until(lambda: replies_to(relay, "eve@example.com"))
    assert answers_of(program, "eve@example.com") == {"useful": 4, "recommend": False}


def test_an_html_only_reply_with_a_german_quote_header_is_read(running) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running
    survey = mail_to(relay, "survey", "cleo@example.net")
    html = (
        "<div>1. 5<br>2. ja<br>3. Nothing, it was great</div><br>"
        "<div>Am 1. Juni 2026 um 09:00 schrieb mentoring &lt;mentoring@example.org&gt;:</div>"
        "<blockquote>1. The program was useful to me.</blockquote>"
    )
    send(program, reply(survey, "cleo@example.net", "", html=html))
    wait_until(lambda: replies_to(relay, "cleo@example.net"))
    assert answers_of(program, "cleo@example.net") == {
        "useful": 5,
        "recommend": True,
        "change": "Nothing, it was great",
    }


def test_a_later_reply_updates_earlier_answers_and_the_confirmation_says_what_is_missing(running) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running
    survey = mail_to(relay, "survey", "dev@example.org")
    send(program, reply(survey, "dev@example.org", "1. 2"))
    first = wait_until(lambda: replies_to(relay, "dev@example.org"))[0]
    assert "no answer yet" in first.get_body(("plain",)).get_content()
    send(program, reply(survey, "dev@example.org", "1. 3\n2. yes"))
    wait_until(lambda: len(replies_to(relay, "dev@example.org")) == 2)
    assert answers_of(program, "dev@example.org") == {"useful": 3, "recommend": True}


def test_auto_replies_to_a_survey_are_never_answers(running) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running
    survey = mail_to(relay, "survey", "ben@example.net")
    vacation = reply(
        survey, "ben@example.net", "1. 5\nI am away until Monday.", headers={"Auto-Submitted": "auto-replied"}
    )
    send(program, vacation)
    wait_until(lambda: "auto_reply via smtp" in daemon.log())
    assert answers_of(program, "ben@example.net") == {}
    assert replies_to(relay, "ben@example.net") == []


# --- spoofing ---------------------------------------------------------------------------------


def spoofed_count(daemon: Daemon) -> int:
    return daemon.log().count("spoofed via smtp")


def test_forged_altered_misused_and_expired_tokens_are_spoofed_and_change_nothing(running) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running
    survey = mail_to(relay, "survey", "ben@example.net")
    secret = (program.root / "secret").read_bytes().strip()
    token = str(survey["Reply-To"]).split("+", 1)[1].split("@")[0]
    altered = token[:-1] + ("a" if token[-1] != "a" else "b")
    [(ben_id,)] = program.sql("SELECT id FROM person WHERE email = 'ben@example.net'")
    expired = make_token(secret, Claims(Purpose.REPLY, ben_id, "survey-feedback", TODAY - timedelta(days=1)))
    attempts = [
        ("ben@example.net", "mentoring+abcdefghijklmnopqrstuvwxyz234567abcdefghij@example.org"),  # forged
        ("ben@example.net", f"mentoring+{altered}@example.org"),  # altered
        ("eve@example.com", str(survey["Reply-To"])),  # Ben's token, used by Eve
        ("ben@example.net", reply_address(PROGRAM_ADDRESS, expired)),  # expired
    ]
    for number, (sender, address) in enumerate(attempts, start=1):
        msg = reply(survey, sender, "1. 1\n2. no")
        del msg["In-Reply-To"], msg["References"]
        msg.replace_header("To", address)
        send(program, msg)
        wait_until(lambda: spoofed_count(daemon) == number)
    assert answers_of(program, "ben@example.net") == {} and answers_of(program, "eve@example.com") == {}
    assert replies_to(relay, "ben@example.net") == [] and replies_to(relay, "eve@example.com") == []


# --- coordinators ---------------------------------------------------------------------------


def coordinator_token(program: Program) -> str:
    secret = (program.root / "secret").read_bytes().strip()
    [(coordinator_id,)] = program.sql("SELECT id FROM person WHERE email = 'coordinator@example.org'")
    return make_token(secret, Claims(Purpose.REPLY, coordinator_id, "digest", TODAY + timedelta(days=30)))


def command_mail(program: Program, text: str, *, dmarc: str, token: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Coordinator <coordinator@example.org>"
    msg["To"] = reply_address(PROGRAM_ADDRESS, token or coordinator_token(program))
    msg["Subject"] = "Re: digest"
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg["Authentication-Results"] = (
        f"mx.example.org; dkim={dmarc} header.d=example.org; dmarc={dmarc} header.from=example.org"
    )
    msg.set_content(text)
    return msg


def pair_status(program: Program, pair_id: str) -> str:
    return program.status()[pair_id]["status"]


def test_a_coordinator_pauses_and_resumes_a_pair_and_every_command_is_audited(running) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running
    send(program, command_mail(program, "pause p3\nstatus p3\nfrobnicate p1", dmarc="pass"))
    result = wait_until(lambda: replies_to(relay, "coordinator@example.org"))[0]
    assert pair_status(program, "p3") == "paused"
    body = result.get_body(("plain",)).get_content()
    assert "pause p3: done" in body and "frobnicate" in body and "approve letter N" in body
    send(program, command_mail(program, "resume p3", dmarc="pass"))
    wait_until(lambda: len(replies_to(relay, "coordinator@example.org")) == 2)
    assert pair_status(program, "p3") == "active"
    audit = [command for (command,) in program.sql("SELECT command FROM auditentry ORDER BY id")]
    assert audit == ["pause p3", "status p3", "resume p3"]


def test_a_coordinator_address_with_dmarc_fail_is_spoofed(running) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running
    send(program, command_mail(program, "pause p1", dmarc="fail"))
    wait_until(lambda: spoofed_count(daemon) == 1)
    assert pair_status(program, "p1") == "active"
    assert replies_to(relay, "coordinator@example.org") == []


# --- forged and replayed commands (issue 7) ---------------------------------------------------


@pytest.fixture
def running_default(program: Program, daemon: Daemon, relay: Relay) -> tuple[Program, Daemon, Relay]:
    """As `running`, with the default [security]: no trusted_authserv_id, so From is not checked."""
    (program.root / "round.csv").write_text(ROSTER, encoding="utf-8")
    program.deliver_to(relay.controller.port, SURVEY)
    program.fresh_store()
    program.cli("import-roster", str(program.root / "round.csv"))
    daemon.start()
    wait_until(lambda: relay.kinds()["pairing"] == 3 and relay.kinds()["survey"] == 5)
    return program, daemon, relay


def audited(program: Program) -> list[tuple[str, str]]:
    return program.sql("SELECT command, result FROM auditentry ORDER BY id")


def test_a_participant_writing_as_the_coordinator_to_the_pairing_reply_address_is_spoofed(running_default) -> None:  # type: ignore[no-untyped-def]
    """The pairing announcement goes to mentor and mentee at once: its reply address names
    nobody, so it cannot carry a coordinator's commands, whoever the From claims to be."""
    program, daemon, relay = running_default
    pairing = mail_to(relay, "pairing", "ben@example.net")
    forged = reply(pairing, "Coordinator <coordinator@example.org>", "end p3")
    send(program, forged)
    wait_until(lambda: spoofed_count(daemon) == 1)
    assert "not sent to this coordinator alone" in daemon.log()
    assert pair_status(program, "p3") == "active"
    assert audited(program) == [] and replies_to(relay, "coordinator@example.org") == []


def test_a_forged_command_naming_the_pairing_mail_only_in_in_reply_to_is_spoofed(running_default) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running_default
    pairing = mail_to(relay, "pairing", "ben@example.net")
    forged = reply(pairing, "Coordinator <coordinator@example.org>", "end p3")
    forged.replace_header("To", PROGRAM_ADDRESS)  # the token only in In-Reply-To / References
    send(program, forged)
    wait_until(lambda: spoofed_count(daemon) == 1)
    assert pair_status(program, "p3") == "active" and audited(program) == []


def test_a_command_mail_replayed_on_a_new_message_id_is_not_obeyed_again(running_default) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running_default
    first = command_mail(program, "pause p3\nstatus p3", dmarc="none")
    send(program, first)
    wait_until(lambda: len(replies_to(relay, "coordinator@example.org")) == 1)
    send(program, command_mail(program, "resume p3", dmarc="none"))
    wait_until(lambda: len(replies_to(relay, "coordinator@example.org")) == 2)
    assert pair_status(program, "p3") == "active"

    replayed = command_mail(program, "Pause P3.\nstatus p3", dmarc="none")  # same reply address, new ID
    send(program, replayed)
    answer = wait_until(lambda: replies_to(relay, "coordinator@example.org")[2:])[0]
    assert pair_status(program, "p3") == "active"
    body = " ".join(answer.get_body(("plain",)).get_content().split())  # the template wraps lines
    assert "not done: already done on" in body and "reply to a newer mail from us" in body
    assert "status p3: " in body and "status p3: not done" not in body  # what changes nothing may repeat
    commands = [command for command, _ in audited(program)]
    assert commands == ["pause p3", "status p3", "resume p3", "Pause P3.", "status p3"]
    assert audited(program)[3][1].startswith("not done: already done")


# --- participants ----------------------------------------------------------------------------


def test_a_reported_call_counts_and_is_confirmed(running) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running
    send(program, message("eve@example.com", [PROGRAM_ADDRESS], subject="call", body="phone call 45 min yesterday\n"))
    confirmation = wait_until(lambda: replies_to(relay, "eve@example.com"))[0]
    status = program.status()["p3"]
    assert status["contacts"]["self_reported"] == 1 and "no_contact_yet" not in status["flags"]
    assert (date.fromisoformat(status["last_contact"][:10]) - TODAY).days in (-1, 0)
    assert "45 minutes" in confirmation.get_body(("plain",)).get_content()


def test_a_letter_is_requested_approved_by_a_coordinator_and_delivered_as_a_pdf(running) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    program, daemon, relay = running
    send(program, message("Dev Patel <dev@example.org>", [PROGRAM_ADDRESS], subject="letter", body="letter please\n"))
    wait_until(lambda: replies_to(relay, "dev@example.org"))
    [(request_id,)] = program.sql("SELECT id FROM letterrequest WHERE status = 'requested'")
    send(program, command_mail(program, f"approve letter {request_id}", dmarc="pass"))
    letter = wait_until(lambda: [m for m in relay.messages() if m["X-Mentormail-Kind"] == "recognition_letter"])[0]
    assert "dev@example.org" in str(letter["To"]) and "coordinator@example.org" in str(letter["To"])
    pdf = next(part for part in letter.iter_attachments() if part.get_content_type() == "application/pdf")
    text = PdfReader(io.BytesIO(pdf.get_content())).pages[0].extract_text()
    assert "Dev Patel" in text and "Test mentoring round" in text
    # Issued ten days before the round ends, it says what is true that day (issue 10), not "throughout".
    flat = " ".join(text.split())
    assert "in a round that runs until" in flat and "throughout the round" not in flat
    assert "Eve Cohen" not in text


def test_survey_answers_export_one_row_per_person_and_are_safe_in_a_spreadsheet(running) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running
    survey = mail_to(relay, "survey", "ben@example.net")
    send(program, reply(survey, "ben@example.net", '1. 4\n2. yes\n3. =HYPERLINK("http://evil.example")'))
    wait_until(lambda: replies_to(relay, "ben@example.net"))
    lines = program.cli("export", "surveys").stdout.splitlines()
    assert lines[0] == "survey,email,name,pair_id,role,answered_at,feedback.useful,feedback.recommend,feedback.change"
    (ben,) = [line for line in lines if "ben@example.net" in line]
    assert ben.startswith("feedback,ben@example.net,Ben O'Brien,p1,mentee,")
    assert ben.endswith(',4,yes,"\'=HYPERLINK(""http://evil.example"")"')
    rows = json.loads(program.cli("export", "surveys", "--format", "json").stdout)["surveys"]
    assert [r["feedback.useful"] for r in rows if r["email"] == "ben@example.net"] == [4]
