"""`my data` (issue 12, part 3): a participant emails the program and gets back what it holds about
them, at the address the roster has for them, and nothing about anyone else.

Ben (mentee of Ana in p1) has had a round made by the daemon's own parts (tests/test_forget.py's
`a_round_with_ben`: contacts, a question, a bounce, Ana's check-ins with comments, both their
survey answers); then the real daemon runs, its mail goes to a real relay, and `my data` arrives
over SMTP.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from email.message import EmailMessage

import pytest
from conftest import PROGRAM_ADDRESS, Daemon, Program, message, send_each, wait_until
from in_process import in_process
from mentormail.parsers.commands import is_data_request
from mentormail.store.outcomes import OutcomeKind
from relay import Relay
from test_forget import BEN, a_round_with_ben
from test_mail_instructions import ROUND_STARTS, first_mail, kind_to, text_of
from test_replies_daemon import SURVEY

ANA = "ana@example.org"


def my_data_mails(relay: Relay) -> list[tuple[str, list[str], EmailMessage]]:
    """(envelope sender, envelope recipients, message) of each `my data` answer the relay got."""
    return [
        (mail_from, rcpt_tos, mail)
        for (mail_from, rcpt_tos, _), mail in zip(list(relay.received), relay.messages())
        if mail["X-Mentormail-Kind"] == "my_data"
    ]


def whole_text(mail: EmailMessage) -> str:
    """Both parts, decoded, and the headers a reader sees (not the Message-ID or the signed reply
    address, whose letters are random)."""
    parts = [str(mail[name]) for name in ("From", "To", "Cc", "Subject") if mail[name] is not None]
    parts += [part.get_content() for part in mail.walk() if part.get_content_maintype() == "text"]
    return "\n".join(parts)


def my_data_rows(program: Program) -> list[tuple[str, str]]:
    return program.sql("SELECT kind, recipients FROM outboxmessage WHERE kind = 'my_data' ORDER BY id")


@pytest.mark.parametrize(
    ("subject", "text", "asks"),
    [
        ("my data", "", True),
        ("Re: Welcome to the program", "My Data, please!\n\n> On Tuesday Ana wrote:\n> my notes\n", True),
        ("RE: Fwd: MY DATA.", "Hi,\nthanks\n", True),
        ("Hello", "Hi Ben,\n\nplease send me my data\n\nBen\n", True),
        ("What is my data used for?", "", False),
        ("Question", "What happens to my data after the round?\n", False),
        ("my database", "", False),
    ],
)
def test_my_data_is_read_from_the_subject_or_the_first_line(subject: str, text: str, asks: bool) -> None:
    assert is_data_request(text, subject) is asks


def test_my_data_over_smtp_is_answered_at_bens_roster_address_with_his_data_and_nothing_of_anyone_else(
    program: Program, daemon: Daemon, relay: Relay
) -> None:
    a_round_with_ben(program)
    program.sql("UPDATE person SET aliases = 'ben.obrien@work.example' WHERE email = :ben", ben=BEN)
    program.deliver_to(relay.controller.port, extra=SURVEY)
    daemon.start()
    canary = f"CANARY{secrets.token_hex(6)}"
    to_ana = message(
        BEN, [ANA], [PROGRAM_ADDRESS], subject=f"{canary} subject", body=f"{canary} body\n",
        attachment_name=f"{canary}.pdf",
    )  # fmt: skip
    # From his alias, with a Reply-To elsewhere: the answer goes to the roster's address alone.
    request = message(
        "Ben O'Brien <ben.obrien@work.example>", [PROGRAM_ADDRESS], subject="My data, please",
        body="Hi,\n\nthanks!\n", headers={"Reply-To": "someone@elsewhere.example"},
    )  # fmt: skip
    assert send_each(program.smtp_port, [to_ana, request]) == [250, 250]

    ((mail_from, recipients, answer),) = wait_until(lambda: my_data_mails(relay), timeout=120)
    assert recipients == [BEN] and str(answer["To"]) == f"Ben O'Brien <{BEN}>"
    assert mail_from.startswith("mentoring+") and answer["Cc"] is None and answer["Bcc"] is None
    text = text_of(answer)
    assert "Name: Ben O'Brien" in text and f"Address: {BEN}" in text
    assert "Other addresses we know you by: ben.obrien@work.example" in text
    assert "Mail to you bouncing: yes, last on" in text
    assert "Pair p1: you are the mentee, with Ana Álvarez, from 1 Sep 2026; active" in text
    # Two contacts logged in September by the in-process round, and the CC copy just now.
    assert "Pair p1, September 2026: 1 from the mentor, 1 from the mentee; 2 by email" in text
    assert re.search(r"Pair p1, \w+ 20\d\d: 0 from the mentor, 1 from the mentee; 1 by email", text), text
    assert "End-of-round feedback (pair p1" in text
    assert "The program was useful to me. 4" in text and "Would you recommend it to a colleague? yes" in text
    # Nothing of Ana but her name, nothing of Ana's other pair or anyone else's, and no CC'd text.
    seen = whole_text(answer)
    for absent in (ANA, "cleo@example.net", "Cléo", "Dev Patel", "Eve Cohen", "shy", "We met twice", canary,
                   "someone@elsewhere.example", "Could I meet Ana"):  # fmt: skip
        assert absent not in seen, absent
    assert not re.search(r"\bp[23]\b", seen), "another pair's id"
    assert "check-in" not in text.lower(), "a mentee is not shown her mentor's check-ins"
    _, _, raw = next(item for item in relay.received if b"my_data" in item[2])
    assert canary.encode() not in raw and ANA.encode() not in raw
    assert daemon.stop() == 0
    assert canary not in daemon.log()


def test_a_forged_from_sends_nothing_to_the_forger_and_a_second_request_that_day_is_not_answered(
    program: Program, daemon: Daemon, relay: Relay
) -> None:
    program.deliver_to(relay.controller.port)
    daemon.start()
    forged = message(
        f"Ben O'Brien <{BEN}>", [PROGRAM_ADDRESS], subject="my data",
        headers={"Reply-To": "attacker@evil.example", "Sender": "attacker@evil.example"},
    )  # fmt: skip
    again = message(BEN, [PROGRAM_ADDRESS], subject="Re: my data", body="my data\n")
    third = message(BEN, [PROGRAM_ADDRESS], subject="my data")
    assert send_each(program.smtp_port, [forged]) == [250]
    ((_, recipients, answer),) = wait_until(lambda: my_data_mails(relay), timeout=120)
    assert recipients == [BEN]
    # Answered already today: the next two are recorded (each answer is in intake's transaction,
    # so once they are acknowledged there is nothing more to come) and not answered.
    assert send_each(program.smtp_port, [again, third]) == [250, 250]
    assert my_data_rows(program) == [("my_data", BEN)]
    requests = program.sql("SELECT count(*) FROM intakerecord WHERE outcome = 'data_request'")
    assert requests == [(3,)]
    assert daemon.stop() == 0
    for mail_from, rcpt_tos, raw in relay.received:
        assert "attacker@evil.example" not in rcpt_tos and b"attacker@evil.example" not in raw
    assert len(my_data_mails(relay)) == 1


def test_a_stranger_asking_for_my_data_gets_the_strangers_handling_and_no_data(program: Program) -> None:
    with in_process(program) as daemon:
        moment = ROUND_STARTS + timedelta(days=3)
        outcome = daemon.ingest(message("nobody@example.com", [PROGRAM_ADDRESS], subject="my data"), moment)
        sent = daemon.run_at(moment)
    assert outcome.kind is OutcomeKind.QUESTION and outcome.reason == "from someone not on the roster, to the program"
    assert my_data_rows(program) == [] and not [m for m in sent if m["X-Mentormail-Kind"] == "my_data"]


def test_the_welcome_says_how_to_ask_for_my_data_and_doing_so_is_answered(program: Program) -> None:
    with in_process(program) as daemon:
        welcome, when = first_mail(daemon, "pairing", "eve@example.com")
        instruction = r'To see all we hold about you, send \S+ an email with the subject "([^"]+)"'
        found = re.search(instruction, text_of(welcome))
        assert found, text_of(welcome)
        html = welcome.get_body(("html",)).get_content()
        assert "my data" in html
        later = when + timedelta(hours=1)
        outcome = daemon.ingest(message("Eve Cohen <eve@example.com>", [PROGRAM_ADDRESS], subject=found[1]), later)
        (answer,) = kind_to(daemon.run_at(later), "my_data", "eve@example.com")
    assert outcome.kind is OutcomeKind.DATA_REQUEST
    assert "Pair p3: you are the mentee, with Dev Patel" in text_of(answer)
    assert "dev@example.org" not in whole_text(answer)
