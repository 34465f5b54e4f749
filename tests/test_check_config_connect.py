"""`mentormail check-config --connect`: the IMAP server and the relay tried as the daemon will
use them (TLS as configured, login), one line each, exit 1 when one fails.

Against real servers: Dovecot (tests/dovecot_server.py) and an aiosmtpd relay like tests/relay.py's
that asks for a login.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from conftest import Program, free_port
from dovecot_server import Dovecot

RELAY_USER, RELAY_PASSWORD = "mentoring-relay", "relay-secret-1"


def _relay_login(server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        RELAY_USER.encode(),
        RELAY_PASSWORD.encode(),
    )
    # handled=False: aiosmtpd then answers the refusal itself (535), as a relay does.
    return AuthResult(success=ok, handled=False)


class _Relay:
    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        return "250 OK"


@pytest.fixture
def login_relay() -> Iterator[int]:
    """A relay that wants a login (over plain text: a test on 127.0.0.1); yields its port."""
    port = free_port()
    loop = asyncio.new_event_loop()  # ours, so that it is closed (warnings are errors here)
    controller = Controller(
        _Relay(), hostname="127.0.0.1", port=port, loop=loop, authenticator=_relay_login, auth_require_tls=False
    )
    controller.start()
    yield port
    controller.stop()
    loop.close()


def configure(
    program: Program, dovecot: Dovecot, account: tuple[str, str], relay_port: int, relay_password: str
) -> None:
    (program.root / "relay-password").write_text(relay_password + "\n")
    (program.root / "relay-password").chmod(0o600)
    program.write_config(
        delivery_options='backend = "smtp"',
        extra=f"""
[intake.imap]
enabled = true
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{account[0]}"
password = "{account[1]}"

[delivery.smtp]
host = "127.0.0.1"
port = {relay_port}
security = "none"
username = "{RELAY_USER}"
password_file = "relay-password"
""",
    )


def servers(output: str) -> list[str]:
    """The lines --connect adds, after the config's and the store's."""
    return [line for line in output.splitlines() if line.startswith(("IMAP ", "SMTP relay ", "nothing to connect"))]


def test_both_servers_answer_and_accept_the_login(program: Program, dovecot: Dovecot, login_relay: int) -> None:
    account = dovecot.add_user("mentoring")
    configure(program, dovecot, account, login_relay, RELAY_PASSWORD)

    result = program.cli("check-config", "--connect", check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == f"{program.config}: OK"
    assert servers(result.stdout) == [
        f"IMAP {dovecot.host}:{dovecot.port}: OK, logged in as {account[0]}, folder INBOX (0 messages)",
        f"SMTP relay 127.0.0.1:{login_relay}: OK, logged in as {RELAY_USER}",
    ]


def test_a_wrong_imap_password_is_named_and_the_relay_still_tried(
    program: Program, dovecot: Dovecot, login_relay: int
) -> None:
    username, password = dovecot.add_user("mentoring")
    configure(program, dovecot, (username, "wrong-" + password), login_relay, RELAY_PASSWORD)

    result = program.cli("check-config", "--connect", check=False)

    assert result.returncode == 1
    assert servers(result.stdout) == [
        f"IMAP {dovecot.host}:{dovecot.port}: FAILED: authentication failed for {username} at {dovecot.host}",
        f"SMTP relay 127.0.0.1:{login_relay}: OK, logged in as {RELAY_USER}",
    ]
    assert password not in result.stdout + result.stderr


def test_a_wrong_relay_password_and_a_relay_that_is_down(program: Program, dovecot: Dovecot, login_relay: int) -> None:
    account = dovecot.add_user("mentoring")
    configure(program, dovecot, account, login_relay, "not-the-password")

    result = program.cli("check-config", "--connect", check=False)

    assert result.returncode == 1
    lines = servers(result.stdout)
    assert lines[0].startswith(f"IMAP {dovecot.host}:{dovecot.port}: OK")
    assert lines[1:] == [
        f"SMTP relay 127.0.0.1:{login_relay}: FAILED: authentication failed for {RELAY_USER} at 127.0.0.1 (535)"
    ]

    down = free_port()
    configure(program, dovecot, account, down, RELAY_PASSWORD)
    result = program.cli("check-config", "--connect", check=False)
    assert result.returncode == 1
    assert servers(result.stdout)[1:] == [f"SMTP relay 127.0.0.1:{down}: FAILED: connection refused (127.0.0.1:{down})"]


def test_without_servers_to_try_it_says_so(program: Program) -> None:
    result = program.cli("check-config", "--connect")

    assert servers(result.stdout) == [
        "nothing to connect to: intake.imap is not enabled and delivery.backend is maildir"
    ]
