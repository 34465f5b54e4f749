"""IMAP intake signing in with OAuth2 bearer tokens (`auth = "oauth2"`), as on Microsoft 365 and
Google Workspace, against real servers: a Dovecot whose oauth2 passdb checks every token at the
test's token server by introspection (tests/dovecot_server.py, `dovecot_oauth`), and that token
server (tests/oauth_server.py), which issues the tokens the daemon asks for by the client
credentials grant, and counts, expires and revokes them.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from conftest import PROGRAM_ADDRESS, Daemon, Program, free_port, message, wait_until
from dovecot_server import Dovecot
from mentormail.daemon.auth import OAUTHBEARER, XOAUTH2, Exchange, choose
from oauth_server import ERROR_DESCRIPTION_CANARY, Client, TokenServer, serving

pytestmark = pytest.mark.dovecot


def use_mailbox(
    program: Program, dovecot: Dovecot, server: TokenServer, *, lifetime: float = 3600, imap_options: str = ""
) -> tuple[tuple[str, str], Client]:
    """A mailbox of its own, read by the daemon with the tokens of a client of its own. The
    password is the test's, to put mail in and look at the folder; the daemon never has it."""
    account = dovecot.add_user("mentoring")
    client = server.add_client(account[0], lifetime=lifetime)
    secret = program.root / "oauth2-client-secret"
    secret.write_text(client.secret + "\n")
    secret.chmod(0o600)
    program.write_config(
        extra=f"""
[intake.imap]
enabled = true
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{account[0]}"
auth = "oauth2"
{imap_options}

[oauth2]
provider = "generic"
token_url = "{server.token_url}"
client_id = "{client.client_id}"
client_secret_file = "oauth2-client-secret"
scope = "imap"
"""
    )
    return account, client


def append(dovecot: Dovecot, account: tuple[str, str], *raws: bytes) -> None:
    with dovecot.client(*account) as client:
        for raw in raws:
            client.append("INBOX", raw)


def inbox_count(dovecot: Dovecot, account: tuple[str, str]) -> int:
    with dovecot.client(*account) as client:
        return client.select_folder("INBOX", readonly=True)[b"EXISTS"]


def total_contacts(program: Program) -> int:
    return sum(a + b for a, b in program.contacts().values())


def logins(dovecot: Dovecot, username: str) -> list[str]:
    """The SASL mechanism of each of the user's logins, from Dovecot's log."""
    return re.findall(rf"Login: user=<{re.escape(username)}>, method=([A-Z0-9-]+)", dovecot.log_text())


def test_catch_up_and_idle_over_xoauth2(
    program: Program, daemon: Daemon, dovecot_oauth: Dovecot, oauth_server: TokenServer
) -> None:
    account, client = use_mailbox(program, dovecot_oauth, oauth_server)
    # Arrived while the daemon was down: the catch-up reads it.
    append(
        dovecot_oauth,
        account,
        message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]).as_bytes(),
        message("eve@example.com", ["dev@example.org"]).as_bytes(),  # a BCC copy
    )
    daemon.start()
    wait_until(lambda: total_contacts(program) == 2, timeout=120)
    # Arrives while the daemon idles: IDLE brings it in.
    append(dovecot_oauth, account, message("cleo@example.net", ["ana@example.org"], [PROGRAM_ADDRESS]).as_bytes())
    wait_until(lambda: total_contacts(program) == 3, timeout=120)
    wait_until(lambda: inbox_count(dovecot_oauth, account) == 0, timeout=120)
    assert daemon.stop() == 0
    assert program.contacts() == {"p1": (1, 0), "p2": (0, 1), "p3": (0, 1)}
    # It signed in once, with XOAUTH2 (offered with OAUTHBEARER: the providers' own), with one token.
    assert "XOAUTH2" in logins(dovecot_oauth, account[0])
    assert oauth_server.token_requests(client.client_id) == ["200"]
    # The token is never in the log, nor the client's secret.
    (token,) = oauth_server.tokens_of(client.client_id)
    assert token not in daemon.log() and client.secret not in daemon.log()


def test_a_token_that_expires_during_idle_is_renewed_when_the_watcher_signs_in_again(
    program: Program, daemon: Daemon, dovecot_oauth: Dovecot, oauth_server: TokenServer
) -> None:
    """Dovecot, like the providers' servers, checks a token at login only; the session outlives
    it. When the server ends the session (an administrator's kick here), the watcher signs in
    again with a new token, fetched because the old one has expired, not after a refusal."""
    account, client = use_mailbox(program, dovecot_oauth, oauth_server, lifetime=3)
    daemon.start()
    append(dovecot_oauth, account, message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]).as_bytes())
    wait_until(lambda: total_contacts(program) == 1, timeout=120)
    (first,) = oauth_server.tokens_of(client.client_id)
    # Let the token expire while the daemon idles, then end the session.
    wait_until(lambda: not oauth_server.active(first), timeout=30)
    dovecot_oauth.kick(account[0])
    append(dovecot_oauth, account, message("ben@example.net", ["ana@example.org"], [PROGRAM_ADDRESS]).as_bytes())
    wait_until(lambda: total_contacts(program) == 2, timeout=120)
    assert daemon.stop() == 0
    tokens = oauth_server.tokens_of(client.client_id)
    assert len(tokens) == 2 and tokens[0] == first
    # Each login showed Dovecot a good token: the expired one was never tried.
    assert oauth_server.introspected(tokens) == [(tokens[0], True), (tokens[1], True)]
    assert "authentication failed" not in daemon.log()


def test_a_token_refused_by_the_server_is_replaced_at_once(
    program: Program, daemon: Daemon, dovecot_oauth: Dovecot, oauth_server: TokenServer
) -> None:
    """A token revoked before its time (a password reset, an administrator's sign-out) is refused
    at the next login; the watcher forgets it and signs in with a new one straight away, without
    waiting out the login backoff and without an error in the log."""
    account, client = use_mailbox(program, dovecot_oauth, oauth_server, imap_options="auth_retry_seconds = 3600")
    daemon.start()
    append(dovecot_oauth, account, message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]).as_bytes())
    wait_until(lambda: total_contacts(program) == 1, timeout=120)
    oauth_server.revoke_tokens(client.client_id)
    dovecot_oauth.kick(account[0])
    append(dovecot_oauth, account, message("ben@example.net", ["ana@example.org"], [PROGRAM_ADDRESS]).as_bytes())
    wait_until(lambda: total_contacts(program) == 2, timeout=120)  # an hour's backoff would fail this
    assert daemon.stop() == 0
    first, second = oauth_server.tokens_of(client.client_id)
    assert oauth_server.introspected([first, second]) == [(first, True), (first, False), (second, True)]
    assert "authentication failed" not in daemon.log()


_REFUSAL = re.compile(r"(\S+ \S+) ERROR mentormail\.imap: authentication failed .*; next try in (\S+ \S+)")


def _refusals(log: str) -> list[tuple[datetime, str]]:
    """(when, the announced wait) of each refused-login line."""
    found = []
    for line in log.splitlines():
        if match := re.match(
            r"(\S+ \S+) ERROR mentormail\.imap: authentication failed .*; next try in (\S+ \S+)", line
        ):
            found.append((datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f"), match[2]))
    return found


def test_a_revoked_client_is_named_in_the_log_and_its_logins_back_off(
    program: Program, daemon: Daemon, dovecot_oauth: Dovecot, oauth_server: TokenServer
) -> None:
    account, client = use_mailbox(program, dovecot_oauth, oauth_server, imap_options="auth_retry_seconds = 1")
    oauth_server.revoke(client.client_id)
    append(dovecot_oauth, account, message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]).as_bytes())
    daemon.start()
    wait_until(lambda: len(_refusals(daemon.log())) >= 4, timeout=120)
    log = daemon.log()
    line = f"authentication failed for {account[0]} at {dovecot_oauth.host} (oauth2: invalid_client); next try in 1 s"
    assert line in log
    refusals = _refusals(log)[:4]
    # Each wait twice the one before, and really waited: not a retry every few seconds.
    assert [wait for _, wait in refusals] == ["1 s", "2 s", "4 s", "8 s"]
    for (before, wait), (after, _) in zip(refusals, refusals[1:]):
        assert (after - before).total_seconds() >= float(wait.split()[0])
    # One token request per try (nothing hammers the token endpoint), and the endpoint's own words
    # (which may quote the request) are not repeated.
    assert len(oauth_server.token_requests(client.client_id)) in (len(_refusals(log)), len(_refusals(log)) + 1)
    assert ERROR_DESCRIPTION_CANARY not in log and client.secret not in log
    # The client is allowed again: the next try signs in and the mail is read.
    oauth_server.clients[client.client_id].revoked = False
    wait_until(lambda: total_contacts(program) == 1, timeout=120)
    assert daemon.stop() == 0


def test_a_token_endpoint_that_is_down_is_a_dropped_connection_not_a_refusal(
    program: Program, daemon: Daemon, dovecot_oauth: Dovecot, oauth_server: TokenServer
) -> None:
    """The provider's endpoint unreachable says nothing about the credentials: the watcher tries
    again within seconds, as after a dropped connection, and signs in once the endpoint is back."""
    account, client = use_mailbox(program, dovecot_oauth, oauth_server, imap_options="auth_retry_seconds = 3600")
    port = free_port()
    program.write_config(extra=program.extra_config.replace(oauth_server.token_url, f"http://127.0.0.1:{port}/token"))
    append(dovecot_oauth, account, message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]).as_bytes())
    daemon.start()
    unreachable = "ended: oauth2: cannot reach the token endpoint at 127.0.0.1 (connection refused)"
    wait_until(lambda: daemon.log().count(unreachable) >= 2, timeout=120)
    with serving(oauth_server, port):
        wait_until(lambda: total_contacts(program) == 1, timeout=120)  # an hour's backoff would fail this
    assert daemon.stop() == 0
    assert "authentication failed" not in daemon.log()
    assert oauth_server.token_requests(client.client_id) == ["200"]


def test_check_config_connect_signs_in_with_a_token(
    program: Program, dovecot_oauth: Dovecot, oauth_server: TokenServer
) -> None:
    account, client = use_mailbox(program, dovecot_oauth, oauth_server)
    where = f"IMAP {dovecot_oauth.host}:{dovecot_oauth.port}"
    result = program.cli("check-config", "--connect")
    ok = f"{where}: OK, logged in as {account[0]} with an OAuth2 token (XOAUTH2), folder INBOX (0 messages)"
    assert ok in result.stdout.splitlines()
    oauth_server.revoke(client.client_id)
    result = program.cli("check-config", "--connect", check=False)
    assert result.returncode == 1
    line = f"{where}: FAILED: authentication failed for {account[0]} at {dovecot_oauth.host} (oauth2: invalid_client)"
    assert line in result.stdout.splitlines()
    assert ERROR_DESCRIPTION_CANARY not in result.stdout + result.stderr


def test_a_client_secret_that_others_can_read_is_refused(
    program: Program, dovecot_oauth: Dovecot, oauth_server: TokenServer
) -> None:
    use_mailbox(program, dovecot_oauth, oauth_server)
    secret = program.root / "oauth2-client-secret"
    secret.chmod(0o644)
    for command in (["check-config"], ["run"]):
        result = program.cli(*command, check=False)
        assert result.returncode == 1
        assert result.stderr.strip().endswith(
            f"oauth2.client_secret_file: {secret} has mode 0644; it must be 0600 (chmod 600 {secret})"
        ), result.stderr


@pytest.mark.parametrize("mechanism", [XOAUTH2, OAUTHBEARER])
def test_each_exchange_signs_in_and_a_refused_one_ends_cleanly(
    mechanism: str, dovecot_oauth: Dovecot, oauth_server: TokenServer
) -> None:
    """The SASL strings IMAP and SMTP share, against Dovecot's own implementation of both: a good
    token signs in; a bad one is refused with the mechanism's error exchange completed, and the
    same connection can sign in after it."""
    from imapclient import IMAPClient
    from imapclient.exceptions import LoginError

    username, _ = dovecot_oauth.add_user("mentoring")
    client = oauth_server.add_client(username)
    _, answer = oauth_server.answer_token(
        {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": client.secret}, None
    )
    server = (dovecot_oauth.host, dovecot_oauth.port)
    imap = IMAPClient(dovecot_oauth.host, port=dovecot_oauth.port, ssl=False, timeout=120)
    try:
        with pytest.raises(LoginError):
            imap.sasl_login(mechanism, Exchange(mechanism, username, "not-a-token", *server))
        imap.sasl_login(mechanism, Exchange(mechanism, username, str(answer["access_token"]), *server))
        assert imap.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0
    finally:
        imap.shutdown()
    assert logins(dovecot_oauth, username) == [mechanism]


def test_the_mechanism_is_xoauth2_unless_the_server_offers_only_oauthbearer() -> None:
    assert choose(["XOAUTH2", "OAUTHBEARER", "PLAIN"]) == XOAUTH2
    assert choose(["oauthbearer", "PLAIN"]) == OAUTHBEARER
    assert choose(["PLAIN"]) == XOAUTH2  # then refused by the login as not offered
    assert choose([]) == XOAUTH2
