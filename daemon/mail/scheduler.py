"""The timers of `mentormail run`: the planner tick and delivery (APScheduler 3).

The tick puts whatever the calendar says is due into the outbox (the weekly liaison summary and
the daily digest included: they are planner keys like the rest); delivery sends the outbox.
At start both run at once, so mail that fell due while the daemon was down goes out then, once
(the outbox ignores keys it already holds).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from ...store import locks
from ...store.db import Store
from ..logs import describe_exception
from ..settings import Settings
from .backends import backend_for
from .composing import Composing
from .delivery import Deliverer
from .outbox import tick
from .planner import Calendar
from .retention import Retention

log = logging.getLogger("mentormail.scheduler")

# Short: answers to replies should reach people within seconds, and a poll is one small query.
DELIVERY_INTERVAL = timedelta(seconds=5)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ProgramMail:
    """The program's own mail: plan, compose, enqueue, deliver. Shared by `run` and `simulate`."""

    def __init__(
        self, store: Store, settings: Settings, deliverer: Deliverer | None = None, *, compose_workers: int = 0
    ) -> None:
        """`compose_workers`: processes that compose a tick's mail (0: this one; see composing.py)."""
        self.store = store
        self.calendar = Calendar.from_settings(settings)
        self.composing = Composing.in_workers(settings, compose_workers)
        self.deliverer = deliverer or Deliverer.configured(
            store,
            backend_for(settings.delivery, settings.schedule.delivery_first_retry_seconds),
            settings.schedule,
            settings.delivery.send_rate,
        )
        self.stopping = threading.Event()
        self.retention = Retention(store, settings)

    def plan(self, now: datetime) -> list[str]:
        """One planner tick, unless another daemon on the same database is running one: its tick
        plans this moment too (a lock per tick, so that when one daemon dies another plans on)."""
        with self.store.lock_if_free(locks.PLANNER) as ours:
            if not ours:
                log.debug("planner tick left to another daemon")
                return []
            added = tick(self.store, self.calendar, self.composing, now, self.stopping)
            # Then a finished round's per-person data, once its kept days are over (README "Erasure").
            self.retention.purge_due(now, self.stopping)
            return added

    def stop(self) -> None:
        """Ends a running tick between two batches (the rest is planned at the next start)."""
        self.stopping.set()

    def deliver(self, now: datetime) -> None:
        self.deliverer.deliver_due(now)

    def close(self) -> None:
        self.composing.close()
        self.deliverer.backend.close()


class Scheduler:
    def __init__(self, program_mail: ProgramMail, interval: timedelta, clock: Callable[[], datetime] = utc_now):
        self.program_mail = program_mail
        self.clock = clock
        self.scheduler = BackgroundScheduler(timezone=timezone.utc)
        start = clock()
        # coalesce + max_instances=1: a slow run is never doubled, and missed runs become one.
        options = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        self.scheduler.add_job(self._plan_and_deliver, IntervalTrigger(seconds=interval.total_seconds()),
                               next_run_time=start, **options)  # fmt: skip
        self.scheduler.add_job(self._deliver, IntervalTrigger(seconds=DELIVERY_INTERVAL.total_seconds()),
                               next_run_time=start + DELIVERY_INTERVAL, **options)  # fmt: skip

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        self.program_mail.stop()  # so that waiting for a running tick takes seconds, at any size
        self.scheduler.shutdown(wait=True)
        self.program_mail.close()

    def _plan_and_deliver(self) -> None:
        # A failure is logged and tried again at the next run; it never stops the timers.
        try:
            self.program_mail.plan(self.clock())
        except Exception as exc:
            log.error("planner tick failed: %s", describe_exception(exc))
        self._deliver()

    def _deliver(self) -> None:
        try:
            self.program_mail.deliver(self.clock())
        except Exception as exc:
            log.error("delivery failed: %s", describe_exception(exc))
