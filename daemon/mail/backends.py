"""Where outgoing mail goes: an SMTP relay, a Maildir, or memory, behind one interface.

As with a web framework's mail backends, delivery hands a backend finished bytes and an envelope
and does not care which backend it is: `smtp` in production, `maildir` as the embedded default
(and `simulate`'s output), `memory` for tests. A backend either delivers or raises
`DeliveryError`, whose `temporary` flag tells delivery whether to retry later or give up, and
whose `relay_wide` flag says that the failure was not this message's (the relay could not be
reached, or would not let us in), so that the rest of the round would meet it too.

The reason a `DeliveryError` gives is short and never quotes the message: it ends up in logs and
in the coordinators' digest (DESIGN.md section 3).
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, assert_never

from ..settings import DeliverySettings, RelaySettings

log = logging.getLogger("mentormail.backends")


@dataclass(frozen=True)
class Envelope:
    """SMTP's envelope: where bounces go (`""` is the null sender) and who receives a copy.

    The recipients need not appear in the headers (a BCC copy is a recipient only here).
    """

    sender: str
    recipients: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.recipients:
            raise ValueError("an envelope needs at least one recipient")
        # A line break would end an SMTP command or a Maildir trace line early and let the rest
        # of the address pass for a command or a header of its own.
        if any("\r" in address or "\n" in address for address in (self.sender, *self.recipients)):
            raise ValueError("an envelope address contains a line break")
        if not all(self.recipients):
            raise ValueError("an envelope recipient is empty")


class DeliveryError(Exception):
    """The message was not delivered; `str()` is a short reason that does not quote the message.

    `temporary` means that sending it again later may work (and that it was not delivered, as far
    as the protocol can tell). `relay_wide` means that nothing of this message was the cause.
    """

    def __init__(self, reason: str, *, temporary: bool, relay_wide: bool = False) -> None:
        super().__init__(reason)
        self.temporary = temporary
        self.relay_wide = relay_wide


class Backend(Protocol):
    def send(self, raw: bytes, envelope: Envelope) -> None:
        """Deliver `raw` (an RFC 5322 message, LF or CRLF line endings) or raise DeliveryError."""

    def close(self) -> None:
        """Release connections; the backend may still be used afterwards."""


class MemoryBackend:
    """Keeps every message in `outbox`, in the order sent, for tests to read."""

    def __init__(self) -> None:
        self.outbox: list[tuple[Envelope, bytes]] = []

    def send(self, raw: bytes, envelope: Envelope) -> None:
        self.outbox.append((envelope, raw))

    def close(self) -> None:
        """Nothing to release."""


class MaildirBackend:
    """Each message becomes a file in the Maildir's new/, as a local delivery agent leaves it.

    Any mail client, `ls` or `mentormail ingest` can then read what the program sent.
    """

    def __init__(self, directory: Path, *, durable: bool = True) -> None:
        self.directory = Path(directory)
        self.durable = durable  # False for `simulate`'s preview, which nothing relies on after a crash

    def send(self, raw: bytes, envelope: Envelope) -> None:
        # A delivery agent's trace lines: in the file, the envelope (BCC copies included, and
        # where bounces would go) is visible to whoever inspects the outbox.
        trace = f"Return-Path: <{envelope.sender}>\n"
        trace += "".join(f"Delivered-To: {recipient}\n" for recipient in envelope.recipients)
        # Files on a Unix disk end their lines with LF; CRLF is for the wire.
        data = trace.encode("utf-8") + raw.replace(b"\r\n", b"\n")
        try:
            self._deliver(data)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            message = f"cannot write to the Maildir {self.directory}: {reason}"
            raise DeliveryError(message, temporary=True, relay_wide=True) from exc

    def close(self) -> None:
        """Nothing to release."""

    def _deliver(self, data: bytes) -> None:
        # Created on every send rather than once, so that an outbox removed while the daemon runs
        # comes back instead of failing every delivery. 0700: the mail is the participants'.
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in ("tmp", "new", "cur"):
            (self.directory / folder).mkdir(mode=0o700, exist_ok=True)
        name = _unique_name()
        tmp = self.directory / "tmp" / name
        # The Maildir protocol: write in tmp/, then rename into new/, so that a reader never sees
        # half a file. The fsyncs make "delivered" survive a crash before the outbox row is marked.
        try:
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
                file.write(data)
                file.flush()
                if self.durable:
                    os.fsync(file.fileno())
            os.rename(tmp, self.directory / "new" / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if self.durable:
            _fsync_directory(self.directory / "new")


def _unique_name() -> str:
    """`time.unique.host`, as the Maildir specification asks; "/" and ":" escaped in the host."""
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072")
    return f"{int(time.time())}.M{uuid.uuid4().hex}.{host}"


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class SmtpBackend:
    """Sends through a relay, keeping one connection open across sends.

    Not thread-safe: use one per delivery worker.
    """

    def __init__(
        self,
        settings: RelaySettings,
        *,
        local_hostname: str | None = None,
        timeout: float = 60,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.local_hostname = local_hostname
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._client: smtplib.SMTP | None = None

    def send(self, raw: bytes, envelope: Envelope) -> None:
        # SMTP lines end in CRLF; relays that defend against SMTP smuggling refuse a bare LF.
        wire = _LINE_END.sub(b"\r\n", raw)
        try:
            client = self._connection()
        except (DeliveryError, OSError) as exc:
            self._drop()
            # No relay to hand it to (down, no TLS, a refused login): the relay's state or our
            # configuration, not this mail's, and what an operator fixes. Retried until the
            # window ends, as Postfix defers mail when a relay refuses its login.
            reason = str(exc) if isinstance(exc, DeliveryError) else str(self._failure(exc))
            raise DeliveryError(reason, temporary=True, relay_wide=True) from None
        try:
            options = _mail_options(client, wire, envelope)
            refused = client.sendmail(envelope.sender, list(envelope.recipients), wire, options)
        except DeliveryError:
            self._drop()
            raise
        except OSError as exc:  # smtplib's exceptions are OSErrors too
            # A connection in an unknown state is not worth keeping: the next send opens another.
            self._drop()
            # `from None`: a relay's reply may quote the message (content filters do), and a
            # chained exception would carry it into a logged traceback.
            raise self._failure(exc) from None
        # smtplib returns normally when some recipients were accepted: the others are lost to
        # this message, which is the relay's answer, not a reason to send it again to everyone.
        for address, (code, text) in refused.items():
            log.warning("relay refused recipient %s (%s); sent to the others", address, _reply_status(code, text))

    def close(self) -> None:
        if self._client is None:
            return
        try:
            self._client.quit()
        except OSError:
            pass  # the relay had gone already; _drop() still releases the socket
        self._drop()

    def check(self) -> None:
        """Connect, secure and log in as a send would, then QUIT (`check-config --connect`). A
        refused login raises smtplib's SMTPAuthenticationError; any other failure a DeliveryError."""
        try:
            self._open().quit()
        except (DeliveryError, smtplib.SMTPAuthenticationError):
            raise
        except OSError as exc:
            raise self._failure(exc) from None

    def _connection(self) -> smtplib.SMTP:
        # The relay may have closed a kept connection since the last send (idle timeout, restart).
        # A NOOP finds out before any of the message is sent, so reconnecting cannot send it twice.
        if self._client is not None and not _answers(self._client):
            self._drop()
        if self._client is None:
            self._client = self._open()
        return self._client

    def _open(self) -> smtplib.SMTP:
        relay = self.settings
        # Connected by the constructor, which closes the socket itself if the greeting fails: the
        # host has to be given there, since it is the name smtplib checks the certificate against.
        if relay.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                relay.host, relay.port, self.local_hostname, timeout=self.timeout, context=self.ssl_context
            )
        else:
            client = smtplib.SMTP(relay.host, relay.port, self.local_hostname, timeout=self.timeout)
        try:
            client.ehlo_or_helo_if_needed()
            if relay.security == "starttls":
                # Falling back to plain text would hand the mail and the password to whoever
                # removed STARTTLS from the relay's answer.
                if not client.has_extn("starttls"):
                    raise DeliveryError("relay does not offer STARTTLS", temporary=False)
                client.starttls(context=self.ssl_context)
                client.ehlo()
            if relay.username:
                if not client.has_extn("auth"):
                    raise DeliveryError("relay does not offer AUTH", temporary=False)
                client.login(relay.username, relay.password)
        except BaseException:
            client.close()
            raise
        return client

    def _drop(self) -> None:
        """Forget the connection without a QUIT, which after a failure could wait a whole timeout."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _failure(self, exc: OSError) -> DeliveryError:
        host = self.settings.host
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            replies = list(exc.recipients.values())
            # No one received it. If any refusal was temporary, sending it again later may reach
            # them all; otherwise there is no one left to try.
            code, text = next((reply for reply in replies if not _permanent(reply[0])), replies[0])
            return DeliveryError(f"{_reply_status(code, text)} from {host}", temporary=not _permanent(code))
        if isinstance(exc, smtplib.SMTPResponseException):
            code = exc.smtp_code
            return DeliveryError(f"{_reply_status(code, exc.smtp_error)} from {host}", temporary=not _permanent(code))
        # smtplib reports a timeout or a reset while it waits for a reply as a disconnection.
        if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, OSError):
            exc = exc.__context__
        return DeliveryError(f"{network_problem(exc)} ({host}:{self.settings.port})", temporary=True, relay_wide=True)


_LINE_END = re.compile(rb"\r?\n")
# RFC 3463's enhanced status code says what went wrong; the rest of a reply is free text that may
# quote the message, so it is left out.
_ENHANCED_STATUS = re.compile(r"[245]\.\d{1,3}\.\d{1,3}\b")
# Most specific first: ConnectionRefusedError is an OSError, SSLCertVerificationError an SSLError.
_NETWORK_PROBLEMS: tuple[tuple[type[OSError], str], ...] = (
    (TimeoutError, "timed out"),
    (ConnectionRefusedError, "connection refused"),
    (socket.gaierror, "host not found"),
    (ssl.SSLCertVerificationError, "TLS certificate not trusted"),
    (ssl.SSLError, "TLS failed"),
    (smtplib.SMTPServerDisconnected, "connection lost"),
)


def _answers(client: smtplib.SMTP) -> bool:
    try:
        return client.noop()[0] == 250
    except OSError:
        return False


def _mail_options(client: smtplib.SMTP, wire: bytes, envelope: Envelope) -> list[str]:
    """MAIL FROM parameters for 8-bit content (RFC 6152) and UTF-8 addresses or headers (RFC 6531)."""
    options = []
    # Relays take 8-bit data without BODY=8BITMIME in practice, so its absence is no reason to fail.
    if not wire.isascii() and client.has_extn("8bitmime"):
        options.append("BODY=8BITMIME")
    ascii_addresses = all(address.isascii() for address in (envelope.sender, *envelope.recipients))
    if not ascii_addresses and not client.has_extn("smtputf8"):
        raise DeliveryError("relay does not offer SMTPUTF8 (needed for a non-ASCII address)", temporary=False)
    header = wire.split(b"\r\n\r\n", 1)[0]
    if not (ascii_addresses and header.isascii()) and client.has_extn("smtputf8"):
        options.append("SMTPUTF8")
    return options


def _permanent(code: int) -> bool:
    # Anything but a 5xx (a 4xx, or a reply smtplib could not read) may work next time.
    return 500 <= code < 600


def _reply_status(code: int, text: bytes | str) -> str:
    """`550 5.1.1` from a reply: the code and the enhanced status, not the words."""
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    enhanced = _ENHANCED_STATUS.match(words)
    return f"{code} {enhanced[0]}" if enhanced else str(code)


def network_problem(exc: OSError) -> str:
    """A network failure in a few words (`connection refused`), never the peer's own text."""
    for kind, problem in _NETWORK_PROBLEMS:
        if isinstance(exc, kind):
            return problem
    return exc.strerror or type(exc).__name__


def backend_for(settings: DeliverySettings) -> Backend:
    match settings.backend:
        case "smtp":
            return SmtpBackend(settings.smtp)
        case "maildir":
            return MaildirBackend(settings.maildir)
        case "memory":
            return MemoryBackend()
        case _:
            assert_never(settings.backend)
