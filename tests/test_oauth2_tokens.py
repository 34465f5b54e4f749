"""Tokens for `auth = "oauth2"` (daemon/auth): the `generic` provider against a real token server
on loopback (tests/oauth_server.py), and `TokenSource`'s cache, whose only stand-in is the clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import free_port
from mentormail.daemon.auth import Token, TokenRefused, TokenSource, TokenUnavailable, token_source
from mentormail.daemon.settings import GenericOAuth2Settings
from oauth_server import ERROR_DESCRIPTION_CANARY, Client, TokenServer


def secret_file(tmp_path: Path, name: str, value: str) -> Path:
    path = tmp_path / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


def generic(tmp_path: Path, server: TokenServer, client: Client, **options: object) -> GenericOAuth2Settings:
    values: dict[str, object] = {
        "table": "oauth2",
        "token_url": server.token_url,
        "client_id": client.client_id,
        "client_secret_file": secret_file(tmp_path, "client-secret", client.secret),
        "scope": "imap smtp",
    }
    return GenericOAuth2Settings(**{**values, **options})  # type: ignore[arg-type]


@pytest.mark.parametrize("client_auth", ["basic", "post"])
def test_client_credentials_get_a_token_that_the_server_accepts(
    tmp_path: Path, oauth_server: TokenServer, client_auth: str
) -> None:
    client = oauth_server.add_client("mentoring@example.org")
    tokens = token_source(generic(tmp_path, oauth_server, client, client_auth=client_auth))
    token = tokens.token()
    assert oauth_server.active(token)
    assert tokens.token() == token  # cached: one request
    assert oauth_server.token_requests(client.client_id) == ["200"]
    assert token not in repr(tokens)


def test_a_refused_token_is_fetched_again_once(tmp_path: Path, oauth_server: TokenServer) -> None:
    client = oauth_server.add_client("mentoring@example.org")
    tokens = token_source(generic(tmp_path, oauth_server, client))
    first = tokens.token()
    tokens.refused(first)
    second = tokens.token()
    assert second != first and tokens.token() == second
    assert oauth_server.token_requests(client.client_id) == ["200", "200"]


def test_a_revoked_client_is_its_error_code_and_nothing_else(tmp_path: Path, oauth_server: TokenServer) -> None:
    client = oauth_server.add_client("mentoring@example.org")
    oauth_server.revoke(client.client_id)
    with pytest.raises(TokenRefused) as refused:
        token_source(generic(tmp_path, oauth_server, client)).token()
    assert str(refused.value) == "oauth2: invalid_client"
    assert ERROR_DESCRIPTION_CANARY not in repr(refused.value)


def test_a_wrong_secret_is_refused_too(tmp_path: Path, oauth_server: TokenServer) -> None:
    client = oauth_server.add_client("mentoring@example.org")
    settings = generic(tmp_path, oauth_server, client, client_secret_file=secret_file(tmp_path, "old", "stale"))
    with pytest.raises(TokenRefused, match="^oauth2: invalid_client$"):
        token_source(settings).token()


def test_a_refresh_token_grant_and_a_rotated_refresh_token_kept_private(
    tmp_path: Path, oauth_server: TokenServer
) -> None:
    client = oauth_server.add_client("mentoring@example.org", refresh_token=True)
    client.rotate_refresh_token = True
    assert client.refresh_token is not None
    stored = secret_file(tmp_path, "refresh-token", client.refresh_token)
    settings = generic(tmp_path, oauth_server, client, grant="refresh_token", refresh_token_file=stored)
    token = token_source(settings).token()
    assert oauth_server.active(token)
    # The server gave a new refresh token (the old one is dead): it replaced the old in the file.
    assert stored.read_text().strip() == client.refresh_token
    assert stored.stat().st_mode & 0o777 == 0o600
    assert token_source(settings).token() != token  # and it works


def test_a_refresh_token_the_server_does_not_know(tmp_path: Path, oauth_server: TokenServer) -> None:
    client = oauth_server.add_client("mentoring@example.org", refresh_token=True)
    stored = secret_file(tmp_path, "refresh-token", "withdrawn")
    settings = generic(tmp_path, oauth_server, client, grant="refresh_token", refresh_token_file=stored)
    with pytest.raises(TokenRefused, match="^oauth2: invalid_grant$"):
        token_source(settings).token()


def test_an_endpoint_that_cannot_be_reached_is_temporary(tmp_path: Path, oauth_server: TokenServer) -> None:
    client = oauth_server.add_client("mentoring@example.org")
    settings = generic(tmp_path, oauth_server, client, token_url=f"http://127.0.0.1:{free_port()}/token")
    with pytest.raises(TokenUnavailable, match=r"^oauth2: cannot reach the token endpoint at 127\.0\.0\.1 \(.+\)$"):
        token_source(settings).token()


def test_a_secret_file_made_readable_since_the_start_is_refused_at_the_fetch(
    tmp_path: Path, oauth_server: TokenServer
) -> None:
    client = oauth_server.add_client("mentoring@example.org")
    settings = generic(tmp_path, oauth_server, client)
    assert settings.client_secret_file is not None
    settings.client_secret_file.chmod(0o644)
    with pytest.raises(TokenRefused, match=r"^oauth2: .*client-secret has mode 0644; it must be 0600"):
        token_source(settings).token()
    assert oauth_server.token_requests(client.client_id) == []  # the secret was not sent


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting(lifetimes: list[float | None]) -> tuple[list[str], TokenSource, Clock]:
    """A source over a provider that issues token-1, token-2, ... with the given lifetimes."""
    issued: list[str] = []

    def fetch() -> Token:
        issued.append(f"token-{len(issued) + 1}")
        return Token(issued[-1], lifetimes[len(issued) - 1])

    clock = Clock()
    return issued, TokenSource(fetch, clock=clock), clock


def test_a_token_is_renewed_a_margin_before_it_expires() -> None:
    issued, tokens, clock = counting([3600, 3600])
    assert tokens.token() == "token-1"
    clock.now += 3600 - 301  # five minutes and a second before the end: still good
    assert tokens.token() == "token-1"
    clock.now += 2  # inside the last five minutes: a new one
    assert tokens.token() == "token-2"
    assert issued == ["token-1", "token-2"]


def test_a_short_lived_token_is_used_for_most_of_its_life() -> None:
    issued, tokens, clock = counting([10, 10])
    tokens.token()
    clock.now += 8.9  # a tenth of ten seconds is the margin
    assert tokens.token() == "token-1"
    clock.now += 0.2
    assert tokens.token() == "token-2"


def test_without_expires_in_a_token_lasts_an_hour_or_until_refused() -> None:
    issued, tokens, clock = counting([None, None, None])
    tokens.token()
    clock.now += 3000
    assert tokens.token() == "token-1"
    tokens.refused()
    assert tokens.token() == "token-2"
    clock.now += 3600
    assert tokens.token() == "token-3"


def test_a_refusal_of_an_older_token_keeps_the_newer_one() -> None:
    issued, tokens, _ = counting([3600, 3600])
    old = tokens.token()
    tokens.refused(old)
    new = tokens.token()
    tokens.refused(old)  # another connection's late report about the old token
    assert tokens.token() == new
    assert issued == ["token-1", "token-2"]
