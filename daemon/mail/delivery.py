"""Sending the outbox: each due row through the configured backend, with retries.

A temporary failure is tried again after 1, 2, 4 ... minutes (at most an hour apart) until the
mail is `give_up_after` past its due time; a permanent one is given up at once. Given-up mail
is listed in the coordinators' next digest. A row is marked sent only after the backend took
it, so a crash in between repeats that one message at most, and never skips one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...store import queries
from ...store.db import Store
from ..logs import describe_exception
from .backends import Backend, DeliveryError, Envelope

log = logging.getLogger("mentormail.delivery")

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    given_up: int = 0


class Deliverer:
    def __init__(self, store: Store, backend: Backend, give_up_after: timedelta) -> None:
        self.store = store
        self.backend = backend
        self.give_up_after = give_up_after

    def deliver_due(self, now: datetime) -> DeliveryReport:
        report = DeliveryReport()
        with self.store.session() as session:
            rows = queries.due_for_delivery(session, now)
        for row in rows:
            assert row.id is not None and row.raw is not None
            try:
                self.backend.send(row.raw, Envelope(row.envelope_sender, tuple(row.recipients.split())))
            except Exception as exc:  # noqa: BLE001 - one mail that cannot be sent never stops the rest
                # A backend reports what the relay said as DeliveryError; anything else (an
                # envelope the backend refuses, a backend's own slip) is this mail's, and permanent.
                error = exc if isinstance(exc, DeliveryError) else DeliveryError(describe_exception(exc), temporary=False)
                retry_at = self._retry_at(row.due_at, row.attempts, now) if error.temporary else None
                with self.store.session() as session:
                    queries.mark_attempt_failed(session, row.id, str(error), retry_at, now)
                if retry_at is None:
                    report.given_up += 1
                    log.warning("gave up on %s to %s: %s", row.key, row.recipients, error)
                else:
                    report.retrying += 1
                    log.info("will retry %s at %s: %s", row.key, retry_at.isoformat(), error)
                continue
            with self.store.session() as session:
                queries.mark_sent(session, row.id, now)
            report.sent += 1
            log.info("sent %s to %s", row.key, row.recipients)
        return report

    def _retry_at(self, due_at: datetime, attempts: int, now: datetime) -> datetime | None:
        if now - queries.as_utc(due_at) >= self.give_up_after:
            return None
        return now + min(FIRST_RETRY * 2**attempts, LONGEST_RETRY)
