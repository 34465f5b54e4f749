"""Bearer tokens for `auth = "oauth2"`: fetched from a provider, kept in memory, never shown.

A `TokenSource` hands out the current access token (`token()`), fetching one through its
provider's `Fetch` when it has none or the one it has is about to expire, and forgets it when a
server refused it (`refused()`), so that the next `token()` fetches a fresh one, once. It does not
pace refusals itself: the transport that signs in does (IMAP: the watcher's login backoff,
`auth_retry_seconds` doubling to an hour; SMTP: delivery's retries), since it knows whether a
refusal is a session's first or the tenth in a row.

Tokens live in this process only, never in the store, a file or a log: a token is as good as the
mailbox's password for its lifetime (an hour at Microsoft and Google), and fetching one costs a
single HTTPS request, so there is nothing worth keeping across restarts.

What goes wrong becomes a `TokenError` whose text is one line an operator can act on, made only of
the provider's OAuth error code (`oauth2: invalid_client`) or an HTTP status or a network reason:
an endpoint's response body can echo the request, and the request holds the secret.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# A token is renewed this long before the end of its lifetime, so that one handed out is still good
# when the server checks it (the login's round trips, a clock a little fast)...
REFRESH_MARGIN = 300.0
# ... but never more than this part of its lifetime, so that a short-lived token is still used.
REFRESH_MARGIN_SHARE = 0.1
# When the endpoint does not say how long a token lasts (`expires_in` is only RECOMMENDED by
# RFC 6749): as long as the big providers' tokens last. A refusal before then renews it anyway.
DEFAULT_LIFETIME = 3600.0


class TokenError(Exception):
    """No token: str() is one line starting `oauth2: `, safe to log."""


class TokenRefused(TokenError):
    """The provider refused the client or its grant (`invalid_client`, `invalid_grant`, ...):
    the configuration or the app's registration is wrong, and asking again soon will not help,
    so callers treat it as a refused login and back off."""


class TokenUnavailable(TokenError):
    """The endpoint could not be reached or failed (network, HTTP 5xx, an answer without a
    token): temporary, retried like a dropped connection."""


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_in: float | None = None  # seconds from when it was fetched, as the endpoint said


# A provider's way of getting a new token: one request to its endpoint (or its library's call).
# Raises TokenRefused or TokenUnavailable, never anything carrying a secret in its text.
Fetch = Callable[[], Token]


class TokenSource:
    """The current token of one provider's client, for one or more connections (thread-safe)."""

    def __init__(self, fetch: Fetch, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self.fetches = 0  # tokens fetched so far: whether the one handed out is new

    def __repr__(self) -> str:
        return f"TokenSource(cached={self._token is not None})"

    def token(self) -> str:
        """A token good for a login now: the cached one, or a new one fetched (one request)."""
        with self._lock:  # two connections needing one at once fetch it once
            if self._token is None or self._clock() >= self._renew_at:
                self._token = None
                fetched_at = self._clock()
                token = self._fetch()
                self.fetches += 1
                lifetime = token.expires_in if token.expires_in and token.expires_in > 0 else DEFAULT_LIFETIME
                self._renew_at = fetched_at + lifetime - min(REFRESH_MARGIN, lifetime * REFRESH_MARGIN_SHARE)
                self._token = token.value
            return self._token

    def refused(self, token: str | None = None) -> None:
        """The server refused the token last handed out (or `token`): forget it (revoked, expired
        early), so that the next `token()` fetches. Given the refused token, a newer one another
        connection has fetched meanwhile is kept."""
        with self._lock:
            if token is None or token == self._token:
                self._token = None


def write_secret_file(path: Path, value: str) -> None:
    """Write a secret (a refresh token) in place of `path`'s: to a 0600 file beside it, renamed over
    it, so that it is never readable by others and never half written."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(value + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
