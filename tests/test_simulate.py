"""`mentormail simulate`: a whole round in seconds, on a scratch copy, as a coordinator runs it."""

from __future__ import annotations

import mailbox
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from conftest import Program
from mentormail.parsers.tokens import Claims, token_in, verify

NINE_TOPICS = "".join(f'\n[[topics]]\ntitle = "Topic {n}"\nprompts = ["Prompt {n}"]\n' for n in range(1, 10))
SURVEY = """
[[surveys]]
id = "feedback"
title = "End-of-round feedback"
audience = "both"
[[surveys.questions]]
id = "useful"
text = "Was the program useful to you?"
kind = "yesno"
"""
PARTICIPANTS = ("ana@example.org", "ben@example.net", "cleo@example.net", "dev@example.org", "eve@example.com")


@pytest.fixture
def round_program(program: Program) -> Program:
    program.write_config(extra=NINE_TOPICS + SURVEY)
    return program


def simulate(program: Program, traffic: str) -> tuple[Counter[tuple[str, str]], str]:
    outbox = program.root / f"simulated-{traffic}"
    result = program.cli("simulate", "--until", "2027-06-10", "--traffic", traffic, "--outbox", str(outbox))
    sent: Counter[tuple[str, str]] = Counter()
    for message in mailbox.Maildir(outbox, create=False):
        for recipient in message.get_all("Delivered-To", []):
            sent[(message["X-Mentormail-Kind"], recipient)] += 1
    return sent, result.stdout


def kind_counts(sent: Counter[tuple[str, str]], kind: str) -> dict[str, int]:
    return {recipient: n for (k, recipient), n in sent.items() if k == kind}


def test_a_silent_round(round_program: Program) -> None:
    sent, timeline = simulate(round_program, "none")
    assert kind_counts(sent, "topic") == {**dict.fromkeys(PARTICIPANTS, 9), "ana@example.org": 18}
    assert kind_counts(sent, "intro_reminder") == {"ana@example.org": 4, "dev@example.org": 2}
    assert kind_counts(sent, "nudge") == {**dict.fromkeys(PARTICIPANTS, 9), "ana@example.org": 18}
    # One survey per person (Ana too, with two mentees), and, as nobody answers, one reminder each
    # a week before it closes on 15 June; the results go out the morning after, past --until.
    assert kind_counts(sent, "survey") == dict.fromkeys(PARTICIPANTS, 1)
    assert kind_counts(sent, "survey_reminder") == dict.fromkeys(PARTICIPANTS, 1)
    assert kind_counts(sent, "survey_results") == {}
    # Every Monday from 7 September 2026 to --until: the ended round keeps its section until its
    # survey results go out (16 June, issue 12), so 7 June has one too.
    assert kind_counts(sent, "liaison_summary") == {"liaison@example.org": 40}
    assert "week of" in timeline and "2026-08-31" in timeline and "total" in timeline


def test_steady_traffic_means_no_nudges_and_no_reminders(round_program: Program) -> None:
    sent, _ = simulate(round_program, "steady")
    assert kind_counts(sent, "nudge") == {} and kind_counts(sent, "intro_reminder") == {}
    assert kind_counts(sent, "topic") == {**dict.fromkeys(PARTICIPANTS, 9), "ana@example.org": 18}
    assert kind_counts(sent, "pairing") == {**dict.fromkeys(PARTICIPANTS, 1), "ana@example.org": 2}


def test_quiet_pairs_are_the_only_ones_nudged(round_program: Program) -> None:
    sent, _ = simulate(round_program, "quiet-pairs")
    # Every other pair in roster order (p2: Ana and Cléo) falls silent after three weeks.
    assert set(kind_counts(sent, "nudge")) == {"ana@example.org", "cleo@example.net"}


def test_the_real_store_is_untouched(round_program: Program) -> None:
    before = round_program.status()
    simulate(round_program, "steady")
    assert round_program.status() == before
    assert round_program.sql("SELECT count(*) FROM outboxmessage") == [(0,)]


def test_a_date_before_the_round_is_a_one_line_error(round_program: Program, tmp_path: Path) -> None:
    result = round_program.cli("simulate", "--until", "2026-01-01", "--outbox", str(tmp_path / "x"), check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "mentormail: --until: 2026-01-01 is before the round starts (2026-09-01)"
    ]


def test_survey_results_reach_each_member_of_the_committee_with_their_own_reply_address(
    round_program: Program,
) -> None:
    outbox = round_program.root / "simulated-results"
    round_program.cli("simulate", "--until", "2027-06-17", "--traffic", "none", "--outbox", str(outbox))
    results = [m for m in mailbox.Maildir(outbox, create=False) if m["X-Mentormail-Kind"] == "survey_results"]
    assert sorted(m["To"] for m in results) == ["coordinator@example.org", "liaison@example.org"]
    secret = (round_program.root / "secret").read_bytes().strip()
    people = set()
    for message in results:
        token = token_in(message["Reply-To"], "mentoring@example.org")
        assert token is not None
        claims = verify(secret, token, date(2027, 6, 16))
        assert isinstance(claims, Claims) and claims.person != 0  # the staff member's own id
        people.add(claims.person)
        assert "0 of 5 answered (0%)" in message["Subject"]
    assert len(people) == 2


def test_a_round_with_replies_ends_with_survey_results_and_an_approved_letter(round_program: Program) -> None:
    from email import message_from_bytes
    from email import policy as email_policy
    from io import BytesIO

    from pypdf import PdfReader

    round_program.write_config(extra=NINE_TOPICS + SURVEY)
    outbox = round_program.root / "with-replies"
    round_program.cli(
        "simulate", "--until", "2027-06-25", "--traffic", "quiet-pairs", "--replies", "--outbox", str(outbox)
    )
    mails = [message_from_bytes(path.read_bytes(), policy=email_policy.default) for path in (outbox / "new").iterdir()]

    def of(kind: str) -> list:  # type: ignore[type-arg]
        return [m for m in mails if m["X-Mentormail-Kind"] == kind]

    # The quiet pair (Ana and Cléo) reported calls instead of writing: nobody was nudged.
    assert of("nudge") == []
    # (Answers are "Re: " the subject of the report they answer, issue 10: the body says what was logged.)
    assert any("We logged a phone call" in m.get_body(("plain",)).get_content() for m in of("reply"))
    # Everyone answered the survey, so no reminder; the committee got the results.
    assert of("survey_reminder") == []
    assert sorted(str(m["To"]) for m in of("survey_results")) == ["coordinator@example.org", "liaison@example.org"]
    assert "5 of the 5 participants invited answered" in of("survey_results")[0].get_body(("plain",)).get_content()
    # One mentor's check-in asked for the liaison; the next weekly summary says so.
    assert any("asking for you" in str(m["Subject"]) for m in of("liaison_summary"))
    # A mentor asked for a letter at the end; a coordinator approved it from the digest.
    (letter,) = of("recognition_letter")
    pdf = next(part for part in letter.iter_attachments() if part.get_content_type() == "application/pdf")
    text = PdfReader(BytesIO(pdf.get_content())).pages[0].extract_text()
    assert "maintained" in text and ("Ana Álvarez" in text or "Dev Patel" in text)
