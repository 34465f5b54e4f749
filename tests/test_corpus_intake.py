"""Every message of the shared real-world corpus through intake, as a user would feed it.

All files go through one `mentormail ingest` (the pipe/file transport) and must each get an
outcome; the bounces must come out `bounce` and upstream's non-bounces must not. A sample goes
through the running daemon over SMTP, where each must be accepted. `pytest -s` prints the
outcomes by kind.
"""

from __future__ import annotations

import re
import smtplib
from collections import Counter
from pathlib import Path

import pytest

from mentormail.parsers.headers import parse_headers

from conftest import PROGRAM_ADDRESS, Daemon, Program
from corpus_labels import (
    CORPUS,
    SISIMAI_KNOWN_MISSES,
    SISIMAI_NOT_BOUNCES,
    expected_bounces,
    mail_files,
    name,
    sisimai_name,
    skip_without_corpus,
)

skip_without_corpus()
pytestmark = pytest.mark.corpus

ALL_FILES = mail_files(CORPUS)
# "PATH: KIND: REASON"; a file that starts with "From " is read as an mbox, labelled PATH#N.
OUTCOME_LINE = re.compile(r"^(?P<path>.+?)(#\d+)?: (?P<kind>[a-z_]+): (?P<reason>.*)$")


def ingest_all(program: Program, paths: list[Path]) -> dict[Path, str]:
    result = program.cli("ingest", *map(str, paths))
    outcomes: dict[Path, str] = {}
    for line in result.stdout.splitlines():
        match = OUTCOME_LINE.match(line)
        # An mbox file's first message is the file's own; what follows an unescaped "From "
        # line in its body (sisimai has one) is mbox's reading, not the message's.
        if match and match["path"] != "total":
            outcomes.setdefault(Path(match["path"]), match["kind"])
    return outcomes


def test_every_corpus_message_gets_an_outcome_and_bounces_are_bounces(program: Program) -> None:
    outcomes = ingest_all(program, ALL_FILES)
    print(f"\ncorpus outcomes ({len(outcomes)} messages): {dict(Counter(outcomes.values()).most_common())}")
    assert set(outcomes) == set(ALL_FILES)

    bounces = [p for p in expected_bounces() if sisimai_name(p) not in SISIMAI_KNOWN_MISSES]
    not_recognised = [name(p) for p in bounces if outcomes[p] != "bounce"]
    print(f"corpus bounces recognised by intake: {len(bounces) - len(not_recognised)}/{len(expected_bounces())}")
    assert not_recognised == []
    non_bounces = [p for p in ALL_FILES if sisimai_name_or_none(p) in SISIMAI_NOT_BOUNCES]
    assert non_bounces and all(outcomes[p] != "bounce" for p in non_bounces)
    # Nobody in the corpus is on the test roster: nothing may be counted as a contact.
    assert all(a == b == 0 for a, b in program.contacts().values())


def envelope_sender(raw: bytes) -> str:
    """What the sending MTA would have said in MAIL FROM: the Return-Path, else the From."""
    headers = parse_headers(raw)
    if headers.return_path is not None:
        return headers.return_path if "@" in headers.return_path else ""
    return headers.from_address or ""


def sisimai_name_or_none(path: Path) -> str | None:
    try:
        return sisimai_name(path)
    except ValueError:
        return None


def test_a_sample_of_the_corpus_over_smtp_is_accepted_and_classified(program: Program, daemon: Daemon) -> None:
    sample = ALL_FILES[::12]
    daemon.start()
    with smtplib.SMTP("127.0.0.1", program.smtp_port, timeout=60) as smtp:
        for path in sample:
            raw = re.sub(rb"\r?\n|\r", b"\r\n", path.read_bytes())
            refused = smtp.sendmail(envelope_sender(raw), [PROGRAM_ADDRESS], raw)
            assert refused == {}, name(path)
    daemon.stop()
    logged = re.findall(r"mentormail\.intake: ([a-z_]+) via smtp", daemon.log())
    print(f"\nSMTP sample ({len(sample)}): {dict(Counter(logged).most_common())}")
    assert len(logged) == len(sample)
    expected = {p for p in expected_bounces() if sisimai_name(p) not in SISIMAI_KNOWN_MISSES}
    assert logged.count("bounce") >= len([p for p in sample if p in expected])
