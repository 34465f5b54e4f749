"""parsers/structure.py: mail-parser's defects and Received hops, wrapped so that it is safe (pure).

Safe means: it is handed the header block only unless told otherwise, it logs nothing and writes
no file, it never raises (a crash is a stated defect), and it is never handed more than it can
read in a fraction of a second. The words are for coordinators and never quote the message.
The corpus test at the end (skipped without ../shared/corpus) prints how often each category
comes up.
"""

from __future__ import annotations

import builtins
import logging
import os
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PROGRAM_ADDRESS, message
from corpus_labels import CORPUS, mail_files
from mentormail.parsers import structure
from mentormail.parsers.headers import parse_headers
from mentormail.parsers.structure import FIELD_LIMIT, HEADER_LIMIT, examine, sender_problem

FIXTURES = Path(__file__).parent / "fixtures" / "defects"
CANARY = "CANARY-defects-3b7f1e"
# The email package's defects that only a body can have; from a header block alone they would be
# artefacts of cutting the message (a multipart with no parts).
BODY_ONLY = {
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "CharsetDecodeDefect",
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def categories(raw: bytes, *, whole: bool = False) -> list[str]:
    return [d.category for d in examine(raw, whole=whole).defects]


# --- why From has no address -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "the message is empty"),
        (b"Hi Ben,\n\nthis is a body\n", "no header block: its first line is not a header"),
        (b"\n\nHi Ben\n", "no header block: it starts with an empty line"),
        (b"To: ben@example.net\nSubject: x\n\n", "there is no From header"),
        (b"From:  \nTo: ben@example.net\n\n", "the From header is empty"),
        (
            b"From: Ana Alvarez\nTo: ben@example.net\n\n",
            "the From header is not an address (no @ sign, or more than one, or spaces in the address; "
            "mail-parser: invalid-or-ambiguous-address)",
        ),
        (b"From: Mail System <>\n\n", "what is between < and > is not an address; mail-parser: invalid-angle-address"),
        (b"From: root@localhost\n\n", "holds no internet address (one needs a single @ and a domain"),
        (b"To: ben@example.net\npasted text\nFrom: ana@example.org\n\n", "a line above the From header is not a header"),
        (b"From: " + b"x" * (FIELD_LIMIT + 1) + b"\n\n", "the From header is too long to be an address"),
    ],
)
def test_sender_problem_says_why_from_has_no_address(raw: bytes, expected: str) -> None:
    assert parse_headers(raw).from_address is None  # the only messages it is asked about

    assert expected in sender_problem(raw)


def test_sender_problem_never_quotes_the_header() -> None:
    raw = f"From: {CANARY} <{CANARY}>\nSubject: {CANARY}\n\n{CANARY}\n".encode()

    problem = sender_problem(raw)

    assert "mail-parser: invalid-angle-address" in problem
    assert CANARY not in problem


# --- defects ---------------------------------------------------------------------------------


def test_minor_defects_are_listed_with_where_and_what() -> None:
    found = examine(fixture("quirky-headers.eml")).defects

    assert [(d.category, d.where) for d in found] == [("AddressHeaderDefect", "To"), ("DateHeaderDefect", "Date")]
    assert "the weekday does not match the date" in found[1].problem
    assert "mail-parser: weekday-mismatch" in found[1].problem


def test_a_well_formed_message_has_no_defects() -> None:
    msg = message("Ana <ana@example.org>", ["ben@example.net"], [PROGRAM_ADDRESS], attachment_name="notes.pdf")

    assert examine(msg.as_bytes()).defects == ()
    assert examine(msg.as_bytes(), whole=True).defects == ()


def test_a_line_that_is_not_a_header_is_named() -> None:
    found = examine(fixture("line-above-from.eml")).defects

    assert [(d.category, d.where) for d in found] == [("MissingHeaderBodySeparatorDefect", "header block")]
    assert "the headers below it are not read" in found[0].problem


def test_only_the_header_block_is_examined_unless_the_body_may_be_read() -> None:
    raw = fixture("broken-multipart-to-partner.eml")

    headers_only = examine(raw)
    whole = examine(raw, whole=True)

    assert not headers_only.whole and headers_only.defects == ()  # no artefacts of the cut either
    assert whole.whole and [d.category for d in whole.defects] == ["CloseBoundaryNotFoundDefect"]


def test_by_default_mail_parser_is_handed_no_body(monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[str] = []
    real = structure.MailParser
    monkeypatch.setattr(structure, "MailParser", lambda msg: handed.append(msg.as_string()) or real(msg))
    raw = message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS], body=f"{CANARY}\n").as_bytes()

    examine(raw)
    sender_problem(raw.replace(b"From: ana@example.org", b"From: Ana"))

    assert len(handed) == 2
    assert not any(CANARY in text for text in handed)


def test_a_message_too_large_is_examined_by_its_header_block() -> None:
    raw = fixture("broken-multipart-to-partner.eml") + b"x" * structure.WHOLE_LIMIT

    assert not examine(raw, whole=True).whole


# --- Received hops ---------------------------------------------------------------------------


def test_received_hops_are_listed_first_server_first_with_delays() -> None:
    found = examine(fixture("three-hops.eml"))

    assert [(h.number, h.by, h.with_) for h in found.hops] == [
        (1, "smtp.example.net", "ESMTPSA"),
        (2, "mx.example.net (Exim 4.97)", "ESMTP"),
        (3, "mail.example.org (Postfix)", "ESMTPS"),
    ]
    assert found.hops[0].sent_from == "laptop.home.example ([203.0.113.44])"
    assert found.hops[0].at == datetime(2026, 11, 26, 15, 1, tzinfo=timezone.utc)
    # the first hop's delay runs from the Date header (15:00:00 UTC)
    assert [h.delay for h in found.hops] == [timedelta(seconds=60), timedelta(seconds=125), timedelta(seconds=65)]
    assert found.in_transit == timedelta(minutes=4, seconds=10)


def test_a_hop_without_a_readable_date_has_no_delay() -> None:
    raw = (
        b"Received: by mx.example.org; Thu, 26 Nov 2026 15:05:00 +0000\n"
        b"Received: by smtp.example.net; sometime on Thursday\n"
        b"Received: by laptop.example.net; Thu, 26 Nov 2026 15:01:00 +0000\n"
        b"From: ana@example.org\n\n"
    )

    found = examine(raw)

    assert [h.at is None for h in found.hops] == [False, True, False]
    assert [h.delay for h in found.hops] == [None, None, None]  # no Date header, and a gap in the middle
    assert found.in_transit == timedelta(minutes=4)  # from the first dated hop to the last
    assert [(d.category, d.where) for d in found.defects] == [("DateHeaderDefect", "Received, hop 2")]


def test_a_received_clause_is_made_fit_for_a_terminal() -> None:
    raw = b"Received: from evil\x1bc\x07host by " + b"b" * 500 + b"; Thu, 26 Nov 2026 15:05:00 +0000\n\n"

    hop = examine(raw).hops[0]

    assert hop.sent_from == "evil?c?host"
    assert len(hop.by) == 200 and hop.by.endswith("…")


# --- safety: never raises, logs nothing, writes nothing, bounded cost ----------------------------


def test_a_mail_parser_crash_on_the_whole_message_is_a_defect() -> None:
    """mail-parser 4.8.0 raises AttributeError on a multipart whose boundaries never come
    (its epilogue search). If an upgrade fixes that, this fixture no longer shows the wrapper."""
    found = examine(fixture("crashes-mail-parser.eml"), whole=True)

    assert not found.whole
    assert [(d.category, d.where) for d in found.defects] == [("MailParserError", "mail-parser")]
    assert "AttributeError" in found.defects[0].problem


def test_any_mail_parser_failure_is_a_defect_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(_: object) -> None:
        raise RecursionError("hostile nesting")

    monkeypatch.setattr(structure, "MailParser", crash)

    assert [d.category for d in examine(fixture("three-hops.eml"), whole=True).defects] == ["MailParserError"] * 2
    assert "could not be examined (RecursionError)" in sender_problem(fixture("from-not-an-address.eml"))


def test_mail_parser_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    """It logs header names, Received lines and attachment file names at DEBUG (and more at WARNING)."""
    caplog.set_level(logging.DEBUG)
    msg = message("Ana", ["ben@example.net"], subject=CANARY, body=f"{CANARY}\n", attachment_name=f"{CANARY}.pdf")
    raw = msg.as_bytes().replace(b"Subject:", b"Received: from " + CANARY.encode() + b" by mx; bad date\nSubject:")

    examine(raw)
    examine(raw, whole=True)
    sender_problem(raw)

    assert [r for r in caplog.records if r.name.startswith("mailparser")] == []
    assert not any(CANARY in r.getMessage() for r in caplog.records)


def test_mail_parser_writes_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a file was opened")

    msg = message("ana@example.org", ["ben@example.net"], attachment_name="notes.pdf")
    for name, target in (("open", builtins), ("open", os), ("mkstemp", tempfile), ("NamedTemporaryFile", tempfile)):
        monkeypatch.setattr(target, name, refuse)

    found = examine(msg.as_bytes(), whole=True)

    assert found.whole and found.defects == ()


def test_oversized_headers_are_not_handed_to_mail_parser() -> None:
    long_to = b"To: " + b", ".join(b"user%d@example.net" % i for i in range(20000))[:380_000] + b"\n"
    raw = b"From: ana@example.org\n" + long_to + b"Date: someday\n\n"

    found = examine(raw)

    assert [(d.category, d.where) for d in found.defects] == [
        ("DateHeaderDefect", "Date"),  # the headers after the long one are still examined
        ("OversizedHeader", "To"),
    ]


def test_a_huge_header_block_is_examined_up_to_its_limit() -> None:
    line = b"Received: from a.example.net by b.example.net with ESMTP; Thu, 26 Nov 2026 15:05:00 +0000\n"
    raw = b"From: ana@example.org\n" + line * (1_000_000 // len(line)) + b"\n"

    found = examine(raw)

    assert [d.category for d in found.defects] == ["OversizedHeaderBlock"]
    assert len(found.hops) == (HEADER_LIMIT - len(b"From: ana@example.org\n")) // len(line)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.booleans())
def test_never_raises_on_arbitrary_bytes(raw: bytes, whole: bool) -> None:
    found = examine(raw, whole=whole)

    assert all(d.category and d.where and d.problem for d in found.defects)
    assert isinstance(sender_problem(raw), str)


# --- the shared corpus -----------------------------------------------------------------------


@pytest.mark.corpus
def test_every_corpus_message_is_examined_and_header_blocks_show_no_body_defects() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not on this machine (looked in {CORPUS})")
    by_mode: dict[str, Counter[str]] = {"header block": Counter(), "whole message": Counter()}
    failures = []
    for path in mail_files(CORPUS):
        raw = path.read_bytes()
        head, whole = examine(raw), examine(raw, whole=True)
        by_mode["header block"].update({d.category for d in head.defects})
        by_mode["whole message"].update({d.category for d in whole.defects})
        assert not BODY_ONLY & {d.category for d in head.defects}, path
        failures += [path.name for d in head.defects if d.category == "MailParserError"]
        if parse_headers(raw).from_address is None:
            assert sender_problem(raw)
    for mode, counts in by_mode.items():
        print(f"\ncorpus defect categories ({mode}): {dict(counts.most_common())}")
    assert failures == []  # on header blocks mail-parser has not failed once
