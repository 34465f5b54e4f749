"""A small OAuth 2.0 authorization server on loopback, for the tests of `auth = "oauth2"`.

Loaded as a pytest plugin from conftest.py. The session-scoped `oauth_server` fixture runs one
`TokenServer` (the standard library's HTTP server, on a thread) that does what a provider's
endpoint and its resource server's token check do, for real, over HTTP:

- `POST /token`: RFC 6749 token requests by the client-credentials grant (4.4) and the
  refresh-token grant (6), with the client authenticated by HTTP Basic or form fields (2.3.1);
  errors as RFC 6749 5.2 JSON (`{"error": "invalid_client", "error_description": ...}`).
- `POST /introspect`: RFC 7662 token introspection, which Dovecot's oauth2 passdb calls at each
  login (`{"active": true, "username": ...}` or `{"active": false}`).

Each test registers clients of its own (`add_client`: a client id, its secret, the mailbox its
tokens sign in to, their lifetime) and can revoke a client (its token requests then get
`invalid_client`), revoke the tokens already issued, and count what was asked of the server.
Only the wall clock is the test's: tokens expire when their lifetime has passed.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

import pytest

# Words in every error answer that a daemon must never repeat in its log (it may repeat the code).
ERROR_DESCRIPTION_CANARY = "description-canary-7c1e"


@dataclass
class Client:
    client_id: str
    secret: str
    mailbox: str  # the login name its tokens are good for
    lifetime: float  # seconds, the tokens' expires_in
    refresh_token: str | None = None
    revoked: bool = False
    rotate_refresh_token: bool = False  # answer each refresh with a new refresh token


@dataclass
class Issued:
    client_id: str
    mailbox: str
    expires_at: float
    revoked: bool = False


@dataclass
class TokenServer:
    host: str = "127.0.0.1"
    port: int = 0
    clients: dict[str, Client] = field(default_factory=dict)
    issued: dict[str, Issued] = field(default_factory=dict)
    # Every request, in order: ("token", client id or "", grant, answer code) and
    # ("introspect", token, active).
    requests: list[tuple[str, str, str, object]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def token_url(self) -> str:
        return f"http://{self.host}:{self.port}/token"

    @property
    def introspection_url(self) -> str:
        return f"http://{self.host}:{self.port}/introspect"

    def add_client(self, mailbox: str, *, lifetime: float = 3600, refresh_token: bool = False) -> Client:
        with self._lock:
            client = Client(
                client_id=f"client-{next(self._counter)}",
                secret=secrets.token_urlsafe(16),
                mailbox=mailbox,
                lifetime=lifetime,
                refresh_token=secrets.token_urlsafe(24) if refresh_token else None,
            )
            self.clients[client.client_id] = client
        return client

    def revoke(self, client_id: str) -> None:
        """The client is gone (its app registration deleted, its secret withdrawn)."""
        with self._lock:
            self.clients[client_id].revoked = True

    def revoke_tokens(self, client_id: str) -> None:
        """Tokens already issued to the client stop working; it may still get new ones."""
        with self._lock:
            for issued in self.issued.values():
                if issued.client_id == client_id:
                    issued.revoked = True

    def token_requests(self, client_id: str) -> list[str]:
        """The answers to the client's token requests ("200", "invalid_client", ...), in order."""
        with self._lock:
            return [str(answer) for kind, who, _, answer in self.requests if kind == "token" and who == client_id]

    def tokens_of(self, client_id: str) -> list[str]:
        with self._lock:
            return [token for token, issued in self.issued.items() if issued.client_id == client_id]

    def active(self, token: str) -> bool:
        """Whether the token would pass introspection now (not counted as a request)."""
        with self._lock:
            issued = self.issued.get(token)
            return issued is not None and not issued.revoked and time.time() < issued.expires_at

    def introspected(self, tokens: list[str]) -> list[tuple[str, bool]]:
        """(token, answered active) of each introspection of one of `tokens`, in order."""
        wanted = set(tokens)
        with self._lock:
            return [
                (who, bool(active)) for kind, who, _, active in self.requests if kind == "introspect" and who in wanted
            ]

    # --- the endpoints ---------------------------------------------------------------------

    def answer_token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, object]]:
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            pair = base64.b64decode(authorization[6:]).decode()
            client_id, _, given = pair.partition(":")
            client_id, secret = unquote(client_id), unquote(given)
        grant = form.get("grant_type", "")
        with self._lock:
            client = self.clients.get(client_id)
            code, answer = self._decide(client, secret, grant, form)
            self.requests.append(("token", client_id, grant, "200" if code == 200 else answer["error"]))
        return code, answer

    def _decide(
        self, client: Client | None, secret: str | None, grant: str, form: dict[str, str]
    ) -> tuple[int, dict[str, object]]:
        def error(code: int, name: str) -> tuple[int, dict[str, object]]:
            # A description that quotes the request, as some servers' do: never to be logged.
            return code, {"error": name, "error_description": f"{ERROR_DESCRIPTION_CANARY}: {sorted(form)}"}

        if client is None or client.revoked or (secret is not None and secret != client.secret):
            return error(401, "invalid_client")
        if grant == "client_credentials":
            if secret is None:
                return error(401, "invalid_client")
        elif grant == "refresh_token":
            if client.refresh_token is None or form.get("refresh_token") != client.refresh_token:
                return error(400, "invalid_grant")
        else:
            return error(400, "unsupported_grant_type")
        token = "tok-" + secrets.token_urlsafe(24)
        self.issued[token] = Issued(client.client_id, client.mailbox, time.time() + client.lifetime)
        answer: dict[str, object] = {"access_token": token, "token_type": "Bearer", "expires_in": client.lifetime}
        if grant == "refresh_token" and client.rotate_refresh_token:
            client.refresh_token = secrets.token_urlsafe(24)
            answer["refresh_token"] = client.refresh_token
        return 200, answer

    def answer_introspection(self, form: dict[str, str]) -> dict[str, object]:
        token = form.get("token", "")
        active = self.active(token)
        with self._lock:
            issued = self.issued.get(token)
            self.requests.append(("introspect", token, "", active))
        return {"active": True, "username": issued.mailbox} if active and issued else {"active": False}


def _handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            length = int(self.headers.get("Content-Length") or 0)
            fields = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            form = {name: values[0] for name, values in fields.items()}
            if self.path == "/token":
                code, answer = server.answer_token(form, self.headers.get("Authorization"))
            elif self.path == "/introspect":
                code, answer = 200, server.answer_introspection(form)
            else:
                code, answer = 404, {"error": "not_found"}
            body = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet: pytest shows stderr of failing tests

    return Handler


@contextmanager
def serving(server: TokenServer, port: int = 0) -> Iterator[int]:
    """The server's endpoints on `port` (0: a free one), until the block ends; yields the port.
    A second port serves the same clients and tokens (a test's endpoint that comes up late)."""
    http = ThreadingHTTPServer((server.host, port), _handler(server))
    http.daemon_threads = True
    thread = threading.Thread(target=http.serve_forever, name="oauth-server", daemon=True)
    thread.start()
    try:
        yield http.server_address[1]
    finally:
        http.shutdown()
        http.server_close()


@pytest.fixture(scope="session")
def oauth_server() -> Iterator[TokenServer]:
    server = TokenServer()
    with serving(server) as port:
        server.port = port
        yield server
