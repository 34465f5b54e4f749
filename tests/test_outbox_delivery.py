"""The outbox and its delivery: once per key, retries with backoff, give-up reported, and a
forwarded question wiped once it has gone. A real SQLite store and a real SMTP relay (aiosmtpd)
that fails on demand; only the clock is ours (virtual `now`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from conftest import PROGRAM_ADDRESS, Program, free_port, message
from in_process import in_process
from mentormail.daemon.mail.backends import SmtpBackend
from mentormail.daemon.mail.delivery import Deliverer
from mentormail.daemon.intake.ingest import Intake
from mentormail.store.outcomes import Source, Transport
from mentormail.daemon.mail.scheduler import ProgramMail
from mentormail.daemon.service import open_store
from mentormail.daemon.settings import load_settings
from mentormail.store import queries
from mentormail.store.models import OutboxMessage, QuestionMessage
from sqlmodel import select

# The round of the test roster starts on 1 September 2026 (America/Chicago).
FIRST_MORNING = datetime(2026, 9, 1, 15, tzinfo=timezone.utc)  # 10:00 in Chicago


class FlakyRelay:
    """Answers each message with the next reply from `replies`, then 250."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.accepted: list[bytes] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        if self.replies:
            return self.replies.pop(0)
        self.accepted.append(envelope.original_content)
        return "250 OK"


@pytest.fixture
def relay() -> FlakyRelay:
    running = FlakyRelay([])
    running.controller.start()
    yield running
    running.controller.stop()


def program_mail(program: Program, relay: FlakyRelay) -> ProgramMail:
    program.write_config(
        delivery_options='backend = "smtp"',
        extra=f'[delivery.smtp]\nhost = "127.0.0.1"\nport = {relay.controller.port}\nsecurity = "none"\n',
    )
    settings = load_settings(program.config)
    store = open_store(settings)
    deliverer = Deliverer(store, SmtpBackend(settings.delivery.smtp, timeout=10), timedelta(hours=48))
    return ProgramMail(store, settings, deliverer)


def outbox(mail: ProgramMail) -> list[OutboxMessage]:
    with mail.store.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_key_is_enqueued_once_however_often_the_planner_runs(program: Program, relay: FlakyRelay) -> None:
    mail = program_mail(program, relay)
    first = mail.plan(FIRST_MORNING)
    assert sorted(k.split(":")[0] for k in first).count("pairing") == 3
    assert mail.plan(FIRST_MORNING) == [] and mail.plan(FIRST_MORNING + timedelta(minutes=5)) == []
    assert len(outbox(mail)) == len(first)
    mail.close()


def test_a_temporary_failure_is_retried_with_growing_delays_then_delivered(program: Program, relay: FlakyRelay) -> None:
    mail = program_mail(program, relay)
    relay.replies[:] = ["451 4.3.0 try later"] * 3
    keys = mail.plan(FIRST_MORNING)
    now = FIRST_MORNING
    report = mail.deliverer.deliver_due(now)
    assert report.retrying == 3  # the first three messages met the 451s
    retry_times = sorted({row.next_attempt_at for row in outbox(mail) if row.status == "pending"})
    assert queries.as_utc(retry_times[0]) == now + timedelta(minutes=1)
    for minutes in (1, 2, 4):
        mail.deliverer.deliver_due(now + timedelta(minutes=minutes))
    assert {row.status for row in outbox(mail)} == {"sent"}
    assert len(relay.accepted) == len(keys)
    assert all(row.raw is None for row in outbox(mail))  # nothing kept once it has gone
    mail.close()


def test_mail_that_cannot_be_delivered_is_given_up_and_listed_in_the_next_digest(
    program: Program, relay: FlakyRelay
) -> None:
    mail = program_mail(program, relay)
    relay.replies[:] = ["550 5.1.1 no such user"]
    mail.plan(FIRST_MORNING)
    report = mail.deliverer.deliver_due(FIRST_MORNING)
    assert report.given_up == 1
    failed = [row for row in outbox(mail) if row.status == "failed"]
    assert len(failed) == 1 and failed[0].last_error.startswith("550")

    next_morning = FIRST_MORNING + timedelta(days=1)  # after the 08:00 digest
    added = mail.plan(next_morning)
    assert "digest:2026-09-02:coordinator@example.org" in added
    mail.deliverer.deliver_due(next_morning)
    digest = message_from_bytes(relay.accepted[-1], policy=policy.default)
    text = " ".join(digest.get_body(("plain",)).get_content().split())
    assert digest["X-Mentormail-Kind"] == "digest" and failed[0].recipients.split()[0] in text
    # It says how to send it again, and when it failed in the program's time (10:00 in Chicago).
    assert "mentormail outbox retry" in text
    assert "failing since 1 Sep 2026, 10:00 CDT" in text and "UTC" not in text
    mail.close()


def test_the_retry_window_counts_from_the_first_attempt_not_from_when_the_mail_was_due(
    program: Program, relay: FlakyRelay
) -> None:
    """A daemon first started five weeks into the round, its relay answering 451 for two days:
    the mail due weeks ago is retried with growing delays for the whole window from its first
    attempt, given up at its end, and sent once by `outbox retry`'s requeue."""
    mail = program_mail(program, relay)
    relay.replies[:] = ["451 4.3.0 try later"] * 10_000
    start = FIRST_MORNING + timedelta(weeks=5)
    keys = mail.plan(start)
    report = mail.deliverer.deliver_due(start)
    assert (report.retrying, report.given_up) == (len(keys), 0)

    attempts: list[datetime] = [start]
    while pending := [row for row in outbox(mail) if row.status == "pending"]:
        now = min(queries.as_utc(row.next_attempt_at) for row in pending)
        mail.deliverer.deliver_due(now)
        attempts.append(now)
    gaps = [later - earlier for earlier, later in zip(attempts, attempts[1:])]
    assert gaps[:7] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60)]
    assert max(gaps) == timedelta(hours=1)
    assert attempts[-1] == start + timedelta(hours=48)  # the last try at the window's end
    given_up = outbox(mail)
    assert {row.status for row in given_up} == {"failed"} and all(row.raw for row in given_up)

    relay.replies.clear()
    later = attempts[-1] + timedelta(days=1)
    with mail.store.session() as session:
        assert queries.requeue(session, later).resent == len(keys)
    mail.deliverer.deliver_due(later)
    ids = [str(message_from_bytes(raw, policy=policy.default)["Message-ID"]) for raw in relay.accepted]
    assert sorted(ids) == sorted(f"<{row.message_id}>" for row in given_up)
    assert {row.status for row in outbox(mail)} == {"sent"}
    mail.close()


def test_an_unreachable_relay_fails_the_round_at_once_and_every_mail_is_retried(program: Program) -> None:
    relay = FlakyRelay([])  # not started yet: every connection is refused
    mail = program_mail(program, relay)
    keys = mail.plan(FIRST_MORNING)
    report = mail.deliverer.deliver_due(FIRST_MORNING)
    assert (report.retrying, report.given_up) == (len(keys), 0)
    rows = outbox(mail)
    assert {(row.attempts, queries.as_utc(row.first_attempt_at)) for row in rows} == {(1, FIRST_MORNING)}
    assert {row.last_error for row in rows} == {f"connection refused (127.0.0.1:{relay.controller.port})"}
    relay.controller.start()
    try:
        mail.deliverer.deliver_due(FIRST_MORNING + timedelta(minutes=1))
        assert len(relay.accepted) == len(keys)
    finally:
        relay.controller.stop()
    mail.close()


def test_a_question_is_forwarded_in_the_digest_then_its_text_is_wiped(program: Program, relay: FlakyRelay) -> None:
    mail = program_mail(program, relay)
    settings = load_settings(program.config)
    intake = Intake(mail.store, settings.program.address, settings.secret(), clock=lambda: FIRST_MORNING)
    question = message(
        "ben@example.net", [PROGRAM_ADDRESS], subject="How do I log a call?", body="QUESTIONTEXT-7f3a please help\n"
    )
    assert intake.ingest(question.as_bytes(), Source(Transport.SMTP)).kind.value == "question"

    next_morning = FIRST_MORNING + timedelta(days=1)
    assert "digest:2026-09-02:coordinator@example.org" in mail.plan(next_morning)
    mail.deliverer.deliver_due(next_morning)
    digest = relay.accepted[-1]
    assert b"QUESTIONTEXT-7f3a" in digest and b"message/rfc822" in digest
    with mail.store.session() as session:
        kept = session.exec(select(QuestionMessage)).one()
    assert kept.raw is None and kept.forwarded_in is not None
    mail.store.close()
    if program.on_sqlite:
        stored = (Path(program.database).read_bytes() + _wal(program.database)).decode("latin-1")
    else:
        [stored] = program.stored_text().values()
    assert "ben@example.net" in stored and "QUESTIONTEXT-7f3a" not in stored
    # Forwarded once: the next digest does not carry it again.
    assert not [k for k in mail.plan(next_morning + timedelta(days=1)) if k.startswith("digest")]
    mail.close()


def _wal(database: Path) -> bytes:
    wal = database.with_name(database.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


def test_export_contacts_per_pair_and_month(program: Program) -> None:
    ana_to_ben = message(
        "ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS], date=datetime(2026, 9, 3, 15, tzinfo=timezone.utc)
    )
    ben_to_ana = message(
        "ben@example.net", ["ana@example.org"], [PROGRAM_ADDRESS], date=datetime(2026, 10, 2, 15, tzinfo=timezone.utc)
    )
    for msg in (ana_to_ben, ben_to_ana):
        program.cli("ingest", "-", stdin=msg.as_bytes())
    csv_text = program.cli("export", "contacts").stdout
    lines = csv_text.splitlines()
    assert lines[0] == "pair_id,mentor,mentee,month,mentor_to_mentee,mentee_to_mentor,email,phone,meeting"
    assert "p1,ana@example.org,ben@example.net,2026-09,1,0,1,0,0" in lines
    assert "p1,ana@example.org,ben@example.net,2026-10,0,1,1,0,0" in lines
    rows = json.loads(program.cli("export", "contacts", "--format", "json").stdout)["contacts"]
    # A pair's start month is listed even without contact (p3), so silence shows as zeros.
    assert {(r["pair_id"], r["month"]) for r in rows} >= {("p1", "2026-09"), ("p1", "2026-10"), ("p3", "2026-09")}


def test_a_mail_the_backend_refuses_outright_is_given_up_and_the_rest_are_sent(
    program: Program, relay: FlakyRelay
) -> None:
    """Not a relay's answer but the mail itself (here an envelope sender with a line break, as a
    corrupted row could hold): that one mail is given up with its reason, and delivery goes on."""
    mail = program_mail(program, relay)
    keys = mail.plan(FIRST_MORNING)
    with mail.store.session() as session:
        broken = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        broken.envelope_sender = "mentoring+x@example.org\r\nRCPT TO:<attacker@evil.example>"
        session.add(broken)
    report = mail.deliverer.deliver_due(FIRST_MORNING)
    assert (report.sent, report.given_up) == (len(keys) - 1, 1)
    failed = [row for row in outbox(mail) if row.status == "failed"]
    assert [row.key for row in failed] == [broken.key] and "ValueError" in failed[0].last_error
    assert len(relay.accepted) == len(keys) - 1
    mail.close()


def test_outbox_retry_composes_again_a_mail_that_was_set_aside_once_its_cause_is_fixed(program: Program) -> None:
    """A set-aside mail has no message to send again: `outbox retry` removes it, and the planner
    composes it anew (here once the name that broke its headers is corrected)."""
    injected = "Dev\r\nBcc: attacker@evil.example"
    program.sql("UPDATE person SET name = :name WHERE email = 'dev@example.org'", name=injected)
    with in_process(program) as daemon:
        delivered = daemon.run_at(FIRST_MORNING)
    assert [m["To"] for m in delivered if "eve@example.com" in str(m["To"])] == []
    [set_aside] = json.loads(program.cli("outbox", "--failed", "--json").stdout)["mail"]
    assert set_aside["key"] == "pairing:pair-p3" and set_aside["reason"].startswith("could not be composed")

    program.sql("UPDATE person SET name = 'Dev Patel' WHERE email = 'dev@example.org'")
    retried = program.cli("outbox", "retry", "pairing:pair-p3").stdout
    assert retried.startswith("re-queued 1 mail") and "composed again" in retried
    assert not json.loads(program.cli("outbox", "--failed", "--json").stdout)["mail"]

    with in_process(program) as daemon:
        delivered = daemon.run_at(FIRST_MORNING + timedelta(minutes=5))
    assert [m["X-Mentormail-Kind"] for m in delivered if "eve@example.com" in str(m["To"])] == ["pairing"]
    sent = program.cli("outbox", "retry", "pairing:pair-p3", check=False)
    assert sent.returncode == 1 and "sent already" in sent.stderr


def test_a_whole_round_from_five_weeks_in_with_the_relay_down_for_ten_minutes_delivers_every_mail_once(
    program: Program,
) -> None:
    """The issue's round, on a virtual clock: the daemon first starts five weeks into the round,
    its relay refuses connections for the first ten minutes, then the round runs to its end
    (planned and delivered at each moment something can happen, as `simulate` jumps)."""
    relay = FlakyRelay([])  # not started: connections refused
    mail = program_mail(program, relay)
    first_start = FIRST_MORNING + timedelta(weeks=5)
    for minute in range(10):
        now = first_start + timedelta(minutes=minute)
        mail.plan(now)
        report = mail.deliverer.deliver_due(now)
        assert report.given_up == 0 and report.sent == 0
    relay.controller.start()
    try:
        now, end = first_start + timedelta(minutes=10), FIRST_MORNING + timedelta(days=300)
        while now < end:
            mail.plan(now)
            mail.deliverer.deliver_due(now)
            with mail.store.session() as session:
                moments = [queries.next_planned_moment(session), queries.next_delivery_attempt(session)]
            now = max(min([m for m in moments if m] + [now + timedelta(days=1)]), now + timedelta(minutes=1))
    finally:
        relay.controller.stop()
    rows = outbox(mail)
    assert {row.status for row in rows} == {"sent"}
    arrived = Counter(str(message_from_bytes(raw, policy=policy.default)["Message-ID"]) for raw in relay.accepted)
    assert arrived == Counter(f"<{row.message_id}>" for row in rows)  # every mail, each once
    kinds = Counter(row.kind for row in rows)
    assert kinds["pairing"] == 3 and kinds["round_end"] > 0  # the late start's mail, and the round's last
    # Dated when it was made ready to go (RFC 5322's Date, kept across retries as an MTA keeps it),
    # not weeks back when it was due.
    dates = [message_from_bytes(raw, policy=policy.default)["Date"].datetime for raw in relay.accepted]
    assert min(dates) >= first_start
    # No stale text: an intro reminder counts the days from its pair's welcome as it is sent.
    received = {
        str(msg["Message-ID"]).strip("<>"): msg
        for msg in (message_from_bytes(raw, policy=policy.default) for raw in relay.accepted)
    }
    welcomed = {row.pair_id: received[row.message_id]["Date"].datetime for row in rows if row.kind == "pairing"}
    reminders = [row for row in rows if row.kind == "intro_reminder"]
    assert reminders
    for row in reminders:
        reminder = received[row.message_id]
        text = " ".join(reminder.get_body(("plain",)).get_content().split())
        said = re.search(r"It is (\d+) days? since we introduced you", text)
        assert said, text
        # Calendar days in the program's zone (both Date headers carry its offset).
        assert int(said.group(1)) == (reminder["Date"].datetime.date() - welcomed[row.pair_id].date()).days, text
    mail.close()
