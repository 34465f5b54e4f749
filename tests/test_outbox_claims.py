"""The outbox shared by several daemons (issue 11): each mail claimed, sent once, by one of them.

Two daemons on one PostgreSQL database used to read the same pending rows and both send them
(477 mails written for 301 keys in ten minutes). Each delivering round now claims the rows it sends
for a lease; these tests run two deliverers, as two daemons have, on two connections' worth of
store each, and count what reached the backends.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import postgres_server
import pytest
from conftest import Program, free_port
from mentormail.daemon.mail.backends import Envelope, MemoryBackend
from mentormail.daemon.mail.delivery import CLAIM_LEASE, Deliverer
from mentormail.daemon.service import open_store
from mentormail.daemon.settings import load_settings
from mentormail.store import queries
from mentormail.store.db import Store
from mentormail.store.models import OutboxMessage
from sqlmodel import func, select

NOW = datetime(2026, 10, 1, 15, tzinfo=timezone.utc)


class SlowBackend(MemoryBackend):
    """A relay that takes a moment per message: time for another daemon to look at the outbox."""

    def send(self, raw: bytes, envelope: Envelope) -> None:
        time.sleep(0.005)
        super().send(raw, envelope)


def mail(n: int) -> OutboxMessage:
    return OutboxMessage(
        key=f"topic:pair-{n}:month-1",
        kind="topic",
        recipients="ben@example.net",
        envelope_sender="mentoring@example.org",
        message_id=f"<m{n}@example.org>",
        raw=f"Message-ID: <m{n}@example.org>\r\nSubject: topic {n}\r\n\r\nbody\r\n".encode(),
        due_at=NOW,
        next_attempt_at=NOW,
    )


def stores(tmp_path, url: str | None) -> tuple[Store, Store]:  # type: ignore[no-untyped-def]
    program = Program(tmp_path, free_port())
    if url is not None:
        program.store_url = url
        program.write_config()
    settings = load_settings(program.config)
    return open_store(settings), open_store(settings)


def test_a_key_already_queued_is_reported_as_not_added(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL the driver's row count for the INSERT is -1: every key read as added again."""
    store, other = stores(tmp_path, None)
    try:
        with store.session() as session:
            assert queries.enqueue(session, mail(1)) is True
        with store.session() as session:
            assert queries.enqueue(session, mail(1)) is False
            assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == 1
    finally:
        store.close()
        other.close()


def test_two_daemons_delivering_one_outbox_send_each_mail_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first_store, second_store = stores(tmp_path, postgres_server.cluster().new_database())
    try:
        with first_store.session() as session:
            for n in range(300):
                queries.enqueue(session, mail(n))
        backends = [SlowBackend(), SlowBackend()]
        pairs = zip((first_store, second_store), backends, strict=True)
        deliverers = [Deliverer(store, backend, timedelta(hours=48)) for store, backend in pairs]
        start = threading.Barrier(2)

        def deliver(deliverer: Deliverer) -> None:
            start.wait()
            while deliverer.deliver_due(NOW).sent:
                pass

        threads = [threading.Thread(target=deliver, args=(d,)) for d in deliverers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        sent = Counter(raw.split(b"\r\n", 1)[0] for backend in backends for _, raw in backend.outbox)
        assert len(sent) == 300 and set(sent.values()) == {1}, sent.most_common(3)
        assert all(backend.outbox for backend in backends), "both daemons should have sent some"
        with first_store.session() as session:
            statuses = session.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
        assert dict(statuses) == {"sent": 300}
    finally:
        first_store.close()
        second_store.close()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_mail_claimed_by_a_daemon_that_died_is_sent_once_its_claim_expires(tmp_path, database: str) -> None:  # type: ignore[no-untyped-def]
    url = postgres_server.cluster().new_database() if database == "postgresql" else None
    store, other = stores(tmp_path, url)
    try:
        with store.session() as session:
            for n in range(3):
                queries.enqueue(session, mail(n))
        with store.session() as session:  # the daemon that dies claims them, then nothing more
            assert len(queries.claim_for_delivery(session, NOW, CLAIM_LEASE)) == 3
        survivor = MemoryBackend()
        deliverer = Deliverer(other, survivor, timedelta(hours=48))
        assert deliverer.deliver_due(NOW + CLAIM_LEASE - timedelta(seconds=1)).sent == 0  # still claimed
        assert deliverer.deliver_due(NOW + CLAIM_LEASE).sent == 3
        assert deliverer.deliver_due(NOW + 2 * CLAIM_LEASE).sent == 0  # and only once
    finally:
        store.close()
        other.close()
