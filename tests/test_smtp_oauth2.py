"""SMTP delivery signing in with OAuth2 bearer tokens (`[delivery.smtp] auth = "oauth2"`), as
Exchange Online and Gmail require, against real servers: an aiosmtpd relay that lets in only a
client whose AUTH XOAUTH2 / OAUTHBEARER token the test's token server says is active
(tests/relay.py, `OAuth2Relay`, checking by introspection), and that token server
(tests/oauth_server.py), which issues, counts and revokes the tokens.

The daemon runs for real where the clock can be its own; where retries minutes apart must pass,
delivery runs in the test's process on a virtual clock (the backend's pause after a refused login
included), with the same relay and token server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from conftest import PROGRAM_ADDRESS, Daemon, Program, wait_until
from mentormail.daemon.mail.backends import SmtpBackend
from mentormail.daemon.mail.delivery import Deliverer
from mentormail.daemon.mail.scheduler import ProgramMail
from mentormail.daemon.service import open_store
from mentormail.daemon.settings import load_settings
from oauth_server import ERROR_DESCRIPTION_CANARY, Client, TokenServer
from relay import OAuth2Relay

FIRST_MORNING = datetime(2026, 9, 1, 15, tzinfo=timezone.utc)  # the test round's first day, 10:00 in Chicago


@pytest.fixture
def oauth_relay(oauth_server: TokenServer) -> Iterator[OAuth2Relay]:
    running = OAuth2Relay(oauth_server.introspection_url)
    running.controller.start()
    yield running
    running.controller.stop()


def send_with_tokens(program: Program, relay: OAuth2Relay, server: TokenServer, *, schedule: str = "") -> Client:
    """The program's relay is `relay`, signed in to as the program address with the tokens of a
    client of its own (the generic provider, client credentials)."""
    client = server.add_client(PROGRAM_ADDRESS)
    secret = program.root / "oauth2-client-secret"
    secret.write_text(client.secret + "\n")
    secret.chmod(0o600)
    program.write_config(
        delivery_options='backend = "smtp"',
        extra=f"""
[delivery.smtp]
host = "127.0.0.1"
port = {relay.controller.port}
security = "none"
username = "{PROGRAM_ADDRESS}"
auth = "oauth2"

[oauth2]
provider = "generic"
token_url = "{server.token_url}"
client_id = "{client.client_id}"
client_secret_file = "oauth2-client-secret"
scope = "smtp"

[schedule]
send_time = "00:00"
planner_interval_minutes = 1
{schedule}
""",
    )
    return client


def message_ids(relay: OAuth2Relay) -> Counter[str]:
    with relay.lock:
        raws = [raw for _, _, raw in relay.received]
    return Counter(str(message_from_bytes(raw, policy=policy.default)["Message-ID"]) for raw in raws)


def allow_again(server: TokenServer, client: Client) -> None:
    """The administrator mends the app registration: the client gets tokens again."""
    with server._lock:
        client.revoked = False


class Clock:
    """The backend's monotonic clock, moved by the test with its virtual `now`."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def in_process(program: Program, clock: Clock) -> ProgramMail:
    settings = load_settings(program.config)
    store = open_store(settings)
    backend = SmtpBackend(settings.delivery.smtp, timeout=60, first_retry=60, clock=clock)
    return ProgramMail(store, settings, Deliverer.configured(store, backend, settings.schedule))


def outbox_statuses(program: Program) -> dict[str, int]:
    return dict(program.sql("SELECT status, count(*) FROM outboxmessage GROUP BY status"))


# --- the daemon ---------------------------------------------------------------------------------


def test_the_daemon_delivers_its_outbox_over_xoauth2_with_one_token(
    program: Program, daemon: Daemon, oauth_relay: OAuth2Relay, oauth_server: TokenServer
) -> None:
    client = send_with_tokens(program, oauth_relay, oauth_server)

    daemon.start()
    wait_until(lambda: set(outbox_statuses(program)) == {"sent"}, 120)
    sent = outbox_statuses(program)["sent"]
    wait_until(lambda: len(message_ids(oauth_relay)) == sent, 60)
    assert daemon.stop() == 0

    assert set(message_ids(oauth_relay).values()) == {1}  # each mail once
    assert outbox_statuses(program) == {"sent": sent}
    logins = oauth_relay.logins
    assert logins and all(login == ("XOAUTH2", PROGRAM_ADDRESS, True) for login in logins)
    assert oauth_server.token_requests(client.client_id) == ["200"]  # kept in memory, not fetched per mail
    # The token and the client's secret are nowhere in what the daemon wrote.
    written = daemon.log() + "".join(
        path.read_text(errors="replace") for path in program.root.rglob("*") if path.is_file() and path.suffix != ".db"
    )
    for token in oauth_server.tokens_of(client.client_id):
        assert token not in written
    assert client.secret not in daemon.log()


def test_check_config_connect_proves_the_token_login_and_names_a_refused_client(
    program: Program, oauth_relay: OAuth2Relay, oauth_server: TokenServer
) -> None:
    client = send_with_tokens(program, oauth_relay, oauth_server)

    result = program.cli("check-config", "--connect", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    relay_line = f"SMTP relay 127.0.0.1:{oauth_relay.controller.port}: "
    logged_in = relay_line + f"OK, logged in as {PROGRAM_ADDRESS} with an OAuth2 token (XOAUTH2)"
    assert logged_in in result.stdout.splitlines()
    assert oauth_relay.logins == [("XOAUTH2", PROGRAM_ADDRESS, True)]

    oauth_server.revoke(client.client_id)
    result = program.cli("check-config", "--connect", check=False)
    assert result.returncode == 1
    assert (
        relay_line + f"FAILED: authentication failed for {PROGRAM_ADDRESS} at 127.0.0.1 (oauth2: invalid_client)"
    ) in result.stdout.splitlines()
    assert ERROR_DESCRIPTION_CANARY not in result.stdout + result.stderr
    assert client.secret not in result.stdout + result.stderr and "Traceback" not in result.stderr


# --- refused tokens: nothing lost -------------------------------------------------------------


def test_a_revoked_token_is_replaced_once_and_the_mail_goes(
    program: Program, oauth_relay: OAuth2Relay, oauth_server: TokenServer
) -> None:
    client = send_with_tokens(program, oauth_relay, oauth_server)
    mail = in_process(program, Clock())
    try:
        keys = mail.plan(FIRST_MORNING)
        assert mail.deliverer.deliver_due(FIRST_MORNING).sent == len(keys)
        mail.deliverer.backend.close()  # the next mail opens a new connection, with the cached token
        oauth_server.revoke_tokens(client.client_id)  # e.g. the mailbox's sessions revoked by an admin

        later = FIRST_MORNING + timedelta(days=8)  # the intro reminders: no pair has written yet
        more = mail.plan(later)
        assert more and mail.deliverer.deliver_due(later).sent == len(more)
    finally:
        mail.close()
    # The refused token was forgotten and a new one fetched at once: one refusal, no mail waiting.
    assert oauth_relay.logins == [("XOAUTH2", PROGRAM_ADDRESS, True), ("XOAUTH2", PROGRAM_ADDRESS, False)] + [
        ("XOAUTH2", PROGRAM_ADDRESS, True)
    ]
    assert oauth_server.token_requests(client.client_id) == ["200", "200"]
    assert len(message_ids(oauth_relay)) == len(keys) + len(more)


def test_a_refused_client_loses_no_mail_and_it_goes_once_the_client_is_allowed_again(
    program: Program, oauth_relay: OAuth2Relay, oauth_server: TokenServer
) -> None:
    client = send_with_tokens(program, oauth_relay, oauth_server)
    oauth_server.revoke(client.client_id)
    clock = Clock()
    mail = in_process(program, clock)
    try:
        keys = mail.plan(FIRST_MORNING)
        report = mail.deliverer.deliver_due(FIRST_MORNING)
        # Temporary, and the relay's, not the mails': nothing given up, the round ended at once.
        assert (report.sent, report.given_up) == (0, 0) and report.retrying > 0
        errors = program.sql("SELECT DISTINCT last_error FROM outboxmessage WHERE attempts > 0")
        assert errors == [(f"authentication failed for {PROGRAM_ADDRESS} at 127.0.0.1 (oauth2: invalid_client)",)]

        # Rounds every few seconds do not ask for a token again while the login pause lasts.
        for seconds in (5, 10, 30):
            clock.now = seconds
            mail.deliverer.deliver_due(FIRST_MORNING + timedelta(seconds=seconds))
        assert oauth_server.token_requests(client.client_id) == ["invalid_client"]

        # Still refused at the retry a minute later: the pause doubles, the mail still waits.
        clock.now = 60
        mail.deliverer.deliver_due(FIRST_MORNING + timedelta(minutes=1))
        assert oauth_server.token_requests(client.client_id) == ["invalid_client"] * 2
        assert outbox_statuses(program) == {"pending": len(keys)}

        allow_again(oauth_server, client)
        now, clock.now = FIRST_MORNING + timedelta(minutes=3), 180
        while outbox_statuses(program).get("pending"):
            mail.deliverer.deliver_due(now)
            now, clock.now = now + timedelta(minutes=1), clock.now + 60
            assert now < FIRST_MORNING + timedelta(hours=1)
    finally:
        mail.close()
    arrived = message_ids(oauth_relay)
    assert len(arrived) == len(keys) and set(arrived.values()) == {1}
    assert outbox_statuses(program) == {"sent": len(keys)}


def test_oauthbearer_where_the_relay_offers_only_it(program: Program, oauth_server: TokenServer) -> None:
    relay = OAuth2Relay(oauth_server.introspection_url, mechanisms=("OAUTHBEARER",))
    relay.controller.start()
    try:
        send_with_tokens(program, relay, oauth_server)
        mail = in_process(program, Clock())
        try:
            keys = mail.plan(FIRST_MORNING)
            assert mail.deliverer.deliver_due(FIRST_MORNING).sent == len(keys)
        finally:
            mail.close()
    finally:
        relay.controller.stop()
    assert relay.logins == [("OAUTHBEARER", PROGRAM_ADDRESS, True)]


# --- a provider that throttles ------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    ["451 4.7.500 Server busy. Please try again later", "421 4.7.0 Try again later, closing connection"],
)
def test_a_throttling_relay_ends_the_round_and_the_mail_is_retried_later(
    program: Program, oauth_relay: OAuth2Relay, oauth_server: TokenServer, reply: str
) -> None:
    send_with_tokens(program, oauth_relay, oauth_server)
    oauth_relay.throttle[:] = [reply]
    mail = in_process(program, Clock())
    try:
        keys = mail.plan(FIRST_MORNING)
        report = mail.deliverer.deliver_due(FIRST_MORNING)
        # One refusal, for the sender and not the mail: the round stops rather than hear it per mail.
        assert (report.sent, report.given_up, report.retrying) == (0, 0, len(keys))
        status = " ".join(reply.split()[:2])
        assert program.sql("SELECT DISTINCT last_error FROM outboxmessage") == [(f"{status} from 127.0.0.1",)]
        assert mail.deliverer.deliver_due(FIRST_MORNING + timedelta(seconds=30)).sent == 0  # not yet due again
        assert mail.deliverer.deliver_due(FIRST_MORNING + timedelta(minutes=1)).sent == len(keys)
    finally:
        mail.close()
    assert len(message_ids(oauth_relay)) == len(keys)
