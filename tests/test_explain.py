"""`mentormail explain` as a coordinator runs it: why a message is malformed, the warnings a quirky
message gets without changing its outcome, and where a message spent its time (Received hops).

Plain output is the outcome line, then `warning: WHERE: PROBLEM` lines, then `hop N: ...` lines
and `in transit: ...`; `--json` adds `examined`, `warnings`, `hops` and `transit_seconds` (README).
Mail between partners is examined by its header block only; nothing mail-parser reads is logged.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import PROGRAM_ADDRESS, Program, message
from mentormail.store.outcomes import Source, Transport
from mentormail.daemon.service import build_intake, open_store
from mentormail.daemon.settings import load_settings

FIXTURES = Path(__file__).parent / "fixtures" / "defects"


def explain(program: Program, name: str) -> tuple[list[str], dict[str, object]]:
    """(plain lines, JSON document) for a fixture."""
    path = str(FIXTURES / name)
    plain = program.cli("explain", path).stdout.splitlines()
    return plain, json.loads(program.cli("explain", path, "--json").stdout)


# --- malformed: why --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (
            "from-not-an-address.eml",
            "the From header is not an address (no @ sign, or more than one, or spaces in the address; "
            "mail-parser: invalid-or-ambiguous-address)",
        ),
        (
            "line-above-from.eml",
            "a line above the From header is not a header, so the From header is never read "
            "(MissingHeaderBodySeparatorDefect)",
        ),
        (
            "no-header-block.eml",
            "the message has no header block: its first line is not a header (MissingHeaderBodySeparatorDefect)",
        ),
    ],
)
def test_a_malformed_message_says_what_is_wrong_with_its_from(program: Program, name: str, why: str) -> None:
    plain, document = explain(program, name)

    assert plain[0] == f"malformed: no readable sender address in From: {why}"
    assert (document["outcome"], document["reason"]) == ("malformed", f"no readable sender address in From: {why}")


def test_ingest_logs_the_same_reason(program: Program) -> None:
    result = program.cli("ingest", str(FIXTURES / "from-not-an-address.eml"))

    assert ": malformed: no readable sender address in From: the From header is not an address (" in result.stdout


# --- warnings that change nothing -------------------------------------------------------------


def test_minor_defects_are_warnings_and_the_contact_still_counts(program: Program) -> None:
    plain, document = explain(program, "quirky-headers.eml")

    assert plain == [
        "contact: CC copy: pair p1, mentor to mentee",
        "warning: To: no @ sign, or more than one, or spaces in the address (mail-parser: invalid-or-ambiguous-address)",
        "warning: Date: the weekday does not match the date; the date is used (mail-parser: weekday-mismatch)",
    ]
    assert document["outcome"] == "contact" and document["pair"] == "p1"
    assert document["warnings"] == [
        {
            "where": "To",
            "problem": "no @ sign, or more than one, or spaces in the address (mail-parser: invalid-or-ambiguous-address)",
            "category": "AddressHeaderDefect",
        },
        {
            "where": "Date",
            "problem": "the weekday does not match the date; the date is used (mail-parser: weekday-mismatch)",
            "category": "DateHeaderDefect",
        },
    ]
    program.cli("ingest", str(FIXTURES / "quirky-headers.eml"))
    assert program.contacts()["p1"] == (1, 0)


def test_a_message_without_defects_or_hops_is_one_line_and_empty_lists(program: Program) -> None:
    path = program.root / "plain.eml"
    path.write_bytes(message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]).as_bytes())

    plain = program.cli("explain", str(path)).stdout
    document = json.loads(program.cli("explain", str(path), "--json").stdout)

    assert plain.count("\n") == 1
    assert {k: document[k] for k in ("examined", "warnings", "hops", "transit_seconds")} == {
        "examined": "header_block",
        "warnings": [],
        "hops": [],
        "transit_seconds": None,
    }


def test_partner_mail_is_examined_by_its_header_block_only(program: Program) -> None:
    """The same cut-off body: in a CC copy between partners nobody looks; in a question to the
    program, which intake reads anyway, the missing boundary is named."""
    to_partner = explain(program, "broken-multipart-to-partner.eml")[1]
    to_program = explain(program, "broken-multipart-to-program.eml")[1]

    assert (to_partner["outcome"], to_partner["examined"], to_partner["warnings"]) == ("contact", "header_block", [])
    assert (to_program["outcome"], to_program["examined"]) == ("question", "whole_message")
    assert [w["category"] for w in to_program["warnings"]] == ["CloseBoundaryNotFoundDefect"]  # type: ignore[index]


def test_a_mail_parser_crash_is_a_warning_not_a_failure(program: Program) -> None:
    plain, document = explain(program, "crashes-mail-parser.eml")

    assert plain == [
        "question: from a participant to the program, with no partner among the recipients",
        "warning: mail-parser: failed (AttributeError) on the whole message; its header block alone was examined",
    ]
    assert document["outcome"] == "question" and document["examined"] == "header_block"


# --- Received hops ---------------------------------------------------------------------------


def test_received_hops_show_where_the_message_spent_its_time(program: Program) -> None:
    plain, document = explain(program, "three-hops.eml")

    assert plain == [
        "contact: CC copy: pair p1, mentor to mentee",
        "hop 1: from laptop.home.example ([203.0.113.44]) by smtp.example.net with ESMTPSA, "
        "at 2026-11-26 15:01:00 UTC (1 min after the Date header)",
        "hop 2: from smtp.example.net (smtp.example.net [198.51.100.7]) by mx.example.net (Exim 4.97) with ESMTP, "
        "at 2026-11-26 15:03:05 UTC (2 min 5 s after the hop before)",
        "hop 3: from mx.example.net (mx.example.net [192.0.2.25]) by mail.example.org (Postfix) with ESMTPS, "
        "at 2026-11-26 15:04:10 UTC (1 min 5 s after the hop before)",
        "in transit: 4 min 10 s, from the Date header to the last hop",
    ]
    assert document["hops"][0] == {  # type: ignore[index]
        "hop": 1,
        "from": "laptop.home.example ([203.0.113.44])",
        "by": "smtp.example.net",
        "with": "ESMTPSA",
        "date": "2026-11-26T15:01:00+00:00",
        "delay_seconds": 60.0,
    }
    assert [h["delay_seconds"] for h in document["hops"]] == [60.0, 125.0, 65.0]  # type: ignore[union-attr,index]
    assert document["transit_seconds"] == 250.0


# --- nothing leaks ---------------------------------------------------------------------------


def canary_mail(canary: str, *, hop: bool) -> list[bytes]:
    """A CC copy between partners with defects (and a hop naming a server), a question to the
    program, and a message with an unreadable From: mail-parser has something to say about each."""
    cc = message(
        "ana@example.org",
        ["ben@example.net"],
        [PROGRAM_ADDRESS],
        subject=f"About {canary}",
        body=f"Private {canary}\n",
        attachment_name=f"{canary}.pdf",
        date=datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc),
    ).as_bytes()
    cc = cc.replace(b"Date: Thu, 26 Nov", b"Date: Wed, 26 Nov")  # a weekday that does not match
    if hop:
        cc = f"Received: from {canary}.example.net by mx.example.org; Thu, 26 Nov 2026 15:05:00 +0000\n".encode() + cc
    question = message("ben@example.net", [PROGRAM_ADDRESS], subject=f"Q {canary}", body=f"{canary}\n").as_bytes()
    unreadable = cc.replace(b"From: ana@example.org", f"From: {canary}".encode())
    return [cc, question, unreadable]


def test_no_canary_reaches_a_log_record_from_intake_or_explain(
    program: Program, caplog: pytest.LogCaptureFixture
) -> None:
    canary = f"CANARY{secrets.token_hex(6)}"
    caplog.set_level(logging.DEBUG)
    settings = load_settings(program.config)
    store = open_store(settings)
    try:
        intake = build_intake(settings, store)
        explained = [intake.explain(raw, Source(Transport.FILE)) for raw in canary_mail(canary, hop=True)]
        ingested = [intake.ingest(raw, Source(Transport.SMTP)) for raw in canary_mail(canary, hop=True)]
    finally:
        store.close()

    assert [e.outcome.kind.value for e in explained] == [o.kind.value for o in ingested]
    assert [o.kind.value for o in ingested] == ["contact", "question", "malformed"]
    assert all(e.structure.defects for e in (explained[0], explained[2]))  # mail-parser did have its say
    assert any(r.name == "mentormail.intake" for r in caplog.records)  # the capture works
    leaked = [r.getMessage() for r in caplog.records if canary.lower() in r.getMessage().lower()]
    assert leaked == []


def test_no_canary_in_what_explain_prints_or_logs_at_debug(program: Program) -> None:
    canary = f"CANARY{secrets.token_hex(6)}"
    runs = []
    for index, raw in enumerate(canary_mail(canary, hop=False)):  # hops are shown on purpose: none here
        path = program.root / f"canary-{index}.eml"
        path.write_bytes(raw)
        runs.append(program.cli("--log-level", "DEBUG", "explain", str(path)))
    runs.append(program.cli("--log-level", "DEBUG", "explain", str(program.root / "canary-0.eml"), "--json"))

    assert "warning: Date: the weekday does not match the date" in runs[0].stdout  # mail-parser had its say
    assert [canary.lower() in (run.stdout + run.stderr).lower() for run in runs] == [False] * 4
