"""`mentormail oauth-login`: the installed-app flow (RFC 8252) that gets a refresh token once.

For a mailbox signed in to with a refresh token (`google` with `refresh_token_file`, or `generic`
with `grant = "refresh_token"`): a person who may sign in as the mailbox opens the printed URL in
a browser, consents, and the provider sends the browser back to a listener on this machine's
loopback address with a code, which is exchanged at the token endpoint for the refresh token
(PKCE, RFC 7636, so that a code seen by another program on the machine is of no use to it). The
refresh token is written to the table's `refresh_token_file`, mode 0600, and the daemon trades it
for access tokens from then on. Nothing secret is printed.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from ..settings import ConfigError, GenericOAuth2Settings, GoogleOAuth2Settings, OAuth2Settings, read_secret
from ..settings.oauth2 import read_table
from .generic import request_token
from .oauth2 import TokenError, write_secret_file

# Google's endpoint for installed apps; `access_type=offline` and `prompt=consent` make it give a
# refresh token every time (without them a second login gets none).
GOOGLE_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_EXTRA = {"access_type": "offline", "prompt": "consent"}


class LoginFailed(Exception):
    """The flow did not end with a refresh token; str() is one line for the operator."""


@dataclass(frozen=True)
class Client:
    """What the flow needs of a table's settings."""

    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str | None
    scope: str
    refresh_token_file: Path
    extra: dict[str, str]


def table_settings(config: Path, name: str) -> OAuth2Settings:
    """The oauth2 table `name` (`oauth2`, `intake.imap.oauth2`, `delivery.smtp.oauth2`) of the
    config, read as the daemon reads it but without wanting its refresh token file to exist yet
    (this command is what writes it)."""
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        raise ConfigError(f"{config}: cannot be read as TOML (run mentormail check-config)") from None
    table: object = data
    for part in name.split("."):
        table = table.get(part) if isinstance(table, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"{config}: there is no [{name}] table")
    return read_table(str(config), name, table, config.absolute().parent, False)


def client_for(settings: OAuth2Settings, authorize_url: str | None) -> Client:
    """The flow's client from an oauth2 table that signs in with a refresh token."""
    if isinstance(settings, GoogleOAuth2Settings) and settings.refresh_token_file is not None:
        assert settings.client_secret_file is not None  # required with refresh_token_file
        return Client(
            authorize_url or GOOGLE_AUTHORIZE_URL, settings.token_url, settings.client_id,
            _secret(settings.client_secret_file), settings.scope, settings.refresh_token_file, GOOGLE_EXTRA,
        )  # fmt: skip
    if isinstance(settings, GenericOAuth2Settings) and settings.grant == "refresh_token":
        assert settings.refresh_token_file is not None  # required with this grant
        if authorize_url is None:
            raise LoginFailed(f"[{settings.table}] is the generic provider: give its --authorize-url")
        secret = _secret(settings.client_secret_file) if settings.client_secret_file else None
        return Client(
            authorize_url, settings.token_url, settings.client_id, secret, settings.scope,
            settings.refresh_token_file, {},
        )  # fmt: skip
    raise LoginFailed(
        f"[{settings.table}] does not sign in with a refresh token: oauth-login is for provider = \"google\" with "
        'refresh_token_file, or provider = "generic" with grant = "refresh_token"'
    )


def login(client: Client, *, say: Callable[[str], None], timeout: float = 300.0) -> Path:
    """Run the flow: `say` the URL to open, wait up to `timeout` seconds for the browser to come
    back, exchange the code and write the refresh token; the file written."""
    state = secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    answer = _Answer()
    # Port 0: any free port; RFC 8252 7.3 has providers accept any port on the loopback address.
    listener = HTTPServer(("127.0.0.1", 0), _handler(answer, state))
    redirect_uri = f"http://127.0.0.1:{listener.server_address[1]}/"
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": client.scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **client.extra,
    }
    thread = threading.Thread(target=listener.serve_forever, name="oauth-login", daemon=True)
    thread.start()
    try:
        say("Open this address in a browser and sign in as the program's mailbox:")
        say(f"{client.authorize_url}?{urlencode(query)}")
        if not answer.done.wait(timeout):
            raise LoginFailed(f"no answer from the browser within {round(timeout)} s (run oauth-login again)")
    finally:
        listener.shutdown()
        listener.server_close()
    if answer.problem:
        raise LoginFailed(answer.problem)
    form = {"grant_type": "authorization_code", "code": answer.code, "redirect_uri": redirect_uri}
    form["code_verifier"] = verifier
    try:
        tokens = request_token(client.token_url, form, client.client_id, client.client_secret, basic=False)
    except TokenError as refused:
        raise LoginFailed(f"the token endpoint refused the code ({refused})") from None
    refresh_token = tokens.get("refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise LoginFailed("the token endpoint gave no refresh token (is the client an installed app's?)")
    write_secret_file(client.refresh_token_file, refresh_token)
    return client.refresh_token_file


class _Answer:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.code = ""
        self.problem = ""


def _handler(answer: _Answer, state: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            query = {name: values[0] for name, values in parse_qs(urlsplit(self.path).query).items()}
            if "code" not in query and "error" not in query:
                self._page(404, "Nothing here.")  # a favicon, a stray request: keep waiting
                return
            if answer.done.is_set():
                self._page(400, "This sign-in was already answered.")
                return
            if query.get("state") != state:
                # Not the answer to our request (another tab, a forged link): refused, not used.
                answer.problem = "the browser came back with another request's answer (state differs): run it again"
            elif "error" in query:
                code = query["error"] if query["error"].replace("_", "").isalnum() else "refused"
                answer.problem = f"the provider refused the sign-in (oauth2: {code})"
            else:
                answer.code = query["code"]
            if answer.problem:
                self._page(400, "Sign-in failed: see the terminal.")
            else:
                self._page(200, "Signed in: you can close this window.")
            answer.done.set()

        def _page(self, status: int, text: str) -> None:
            body = f"<!doctype html><title>mentormail</title><p>{html.escape(text)}</p>".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # the request line holds the code

    return Handler


def _secret(path: Path) -> str:
    try:
        return read_secret(path)
    except ConfigError as problem:
        raise LoginFailed(str(problem)) from None
