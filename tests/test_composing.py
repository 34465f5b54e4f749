"""Composing in worker processes (as `mentormail run` and `simulate` do) makes the same mail as
composing in the daemon's own process, sets aside what cannot be composed the same way, and
loses nothing when a worker dies."""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from datetime import datetime, timezone
from email import message_from_bytes, policy

import pytest
from conftest import Daemon, Program, wait_until
from mentormail.daemon.mail.composing import CHUNK, Composing
from mentormail.daemon.mail.planner import Calendar, due_mail
from mentormail.daemon.service import open_store
from mentormail.daemon.settings import load_settings
from mentormail.store import queries
from mentormail.store.planner_state import Person

MID_ROUND = datetime(2026, 12, 2, 15, tzinfo=timezone.utc)


@pytest.fixture
def work(program: Program):  # type: ignore[no-untyped-def]
    settings = load_settings(program.config)
    store = open_store(settings)
    with store.session() as session:
        state = queries.planner_state(session)
    store.close()
    due = due_mail(Calendar.from_settings(settings), state, MID_ROUND) * 8  # more than a worker's chunk
    assert len(due) > CHUNK
    return settings, [(mail, (), mail.attachments) for mail in due]


def readable(raw: bytes) -> tuple[list[tuple[str, str]], list[str]]:
    """Headers and text parts: what a reader sees (the MIME boundaries are random)."""
    message = message_from_bytes(raw, policy=policy.default)
    parts = [part.get_content() for part in message.walk() if part.get_content_maintype() == "text"]
    return [(name, str(value)) for name, value in message.items() if name != "Content-Type"], parts


def test_workers_compose_the_same_mail_as_this_process(work) -> None:  # type: ignore[no-untyped-def]
    settings, items = work
    here = Composing.in_workers(settings, 0).compose_all(items, MID_ROUND)
    workers = Composing.in_workers(settings, 2)
    try:
        there = workers.compose_all(items, MID_ROUND)
    finally:
        workers.close()
    assert [row.key for row in there] == [row.key for row in here]
    assert [readable(row.raw or b"") for row in there] == [readable(row.raw or b"") for row in here]
    assert [(row.status, row.recipients, row.message_id) for row in there] == [
        (row.status, row.recipients, row.message_id) for row in here
    ]


def test_a_mail_that_cannot_be_composed_in_a_worker_is_set_aside_and_the_rest_made(work) -> None:  # type: ignore[no-untyped-def]
    settings, items = work
    broken = Person(99, "Dev\r\nBcc: attacker@evil.example", "dev@example.org")
    first, texts, attachments = items[0]
    items = [(replace(first, to=(broken,)), texts, attachments), *items[1:]]
    workers = Composing.in_workers(settings, 1)
    try:
        rows = workers.compose_all(items, MID_ROUND)
    finally:
        workers.close()
    assert rows[0].status == "failed" and rows[0].last_error.startswith("could not be composed")
    assert all(row.status == "pending" and row.raw for row in rows[1:])


def test_when_a_worker_dies_its_batch_is_composed_here_and_the_next_gets_a_new_worker(work) -> None:  # type: ignore[no-untyped-def]
    settings, items = work
    workers = Composing.in_workers(settings, 1)
    try:
        workers.compose_all(items, MID_ROUND)  # the worker is up
        pool = workers.pool  # type: ignore[attr-defined]
        for pid in list(pool._processes):  # noqa: SLF001 - the only way to reach the worker's pid
            os.kill(pid, signal.SIGKILL)
        rows = workers.compose_all(items, MID_ROUND)
        assert [row.key for row in rows] == [mail.key for mail, _, _ in items]
        assert all(row.raw for row in rows)
        assert len(workers.compose_all(items, MID_ROUND)) == len(items)  # a new worker
    finally:
        workers.close()


def test_the_daemon_with_compose_in_worker_sends_the_program_mail(program: Program) -> None:
    """`mentormail run` with `compose_in_worker = true`: the round's mail, composed in the worker,
    reaches the outbox Maildir, and SIGTERM stops daemon and worker."""
    schedule = 'send_time = "00:00"\ncompose_in_worker = true\nplanner_interval_minutes = 1'
    program.write_config(extra=f"[schedule]\n{schedule}")
    daemon = Daemon(program).start()
    try:
        outbox = program.root / "var" / "outbox" / "new"
        wait_until(lambda: outbox.exists() and len(list(outbox.iterdir())) >= 3, timeout=300)
        mails = [message_from_bytes(path.read_bytes(), policy=policy.default) for path in outbox.iterdir()]
        assert "pairing" in {str(mail["X-Mentormail-Kind"]) for mail in mails}
    finally:
        assert daemon.stop() == 0
    assert "composing worker died" not in daemon.log()
