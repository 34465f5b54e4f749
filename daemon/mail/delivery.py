"""Sending the outbox: each due row through the configured backend, with retries.

A temporary failure is tried again after `first_retry` (a minute), then twice as long each time
(at most an hour apart), until `give_up_after` has passed since the mail's *first attempt*: mail
that fell due while the daemon was stopped, or before the relay could be reached, gets the whole
window, however long ago it was due. The last retry is at the window's end. A permanent failure
is given up at once. Given-up mail keeps its message, is listed in the coordinators' next digest
and by `mentormail outbox --failed`, and `mentormail outbox retry` queues it again.

A row is marked sent only after the backend took it, so a crash in between repeats that one
message at most, and never skips one. One round of delivery runs at a time in a daemon (the
planner's tick and the delivery timer both deliver), and each round claims the rows it sends
(`claim_for_delivery`), so no row is sent by two rounds or two daemons at once.

A send rate (`[delivery] max_messages_per_minute`, `max_messages_per_day`, `max_recipients_per_day`:
the provider's sending limits) is kept by counting, before each round, what the outbox says was
sent in the minute and the day before it (`queries.sent_recently`), so it holds across rounds,
restarts and daemons sharing an outbox; what the rate leaves over stays due, unclaimed, for the
next rounds. Mail is marked sent at the round's `now`, so a round that takes a few seconds to
send its share may overlap the next minute by as much: the limits are the providers' own, and a
throttled relay's 4xx is retried like any temporary failure.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...store import queries
from ...store.db import Store
from ...store.models import OutboxMessage
from ..logs import describe_exception
from ..settings import ScheduleSettings, SendRate
from .backends import Backend, DeliveryError, Envelope

log = logging.getLogger("mentormail.delivery")

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
# A round claims a few mails at a time (a lease each, so that daemons sharing the outbox never
# send the same one) and sends them: the lease outlasts a batch's slowest relay by far; a daemon
# that dies leaves its claims to expire and another sends that mail then (`[schedule]
# delivery_claim_seconds`, 15 minutes).
CLAIM_SIZE = 20
CLAIMS_PER_ROUND = 5
CLAIM_LEASE = timedelta(minutes=15)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    given_up: int = 0
    held_back: bool = False  # the send rate stopped the round with mail still due


@dataclass
class _Allowance:
    """What the send rate lets this round send: messages, and recipients (None: no limit)."""

    messages: int | None
    recipients: int | None

    @classmethod
    def of(cls, rate: SendRate, sent: queries.SentRecently) -> _Allowance:
        limits = [
            limit - count
            for limit, count in ((rate.messages_per_minute, sent.last_minute), (rate.messages_per_day, sent.last_day))
            if limit
        ]
        recipients = rate.recipients_per_day - sent.recipients_last_day if rate.recipients_per_day else None
        return cls(max(min(limits), 0) if limits else None, None if recipients is None else max(recipients, 0))

    def allows(self, row: OutboxMessage) -> bool:
        return (self.messages is None or self.messages > 0) and (
            self.recipients is None or self.recipients >= len(row.recipients.split())
        )

    def spend(self, row: OutboxMessage) -> None:
        if self.messages is not None:
            self.messages -= 1
        if self.recipients is not None:
            self.recipients -= len(row.recipients.split())


class Deliverer:
    def __init__(
        self,
        store: Store,
        backend: Backend,
        give_up_after: timedelta,
        first_retry: timedelta = FIRST_RETRY,
        claim_lease: timedelta = CLAIM_LEASE,
        rate: SendRate = SendRate(),
    ) -> None:
        self.store = store
        self.backend = backend
        self.give_up_after = give_up_after
        self.first_retry = first_retry
        self.claim_lease = claim_lease
        self.rate = rate
        self._round = threading.Lock()
        self._held_back = False  # the last round stopped at the send rate (said once, not each round)

    @classmethod
    def configured(
        cls, store: Store, backend: Backend, schedule: ScheduleSettings, rate: SendRate = SendRate()
    ) -> Deliverer:
        """With the retry window, first retry and claim lease of `[schedule]`, and a send rate
        (`DeliverySettings.send_rate`; none for `simulate`'s preview)."""
        give_up = timedelta(hours=schedule.delivery_give_up_hours)
        first_retry = timedelta(seconds=schedule.delivery_first_retry_seconds)
        claim = timedelta(seconds=schedule.delivery_claim_seconds)
        return cls(store, backend, give_up, first_retry, claim, rate)

    def deliver_due(self, now: datetime) -> DeliveryReport:
        with self._round:
            return self._deliver_due(now)

    def _deliver_due(self, now: datetime) -> DeliveryReport:
        report = DeliveryReport()
        allowance = self._allowance(now)
        for _ in range(CLAIMS_PER_ROUND):
            size = CLAIM_SIZE if allowance.messages is None else min(CLAIM_SIZE, allowance.messages)
            if size == 0:
                report.held_back = self._due_remains(now)
                break
            with self.store.session() as session:
                rows = queries.claim_for_delivery(session, now, self.claim_lease, size)
            if not rows or not self._send(rows, now, report, allowance):
                break
        self._say_held_back(report)
        return report

    def _allowance(self, now: datetime) -> _Allowance:
        if not self.rate.limited:
            return _Allowance(None, None)
        with self.store.session() as session:
            return _Allowance.of(self.rate, queries.sent_recently(session, now))

    def _due_remains(self, now: datetime) -> bool:
        with self.store.session() as session:
            next_attempt = queries.next_delivery_attempt(session)
        return next_attempt is not None and next_attempt <= now

    def _say_held_back(self, report: DeliveryReport) -> None:
        # Once when the rate starts holding mail back, not every five seconds while it does.
        if report.held_back and not self._held_back:
            log.info("send rate reached (%s): the rest of the due mail waits its turn", _rate_words(self.rate))
        self._held_back = report.held_back

    def _send(self, rows: list[OutboxMessage], now: datetime, report: DeliveryReport, allowance: _Allowance) -> bool:
        """Send the claimed rows; False when the relay cannot be reached or the send rate is
        reached (the round ends; the rows not sent are given back unclaimed)."""
        for index, row in enumerate(rows):
            assert row.id is not None and row.raw is not None
            if not allowance.allows(row):
                with self.store.session() as session:
                    queries.release_claim(session, [r.id for r in rows[index:] if r.id is not None])
                report.held_back = True
                return False
            try:
                self.backend.send(row.raw, Envelope(row.envelope_sender, tuple(row.recipients.split())))
            except Exception as exc:  # noqa: BLE001 - one mail that cannot be sent never stops the rest
                # A backend reports what the relay said as DeliveryError; anything else (an
                # envelope the backend refuses, a backend's own slip) is this mail's, and permanent.
                error = exc if isinstance(exc, DeliveryError) else None
                error = error or DeliveryError(describe_exception(exc), temporary=False)
                # A relay that cannot be reached (or will not let us in) fails the rest of the round
                # the same way: they count this attempt too, rather than each waiting out a
                # connection of its own.
                self._failed(rows[index:] if error.relay_wide else [row], error, now, report)
                if error.relay_wide:
                    return False
                continue
            with self.store.session() as session:
                queries.mark_sent(session, row.id, now)
            allowance.spend(row)
            report.sent += 1
            log.info("sent %s to %s", row.key, row.recipients)
        return True

    def _failed(self, rows: list[OutboxMessage], error: DeliveryError, now: datetime, report: DeliveryReport) -> None:
        retries = [(row, self._retry_at(row, now) if error.temporary else None) for row in rows]
        with self.store.session() as session:
            for row, retry_at in retries:
                assert row.id is not None
                queries.mark_attempt_failed(session, row.id, str(error), retry_at, now)
        given_up = [row for row, retry_at in retries if retry_at is None]
        report.given_up += len(given_up)
        report.retrying += len(retries) - len(given_up)
        for row in given_up:
            log.warning("gave up on %s to %s: %s", row.key, row.recipients, error)
        if len(retries) > len(given_up):
            # One line for a round that could not reach the relay, not one per mail.
            retry_at = min(moment for _, moment in retries if moment is not None)
            what = retries[0][0].key if len(retries) == 1 else f"{len(retries) - len(given_up)} mails"
            log.info("will retry %s from %s: %s", what, retry_at.isoformat(timespec="seconds"), error)

    def _retry_at(self, row: OutboxMessage, now: datetime) -> datetime | None:
        first = queries.as_utc(row.first_attempt_at) if row.first_attempt_at else now
        gives_up_at = first + self.give_up_after
        if now >= gives_up_at:
            return None
        # The exponent is bounded: a long window's hourly retries would overflow a timedelta.
        backoff = min(self.first_retry * 2 ** min(row.attempts, 16), LONGEST_RETRY)
        return min(now + backoff, gives_up_at)


def _rate_words(rate: SendRate) -> str:
    """`at most 30 mails a minute, 10000 recipients a day`, with the keys that set them."""
    parts = [
        f"{limit} {what} ([delivery] {key})"
        for limit, what, key in (
            (rate.messages_per_minute, "mails a minute", "max_messages_per_minute"),
            (rate.messages_per_day, "mails a day", "max_messages_per_day"),
            (rate.recipients_per_day, "recipients a day", "max_recipients_per_day"),
        )
        if limit
    ]
    return "at most " + ", ".join(parts)
