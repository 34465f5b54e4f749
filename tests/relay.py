"""A relay the tests run: an aiosmtpd server that keeps what the daemon delivers to it.

`OAuth2Relay` is one that lets in only a client signed in with a bearer token (AUTH XOAUTH2, or
OAUTHBEARER), checked at the test's token server by introspection (tests/oauth_server.py), as
Exchange Online and Gmail check theirs; it can also answer like a throttled provider.
"""

from __future__ import annotations

import json
import threading
import time as clock
import urllib.request
from base64 import b64decode
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlencode

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, AuthResult
from conftest import free_port


class Relay:
    """A relay that keeps what it receives; optionally slow, to land a kill mid-delivery."""

    def __init__(self, delay: float = 0.0, **server_options: object) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.delay = delay
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port(), **server_options)

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        if self.delay:
            clock.sleep(self.delay)  # blocks the relay's loop on purpose: one message at a time
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [message_from_bytes(raw, policy=policy.default) for _, _, raw in self.received]  # type: ignore[misc]

    def kinds(self) -> Counter[str]:
        return Counter(str(m["X-Mentormail-Kind"]) for m in self.messages())


class OAuth2Relay(Relay):
    """A relay that takes mail only after AUTH with a bearer token its token server says is
    active for the user named (the token server's introspection, over HTTP, at every login).

    `mechanisms`: what it offers (XOAUTH2 and OAUTHBEARER, or one of them). A refused token gets
    the providers' answer: a 334 challenge holding a JSON error, then `535 5.7.3` once the client
    has acknowledged it. `throttle` holds replies to give to MAIL FROM, one per message, before
    taking mail again (`421 4.7.0 ...` as Gmail, `451 4.7.500 Server busy` as Exchange Online).
    """

    def __init__(self, introspection_url: str, *, mechanisms: tuple[str, ...] = ("XOAUTH2", "OAUTHBEARER")) -> None:
        excluded = [name for name in ("XOAUTH2", "OAUTHBEARER") if name not in mechanisms]
        super().__init__(
            auth_require_tls=False,  # plain text on 127.0.0.1; the daemon's TLS is tested elsewhere
            auth_exclude_mechanism=["PLAIN", "LOGIN", *excluded],
        )
        self.introspection_url = introspection_url
        self.logins: list[tuple[str, str, bool]] = []  # (mechanism, user, accepted), in order
        self.throttle: list[str] = []

    async def auth_XOAUTH2(self, server, args) -> AuthResult:  # type: ignore[no-untyped-def]  # noqa: N802
        fields = await self._initial_response(server, args)
        if fields is None:
            return AuthResult(success=False, handled=True)
        user = fields[0].removeprefix("user=")
        return await self._check(server, "XOAUTH2", user, fields[1] if len(fields) > 1 else "")

    async def auth_OAUTHBEARER(self, server, args) -> AuthResult:  # type: ignore[no-untyped-def]  # noqa: N802
        fields = await self._initial_response(server, args)
        if fields is None:
            return AuthResult(success=False, handled=True)
        # RFC 7628: "n,a=USER," then host=, port=, auth= pairs.
        header = fields[0].split(",")
        user = next((part[2:] for part in header if part.startswith("a=")), "").replace("=2C", ",").replace("=3D", "=")
        auth = next((field for field in fields if field.startswith("auth=")), "")
        return await self._check(server, "OAUTHBEARER", user, auth)

    @staticmethod
    async def _initial_response(server, args) -> list[str] | None:  # type: ignore[no-untyped-def]
        raw = b64decode(args[1]) if len(args) > 1 else await server.challenge_auth("")
        if raw is MISSING:
            return None
        return raw.decode("utf-8", "replace").split("\x01")

    async def _check(self, server, mechanism: str, user: str, auth: str) -> AuthResult:  # type: ignore[no-untyped-def]
        token = auth.removeprefix("auth=").removeprefix("Bearer ")
        answer = _introspect(self.introspection_url, token)
        accepted = bool(answer.get("active")) and answer.get("username") == user
        with self.lock:
            self.logins.append((mechanism, user, accepted))
        if accepted:
            return AuthResult(success=True, auth_data=user)
        # The error challenge both mechanisms use; the client answers it (empty, or ^A).
        error = json.dumps({"status": "401", "schemes": "bearer", "scope": "https://mail.example/"})
        await server.challenge_auth(error)
        return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")

    async def handle_MAIL(self, server, session, envelope, address, options) -> str:  # type: ignore[no-untyped-def]  # noqa: N802
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        with self.lock:
            if self.throttle:
                return self.throttle.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    def accepted_logins(self) -> int:
        with self.lock:
            return sum(1 for _, _, accepted in self.logins if accepted)


def _introspect(url: str, token: str) -> dict:
    request = urllib.request.Request(url, data=urlencode({"token": token}).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
