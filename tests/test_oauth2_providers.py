"""The `microsoft` and `google` providers: Microsoft's library (msal, client credentials with a
secret or a certificate) and Google's (google-auth, a service account acting as the program
address), each pointed at the test's loopback endpoints as an operator would point it at a
national cloud (tests/provider_endpoints.py), and each token it gets used to log in to the real
servers: the Dovecot whose oauth2 passdb checks tokens by introspection, and the relay that does
the same (tests/relay.py, `OAuth2Relay`), through `mentormail check-config --connect`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Program
from dovecot_server import Dovecot
from oauth_server import TokenServer
from provider_endpoints import ProviderEndpoints, provider_endpoints  # noqa: F401 - the fixture
from relay import OAuth2Relay

pytestmark = pytest.mark.dovecot

TENANT = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def oauth_relay(oauth_server: TokenServer) -> Iterator[OAuth2Relay]:
    running = OAuth2Relay(oauth_server.introspection_url)
    running.controller.start()
    yield running
    running.controller.stop()


@pytest.fixture(autouse=True)
def trust_the_endpoints(provider_endpoints: ProviderEndpoints, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The libraries' HTTP client (requests) trusts the loopback endpoints' throwaway certificate,
    as a machine behind a company proxy trusts the proxy's: by REQUESTS_CA_BUNDLE."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(provider_endpoints.certificate.cert))


def configure(program: Program, dovecot: Dovecot, relay: OAuth2Relay, mailbox: str, oauth2: str) -> None:
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
{oauth2}
""",
    )


def secret_file(program: Program, name: str, text: str) -> str:
    path = program.root / name
    path.write_text(text + "\n")
    path.chmod(0o600)
    return name


def connect_lines(program: Program) -> tuple[int, list[str], str]:
    result = program.cli("check-config", "--connect", check=False)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(("IMAP ", "SMTP relay "))]
    return result.returncode, lines, result.stdout + result.stderr


def both_logged_in(dovecot: Dovecot, relay: OAuth2Relay, mailbox: str) -> list[str]:
    return [
        f"IMAP {dovecot.host}:{dovecot.port}: OK, logged in as {mailbox} with an OAuth2 token (XOAUTH2), "
        "folder INBOX (0 messages)",
        f"SMTP relay 127.0.0.1:{relay.controller.port}: OK, logged in as {mailbox} with an OAuth2 token (XOAUTH2)",
    ]


def microsoft(endpoints: ProviderEndpoints, client_id: str, credential: str) -> str:
    return f"""provider = "microsoft"
tenant_id = "{TENANT}"
client_id = "{client_id}"
{credential}
authority = "{endpoints.base}"
"""


# --- microsoft (msal) -------------------------------------------------------------------------


def test_microsoft_with_a_client_secret_logs_in_to_both_servers(
    program: Program, dovecot_oauth: Dovecot, oauth_relay: OAuth2Relay, oauth_server: TokenServer,
    provider_endpoints: ProviderEndpoints,  # noqa: F811
) -> None:  # fmt: skip
    mailbox = dovecot_oauth.add_user("mentoring")[0]
    client = oauth_server.add_client(mailbox)
    secret = secret_file(program, "entra-client-secret", client.secret)
    credential = f'client_secret_file = "{secret}"'
    configure(program, dovecot_oauth, oauth_relay, mailbox, microsoft(provider_endpoints, client.client_id, credential))

    code, lines, output = connect_lines(program)

    assert code == 0, output
    assert lines == both_logged_in(dovecot_oauth, oauth_relay, mailbox)
    # msal asked for the configured scope, once per connection (each check is a process of its own).
    assert oauth_server.token_requests(client.client_id) == ["200", "200"]
    assert client.secret not in output


def test_microsoft_with_a_certificate_logs_in_and_a_revoked_one_is_named(
    program: Program, dovecot_oauth: Dovecot, oauth_relay: OAuth2Relay, oauth_server: TokenServer,
    provider_endpoints: ProviderEndpoints,  # noqa: F811
) -> None:  # fmt: skip
    mailbox = dovecot_oauth.add_user("mentoring")[0]
    client, pem, thumbprint = provider_endpoints.add_certificate_client(mailbox, program.root)
    credential = f'certificate_file = "{pem.name}"\nthumbprint = "{thumbprint[:2]}:{thumbprint[2:]}"'
    configure(program, dovecot_oauth, oauth_relay, mailbox, microsoft(provider_endpoints, client.client_id, credential))

    code, lines, output = connect_lines(program)
    assert code == 0, output
    assert lines == both_logged_in(dovecot_oauth, oauth_relay, mailbox)

    oauth_server.revoke(client.client_id)  # the certificate removed from the app registration
    code, lines, output = connect_lines(program)
    assert code == 1
    refused = f"authentication failed for {mailbox} at"
    imap = f"IMAP {dovecot_oauth.host}:{dovecot_oauth.port}"
    assert lines == [
        f"{imap}: FAILED: {refused} {dovecot_oauth.host} (oauth2: invalid_client)",
        f"SMTP relay 127.0.0.1:{oauth_relay.controller.port}: FAILED: {refused} 127.0.0.1 (oauth2: invalid_client)",
    ]
    assert "PRIVATE KEY" not in output


def test_microsoft_settings_want_one_credential_and_a_thumbprint_with_a_certificate(program: Program) -> None:
    program.write_config(extra=f'[oauth2]\nprovider = "microsoft"\ntenant_id = "{TENANT}"\nclient_id = "app"\n')
    assert program.cli("check-config", check=False).stderr.strip() == (
        f"mentormail: {program.config}: oauth2.client_secret_file: or certificate_file: missing (required): "
        "the app's secret or its certificate"
    )
    pem = secret_file(program, "app.pem", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----")
    table = f'[oauth2]\nprovider = "microsoft"\ntenant_id = "{TENANT}"\nclient_id = "app"\ncertificate_file = "{pem}"\n'
    program.write_config(extra=table)
    assert "oauth2.thumbprint: the certificate's SHA-1 thumbprint" in program.cli("check-config", check=False).stderr


# --- google (google-auth) -----------------------------------------------------------------------


def google_service_account(key_file: Path, mailbox: str) -> str:
    return f'provider = "google"\nservice_account_file = "{key_file.name}"\nsubject = "{mailbox}"\n'


def test_google_service_account_acting_as_the_mailbox_logs_in_to_both_servers(
    program: Program, dovecot_oauth: Dovecot, oauth_relay: OAuth2Relay, oauth_server: TokenServer,
    provider_endpoints: ProviderEndpoints,  # noqa: F811
) -> None:  # fmt: skip
    mailbox = dovecot_oauth.add_user("mentoring")[0]
    key_file = provider_endpoints.add_service_account(mailbox, program.root)
    configure(program, dovecot_oauth, oauth_relay, mailbox, google_service_account(key_file, mailbox))

    code, lines, output = connect_lines(program)

    assert code == 0, output
    assert lines == both_logged_in(dovecot_oauth, oauth_relay, mailbox)
    assert "PRIVATE KEY" not in output


def test_google_service_account_without_delegation_is_named_and_its_key_file_must_be_private(
    program: Program, dovecot_oauth: Dovecot, oauth_relay: OAuth2Relay, provider_endpoints: ProviderEndpoints,  # noqa: F811
) -> None:
    mailbox = dovecot_oauth.add_user("mentoring")[0]
    key_file = provider_endpoints.add_service_account(mailbox, program.root, delegated=False)
    configure(program, dovecot_oauth, oauth_relay, mailbox, google_service_account(key_file, mailbox))

    code, lines, _ = connect_lines(program)
    assert code == 1
    assert [line.split(": FAILED: ")[1] for line in lines] == [
        f"authentication failed for {mailbox} at {dovecot_oauth.host} (oauth2: unauthorized_client)",
        f"authentication failed for {mailbox} at 127.0.0.1 (oauth2: unauthorized_client)",
    ]

    key_file.chmod(0o644)
    result = program.cli("check-config", check=False)
    assert result.returncode == 1 and "oauth2.service_account_file:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
