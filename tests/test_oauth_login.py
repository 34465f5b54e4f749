"""`mentormail oauth-login`: the installed-app loopback flow that gets a Google Workspace mailbox's
refresh token once. The command prints the address to open; the test follows it as a browser
would (urllib, following the authorization endpoint's redirect back to the command's loopback
listener); the command exchanges the code (PKCE) at the token endpoint and writes the refresh
token, mode 0600. Then the daemon's `google` provider trades that refresh token for access
tokens that log in to the real Dovecot and relay (`check-config --connect`).

The authorization and token endpoints are the loopback ones of tests/provider_endpoints.py.
"""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
import urllib.request
from collections.abc import Iterator

import pytest
from conftest import MENTORMAIL, Program
from dovecot_server import Dovecot
from oauth_server import Client, TokenServer
from provider_endpoints import ProviderEndpoints, provider_endpoints  # noqa: F401 - the fixture
from relay import OAuth2Relay

pytestmark = pytest.mark.dovecot


@pytest.fixture
def oauth_relay(oauth_server: TokenServer) -> Iterator[OAuth2Relay]:
    running = OAuth2Relay(oauth_server.introspection_url)
    running.controller.start()
    yield running
    running.controller.stop()


@pytest.fixture(autouse=True)
def trust_the_endpoints(provider_endpoints: ProviderEndpoints, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    # The command's token request (urllib: OpenSSL's CA file) and google-auth's (requests).
    monkeypatch.setenv("SSL_CERT_FILE", str(provider_endpoints.certificate.cert))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(provider_endpoints.certificate.cert))


def configure(
    program: Program, dovecot: Dovecot, relay: OAuth2Relay, mailbox: str, client: Client, token_url: str
) -> None:
    secret = program.root / "google-client-secret"
    secret.write_text(client.secret + "\n")
    secret.chmod(0o600)
    program.write_config(
        delivery_options='backend = "smtp"',
        extra=f"""
[intake.imap]
enabled = true
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{mailbox}"
auth = "oauth2"

[delivery.smtp]
host = "127.0.0.1"
port = {relay.controller.port}
security = "none"
username = "{mailbox}"
auth = "oauth2"

[oauth2]
provider = "google"
client_id = "{client.client_id}"
client_secret_file = "google-client-secret"
refresh_token_file = "google-refresh-token"
token_url = "{token_url}"
""",
    )


def oauth_login(program: Program, authorize_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*MENTORMAIL, "-c", str(program.config), "oauth-login", "--authorize-url", authorize_url, "--timeout", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=program.root,
    )  # fmt: skip


def follow_as_a_browser(url: str, endpoints: ProviderEndpoints) -> str:
    """Open the printed address; the consent screen sends the browser back to the command."""
    context = ssl.create_default_context(cafile=str(endpoints.certificate.cert))
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    with opener.open(url, timeout=120) as page:
        return page.read().decode()


def test_oauth_login_writes_a_private_refresh_token_that_then_logs_in_to_both_servers(
    program: Program, dovecot_oauth: Dovecot, oauth_relay: OAuth2Relay, oauth_server: TokenServer,
    provider_endpoints: ProviderEndpoints,  # noqa: F811
) -> None:  # fmt: skip
    mailbox = dovecot_oauth.add_user("mentoring")[0]
    client = oauth_server.add_client(mailbox, refresh_token=True)
    configure(program, dovecot_oauth, oauth_relay, mailbox, client, provider_endpoints.google_token_url)
    assert program.cli("check-config", check=False).returncode == 1  # no refresh token yet

    command = oauth_login(program, provider_endpoints.authorize_url)
    assert command.stdout is not None
    assert command.stdout.readline().startswith("Open this address in a browser")
    url = command.stdout.readline().strip()
    assert url.startswith(provider_endpoints.authorize_url + "?") and "code_challenge_method=S256" in url
    assert "Signed in: you can close this window." in follow_as_a_browser(url, provider_endpoints)
    out, err = command.communicate(timeout=120)

    assert command.returncode == 0, err
    written = program.root / "google-refresh-token"
    assert out.strip() == (
        f"refresh token written to {written} (mode 0600); check it with: mentormail check-config --connect"
    )
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
    assert written.read_text().strip() == client.refresh_token
    assert client.refresh_token not in out + err and client.secret not in out + err

    result = program.cli("check-config", "--connect", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith(("IMAP ", "SMTP "))] == [
        f"OK, logged in as {mailbox} with an OAuth2 token (XOAUTH2), folder INBOX (0 messages)",
        f"OK, logged in as {mailbox} with an OAuth2 token (XOAUTH2)",
    ]
    # The refresh-token grant at the token endpoint, once per login (two processes, one each).
    assert oauth_server.token_requests(client.client_id).count("200") == 3  # the code, then IMAP's and SMTP's


def test_oauth_login_refuses_a_table_without_a_refresh_token_in_one_line(
    program: Program, provider_endpoints: ProviderEndpoints  # noqa: F811
) -> None:
    microsoft = '[oauth2]\nprovider = "microsoft"\ntenant_id = "t"\nclient_id = "c"\nclient_secret_file = "s"\n'
    program.write_config(extra=microsoft)
    result = program.cli("oauth-login", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "mentormail: oauth-login: [oauth2] does not sign in with a refresh token: oauth-login is for provider = "
        '"google" with refresh_token_file, or provider = "generic" with grant = "refresh_token"'
    )
