"""The SASL exchanges that carry a bearer token, for IMAP (AUTHENTICATE) and SMTP (AUTH) alike.

- XOAUTH2 (Google's, also Microsoft's): `user=USER ^A auth=Bearer TOKEN ^A ^A`. A refusal comes
  as a challenge holding a JSON error, to which the client answers with an empty line.
- OAUTHBEARER (RFC 7628): a GS2 header naming the user, then `host`, `port` and `auth` as
  key-value pairs, each ended by ^A, and a final ^A. A refusal is a challenge holding a JSON error,
  to which the client MUST answer with a single ^A (RFC 7628 3.2.3), and the server then fails
  the exchange.

The transports base64 the strings themselves (imaplib, smtplib); these are the strings before
that. Each `Exchange` answers the first challenge with the client's message and any later one
(the error) with what the mechanism prescribes, so both libraries' callback styles fit: imaplib
calls it with the server's challenge, smtplib first with None (the initial response) and then
with each challenge. Strings, not bytes: smtplib encodes what it is given as ASCII, imaplib
accepts either.
"""

from __future__ import annotations

from collections.abc import Iterable

XOAUTH2 = "XOAUTH2"
OAUTHBEARER = "OAUTHBEARER"

_CTRL_A = "\x01"


def xoauth2(user: str, token: str) -> str:
    return f"user={user}{_CTRL_A}auth=Bearer {token}{_CTRL_A}{_CTRL_A}"


def oauthbearer(user: str, token: str, host: str, port: int) -> str:
    # RFC 5801's saslname: "," and "=" in the authorization identity are escaped.
    identity = user.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={identity},{_CTRL_A}host={host}{_CTRL_A}port={port}{_CTRL_A}auth=Bearer {token}{_CTRL_A}{_CTRL_A}"


class Exchange:
    """One SASL exchange of `mechanism`: a callable for imaplib's and smtplib's AUTH."""

    def __init__(self, mechanism: str, user: str, token: str, host: str, port: int) -> None:
        if mechanism == XOAUTH2:
            self._message, self._after_error = xoauth2(user, token), ""
        elif mechanism == OAUTHBEARER:
            self._message, self._after_error = oauthbearer(user, token, host, port), _CTRL_A
        else:
            raise ValueError(f"not a bearer-token mechanism: {mechanism}")
        self.mechanism = mechanism
        self._sent = False

    def __repr__(self) -> str:  # never the token
        return f"Exchange({self.mechanism})"

    def __call__(self, challenge: bytes | None = None) -> str:
        if self._sent:
            return self._after_error  # the server's JSON error: acknowledge, and it fails the exchange
        self._sent = True
        return self._message


def choose(offered: Iterable[str]) -> str:
    """The mechanism to use given the server's advertised ones (`AUTH=...` names, any case):
    XOAUTH2, which Microsoft and Google both run, unless the server offers only OAUTHBEARER, the
    standard one. With neither advertised XOAUTH2 is tried: some servers list AUTH only after TLS."""
    names = {name.upper() for name in offered}
    return OAUTHBEARER if OAUTHBEARER in names and XOAUTH2 not in names else XOAUTH2
