"""The `google` provider: Google Workspace, through google-auth.

Two ways, as README "Google Workspace" walks through:

- a service account with domain-wide delegation for the scope `https://mail.google.com/`:
  google-auth signs a JWT with the account's key (`with_subject`: acting as the program address)
  and trades it at the key file's `token_uri` for an access token (RFC 7523's JWT-bearer grant);
- an installed app's refresh token, got once by `mentormail oauth-login`, traded at `token_url`.

The key file and the secrets are read at each fetch, like the other providers' files. A refusal
comes back from google-auth as a `RefreshError` carrying the endpoint's JSON; only its RFC 6749
error code is repeated (`oauth2: unauthorized_client`: delegation not granted for the scope).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from google.auth import exceptions
from google.auth.transport.requests import Request
from google.oauth2 import credentials, service_account

from ..settings import ConfigError, GoogleOAuth2Settings, read_secret
from .generic import REFUSALS
from .oauth2 import Fetch, Token, TokenRefused, TokenUnavailable

_ERROR_CODE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")


def fetcher(settings: GoogleOAuth2Settings) -> Fetch:
    def fetch() -> Token:
        signer, host = _credentials(settings)
        try:
            signer.refresh(Request())
        except exceptions.RefreshError as error:
            raise _refusal(error) from None
        except exceptions.TransportError:
            raise TokenUnavailable(f"oauth2: cannot reach the token endpoint at {host}") from None
        if not signer.token:
            raise TokenUnavailable("oauth2: the token endpoint's answer has no access_token")
        expiry = signer.expiry  # naive UTC, as google-auth keeps it
        left = expiry.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc) if expiry else None
        return Token(signer.token, left.total_seconds() if left else None)

    return fetch


def _credentials(settings: GoogleOAuth2Settings) -> tuple[Any, str]:
    """google-auth's credentials for one refresh, and the token endpoint's host (for messages)."""
    try:
        if settings.service_account_file is not None:
            info = _key_file(settings)
            account = service_account.Credentials.from_service_account_info(info, scopes=[settings.scope])
            return account.with_subject(settings.subject), urlsplit(info["token_uri"]).hostname or ""
        assert settings.refresh_token_file is not None and settings.client_secret_file is not None
        user = credentials.Credentials(
            None,
            refresh_token=read_secret(settings.refresh_token_file),
            client_id=settings.client_id,
            client_secret=read_secret(settings.client_secret_file),
            token_uri=settings.token_url,
            scopes=[settings.scope],
        )
        return user, urlsplit(settings.token_url).hostname or ""
    except ConfigError as problem:
        raise TokenRefused(f"oauth2: {problem}") from None


def _key_file(settings: GoogleOAuth2Settings) -> dict[str, Any]:
    path = settings.service_account_file
    try:
        info = json.loads(read_secret(path))  # type: ignore[arg-type]
    except ValueError:
        raise ConfigError(f"{path} is not a service account's JSON key") from None
    missing = [key for key in ("client_email", "private_key", "token_uri") if not isinstance(info.get(key), str)]
    if not isinstance(info, dict) or missing:
        raise ConfigError(f"{path} is not a service account's JSON key (no {', '.join(missing) or 'object'})")
    return info


def _refusal(error: exceptions.RefreshError) -> TokenRefused | TokenUnavailable:
    answer = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], dict) else {}
    code = answer.get("error")
    if isinstance(code, str) and _ERROR_CODE.fullmatch(code):
        kind = TokenRefused if code in REFUSALS else TokenUnavailable
        return kind(f"oauth2: {code}")
    # google-auth's own checks (a key it cannot sign with, an answer without a token): not the
    # endpoint's words, but they may quote the answer, so they are not repeated either.
    return TokenRefused("oauth2: the token endpoint refused the credentials")
