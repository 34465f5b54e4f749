"""The token fetchers by provider: a row per `provider = "..."` of the `[oauth2]` tables.

A provider is a settings class (`daemon/settings/oauth2.py`, with the keys its table takes) and,
here, the function that makes its `Fetch` from those settings, in a module of its own beside this
one (`generic.py`). `token_source` is what the transports call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..settings import OAuth2Settings
from . import generic, google, microsoft
from .oauth2 import Fetch, TokenSource

# provider name -> (its settings) -> Fetch
FETCHERS: dict[str, Callable[[Any], Fetch]] = {
    "generic": generic.fetcher,
    "microsoft": microsoft.fetcher,
    "google": google.fetcher,
}


def token_source(settings: OAuth2Settings) -> TokenSource:
    """A new source of tokens (an empty cache) for a section's oauth2 settings."""
    return TokenSource(FETCHERS[settings.provider](settings))
