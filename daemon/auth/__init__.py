"""Signing in to mail servers with OAuth 2.0 bearer tokens (`auth = "oauth2"`), for IMAP intake
and SMTP delivery alike: `oauth2.py` (tokens kept in memory, `TokenSource`), `providers.py` (a
fetcher per provider: `generic.py`, ...), `sasl.py` (the XOAUTH2 and OAUTHBEARER exchanges)."""

from .oauth2 import Token, TokenError, TokenRefused, TokenSource, TokenUnavailable
from .providers import FETCHERS, token_source
from .sasl import OAUTHBEARER, XOAUTH2, Exchange, choose

__all__ = [
    "FETCHERS",
    "OAUTHBEARER",
    "XOAUTH2",
    "Exchange",
    "Token",
    "TokenError",
    "TokenRefused",
    "TokenSource",
    "TokenUnavailable",
    "choose",
    "token_source",
]
