"""`check-config --connect`: try the servers the config names, as the daemon will use them.

The IMAP server (when intake.imap is enabled) and the relay (when delivery.backend is smtp) are
each connected to with their TLS setting and logged in to, by the daemon's own code
(`intake.imap.connect_with`, `SmtpBackend.check`), and each gives one line: what works, or what failed
in words an operator can act on. Nothing is fetched or sent; no password is ever shown. With
`auth = "oauth2"` the check gets a token from the provider first, as the daemon does, and a
refusal names the provider's reason (`oauth2: invalid_client`), never a token or a secret.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass

from imapclient.exceptions import IMAPClientError, LoginError

from ..auth import TokenError
from ..intake import imap
from ..mail.backends import DeliveryError, SmtpBackend, network_problem
from ..settings import ImapIntakeSettings, RelaySettings, Settings

TIMEOUT = 30.0  # seconds; a check someone waits for at a terminal


@dataclass(frozen=True)
class Check:
    server: str  # "IMAP host:port", "SMTP relay host:port"
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.server}: {'OK, ' if self.ok else 'FAILED: '}{self.detail}"


def check_connections(settings: Settings) -> list[Check]:
    """One check per server in use, in the order the daemon meets them (intake, then delivery)."""
    checks = []
    if settings.intake_imap.enabled:
        checks.append(check_imap(settings.intake_imap))
    if settings.delivery.backend == "smtp":
        checks.append(check_relay(settings.delivery.smtp))
    return checks


def check_imap(settings: ImapIntakeSettings) -> Check:
    server = f"IMAP {settings.host}:{settings.port}"
    try:
        client, mechanism = imap.connect_with(settings)
    except imap.OAuth2LoginRefused as exc:
        return Check(server, False, f"authentication failed for {settings.username} at {settings.host} ({exc.reason})")
    except LoginError:
        return Check(server, False, f"authentication failed for {settings.username} at {settings.host}")
    except TokenError as exc:  # the token endpoint unreachable or failing: its one line
        return Check(server, False, str(exc))
    except (OSError, IMAPClientError) as exc:
        return Check(server, False, _problem(exc, settings.host, settings.port))
    try:
        if not client.folder_exists(settings.folder):
            return Check(server, False, f"logged in as {settings.username}, but there is no folder {settings.folder}")
        count = client.select_folder(settings.folder, readonly=True)[b"EXISTS"]
    except (OSError, IMAPClientError) as exc:
        return Check(server, False, _problem(exc, settings.host, settings.port))
    finally:
        imap.close(client, graceful=True)
    how = f" with an OAuth2 token ({mechanism})" if settings.auth == "oauth2" else ""
    return Check(server, True, f"logged in as {settings.username}{how}, folder {settings.folder} ({count} messages)")


def check_relay(settings: RelaySettings) -> Check:
    server = f"SMTP relay {settings.host}:{settings.port}"
    backend = SmtpBackend(settings, timeout=TIMEOUT)
    try:
        backend.check()
    except smtplib.SMTPAuthenticationError as exc:
        detail = f"authentication failed for {settings.username} at {settings.host} ({exc.smtp_code})"
        return Check(server, False, detail)
    except DeliveryError as exc:
        return Check(server, False, str(exc))
    logged_in = f"logged in as {settings.username}" if settings.username else "no login configured"
    # A token login says how: the mechanism, and so that the provider gave the daemon a token.
    how = f" with an OAuth2 token ({backend.mechanism})" if backend.mechanism else ""
    return Check(server, True, logged_in + how)


def _problem(exc: BaseException, host: str, port: int) -> str:
    """What went wrong, by kind: an IMAP server's own words are not repeated (they can quote)."""
    if isinstance(exc, OSError):
        return f"{network_problem(exc)} ({host}:{port})"
    if isinstance(exc, IMAPClientError):
        return f"the server refused a command ({type(exc).__name__})"
    return f"{type(exc).__name__} ({host}:{port})"
