"""The `[oauth2]` table: how the daemon gets the bearer tokens it signs in with (`auth = "oauth2"`).

One `[oauth2]` table serves the program; `[intake.imap.oauth2]` or `[delivery.smtp.oauth2]`, when
written, replaces it *whole* for that section (no key-by-key merging: a reader of the file sees in
one place everything a section signs in with), for a program that reads one provider's mailbox and
sends through another's relay.

Providers are rows of `PROVIDERS`: a name, the keys its table takes, and the function reading them
into its settings (a subclass of `OAuth2Settings`). Adding a provider is a dataclass, a reader and a
row here, and its token fetcher in `daemon/auth/providers.py`.

Secrets (client secrets, refresh tokens) stay in files of their own, checked at load like the
program key (mode 0600, not empty) but kept here as paths only: the provider reads a file when it
fetches a token, so nothing secret is held in a settings object that might be printed, and a
rotated secret is picked up without a restart.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, cast, get_args
from urllib.parse import urlsplit

from .table import ConfigError, Table, os_error_reason, private_file_problem

AuthMethod = Literal["password", "oauth2"]


Grant = Literal["client_credentials", "refresh_token"]


ClientAuth = Literal["basic", "post"]


@dataclass(frozen=True, kw_only=True)
class OAuth2Settings:
    """What every provider's settings have. `table` is where they were written (`oauth2` or
    `intake.imap.oauth2`), so that a message about them names the right place."""

    provider: ClassVar[str]
    table: str


@dataclass(frozen=True, kw_only=True)
class GenericOAuth2Settings(OAuth2Settings):
    """Any RFC 6749 token endpoint, by the client-credentials or the refresh-token grant."""

    provider: ClassVar[str] = "generic"
    token_url: str
    client_id: str
    # Required for client_credentials; a refresh-token client may be public (no secret).
    client_secret_file: Path | None = None
    scope: str = ""
    grant: Grant = "client_credentials"
    refresh_token_file: Path | None = None  # with grant = "refresh_token"
    # How the client proves itself to the endpoint: HTTP Basic (RFC 6749 2.3.1, which every
    # server must support) or the client_id and client_secret as form fields.
    client_auth: ClientAuth = "basic"


@dataclass(frozen=True)
class Provider:
    keys: tuple[str, ...]  # the table's keys besides `provider`
    # (the table, the config's folder, whether the section using it is enabled: files are
    # checked only then, as password_file is)
    read: Callable[[Table, Path, bool], OAuth2Settings]


def _generic(table: Table, base: Path, in_use: bool) -> GenericOAuth2Settings:
    grant = cast(Grant, table.choice("grant", "client_credentials", get_args(Grant)))
    secret = secret_file(table, "client_secret_file", base, in_use=in_use, required=grant == "client_credentials")
    refresh = secret_file(table, "refresh_token_file", base, in_use=in_use, required=grant == "refresh_token")
    if grant == "client_credentials" and "refresh_token_file" in table.data:
        raise table.error("refresh_token_file", 'only with grant = "refresh_token"')
    return GenericOAuth2Settings(
        table=table.name,
        token_url=token_url(table, "token_url"),
        client_id=table.line("client_id"),
        client_secret_file=secret,
        scope=table.text("scope", "").strip(),
        grant=grant,
        refresh_token_file=refresh,
        client_auth=cast(ClientAuth, table.choice("client_auth", "basic", get_args(ClientAuth))),
    )


@dataclass(frozen=True, kw_only=True)
class MicrosoftOAuth2Settings(OAuth2Settings):
    """Microsoft 365 (Entra ID): the client-credentials flow of an app registration with the
    `IMAP.AccessAsApp` / `SMTP.SendAsApp` permissions, through Microsoft's library (msal), with a
    client secret or a certificate (README, "Microsoft 365")."""

    provider: ClassVar[str] = "microsoft"
    tenant_id: str
    client_id: str
    client_secret_file: Path | None = None
    # A PEM file holding the certificate's private key (and the certificate), and the SHA-1
    # thumbprint Entra ID shows for the certificate uploaded to the app registration.
    certificate_file: Path | None = None
    thumbprint: str = ""
    # One resource's `.default`: the app permissions granted to it, IMAP's and SMTP's alike.
    scope: str = "https://outlook.office365.com/.default"
    # The sign-in service: another one for a national cloud (https://login.microsoftonline.us).
    authority: str = "https://login.microsoftonline.com"


def _microsoft(table: Table, base: Path, in_use: bool) -> MicrosoftOAuth2Settings:
    given = [key for key in ("client_secret_file", "certificate_file") if key in table.data]
    if len(given) != 1:
        problem = "give one of them, not both" if given else "missing (required): the app's secret or its certificate"
        raise table.error("client_secret_file", f"or certificate_file: {problem}")
    thumbprint = table.text("thumbprint", "").replace(":", "").replace(" ", "").upper()
    if given == ["certificate_file"] and not re.fullmatch(r"[0-9A-F]{40}", thumbprint):
        raise table.error("thumbprint", "the certificate's SHA-1 thumbprint, 40 hex digits as Entra ID shows it")
    if given == ["client_secret_file"] and "thumbprint" in table.data:
        raise table.error("thumbprint", "only with certificate_file")
    defaults = MicrosoftOAuth2Settings(table="", tenant_id="", client_id="")
    return MicrosoftOAuth2Settings(
        table=table.name,
        tenant_id=table.line("tenant_id"),
        client_id=table.line("client_id"),
        client_secret_file=secret_file(table, "client_secret_file", base, in_use=in_use, required=False),
        certificate_file=secret_file(table, "certificate_file", base, in_use=in_use, required=False),
        thumbprint=thumbprint,
        scope=table.text("scope", defaults.scope).strip(),
        authority=_https_url(table, "authority", defaults.authority).rstrip("/"),
    )


@dataclass(frozen=True, kw_only=True)
class GoogleOAuth2Settings(OAuth2Settings):
    """Google Workspace, through Google's library (google-auth): a service account with
    domain-wide delegation acting as `subject` (the program address), or an installed app's
    refresh token got once by `mentormail oauth-login` (README, "Google Workspace")."""

    provider: ClassVar[str] = "google"
    service_account_file: Path | None = None  # the service account's JSON key
    subject: str = ""  # the mailbox it acts as, with service_account_file
    client_id: str = ""  # the installed app's, with refresh_token_file
    client_secret_file: Path | None = None
    refresh_token_file: Path | None = None
    scope: str = "https://mail.google.com/"  # the one scope Gmail's IMAP and SMTP take
    token_url: str = "https://oauth2.googleapis.com/token"  # for the refresh token (a key file names its own)


def _google(table: Table, base: Path, in_use: bool) -> GoogleOAuth2Settings:
    defaults = GoogleOAuth2Settings(table="")
    service = "service_account_file" in table.data
    if service == ("refresh_token_file" in table.data):
        problem = "give one of them, not both" if service else "missing (required): how the daemon signs in"
        raise table.error("service_account_file", f"or refresh_token_file: {problem}")
    only_other = ("client_id", "client_secret_file", "token_url") if service else ("subject",)
    wrong = [key for key in only_other if key in table.data]
    if wrong:
        other = "refresh_token_file" if service else "service_account_file"
        raise table.error(wrong[0], f"only with {other}")
    return GoogleOAuth2Settings(
        table=table.name,
        service_account_file=secret_file(table, "service_account_file", base, in_use=in_use, required=False),
        subject=table.address("subject") if service else "",
        client_id="" if service else table.line("client_id"),
        client_secret_file=secret_file(table, "client_secret_file", base, in_use=in_use, required=not service),
        refresh_token_file=secret_file(table, "refresh_token_file", base, in_use=in_use, required=False),
        scope=table.text("scope", defaults.scope).strip(),
        token_url=token_url(table, "token_url") if "token_url" in table.data else defaults.token_url,
    )


def _https_url(table: Table, name: str, default: str) -> str:
    """An https URL (its libraries refuse any other), the default when not written."""
    if name not in table.data:
        return default
    value = table.url(name)
    if urlsplit(value).scheme != "https":
        raise table.error(name, f"must be an https URL (got {value!r})")
    return value


# The providers, by the name `provider = "..."` gives.
PROVIDERS: dict[str, Provider] = {
    "generic": Provider(
        ("token_url", "client_id", "client_secret_file", "scope", "grant", "refresh_token_file", "client_auth"),
        _generic,
    ),
    "microsoft": Provider(
        ("tenant_id", "client_id", "client_secret_file", "certificate_file", "thumbprint", "scope", "authority"),
        _microsoft,
    ),
    "google": Provider(
        (
            "service_account_file", "subject", "client_id", "client_secret_file", "refresh_token_file", "scope",
            "token_url",
        ),  # fmt: skip
        _google,
    ),
}


def read_oauth2(
    parent: Table, program: OAuth2Settings | None, base: Path, *, auth: AuthMethod, in_use: bool
) -> OAuth2Settings | None:
    """The oauth2 settings a section (`parent`: intake.imap, delivery.smtp) signs in with: its own
    `oauth2` table, else the program's `[oauth2]` (`program`, None when the file has none).
    None with `auth = "password"`, where a section's own table is refused rather than ignored."""
    own = "oauth2" in parent.data
    if auth == "password":
        if own:
            raise parent.error("oauth2", 'only with auth = "oauth2" (this section has auth = "password")')
        return None
    if own:
        return read_table(parent.file, parent.key("oauth2"), parent.get("oauth2", dict), base, in_use)
    if program is None:
        raise parent.error(
            "auth", f'"oauth2" needs an [oauth2] table (or [{parent.key("oauth2")}]) naming the provider'
        )
    return program


def read_table(file: str, name: str, data: dict[str, Any], base: Path, in_use: bool) -> OAuth2Settings:
    """One oauth2 table: `provider` first, then that provider's keys (any other is named unknown)."""
    first = Table(file, name, data, ("provider",), ignored=data)
    provider = first.line("provider")
    if provider not in PROVIDERS:
        raise first.error("provider", f"must be one of {', '.join(PROVIDERS)} (got {provider!r})")
    row = PROVIDERS[provider]
    return row.read(Table(file, name, data, ("provider", *row.keys)), base, in_use)


def token_url(table: Table, name: str) -> str:
    """An https URL; plain http only to this machine (a test's or a local proxy's endpoint),
    since the client's secret travels in the request."""
    value = table.url(name)
    parts = urlsplit(value)
    if parts.scheme == "http" and not _loopback(parts.hostname or ""):
        raise table.error(
            name, f"must be https (the client secret is sent to it); http only to localhost (got {value!r})"
        )
    return value


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secret_file(table: Table, name: str, base: Path, *, in_use: bool, required: bool) -> Path | None:
    """The path of a file holding a secret: when the section is in use, it must exist, be mode
    0600 (like the program key: whoever reads it can sign in as the program) and not be empty."""
    if name not in table.data:
        if required:
            raise table.error(name, "missing (required)")
        return None
    path = table.path(name, base)
    if in_use:
        try:
            read_secret(path)
        except ConfigError as problem:
            raise table.error(name, str(problem)) from None
    return path


def read_secret(path: Path) -> str:
    """A secret file's text without surrounding whitespace. ConfigError (text: what is wrong with
    the file, naming only its path) when it cannot be read, others may read it, or it is empty;
    the token fetchers call it too, at each fetch."""
    try:
        with path.open("rb") as file:
            mode = os.fstat(file.fileno()).st_mode
            text = file.read().decode("utf-8").strip()
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {os_error_reason(error)}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    if problem := private_file_problem(path, mode):
        raise ConfigError(problem)
    if not text:
        raise ConfigError(f"{path} is empty")
    return text


__all__ = [
    "PROVIDERS",
    "AuthMethod",
    "ClientAuth",
    "GenericOAuth2Settings",
    "GoogleOAuth2Settings",
    "Grant",
    "MicrosoftOAuth2Settings",
    "OAuth2Settings",
    "Provider",
    "read_oauth2",
    "read_secret",
    "read_table",
    "secret_file",
    "token_url",
]
