"""Defects the fuzz found (`make fuzz`, tests/fuzz), each with its minimal input in tests/fixtures/fuzz/.

Each test feeds its input to the function that failed and asserts what a user sees: the outcome
the message should have, and no exception. A test marked xfail is a defect in a file another
engineer is changing; the fix removes the mark (strict, so a fix cannot go unnoticed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import PROGRAM_ADDRESS, Program, dsn_for
from in_process import in_process
from mentormail.daemon.service import build_intake
from mentormail.parsers.headers import parse_headers
from mentormail.parsers.machine import MachineKind, bounced_addresses, classify_message
from mentormail.parsers.reply import MAX_LINES, body_text, interleaved, strip_quotes
from mentormail.store.outcomes import Direction, Outcome, OutcomeKind, Source, Transport

FIXTURES = Path(__file__).parent / "fixtures" / "fuzz"
NOW = datetime(2026, 10, 1, 15, tzinfo=UTC)  # a month into the test roster's round


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def ingest(program: Program, raw: bytes, envelope: tuple[str, ...] = ()) -> Outcome:
    """`raw` arriving over SMTP at NOW, through the daemon's own intake."""
    with in_process(program) as daemon:
        intake = build_intake(daemon.settings, daemon.store, clock=lambda: NOW)
        return intake.ingest(raw, Source(Transport.SMTP, envelope))


# --- parsers/headers.py: a deeply nested comment in an address ------------------------------------
# RFC 5322 comments nest; the standard library's address parser (email._parseaddr) reads them by
# recursion, so some hundreds of "(" exhausted the stack and `parse_headers` raised RecursionError.
# Intake caught it and called the whole message malformed: a partner's CC copy was not counted.
# (Fixed in parsers/headers.py with its linear address handling.)


def test_a_cc_copy_with_deeply_nested_comments_in_cc_is_still_a_contact(program: Program) -> None:
    outcome = ingest(program, fixture("address_nested_comments_cc.eml"), (PROGRAM_ADDRESS,))

    assert outcome.kind is OutcomeKind.CONTACT, outcome.reason
    assert (outcome.pair, outcome.direction) == ("p1", Direction.MENTOR_TO_MENTEE)


def test_the_header_parser_reads_the_rest_of_a_message_whose_from_nests_comments_deeply() -> None:
    facts = parse_headers(fixture("address_nested_comments_from.eml"))

    # The Message-ID still de-duplicates the message, whatever becomes of the From.
    assert facts.message_id == "nested-comments-from@mail.example.org"
    assert facts.to == (PROGRAM_ADDRESS,)


# --- parsers/reply.py: tens of thousands of one-character lines ------------------------------------
# 180,000 characters of "0" lines (under MAX_TEXT) took strip_quotes and interleaved 1.8 s each,
# and 18,000 short lines that look like header fields 0.75 s each: the work is per line. Lines past
# MAX_LINES are no longer read, as characters past MAX_TEXT are not.


def test_a_reply_of_tens_of_thousands_of_lines_is_read_up_to_the_line_bound() -> None:
    text = body_text(fixture("reply_of_one_character_lines.eml"))

    new = strip_quotes(text)
    assert new.startswith("1. 4\n2. yes\n0\n")
    assert "past the last line read" not in new
    assert new.count("\n") < MAX_LINES
    assert [answer for _, answer in interleaved(text)] == [new]


# --- parsers/reply.py: a thousand nested multiparts ---------------------------------------------------
# The standard parser's work grows with the square of the nesting: a thousand levels took 0.6 s, and
# the answers typed before them came out empty. The body is now read up to its MAX_BOUNDARIES-th
# boundary, which leaves every part a reply really has.


def test_the_answers_above_a_thousand_nested_multiparts_are_read() -> None:
    assert body_text(fixture("multipart_nested_a_thousand_deep.eml")) == "1. 4\n2. yes"


# --- parsers/reply.py: a Content-Type with an open quote and 20,000 parameters ---------------------
# The standard library reads a header's parameters in time that grows with the square of its length
# when a quote is left open: this part's Content-Type took body_text 3.4 s. Content-Type and
# Content-Disposition are now read up to MAX_PARAMETERS characters. (The test checks the answers are
# still read; time is the fuzz's to measure.)


def test_the_answers_under_a_content_type_of_many_parameters_are_read() -> None:
    assert body_text(fixture("content_type_with_an_open_quote_and_many_parameters.eml")) == "1. 4\n2. yes"


# --- daemon/compose.py: a question whose To holds 124 encoded words -------------------------------------
# The digest forwards a question by parsing it with the default policy and writing it back out, and
# CPython refolded an over-long header of encoded words very slowly: 0.03 s at 123 words, 2 s at 124,
# 40 s at 2,000, and a 400 KB one kept the fuzz's planner tick busy past its 120 s hang limit, while
# no other mail of the program went out. Fixed in daemon/compose.py: forwarded headers are written
# as they arrived (`HEADER_POLICY`, refold_source="none"; 0.002 s for either).
# Tests never fail on time, so this one checks what the fix must keep, the question reaching the
# coordinators; the fuzz's tick times measure the fix.


def test_a_question_whose_header_holds_many_encoded_words_is_forwarded_in_the_digest(program: Program) -> None:
    with in_process(program) as daemon:
        intake = build_intake(daemon.settings, daemon.store, clock=lambda: NOW)
        question = intake.ingest(fixture("question_to_header_of_124_encoded_words.eml"), Source(Transport.SMTP))
        sent = daemon.run_at(NOW + timedelta(days=1))

    assert question.kind is OutcomeKind.QUESTION, question.reason
    digest = next(m for m in sent if m["X-Mentormail-Kind"] == "digest")
    [attached] = [part.get_content() for part in digest.iter_attachments()]
    written = attached if isinstance(attached, bytes) else str(attached["Message-ID"]).encode()
    assert b"<encoded-words@mail.example.net>" in written


# --- parsers/machine.py: a bounce padded with a quarter of a million near-empty lines ---------------
# flufl.bounce's detectors try a dozen patterns on every body line: 256 KiB of one-byte lines took
# them 1.4 s, twice per message (classify_message, then bounced_addresses). Now the scan reads at
# most 5,000 lines (`_MAX_SCAN_LINES`) and remembers its answer for the same bytes. A test cannot fail
# on time: this one checks what the bound must keep, the bounced address found near the top.


def test_a_bounce_padded_with_many_empty_lines_still_names_its_recipient() -> None:
    raw = dsn_for("ben@example.net") + b"\n" * 250_000
    assert classify_message(raw, PROGRAM_ADDRESS).kind is MachineKind.BOUNCE
    assert bounced_addresses(raw) == frozenset({"ben@example.net"})
