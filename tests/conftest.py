"""Fixtures shared by the test suite: a program on disk, the real CLI, the real daemon.

The daemon is started the way a user starts it (`mentormail -c CONFIG run` in a subprocess) and
talked to over real sockets; nothing in between is mocked.
"""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

pytest_plugins = ["dovecot_server", "oauth_server", "postgres_server"]

REPO = Path(__file__).resolve().parents[1]
MENTORMAIL = [sys.executable, "-m", "mentormail.daemon.cli"]
PROGRAM_ADDRESS = "mentoring@example.org"
SQLITE_URL = "sqlite:///var/mentormail.db"

# The test roster: Ana mentors Ben and Cleo (one mentor, two mentees); Dev mentors Eve.
ROSTER_CSV = """\
mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on
ana@example.org,Ana Álvarez,ben@example.net,Ben O'Brien,p1,2026-09-01
ana@example.org,Ana Álvarez,cleo@example.net,Cléo Martin,p2,2026-09-01
dev@example.org,Dev Patel,eve@example.com,Eve Cohen,p3,2026-09-01
"""


# A header field line, as the first line of a whole message has.
_FIELD = re.compile(rb"^[!-9;-~]+:")


def is_message(raw: bytes) -> bool:
    """A whole RFC 5322 message (a header block above a blank line), not a bare body."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    lines = head.splitlines()
    return (
        len(lines) >= 2
        and bool(_FIELD.match(lines[0]))
        and all(_FIELD.match(line) or line[:1] in (b" ", b"\t") for line in lines)
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Generous waits (120 s): the daemon starts, and conditions come true, slowly on a busy machine, as when
# the suite runs on several workers (`make test`) beside other work; a test that passes waits no longer.
def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout} s")


def wait_until(predicate, timeout: float = 120, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll until `predicate()` is truthy; returns its value. Fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            if not value:
                pytest.fail(f"condition not met within {timeout} s")
            return value
        time.sleep(interval)


@dataclass
class Program:
    """A program on disk: config, secret, roster, store, outbox, log file."""

    root: Path
    smtp_port: int
    extra_config: str = ""  # more sections, appended
    smtp_options: str = ""  # more lines under [intake.smtp]
    delivery_options: str = ""  # more lines under [delivery]
    # [program] starts_on: the round's first day, and with `months` its one end (every pair ends then).
    starts_on: str = "2026-09-01"
    config: Path = field(init=False)
    # SQLite in the program's folder, or a database of its own on the session's PostgreSQL
    # cluster under MENTORMAIL_TEST_DATABASE=postgresql (tests/postgres_server.py).
    store_url: str = field(init=False)

    def __post_init__(self) -> None:
        import postgres_server

        self.config = self.root / "mentormail.toml"
        self.store_url = postgres_server.store_url() or SQLITE_URL
        secret = self.root / "secret"
        secret.write_text("test-secret-" + self.root.name)
        secret.chmod(0o600)
        (self.root / "roster.csv").write_text(ROSTER_CSV, encoding="utf-8")
        self.write_config()

    def write_config(
        self, *, extra: str | None = None, smtp_options: str | None = None, delivery_options: str | None = None
    ) -> None:
        if extra is not None:
            self.extra_config = extra
        if smtp_options is not None:
            self.smtp_options = smtp_options
        if delivery_options is not None:
            self.delivery_options = delivery_options
        self.config.write_text(
            f"""
[program]
name = "Test mentoring round"
address = "{PROGRAM_ADDRESS}"
starts_on = {self.starts_on}
timezone = "America/Chicago"
secret_file = "secret"

[store]
url = "{self.store_url}"

[intake.smtp]
port = {self.smtp_port}
{self.smtp_options}

[delivery]
maildir = "var/outbox"
{self.delivery_options}

[people]
coordinators = ["coordinator@example.org"]
liaison = "liaison@example.org"
{self.extra_config}
""",
            encoding="utf-8",
        )

    def deliver_to(self, relay_port: int, extra: str = "") -> None:
        """Send the program's mail to a test relay, planning every minute from midnight on."""
        self.write_config(
            delivery_options='backend = "smtp"',
            extra=f"""
[delivery.smtp]
host = "127.0.0.1"
port = {relay_port}
security = "none"

[schedule]
send_time = "00:00"
planner_interval_minutes = 1
{extra}""",
        )

    @property
    def database(self) -> Path:
        """The SQLite file (tests about SQLite itself; others use `sql`, which works on both)."""
        return self.root / "var" / "mentormail.db"

    def fresh_store(self) -> None:
        """Start again from an empty store (another roster, another round)."""
        import postgres_server

        if self.on_sqlite:
            for path in self.database.parent.glob(self.database.name + "*"):
                path.unlink()
        else:
            self.store_url = postgres_server.cluster().new_database()
            self.write_config()

    def stored_text(self) -> dict[str, str]:
        """What a store on a server holds, as text, by name (a SQLite store is a file under root,
        which a test reads with the rest)."""
        import postgres_server

        return {} if self.on_sqlite else {"the PostgreSQL database": postgres_server.cluster().dump(self.store_url)}

    def sql(self, statement: str, **parameters: object) -> list[tuple]:
        """Run one statement on the program's store, SQLite or PostgreSQL alike, and commit; the
        rows it returns (none for an UPDATE)."""
        from sqlalchemy import create_engine, text

        url = self.store_url.replace("sqlite:///", f"sqlite:///{self.root}/", 1) if self.on_sqlite else self.store_url
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                result = connection.execute(text(statement), parameters)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            engine.dispose()

    @property
    def on_sqlite(self) -> bool:
        return self.store_url.startswith("sqlite:")

    def cli(self, *args: str, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*MENTORMAIL, "-c", str(self.config), *args],
            input=stdin.decode("utf-8", "surrogateescape") if stdin is not None else None,
            capture_output=True,
            text=True,
            cwd=self.root,
            timeout=600,  # generous: the machines that run the tests are busy
        )
        if check and result.returncode != 0:
            raise AssertionError(f"mentormail {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def status(self) -> dict[str, dict]:
        document = json.loads(self.cli("status", "--json").stdout)
        return {pair["id"]: pair for pair in document["pairs"]}

    def contacts(self) -> dict[str, tuple[int, int]]:
        """pair id -> (mentor_to_mentee, mentee_to_mentor)."""
        return {
            pid: (p["contacts"]["mentor_to_mentee"], p["contacts"]["mentee_to_mentor"])
            for pid, p in self.status().items()
        }


@pytest.fixture
def program(tmp_path: Path) -> Program:
    program = Program(tmp_path, free_port())
    program.cli("import-roster", str(tmp_path / "roster.csv"))
    return program


@dataclass
class Daemon:
    program: Program
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def start(self) -> Daemon:
        self.log_path = self.program.root / "daemon.log"
        log = self.log_path.open("ab")
        # Its own temp folder, so that the confidentiality tests can look at every file it wrote.
        self.tmpdir.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            [*MENTORMAIL, "-c", str(self.program.config), "run", "--log-level", "DEBUG"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.program.root,
            env={**os.environ, "TMPDIR": str(self.tmpdir)},
        )
        log.close()
        wait_for_port(self.program.smtp_port, self.process)
        return self

    @property
    def tmpdir(self) -> Path:
        return self.program.root / "daemon-tmp"

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        self.process = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


@pytest.fixture
def daemon(program: Program) -> Iterator[Daemon]:
    running = Daemon(program)
    yield running
    if running.process is not None:
        running.stop(signal.SIGKILL)


def message(
    sender: str,
    to: list[str],
    cc: list[str] | None = None,
    *,
    subject: str = "Coffee next week?",
    body: str = "Shall we talk on Tuesday?\n",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    attachment_name: str | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """A realistic message between people (or machines, via `headers`)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(timezone.utc))
    msg["Message-ID"] = message_id or make_msgid(domain="mail.example.net")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if attachment_name:
        msg.add_attachment(b"%PDF-1.4 notes", maintype="application", subtype="pdf", filename=attachment_name)
    return msg


def reply(
    original: EmailMessage, sender: str, text: str, *, html: str | None = None, headers: dict | None = None
) -> EmailMessage:
    """A reply as a mail client writes it: to the Reply-To, In-Reply-To the original."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = str(original["Reply-To"])
    msg["Subject"] = "Re: " + str(original["Subject"])
    msg["Message-ID"] = make_msgid(domain="client.example.net")
    msg["In-Reply-To"] = str(original["Message-ID"])
    msg["References"] = str(original["Message-ID"])
    for name, value in (headers or {}).items():
        msg[name] = value
    if html is None:
        msg.set_content(text)
    else:
        msg.set_content(html, subtype="html")
    return msg


def send_each(port: int, messages: list[EmailMessage]) -> list[int]:
    """Each message over one SMTP connection, in turn; the reply code each got (250 or the refusal's)."""
    codes = []
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
        for msg in messages:
            try:
                smtp.send_message(msg, to_addrs=[PROGRAM_ADDRESS])
                codes.append(250)
            except smtplib.SMTPDataError as refused:
                codes.append(refused.smtp_code)
    return codes


def dsn_for(address: str, message_id: str = "bounce-1@mx.example.com") -> bytes:
    """A Postfix-style delivery status notification (RFC 3464) saying `address` could not be reached."""
    return f"""\
From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: {PROGRAM_ADDRESS}
Subject: Undelivered Mail Returned to Sender
Date: Sat, 28 Nov 2026 10:00:00 +0000
Message-ID: <{message_id}>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; {address}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B--
""".replace("\n", "\r\n").encode()


def require_tool(name: str) -> str:
    """The path of a command-line tool; skipped outside CI when missing, a failure inside CI."""
    from shutil import which

    path = which(name)
    if path is None:
        if os.environ.get("MENTORMAIL_REQUIRE_SERVERS") == "1":
            pytest.fail(f"{name} is required (MENTORMAIL_REQUIRE_SERVERS=1) but not installed")
        pytest.skip(f"{name} is not installed (`.ci/run` installs it)")
    return path


@pytest.fixture
def relay():  # type: ignore[no-untyped-def]
    """A running relay (tests/relay.py) for the daemon's outgoing mail."""
    from relay import Relay

    running = Relay()
    running.controller.start()
    yield running
    running.controller.stop()
