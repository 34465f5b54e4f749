"""Where outgoing mail goes: an SMTP relay, a Maildir, or memory, behind one interface.

As with a web framework's mail backends, delivery hands a backend finished bytes and an envelope
and does not care which backend it is: `smtp` in production, `maildir` as the embedded default
(and `simulate`'s output), `memory` for tests. A backend either delivers or raises
`DeliveryError`, whose `temporary` flag tells delivery whether to retry later or give up, and
whose `relay_wide` flag says that the failure was not this message's (the relay could not be
reached, or would not let us in), so that the rest of the round would meet it too.

The reason a `DeliveryError` gives is short and never quotes the message: it ends up in logs and
in the coordinators' digest (DESIGN.md section 3).

With `[delivery.smtp] auth = "oauth2"` the SMTP backend signs in with a bearer token (AUTH
XOAUTH2, or OAUTHBEARER where the relay offers it and not XOAUTH2) from its `TokenSource`. A
refused token (535, or a 334 error challenge and then 535) is forgotten and the login tried once
more with a fresh one (the token may have been revoked, or expired early); refused again, the
login is not tried before `first_retry` has passed, doubling up to an hour, as the IMAP watcher
backs off: the mail stays due (a temporary, relay-wide failure) and goes when a login works.
"""

from __future__ import annotations

import logging
import math
import os
import re
import smtplib
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, assert_never

from ..auth import Exchange, TokenError, TokenRefused, TokenSource, choose, token_source
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
        tokens: TokenSource | None = None,
        first_retry: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`tokens`: where an `auth = "oauth2"` login gets its bearer token (by default a source of
        the relay's own oauth2 settings); `first_retry`: the pause after a token refused twice,
        doubling to an hour (`[schedule] delivery_first_retry_seconds`)."""
        self.settings = settings
        self.local_hostname = local_hostname
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        if tokens is None and settings.auth == "oauth2" and settings.oauth2 is not None:
            tokens = token_source(settings.oauth2)
        self.tokens = tokens
        self.first_retry = first_retry
        self._clock = clock
        self._client: smtplib.SMTP | None = None
        self.mechanism: str | None = None  # the SASL mechanism of the last token login
        self._login_pause = first_retry  # the pause after the next refused login
        self._no_login_before = 0.0  # monotonic: while a refused login's pause lasts

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
        refused login raises smtplib's SMTPAuthenticationError; any other failure a DeliveryError
        (a token the provider would not give: `authentication failed for USER at HOST (oauth2: ...)`).
        `mechanism` then names the SASL mechanism a token login used."""
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
            if (wait := self._no_login_before - self._clock()) > 0:
                reason = f"login refused; next try in {_seconds(wait)}"
                raise DeliveryError(self._refused(reason), temporary=True, relay_wide=True)
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
                if relay.auth == "oauth2":
                    self._login_with_token(client)
                else:
                    client.login(relay.username, relay.password)
        except BaseException:
            client.close()
            raise
        return client

    def _login_with_token(self, client: smtplib.SMTP) -> None:
        """AUTH with the current token, and once more with a fresh one if the relay refuses it;
        a second refusal (smtplib's SMTPAuthenticationError) pauses logins (`_open` says so)."""
        assert self.tokens is not None, "auth = oauth2 needs a TokenSource"
        relay = self.settings
        mechanism = choose(client.esmtp_features.get("auth", "").split())
        for attempt in (1, 2):
            try:
                token = self.tokens.token()
            except TokenRefused as refused:
                self._pause_logins()
                raise DeliveryError(self._refused(str(refused)), temporary=True, relay_wide=True) from None
            except TokenError as unavailable:  # the endpoint's trouble: retried with the round
                raise DeliveryError(str(unavailable), temporary=True, relay_wide=True) from None
            exchange = Exchange(mechanism, relay.username, token, relay.host, relay.port)
            self.mechanism = mechanism
            try:
                client.auth(mechanism, exchange, initial_response_ok=True)
            except smtplib.SMTPAuthenticationError:
                self.tokens.refused(token)  # revoked or expired early: the next token() fetches
                if attempt == 2:
                    self._pause_logins()
                    raise
                continue
            self._login_pause = self.first_retry  # a login that works starts the pauses afresh
            return

    def _pause_logins(self) -> None:
        # A refused login tried again every round (every few seconds, for each batch of mail)
        # would hammer the provider's sign-in with a token or client it has refused.
        self._no_login_before = self._clock() + self._login_pause
        self._login_pause = min(self._login_pause * 2, LONGEST_LOGIN_PAUSE)

    def _refused(self, reason: str) -> str:
        return f"authentication failed for {self.settings.username} at {self.settings.host} ({reason})"

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
            return self._refusal(code, text)
        if isinstance(exc, smtplib.SMTPResponseException):
            return self._refusal(exc.smtp_code, exc.smtp_error)
        # smtplib reports a timeout or a reset while it waits for a reply as a disconnection.
        if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, OSError):
            exc = exc.__context__
        return DeliveryError(f"{network_problem(exc)} ({host}:{self.settings.port})", temporary=True, relay_wide=True)

    def _refusal(self, code: int, text: bytes | str) -> DeliveryError:
        status = f"{_reply_status(code, text)} from {self.settings.host}"
        if _throttled(code, text):
            # The relay holding back the sender, not refusing this mail: the rest of the round
            # would hear the same, so the round ends and every mail of it is retried later.
            return DeliveryError(status, temporary=True, relay_wide=True)
        return DeliveryError(status, temporary=not _permanent(code))


_LINE_END = re.compile(rb"\r?\n")
# The longest pause between two logins after the relay refused one (the first is first_retry).
LONGEST_LOGIN_PAUSE = 3600.0
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


def _throttled(code: int, text: bytes | str) -> bool:
    """A reply that says the sender is sending too much, or the relay is too busy, for now:
    421 (closing: RFC 5321 4.2.3; Gmail's `421 4.7.0 Try again later`), a 4xx whose enhanced
    status is a policy one, 4.7.x (Exchange Online's `451 4.7.500 Server busy`), and a sending
    quota used up, which comes back within a day (Gmail's `550 5.4.5 Daily user sending limit
    exceeded`; Exchange Online's `554 5.2.0 ...SubmissionQuotaExceededException`). Only the codes,
    and that one word, are read: the rest of a reply may quote the message."""
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    enhanced = _ENHANCED_STATUS.match(words)
    status = enhanced[0] if enhanced else ""
    if code == 421 or (400 <= code < 500 and status.startswith("4.7.")):
        return True
    return status == "5.4.5" or "SubmissionQuotaExceeded" in words


def _seconds(wait: float) -> str:
    """`45 s`, `4 min`: a pause as an operator reads it."""
    return f"{max(1, math.ceil(wait))} s" if wait < 90 else f"{round(wait / 60)} min"


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


def backend_for(settings: DeliverySettings, first_retry: float = 60.0) -> Backend:
    """The configured backend; `first_retry` (seconds): the SMTP backend's pause after a refused
    token login, as long as delivery's first retry (`[schedule] delivery_first_retry_seconds`)."""
    match settings.backend:
        case "smtp":
            return SmtpBackend(settings.smtp, first_retry=first_retry)
        case "maildir":
            return MaildirBackend(settings.maildir)
        case "memory":
            return MemoryBackend()
        case _:
            assert_never(settings.backend)
