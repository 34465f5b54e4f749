"""The `microsoft` provider: Microsoft 365's client-credentials flow, through msal.

An Entra ID app registration with the `IMAP.AccessAsApp` and `SMTP.SendAsApp` application
permissions gets a token for `https://outlook.office365.com/.default` with its secret or with a
certificate (msal signs the client assertion), and Exchange Online takes it for the mailboxes its
service principal was given (README, "Microsoft 365").

Each fetch makes a new `ConfidentialClientApplication`: msal keeps tokens in a cache of its own
and would hand back the very token a server has just refused, whereas the `TokenSource` asks for
a new token only when it needs one (once an hour, or after a refusal), so msal's cache would save
nothing. The secret or certificate file is read at each fetch (a rotated one is used at once).
Instance discovery is off: the authority is the configured sign-in service, known already, and
the discovery would ask login.microsoftonline.com about any other (a national cloud, a test's).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msal
import requests

from ..settings import ConfigError, MicrosoftOAuth2Settings, read_secret
from .generic import REFUSALS, token_from
from .oauth2 import Fetch, Token, TokenRefused, TokenUnavailable

TIMEOUT = 30.0  # seconds for each of msal's requests

_PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.+?-----END \1PRIVATE KEY-----", re.DOTALL)
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")


def fetcher(settings: MicrosoftOAuth2Settings) -> Fetch:
    authority = f"{settings.authority}/{settings.tenant_id}"
    host = urlsplit(settings.authority).hostname or settings.authority

    def fetch() -> Token:
        credential = _credential(settings)
        try:
            app = msal.ConfidentialClientApplication(
                settings.client_id,
                client_credential=credential,
                authority=authority,
                instance_discovery=False,
                timeout=TIMEOUT,
            )
            result = app.acquire_token_for_client(scopes=[settings.scope])
        except requests.RequestException as error:
            raise TokenUnavailable(f"oauth2: cannot reach the token endpoint at {host} ({_reason(error)})") from None
        except ValueError:
            # msal's words for an authority it could not discover (a wrong tenant id, most often),
            # which would repeat the URL: the operator is told what to check instead.
            raise TokenRefused(f"oauth2: {host} does not know the tenant {settings.tenant_id}") from None
        return _token(result)

    return fetch


def _credential(settings: MicrosoftOAuth2Settings) -> str | dict[str, str]:
    try:
        if settings.client_secret_file is not None:
            return read_secret(settings.client_secret_file)
        assert settings.certificate_file is not None  # the settings require one of them
        return _certificate(settings.certificate_file, settings.thumbprint)
    except ConfigError as problem:
        raise TokenRefused(f"oauth2: {problem}") from None


def _certificate(path: Path, thumbprint: str) -> dict[str, str]:
    pem = read_secret(path)
    key = _PRIVATE_KEY.search(pem)
    if key is None:
        raise ConfigError(f"{path} holds no private key (PEM: BEGIN PRIVATE KEY)")
    return {"private_key": key[0], "thumbprint": thumbprint}


def _token(result: dict[str, Any]) -> Token:
    if "access_token" in result:
        return token_from(result)
    code = result.get("error")
    if isinstance(code, str) and _ERROR_CODE.fullmatch(code):
        kind = TokenRefused if code in REFUSALS else TokenUnavailable
        # Not msal's error_description: it can quote the request (AADSTS... with the client id).
        raise kind(f"oauth2: {code}")
    raise TokenUnavailable("oauth2: the token endpoint's answer has no access_token")


def _reason(error: requests.RequestException) -> str:
    if isinstance(error, requests.exceptions.SSLError):
        return "its certificate could not be verified"
    if isinstance(error, requests.Timeout):
        return "timed out"
    if isinstance(error, requests.ConnectionError):
        return "connection failed"
    return type(error).__name__
