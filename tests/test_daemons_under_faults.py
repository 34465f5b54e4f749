"""Three daemons on one PostgreSQL database, one of them SIGKILLed at random moments (issue 11, part 3).

The same stream of CC copies and phone-call reports goes to all three over SMTP, as two MX hosts
and a backup would hand it over, while the planner has a round's mail due and the daemons deliver
it to one relay. Five times, at random places in the stream, one daemon is killed without warning
and started again. Then:

- every message some daemon acknowledged is one contact event (a report: one phone event);
- every report's effect happened once (one confirmation to its sender);
- every outbox key reached the relay once, but for at most one repeat per kill (a daemon killed
  between handing a mail to the relay and marking it sent), which the test prints;
- no daemon logged a traceback, a migration error among them.
"""

from __future__ import annotations

import queue
import random
import signal
import smtplib
import threading
from collections import Counter
from pathlib import Path

import postgres_server
import pytest
from conftest import PROGRAM_ADDRESS, Daemon, Program, free_port, message, wait_until
from relay import Relay

pytestmark = pytest.mark.skipif(
    not postgres_server.on_postgresql(), reason="several daemons share a PostgreSQL database (the PostgreSQL run)"
)

DAEMONS = 3
COPIES = 450
REPORTS = 15
PAIRS = 40  # beside the test roster's three: mail for the planner to have due while the stream goes on
KILLS = 5  # SIGKILLs of a daemon chosen at random, at random places in the stream
DELIVERY_CLAIM_SECONDS = 5  # a killed daemon's claims expire quickly, so the test can wait them out


def three_daemons(tmp_path: Path, relay: Relay) -> list[Daemon]:
    url = postgres_server.cluster().empty_database()  # they migrate it, all at once
    programs = []
    for n in range(DAEMONS):
        (tmp_path / f"d{n}").mkdir()
        program = Program(tmp_path / f"d{n}", free_port())
        program.store_url = url
        program.deliver_to(relay.controller.port, f"delivery_claim_seconds = {DELIVERY_CLAIM_SECONDS}\n")
        if programs:  # one program, one secret: the same message has the same keyed hash everywhere
            (program.root / "secret").write_text((programs[0].root / "secret").read_text())
        programs.append(program)
    daemons = [Daemon(program) for program in programs]
    for daemon in daemons:
        daemon.start()
    roster = programs[0].root / "roster.csv"
    extra = "".join(
        f"mentor{n}@example.org,Mentor {n},mentee{n}@example.net,Mentee {n},x{n},2026-09-01\n" for n in range(PAIRS)
    )
    roster.write_text(roster.read_text() + extra, encoding="utf-8")
    programs[0].cli("import-roster", str(roster))
    return daemons


def offer(daemons: list[Daemon], msg) -> int:  # type: ignore[no-untyped-def]
    """Hand the message to every daemon, as each MX host would; how many acknowledged it."""
    acknowledged = 0
    for daemon in daemons:
        try:
            with smtplib.SMTP("127.0.0.1", daemon.program.smtp_port, timeout=60) as smtp:
                smtp.send_message(msg, to_addrs=[PROGRAM_ADDRESS])
            acknowledged += 1
        except (OSError, smtplib.SMTPException):
            pass  # killed, or not up again yet: the others have it
    return acknowledged


def test_three_daemons_with_kills_count_every_message_once_and_send_every_mail_once(tmp_path: Path) -> None:
    relay = Relay()
    relay.controller.start()
    daemons = three_daemons(tmp_path, relay)
    program = daemons[0].program
    chance = random.Random(11)
    kills: list[str] = []
    kill_requests: queue.Queue[bool] = queue.Queue()

    def killer() -> None:
        # Each request kills a daemon chosen at random, while the stream goes on, and starts it again.
        while kill_requests.get():
            victim = chance.choice(daemons)
            assert victim.process is not None
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait(timeout=60)
            kills.append(victim.program.root.name)
            victim.process = None
            victim.start()

    copies = [
        message(*((["ana@example.org", ["ben@example.net"]]) if n % 2 else ["eve@example.com", ["dev@example.org"]]),
                [PROGRAM_ADDRESS], message_id=f"<copy-{n}@mail.example.net>")  # fmt: skip
        for n in range(COPIES)
    ]
    reports = [
        message("eve@example.com", [PROGRAM_ADDRESS], subject="call", body=f"phone call {10 + n} min yesterday\n",
                message_id=f"<report-{n}@mail.example.com>")  # fmt: skip
        for n in range(REPORTS)
    ]
    stream = copies[:]
    for n, report in enumerate(reports):
        stream.insert(n * (COPIES // REPORTS), report)
    # The kills land at random places in the stream (the same places each run), however fast it goes.
    kill_at = set(chance.sample(range(20, len(stream) - 20), KILLS))
    thread = threading.Thread(target=killer)
    try:
        thread.start()
        unacknowledged = []
        for index, msg in enumerate(stream):
            if index in kill_at:
                kill_requests.put(True)
            if offer(daemons, msg) == 0:
                unacknowledged.append(msg["Message-ID"])
        kill_requests.put(False)
        thread.join(timeout=300)
        assert unacknowledged == []  # two daemons were always up to take each message
        assert len(kills) == KILLS

        # Every message, one event; every report, one phone event.
        assert program.sql("SELECT channel, count(*) FROM contactevent GROUP BY channel ORDER BY channel") == [
            ("email", COPIES),
            ("phone", REPORTS),
        ]
        decided = Counter(
            line.split(" via ")[0].rsplit(" ", 1)[-1]
            for daemon in daemons
            for line in daemon.log().splitlines()
            if " via smtp [" in line
        )
        assert decided["contact"] == COPIES and decided["self_report"] == REPORTS, decided

        # Every outbox key delivered once (at most one repeat per kill); the reports confirmed once each.
        wait_until(
            lambda: program.sql("SELECT count(*) FROM outboxmessage WHERE status = 'pending'") == [(0,)],
            timeout=300,
        )
        keys = dict(program.sql("SELECT message_id, key FROM outboxmessage WHERE status = 'sent'"))
        received = Counter(str(msg["Message-ID"]).strip("<>") for msg in relay.messages())
        assert set(received) == set(keys), set(received) ^ set(keys)
        repeats = sum(count - 1 for count in received.values())
        print(
            f"\n{len(stream)} messages ({COPIES} CC copies, {REPORTS} reports) to each of {DAEMONS} daemons; "
            f"{COPIES + REPORTS} events; {len(kills)} kills ({', '.join(kills)}); {len(keys)} outbox keys, "
            f"{sum(received.values())} deliveries at the relay, {repeats} repeated"
        )
        assert repeats <= len(kills)
        confirmations = [m for m in relay.messages() if m["X-Mentormail-Kind"] == "reply"]
        assert len({str(m["Message-ID"]) for m in confirmations}) == REPORTS
        for daemon in daemons:
            assert "Traceback" not in daemon.log(), daemon.log()[-3000:]
    finally:
        kill_requests.put(False)
        thread.join(timeout=300)
        codes = [daemon.stop() for daemon in daemons if daemon.process is not None]
        relay.controller.stop()
    assert all(code == 0 for code in codes), codes
