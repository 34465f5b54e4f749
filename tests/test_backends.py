"""The outgoing-mail backends: one suite that every backend passes, then what is each one's own.

As in Django's mail backend tests, each backend comes with a mailbox that shows what arrived
(`mailbox_content()`) and empties it (`flush()`): the memory backend's outbox, the Maildir's files,
and for SMTP a real aiosmtpd server run by the test, in clear, with STARTTLS and AUTH, and with
implicit TLS.
"""

from __future__ import annotations

import logging
import mailbox as stdlib_mailbox
import re
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser, Parser
from pathlib import Path
from typing import Any, Protocol

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, Session
from aiosmtpd.smtp import Envelope as ServerEnvelope
from conftest import free_port
from tls import Certificate, self_signed_certificate

from mentormail.daemon.mail.backends import (
    Backend,
    DeliveryError,
    Envelope,
    MaildirBackend,
    MemoryBackend,
    SmtpBackend,
    backend_for,
)
from mentormail.daemon.settings import DeliverySettings, RelaySettings, Security

LOCALHOST = "127.0.0.1"
USERNAME, PASSWORD = "mentormail", "correct horse"
ENVELOPE = Envelope("bounces+pairing-p1@example.org", ("ana@example.org",))

# Written out by hand so that every byte is the test's: a folded header, a body line that is a
# lone dot (SMTP's end of data), lines starting with dots (dot-stuffing) and with "From " (mbox
# would mangle it), trailing spaces, a tab.
PAIRING = b"""\
From: Mentoring program <mentoring@example.org>
To: Ana <ana@example.org>
Subject: You are paired with Ben for this round: please send him your
 introductory email this week
Date: Tue, 01 Sep 2026 09:00:00 -0500
Message-ID: <pairing.p1.x7k2@example.org>
Reply-To: mentoring+x7k2@example.org
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Mentormail-Kind: pairing
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

Dear Ana,

Ben O'Brien is your mentee this round.
.
..two dots
.one dot
From the program: CC us when you write.
trailing spaces   
\tand a tab
"""


@dataclass(frozen=True)
class Arrived:
    envelope: Envelope
    raw: bytes  # as a mailbox holds it: LF line ends, trace lines (Return-Path, ...) taken off


class Mailbox(Protocol):
    backend: Backend

    def mailbox_content(self) -> list[Arrived]: ...

    def flush(self) -> None: ...


# --- the SMTP relay: a real aiosmtpd server -----------------------------------------------------


@dataclass(frozen=True)
class Received:
    envelope: Envelope
    content: bytes  # as it came over the wire
    peer: tuple[str, int]  # the client's end: one per connection
    tls: bool
    login: bytes | None


@dataclass
class RelayHandler:
    """Stores what it accepts; answers RCPT and DATA as the test tells it to."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> RCPT reply
    data_reply: str = "250 2.0.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: ServerEnvelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: ServerEnvelope) -> str:
        if self.data_reply.startswith("250"):
            self.received.append(
                Received(
                    # aiosmtpd keeps a null sender as "<>".
                    Envelope("" if envelope.mail_from == "<>" else envelope.mail_from, tuple(envelope.rcpt_tos)),
                    envelope.original_content or b"",
                    session.peer,
                    # After STARTTLS too, aiosmtpd's transport is the TLS one.
                    server.transport.get_extra_info("ssl_object") is not None,
                    session.auth_data,
                )
            )
        return self.data_reply


def authenticate(server: SMTP, session: Session, envelope: ServerEnvelope, mechanism: str, data: Any) -> AuthResult:
    if isinstance(data, LoginPassword) and data == (USERNAME.encode(), PASSWORD.encode()):
        return AuthResult(success=True, auth_data=data.login)
    return AuthResult(success=False, handled=False)  # handled=False: aiosmtpd answers 535 itself


@dataclass
class Relay:
    handler: RelayHandler
    port: int
    options: dict[str, Any]
    controller: Controller | None = None

    def start(self) -> Relay:
        self.controller = Controller(self.handler, hostname=LOCALHOST, port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self, security: Security = "none", **credentials: str) -> RelaySettings:
        return RelaySettings(host=LOCALHOST, port=self.port, security=security, **credentials)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def start_relay() -> Iterator[Callable[..., Relay]]:
    """Starts aiosmtpd servers (Controller keywords as options) and stops them after the test."""
    relays: list[Relay] = []

    def start(**options: Any) -> Relay:
        relays.append(Relay(RelayHandler(), free_port(), options).start())
        return relays[-1]

    yield start
    for relay in relays:
        relay.stop()


@pytest.fixture
def connect(start_relay: Callable[..., Relay], certificate: Certificate) -> Iterator[Callable[..., SmtpBackend]]:
    """SmtpBackends that trust the test certificate; closed before the relays stop."""
    backends: list[SmtpBackend] = []

    def make(settings: RelaySettings, **options: Any) -> SmtpBackend:
        options.setdefault("ssl_context", certificate.client_context())
        options.setdefault("timeout", 10)
        # A fixed name: the default asks DNS for this machine's, which may be slow in a sandbox.
        backends.append(SmtpBackend(settings, local_hostname="mentormail.test", **options))
        return backends[-1]

    yield make
    for backend in backends:
        backend.close()


# --- one mailbox per backend --------------------------------------------------------------------


class MemoryMailbox:
    def __init__(self) -> None:
        self.backend = MemoryBackend()

    def mailbox_content(self) -> list[Arrived]:
        return [Arrived(envelope, raw) for envelope, raw in self.backend.outbox]

    def flush(self) -> None:
        self.backend.outbox.clear()


class MaildirMailbox:
    def __init__(self, directory: Path) -> None:
        self.new = directory / "new"
        self.backend = MaildirBackend(directory)

    def mailbox_content(self) -> list[Arrived]:
        if not self.new.is_dir():
            return []
        return [without_trace(path.read_bytes()) for path in sorted(self.new.iterdir())]

    def flush(self) -> None:
        for path in self.new.iterdir():
            path.unlink()


_TRACE = re.compile(rb"Return-Path: <(?P<sender>[^>\n]*)>\n(?P<recipients>(?:Delivered-To: [^\n]+\n)+)")


def without_trace(data: bytes) -> Arrived:
    """A Maildir file as the message and the envelope its trace lines record."""
    trace = _TRACE.match(data)
    assert trace, f"no Return-Path and Delivered-To lines at the top of {data[:200]!r}"
    recipients = tuple(line.removeprefix(b"Delivered-To: ").decode() for line in trace["recipients"].splitlines())
    return Arrived(Envelope(trace["sender"].decode(), recipients), data[trace.end() :])


class SmtpMailbox:
    def __init__(self, relay: Relay, backend: SmtpBackend) -> None:
        self.relay = relay
        self.backend = backend

    def mailbox_content(self) -> list[Arrived]:
        # CRLF on the wire, LF once stored, as a delivery agent does.
        return [Arrived(item.envelope, item.content.replace(b"\r\n", b"\n")) for item in self.relay.handler.received]

    def flush(self) -> None:
        self.relay.handler.received.clear()


@pytest.fixture(params=["memory", "maildir", "smtp", "smtp-starttls-auth", "smtp-ssl"])
def mailbox(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    start_relay: Callable[..., Relay],
    connect: Callable[..., SmtpBackend],
    certificate: Certificate,
) -> Mailbox:
    match request.param:
        case "memory":
            return MemoryMailbox()
        case "maildir":
            return MaildirMailbox(tmp_path / "outbox")
        case "smtp":
            relay = start_relay()
            return SmtpMailbox(relay, connect(relay.settings("none")))
        case "smtp-starttls-auth":
            relay = start_relay(
                tls_context=certificate.server_context(),
                require_starttls=True,
                authenticator=authenticate,
                auth_required=True,
            )
            return SmtpMailbox(relay, connect(relay.settings("starttls", username=USERNAME, password=PASSWORD)))
        case "smtp-ssl":
            relay = start_relay(ssl_context=certificate.server_context())
            return SmtpMailbox(relay, connect(relay.settings("ssl")))
    raise AssertionError(request.param)


# --- the shared suite ---------------------------------------------------------------------------


def test_a_message_arrives_byte_for_byte(mailbox: Mailbox) -> None:
    mailbox.backend.send(PAIRING, ENVELOPE)

    assert mailbox.mailbox_content() == [Arrived(ENVELOPE, PAIRING)]


def test_envelope_recipients_receive_even_when_not_in_the_headers(mailbox: Mailbox) -> None:
    # The liaison gets a blind copy: in the envelope, nowhere in the headers.
    envelope = Envelope("bounces+pairing-p1@example.org", ("ana@example.org", "liaison@example.org"))

    mailbox.backend.send(PAIRING, envelope)

    [arrived] = mailbox.mailbox_content()
    assert arrived.envelope == envelope
    assert arrived.raw == PAIRING
    assert b"liaison" not in arrived.raw


def test_a_null_sender_stays_null(mailbox: Mailbox) -> None:
    envelope = Envelope("", ("ana@example.org",))

    mailbox.backend.send(PAIRING, envelope)

    assert [arrived.envelope for arrived in mailbox.mailbox_content()] == [envelope]


PEOPLE = [
    pytest.param("Ana Álvarez", "ana", "¿Qué tal? Ça va très bien, Cléo. Ærøskøbing ß", id="accents"),
    pytest.param("مريم الحسيني", "maryam", "مرحبا، كيف حالك؟ نلتقي يوم 12 في المكتبة.", id="arabic"),
    pytest.param("נועה כהן", "noa", "שלום, מה שלומך? ניפגש ב-12 בספרייה.", id="hebrew"),
]


@pytest.mark.parametrize("raw_utf8_headers", [True, False], ids=["utf8-headers", "encoded-words"])
@pytest.mark.parametrize("name, local_part, text", PEOPLE)
def test_8bit_utf8_headers_and_bodies_survive(
    mailbox: Mailbox, name: str, local_part: str, text: str, raw_utf8_headers: bool
) -> None:
    message = EmailMessage(policy=policy.default.clone(utf8=raw_utf8_headers))
    message["From"] = Address(name, local_part, "example.org")
    message["To"] = Address("Ben O'Brien", "ben", "example.net")
    message["Subject"] = f"{name}: {text}"
    # Right-to-left and left-to-right mixed on one line, with a right-to-left mark around the name.
    body = f"{text}\n\u200f{name}\u200f wrote to Ben O'Brien.\n"
    message.set_content(body, cte="8bit")
    raw = message.as_bytes()

    mailbox.backend.send(raw, ENVELOPE)

    [arrived] = mailbox.mailbox_content()
    assert arrived.raw == raw
    # The bytes parser leaves raw UTF-8 headers undecoded; an RFC 6532 reader decodes them first.
    headers = Parser(policy=policy.default).parsestr(arrived.raw.decode("utf-8"), headersonly=True)
    assert headers["From"].addresses[0].display_name == name
    assert headers["Subject"] == f"{name}: {text}"
    assert BytesParser(policy=policy.default).parsebytes(arrived.raw).get_content() == body


def test_a_non_ascii_address_is_honoured(mailbox: Mailbox) -> None:
    envelope = Envelope("programme@exemple.fr", ("rené@exemple.fr", "ana@example.org"))

    mailbox.backend.send(PAIRING, envelope)

    assert mailbox.mailbox_content() == [Arrived(envelope, PAIRING)]


def test_two_messages_arrive_as_two(mailbox: Mailbox) -> None:
    topic = PAIRING.replace(b"X-Mentormail-Kind: pairing", b"X-Mentormail-Kind: topic")

    mailbox.backend.send(PAIRING, ENVELOPE)
    mailbox.backend.send(topic, ENVELOPE)

    # A Maildir has no order finer than its file names' second: compare regardless of order.
    assert sorted(arrived.raw for arrived in mailbox.mailbox_content()) == sorted([PAIRING, topic])


def test_close_then_send_again(mailbox: Mailbox) -> None:
    mailbox.backend.send(PAIRING, ENVELOPE)
    mailbox.backend.close()
    mailbox.flush()

    mailbox.backend.send(PAIRING, ENVELOPE)
    mailbox.backend.close()
    mailbox.backend.close()  # closing twice is harmless

    assert mailbox.mailbox_content() == [Arrived(ENVELOPE, PAIRING)]


# --- the envelope and the factory ---------------------------------------------------------------


@pytest.mark.parametrize(
    "sender, recipients",
    [
        ("bounces@example.org", ()),
        ("bounces@example.org", ("ana@example.org\r\nRCPT TO:<eve@example.com>",)),
        ("bounces@example.org>\nX-Injected: yes", ("ana@example.org",)),
        ("bounces@example.org", ("",)),
    ],
    ids=["no-recipient", "crlf-in-recipient", "lf-in-sender", "empty-recipient"],
)
def test_an_envelope_refuses_what_would_break_a_command_or_a_header(sender: str, recipients: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        Envelope(sender, recipients)


def test_backend_for_builds_the_configured_backend(tmp_path: Path) -> None:
    relay = RelaySettings(host="relay.example.org", port=465, security="ssl")

    smtp = backend_for(DeliverySettings(backend="smtp", maildir=tmp_path, smtp=relay))
    maildir = backend_for(DeliverySettings(backend="maildir", maildir=tmp_path / "outbox"))
    memory = backend_for(DeliverySettings(backend="memory", maildir=tmp_path))

    assert isinstance(smtp, SmtpBackend) and smtp.settings == relay
    assert isinstance(maildir, MaildirBackend) and maildir.directory == tmp_path / "outbox"
    assert isinstance(memory, MemoryBackend)


# --- SMTP ---------------------------------------------------------------------------------------


def test_smtp_sends_crlf_lines_over_one_kept_connection(
    start_relay: Callable[..., Relay], connect: Callable[..., SmtpBackend]
) -> None:
    relay = start_relay()
    backend = connect(relay.settings())

    backend.send(PAIRING, ENVELOPE)
    backend.send(PAIRING.replace(b"\n", b"\r\n"), ENVELOPE)

    first, second = relay.handler.received
    assert first.content == second.content == PAIRING.replace(b"\n", b"\r\n")
    assert first.peer == second.peer


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_smtp_uses_tls_and_authenticates(
    start_relay: Callable[..., Relay], connect: Callable[..., SmtpBackend], certificate: Certificate, security: Security
) -> None:
    context = certificate.server_context()
    if security == "starttls":
        # No mail without AUTH, and AUTH only after STARTTLS.
        tls = {"tls_context": context, "require_starttls": True, "auth_required": True}
    else:
        # aiosmtpd counts only STARTTLS as TLS, so it would not offer AUTH over implicit TLS.
        tls = {"ssl_context": context, "auth_require_tls": False}
    relay = start_relay(**tls, authenticator=authenticate)
    backend = connect(relay.settings(security, username=USERNAME, password=PASSWORD))

    backend.send(PAIRING, ENVELOPE)

    [received] = relay.handler.received
    assert (received.tls, received.login) == (True, USERNAME.encode())


def test_smtp_wrong_password_is_the_relays_and_retried(
    start_relay: Callable[..., Relay], connect: Callable[..., SmtpBackend], certificate: Certificate
) -> None:
    relay = start_relay(
        tls_context=certificate.server_context(), require_starttls=True, authenticator=authenticate, auth_required=True
    )
    backend = connect(relay.settings("starttls", username=USERNAME, password="wrong"))

    with pytest.raises(DeliveryError) as failure:
        backend.send(PAIRING, ENVELOPE)

    # Not this mail's fault: every mail would meet it, and an operator fixes it (Postfix defers too).
    assert (str(failure.value), failure.value.temporary) == (f"535 5.7.8 from {LOCALHOST}", True)
    assert failure.value.relay_wide
    assert relay.handler.received == []


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_smtp_does_not_send_to_a_relay_whose_certificate_it_does_not_trust(
    start_relay: Callable[..., Relay],
    connect: Callable[..., SmtpBackend],
    certificate: Certificate,
    security: Security,
) -> None:
    context = certificate.server_context()
    relay = start_relay(**({"tls_context": context} if security == "starttls" else {"ssl_context": context}))
    backend = connect(relay.settings(security), ssl_context=None)  # the system's trust store only

    with pytest.raises(DeliveryError) as failure:
        backend.send(PAIRING, ENVELOPE)

    assert str(failure.value) == f"TLS certificate not trusted ({LOCALHOST}:{relay.port})"
    assert relay.handler.received == []


def test_smtp_starttls_required_but_not_offered_is_the_relays_and_retried(
    start_relay: Callable[..., Relay], connect: Callable[..., SmtpBackend]
) -> None:
    relay = start_relay()  # no tls_context: no STARTTLS in its EHLO reply
    backend = connect(relay.settings("starttls", username=USERNAME, password=PASSWORD))

    with pytest.raises(DeliveryError) as failure:
        backend.send(PAIRING, ENVELOPE)

    assert (str(failure.value), failure.value.temporary, failure.value.relay_wide) == (
        "relay does not offer STARTTLS",
        True,
        True,
    )
    assert relay.handler.received == []


@pytest.mark.parametrize(
    "reply, reason, temporary",
    [
        ("451 4.3.0 Try again later", "451 4.3.0", True),
        ("550 5.7.1 Message refused: it says 'CANARY-7f3a'", "550 5.7.1", False),
        ("554 Transaction failed", "554", False),
    ],
)
def test_smtp_reply_codes_decide_temporary_or_permanent(
    start_relay: Callable[..., Relay],
    connect: Callable[..., SmtpBackend],
    reply: str,
    reason: str,
    temporary: bool,
) -> None:
    relay = start_relay()
    relay.handler.data_reply = reply
    backend = connect(relay.settings())

    with pytest.raises(DeliveryError) as failure:
        backend.send(PAIRING, ENVELOPE)

    # The code and the enhanced status only: the words of a reply may quote the message.
    assert (str(failure.value), failure.value.temporary) == (f"{reason} from {LOCALHOST}", temporary)
    assert not failure.value.relay_wide  # an answer about this message: the next one may go
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    # The backend is still usable once the relay takes mail again.
    relay.handler.data_reply = "250 2.0.0 OK"
    backend.send(PAIRING, ENVELOPE)
    assert len(relay.handler.received) == 1


def test_smtp_refused_recipients_are_logged_and_the_others_receive(
    start_relay: Callable[..., Relay], connect: Callable[..., SmtpBackend], caplog: pytest.LogCaptureFixture
) -> None:
    relay = start_relay()
    relay.handler.refuse = {"gone@example.net": "550 5.1.1 <gone@example.net>: user unknown"}
    backend = connect(relay.settings())

    with caplog.at_level(logging.WARNING, logger="mentormail.backends"):
        backend.send(PAIRING, Envelope("bounces@example.org", ("ana@example.org", "gone@example.net")))

    [received] = relay.handler.received
    assert received.envelope.recipients == ("ana@example.org",)
    [record] = [record for record in caplog.records if record.name == "mentormail.backends"]
    assert "gone@example.net" in record.getMessage() and "550 5.1.1" in record.getMessage()
    assert "Ben" not in caplog.text  # addresses and codes only, never the message


@pytest.mark.parametrize(
    "refusals, reason, temporary",
    [
        (["550 5.1.1 user unknown", "550 5.1.1 user unknown"], "550 5.1.1", False),
        # One of them may take it later: keep it pending for everyone rather than lose it.
        (["550 5.1.1 user unknown", "451 4.2.0 mailbox busy"], "451 4.2.0", True),
    ],
    ids=["all-permanent", "one-temporary"],
)
def test_smtp_all_recipients_refused(
    start_relay: Callable[..., Relay],
    connect: Callable[..., SmtpBackend],
    refusals: list[str],
    reason: str,
    temporary: bool,
) -> None:
    relay = start_relay()
    recipients = ("ana@example.org", "ben@example.net")
    relay.handler.refuse = dict(zip(recipients, refusals, strict=True))
    backend = connect(relay.settings())

    with pytest.raises(DeliveryError) as failure:
        backend.send(PAIRING, Envelope("bounces@example.org", recipients))

    assert (str(failure.value), failure.value.temporary) == (f"{reason} from {LOCALHOST}", temporary)
    assert relay.handler.received == []


def test_smtp_relay_down_is_temporary(connect: Callable[..., SmtpBackend]) -> None:
    port = free_port()  # nothing listens there
    backend = connect(RelaySettings(host=LOCALHOST, port=port, security="none"))

    with pytest.raises(DeliveryError) as failure:
        backend.send(PAIRING, ENVELOPE)

    assert (str(failure.value), failure.value.temporary) == (f"connection refused ({LOCALHOST}:{port})", True)
    assert failure.value.relay_wide  # the rest of the round would meet it too


def test_smtp_silent_relay_times_out_as_temporary(connect: Callable[..., SmtpBackend]) -> None:
    # The kernel completes the TCP handshake for a listening socket; no greeting ever comes.
    with socket.socket() as silent:
        silent.bind((LOCALHOST, 0))
        silent.listen()
        port = silent.getsockname()[1]
        backend = connect(RelaySettings(host=LOCALHOST, port=port, security="none"), timeout=0.3)

        with pytest.raises(DeliveryError) as failure:
            backend.send(PAIRING, ENVELOPE)

    assert (str(failure.value), failure.value.temporary) == (f"timed out ({LOCALHOST}:{port})", True)


def test_smtp_non_ascii_address_without_smtputf8_is_permanent(
    start_relay: Callable[..., Relay], connect: Callable[..., SmtpBackend]
) -> None:
    relay = start_relay(enable_SMTPUTF8=False)
    backend = connect(relay.settings())

    with pytest.raises(DeliveryError) as failure:
        backend.send(PAIRING, Envelope("programme@exemple.fr", ("rené@exemple.fr",)))

    assert failure.value.temporary is False
    assert str(failure.value) == "relay does not offer SMTPUTF8 (needed for a non-ASCII address)"


def test_smtp_reconnects_after_the_relay_restarts(
    start_relay: Callable[..., Relay], connect: Callable[..., SmtpBackend]
) -> None:
    relay = start_relay()
    backend = connect(relay.settings())
    backend.send(PAIRING, ENVELOPE)

    relay.stop()  # drops the kept connection
    relay.start()
    backend.send(PAIRING, ENVELOPE)

    first, second = relay.handler.received
    assert first.content == second.content
    assert first.peer != second.peer


def test_smtp_reconnects_after_the_relay_closes_an_idle_connection(
    start_relay: Callable[..., Relay], connect: Callable[..., SmtpBackend]
) -> None:
    relay = start_relay(timeout=0.5)  # aiosmtpd says 421 and hangs up after this many idle seconds
    backend = connect(relay.settings())
    backend.send(PAIRING, ENVELOPE)

    time.sleep(1)
    backend.send(PAIRING, ENVELOPE)

    first, second = relay.handler.received
    assert first.peer != second.peer


# --- Maildir ------------------------------------------------------------------------------------


def test_maildir_is_created_and_files_carry_the_envelope(tmp_path: Path) -> None:
    directory = tmp_path / "var" / "outbox"  # neither exists yet
    envelope = Envelope("bounces+pairing-p1@example.org", ("ana@example.org", "liaison@example.org"))

    MaildirBackend(directory).send(PAIRING, envelope)

    assert sorted(path.name for path in directory.iterdir()) == ["cur", "new", "tmp"]
    assert list((directory / "tmp").iterdir()) == []
    [path] = (directory / "new").iterdir()
    assert path.read_bytes() == (
        b"Return-Path: <bounces+pairing-p1@example.org>\n"
        b"Delivered-To: ana@example.org\n"
        b"Delivered-To: liaison@example.org\n" + PAIRING
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Any Maildir reader finds it.
    [message] = stdlib_mailbox.Maildir(directory, create=False)
    assert message["X-Mentormail-Kind"] == "pairing"


def test_maildir_stores_lf_line_ends(tmp_path: Path) -> None:
    mailbox = MaildirMailbox(tmp_path / "outbox")

    mailbox.backend.send(PAIRING.replace(b"\n", b"\r\n"), ENVELOPE)

    assert mailbox.mailbox_content() == [Arrived(ENVELOPE, PAIRING)]


def test_maildir_files_appear_in_new_only_complete(tmp_path: Path) -> None:
    backend = MaildirBackend(tmp_path / "outbox")
    new = tmp_path / "outbox" / "new"
    large = PAIRING + (b"y" * 76 + b"\n") * 20_000  # 1.5 MB: long enough to catch a half-written file
    seen: dict[str, int] = {}  # file name -> length when first read
    sending = True

    def watch() -> None:
        while sending:
            for path in new.iterdir() if new.is_dir() else ():
                seen.setdefault(path.name, len(path.read_bytes()))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(15):
            backend.send(large, ENVELOPE)
    finally:
        sending = False
        watcher.join()

    complete = len(large) + len(b"Return-Path: <bounces+pairing-p1@example.org>\nDelivered-To: ana@example.org\n")
    assert set(seen.values()) <= {complete}
    assert len(list(new.iterdir())) == 15


def test_maildir_that_cannot_be_written_is_temporary(tmp_path: Path) -> None:
    blocked = tmp_path / "outbox"
    blocked.write_text("a file where the Maildir should be")

    with pytest.raises(DeliveryError) as failure:
        MaildirBackend(blocked).send(PAIRING, ENVELOPE)

    assert failure.value.temporary is True
    assert str(failure.value).startswith(f"cannot write to the Maildir {blocked}: ")
