"""Outgoing mail is never lost: the daemon as a user runs it (`mentormail run`), delivering over
SMTP to a real relay (tests/relay.py) that is down when the daemon starts.

The test roster's round began on 1 September 2026, weeks before the daemon's first start, so
its mail is long past due when delivery first tries it: the retry window must count from that
first attempt, not from when the mail was due. Every mail is counted at the relay by its
Message-ID, against the outbox's own record of what it sent.
"""

from __future__ import annotations

import json
import time as clock
from collections import Counter
from collections.abc import Iterator

import pytest
from conftest import Daemon, Program, wait_until
from relay import Relay

# Short retries, so that a test sees several within seconds (the default first retry is a minute).
FAST_RETRIES = "delivery_first_retry_seconds = 1\n"
TIMEOUT = 180  # a busy test machine composes and delivers slowly; never a limit the test means


@pytest.fixture
def relay_down() -> Iterator[Relay]:
    """A relay whose port refuses connections until the test starts it."""
    relay = Relay()
    yield relay
    if relay.controller.server is not None:  # started by the test
        relay.controller.stop()


def outbox(program: Program, *args: str) -> list[dict]:
    return json.loads(program.cli("outbox", "--json", *args).stdout)["mail"]


def sent_message_ids(program: Program) -> list[str]:
    """The Message-IDs of the outbox's mail, as the store recorded them (the real SQLite file)."""
    return [f"<{mid}>" for (mid,) in program.sql("SELECT message_id FROM outboxmessage")]


def arrived_once(program: Program, relay: Relay) -> bool:
    """Nothing left in the outbox, and the relay holds each of its mails."""
    if outbox(program):
        return False
    return Counter(str(m["Message-ID"]) for m in relay.messages()) == Counter(sent_message_ids(program))


def test_mail_due_while_the_relay_was_down_arrives_once_when_it_comes_back(
    program: Program, daemon: Daemon, relay_down: Relay
) -> None:
    program.deliver_to(relay_down.controller.port, FAST_RETRIES)
    daemon.start()
    # The relay refuses the first attempts: the mail is retried, not given up.
    waiting = wait_until(lambda: [m for m in outbox(program) if m["attempts"] >= 2], timeout=TIMEOUT)
    assert "failed" not in {m["state"] for m in outbox(program)}
    assert all(m["reason"] == f"connection refused (127.0.0.1:{relay_down.controller.port})" for m in waiting)
    assert not outbox(program, "--failed")
    table = program.cli("outbox").stdout
    assert "retrying" in table and "connection refused" in table

    clock.sleep(5)  # down a while longer: more retries, still nothing given up
    assert not outbox(program, "--failed")
    relay_down.controller.start()
    wait_until(lambda: arrived_once(program, relay_down), timeout=TIMEOUT)
    assert relay_down.kinds()["pairing"] == 3  # due weeks ago, when the round began
    clock.sleep(3)  # a later poll sends nothing twice
    assert arrived_once(program, relay_down)
    assert daemon.stop() == 0


def test_given_up_mail_is_sent_again_once_by_outbox_retry(program: Program, daemon: Daemon, relay_down: Relay) -> None:
    # Given up 18 seconds after its first attempt (0.005 hours).
    program.deliver_to(relay_down.controller.port, FAST_RETRIES + "delivery_give_up_hours = 0.005\n")
    daemon.start()
    wait_until(lambda: (mail := outbox(program)) and all(m["state"] == "failed" for m in mail), timeout=TIMEOUT)
    given_up = outbox(program, "--failed")
    assert all(m["attempts"] >= 2 and "connection refused" in m["reason"] for m in given_up)

    unknown = program.cli("outbox", "retry", "topic:no-such-pair:month-1", check=False)
    assert unknown.returncode == 1
    assert "topic:no-such-pair:month-1" in unknown.stderr and "outbox --failed" in unknown.stderr

    relay_down.controller.start()
    retried = program.cli("outbox", "retry", "--all-failed")
    assert f"re-queued {len(given_up)} mails" in retried.stdout
    wait_until(lambda: arrived_once(program, relay_down), timeout=TIMEOUT)
    assert {str(m["Message-ID"]) for m in relay_down.messages()} >= set(sent_message_ids(program))
    again = program.cli("outbox", "retry", "--all-failed")
    assert "re-queued 0 mails" in again.stdout
    clock.sleep(3)
    assert arrived_once(program, relay_down)
    assert daemon.stop() == 0
