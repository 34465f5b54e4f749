"""Confidentiality as a test: what participants wrote is found nowhere after the daemon ran.

Unique canary strings go into the subjects, bodies and attachment names of CC and BCC copies,
and of messages that fail to parse. After the daemon (logging at DEBUG) has processed them, no
canary may appear in the database or its WAL, the daemon's log and output, the CLI's output, or
any file the daemon wrote (its temp folder included).
"""

from __future__ import annotations

import secrets
import smtplib
from pathlib import Path

from conftest import PROGRAM_ADDRESS, Daemon, Program, message


class Canaries:
    def __init__(self) -> None:
        self.issued: list[str] = []

    def new(self, where: str) -> str:
        canary = f"CANARY{where.upper()}{secrets.token_hex(6)}"
        self.issued.append(canary)
        return canary

    def found_in(self, root: Path, extra_texts: dict[str, str]) -> list[str]:
        """Every (canary, place) pair found: files under root (but the test's own inputs), texts."""
        hits = []
        for path in root.rglob("*"):
            if not path.is_file() or path.parent.name == "inputs":
                continue
            data = path.read_bytes()
            hits += [f"{c} in {path}" for c in self.issued if c.encode() in data or c.lower().encode() in data]
        for name, text in extra_texts.items():
            hits += [f"{c} in {name}" for c in self.issued if c in text or c.lower() in text]
        return hits


def participant_mail(canaries: Canaries) -> list[tuple[bytes, list[str]]]:
    """(raw message, envelope recipients): CC copies, a BCC copy and unreadable mail."""
    cc = message(
        "Ana Álvarez <ana@example.org>",
        ["ben@example.net"],
        [PROGRAM_ADDRESS],
        subject=f"About my review {canaries.new('subject')}",
        body=f"Private: {canaries.new('body')}\n",
        attachment_name=f"{canaries.new('attachment')}.pdf",
    )
    encoded = message(
        "ben@example.net",
        ["ana@example.org"],
        [PROGRAM_ADDRESS],
        subject=f"Réponse {canaries.new('encodedsubject')} à propos",  # goes out as an RFC 2047 word
        body=f"{canaries.new('encodedbody')} ✓\n",
    )
    bcc = message(
        "ben@example.net",
        ["ana@example.org"],
        subject=f"Re: review {canaries.new('bccsubject')}",
        body=f"{canaries.new('bccbody')}\n",
        attachment_name=f"{canaries.new('bccattachment')}.docx",
    )
    no_sender = (
        f"To: {PROGRAM_ADDRESS}\r\nSubject: {canaries.new('nofromsubject')}\r\n\r\n{canaries.new('nofrombody')}\r\n"
    ).encode()
    broken_headers = (
        f"From: ana@example.org\r\nTo: ben@example.net\r\nCc: {PROGRAM_ADDRESS}\r\n"
        f"Subject: =?utf-8?B?{canaries.new('badword')}?=\r\nContent-Type: multipart/mixed; boundary=\r\n"
        f"Date: not a date {canaries.new('baddate')}\r\nMessage-ID: <{canaries.new('messageid')}@x>\r\n\r\n"
        f"--\r\n{canaries.new('brokenbody')}\r\n"
    ).encode()
    return [
        (cc.as_bytes(), [PROGRAM_ADDRESS]),
        (encoded.as_bytes(), [PROGRAM_ADDRESS]),
        (bcc.as_bytes(), [PROGRAM_ADDRESS]),
        (no_sender, [PROGRAM_ADDRESS]),
        (broken_headers, [PROGRAM_ADDRESS]),
    ]


def crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def test_no_canary_from_smtp_or_pipe_intake_is_written_anywhere(program: Program, daemon: Daemon) -> None:
    canaries = Canaries()
    mail = participant_mail(canaries)
    daemon.start()
    with smtplib.SMTP("127.0.0.1", program.smtp_port, timeout=30) as smtp:
        for raw, rcpt in mail:
            smtp.sendmail("someone@example.net", rcpt, crlf(raw))
    daemon.stop()

    # The same mail through the pipe and explain, whose output a user sees.
    inputs = program.root / "inputs"
    inputs.mkdir()
    outputs: dict[str, str] = {"daemon output": daemon.log()}
    for index, (raw, _) in enumerate(participant_mail(canaries)):
        path = inputs / f"{index}.eml"
        path.write_bytes(raw)
        piped = program.cli("ingest", "-", stdin=raw, check=False)
        explained = program.cli("explain", str(path), "--json", check=False)
        outputs[f"ingest {index}"] = piped.stdout + piped.stderr
        outputs[f"explain {index}"] = explained.stdout + explained.stderr
    outputs["status"] = program.cli("status").stdout

    # The mail really was processed: twice (new Message-IDs the second time), each time the CC
    # copy and the broken-but-readable one from Ana, the encoded and the BCC copy from Ben.
    assert program.contacts()["p1"] == (4, 4)
    stored = program.stored_text()
    if program.on_sqlite:
        assert program.database.with_name("mentormail.db-wal").exists() or program.database.exists()
    else:  # the dump really holds the store: the roster is in it
        assert "ana@example.org" in stored["the PostgreSQL database"]
    assert canaries.found_in(program.root, {**outputs, **stored}) == []
