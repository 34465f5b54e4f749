"""One mail that cannot be composed never stops the program's other mail (issue 7).

A question whose bytes CPython can parse but not write back (a non-ASCII byte in a header name,
`boundary=""`), and a name holding a line break (as a database filled by an older release may
hold one): before, either made every planner tick roll back, so nobody got any mail again. Now
the question is forwarded as its original bytes, the one mail that still cannot be made is set
aside with its reason, the digest and `mentormail outbox --failed` list it, and the rest goes out.

In process, on a virtual clock (tests/in_process.py): the store, planner, composer, delivery
and intake are the daemon's own.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from conftest import Program
from in_process import in_process
from mentormail.store.outcomes import OutcomeKind

FIRST_MORNING = datetime(2026, 9, 1, 15, tzinfo=timezone.utc)  # 10:00 in Chicago
NEXT_MORNING = FIRST_MORNING + timedelta(days=1)
# 180 bytes as a fuzzer found them; the header block is what matters, not the words.
UNWRITABLE_QUESTION = (
    b"From: Ben <ben@example.net>\r\nTo: mentoring@example.org\r\nSubject: a question\r\n"
    b"Message-ID: <q-unwritable@example.net>\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n"
    b"X-\x80: v\r\n\r\nWho do I ask about the survey?\r\n"
)
INJECTED_NAME = "Dev\r\nBcc: attacker@evil.example"


def kinds_to(delivered: list[EmailMessage], address: str) -> list[str]:
    return [str(m["X-Mentormail-Kind"]) for m in delivered if address in str(m["To"])]


def test_an_unwritable_question_and_a_broken_name_stop_only_their_own_mail(program: Program) -> None:
    program.sql("UPDATE person SET name = :name WHERE email = 'dev@example.org'", name=INJECTED_NAME)
    with in_process(program) as daemon:
        outcome = daemon.ingest_bytes(UNWRITABLE_QUESTION, FIRST_MORNING - timedelta(hours=20))
        assert outcome.kind is OutcomeKind.QUESTION
        delivered = daemon.run_at(FIRST_MORNING)
        later = daemon.run_at(NEXT_MORNING)

    # Everyone else's mail went out: both of Ana's pairings, Ben's and Cléo's.
    assert kinds_to(delivered, "ana@example.org").count("pairing") == 2
    assert "pairing" in kinds_to(delivered, "cleo@example.net")
    # The pairing of Dev and Eve names Dev in its headers: it is set aside, and nobody got a Bcc.
    assert "pairing" not in kinds_to(delivered, "eve@example.com")
    assert all("attacker@evil.example" not in str(m) for m in later)
    # The question reached the coordinator unchanged, as a file, in the digest.
    digest = next(m for m in delivered if m["X-Mentormail-Kind"] == "digest")
    files = [part for part in digest.iter_attachments() if part.get_filename() == "question-1.eml"]
    assert [part.get_content() for part in files] == [UNWRITABLE_QUESTION]
    # The next digest says what was set aside and names the command that lists it.
    next_digest = [m for m in later if m["X-Mentormail-Kind"] == "digest"][-1]
    text = " ".join(next_digest.get_body(("plain",)).get_content().split())
    assert "pairing to dev@example.org eve@example.com" in text and "could not be composed" in text
    assert "mentormail outbox --failed" in text

    listed = json.loads(program.cli("outbox", "--failed", "--json").stdout)["mail"]
    assert [(m["kind"], m["state"], m["to"]) for m in listed] == [
        ("pairing", "failed", ["dev@example.org", "eve@example.com"])
    ]
    assert listed[0]["reason"].startswith("could not be composed")
    assert "could not be composed" in program.cli("outbox").stdout
    # Forwarded, then wiped, as any question.
    assert program.sql("SELECT count(*) FROM questionmessage WHERE raw IS NOT NULL") == [(0,)]
