"""The `generic` provider: any OAuth 2.0 token endpoint (RFC 6749), by client credentials (4.4)
or a refresh token (6).

Over the standard library's `urllib.request`: one form POST per token, which needs neither a
session nor retries of its own (the callers retry), so an HTTP client would add nothing. None is
a dependency of ours (`requests` comes in only under msal and google-auth, the microsoft and
google providers' libraries, for what those do beyond a POST: certificates, service-account
assertions), and the generic provider should not lean on theirs.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ..settings import ConfigError, GenericOAuth2Settings, read_secret
from .oauth2 import Fetch, Token, TokenRefused, TokenUnavailable, write_secret_file

TIMEOUT = 30.0  # seconds for one token request

# RFC 6749 5.2: the error codes that say the client, its grant or its scope is not accepted.
# Any other code (temporarily_unavailable, server_error, ...) is the endpoint's trouble.
REFUSALS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    }
)

# What of an error code is shown: RFC 6749's codes are short lower-case words with underscores;
# anything else is not repeated (a misbehaving endpoint could put anything in it).
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")


def fetcher(settings: GenericOAuth2Settings) -> Fetch:
    def fetch() -> Token:
        form = {"grant_type": settings.grant}
        if settings.grant == "refresh_token":
            assert settings.refresh_token_file is not None  # required by the settings for this grant
            form["refresh_token"] = _secret(settings.refresh_token_file)
        if settings.scope:
            form["scope"] = settings.scope
        secret = _secret(settings.client_secret_file) if settings.client_secret_file else None
        answer = request_token(
            settings.token_url, form, settings.client_id, secret, basic=settings.client_auth == "basic"
        )
        if settings.refresh_token_file is not None and isinstance(answer.get("refresh_token"), str):
            # RFC 6749 6: the server may rotate the refresh token; the old one may stop working.
            write_secret_file(settings.refresh_token_file, answer["refresh_token"])
        return token_from(answer)

    return fetch


def request_token(url: str, form: dict[str, str], client_id: str, secret: str | None, *, basic: bool) -> dict[str, Any]:
    """POST `form` to the token endpoint with the client's credentials; its JSON answer."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if basic and secret is not None:
        # RFC 6749 2.3.1: each part form-urlencoded before it is joined and base64ed.
        pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    else:
        form = {**form, "client_id": client_id, **({"client_secret": secret} if secret is not None else {})}
    host = urlsplit(url).hostname or url
    request = urllib.request.Request(url, data=urlencode(form).encode("ascii"), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body = response.read(1 << 20)
    except urllib.error.HTTPError as error:
        raise _endpoint_error(error) from None
    except (urllib.error.URLError, OSError) as error:
        raise TokenUnavailable(
            f"oauth2: cannot reach the token endpoint at {host} ({_network_reason(error)})"
        ) from None
    try:
        answer = json.loads(body)
    except ValueError:
        raise TokenUnavailable(f"oauth2: the token endpoint at {host} did not answer JSON") from None
    if not isinstance(answer, dict):
        raise TokenUnavailable(f"oauth2: the token endpoint at {host} did not answer a JSON object")
    return answer


def token_from(answer: dict[str, Any]) -> Token:
    value = answer.get("access_token")
    if not isinstance(value, str) or not value:
        raise TokenUnavailable("oauth2: the token endpoint's answer has no access_token")
    expires_in = answer.get("expires_in")
    # Some endpoints write it as a string ("3599").
    if isinstance(expires_in, str) and expires_in.isdigit():
        expires_in = int(expires_in)
    lifetime = float(expires_in) if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) else None
    return Token(value, lifetime)


def _endpoint_error(error: urllib.error.HTTPError) -> TokenRefused | TokenUnavailable:
    """`oauth2: invalid_client` from an RFC 6749 error answer; otherwise the HTTP status."""
    code = None
    try:
        answer = json.loads(error.read(1 << 16))
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            code = answer["error"]
    except (ValueError, OSError):
        pass
    if code is not None and _ERROR_CODE.fullmatch(code):
        kind = TokenRefused if code in REFUSALS else TokenUnavailable
        return kind(f"oauth2: {code}")
    # 401 and 403 without an error code still mean "not you"; anything else may pass.
    kind = TokenRefused if error.code in (401, 403) else TokenUnavailable
    return kind(f"oauth2: the token endpoint answered HTTP {error.code}")


def _network_reason(error: BaseException) -> str:
    reason = getattr(error, "reason", error)
    if isinstance(reason, ssl.SSLCertVerificationError):
        return "its certificate could not be verified"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return type(reason).__name__


def _secret(path: Path) -> str:
    try:
        return read_secret(path)
    except ConfigError as problem:
        # Changed since the config was checked (removed, chmod): as a refusal, since retrying
        # soon will not mend it, and in the words check-config uses.
        raise TokenRefused(f"oauth2: {problem}") from None
