"""A planner tick: what is due goes into the outbox, once; a mail that cannot be made is set aside.

The planner is pure; this is where its answer meets the store. A tick is incremental (DESIGN.md
section 4): it plans only the pairs that changed or whose next due moment has come, a batch at
a time, and the committee's mail only when its inputs or its moment say so, so a tick with
nothing new is a few indexed reads at any size.

Each batch is read in one short transaction, composed with no transaction open (composing is
the slow part), then enqueued under its keys, with the pairs' next moments, in short writes of
at most `BATCH_SIZE` mails: intake never waits long for the write lock, a tick can stop between
batches (SIGTERM), and it can run again at any moment (after a crash, on a second daemon) and
add nothing twice, since the outbox ignores a key it already holds.

Like a GNU Mailman runner that shunts a message it cannot handle, a mail that cannot be composed
(a template that fails on one person's data, a forwarded question no encoder can write) does not
stop the rest: it is enqueued as `failed` with its reason (`composing.compose_or_set_aside`), so
the coordinators' next digest and `mentormail outbox --failed` list it, and every other mail
goes out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from ...store import queries
from ...store.db import Store
from ...store.planner_state import PlannerState
from .composing import Composing
from .planner import Calendar, DueMail, due_mail_for_pairs, next_moments, next_program_moment, program_due_mail
from .planner.liaison import liaison_activity_options, liaison_summary_due

if TYPE_CHECKING:
    from sqlmodel import Session

log = logging.getLogger("mentormail.outbox")

# Mails enqueued per write transaction: small enough that a tick of 10,000 pairs never holds the
# database's write lock for long, large enough that commits do not dominate.
BATCH_SIZE = 100
# Pairs read and planned together: a few rows each (see `pair_planner_state`).
PAIRS_PER_BATCH = 200


@dataclass
class Tick:
    """One planner tick at `now`; `stop` ends it between batches (the daemon is shutting down)."""

    store: Store
    calendar: Calendar
    composing: Composing
    now: datetime
    stop: threading.Event = field(default_factory=threading.Event)
    added: list[str] = field(default_factory=list)
    pairs_planned: int = 0

    def run(self) -> list[str]:
        """Enqueue everything due at `now`; returns the keys that were added (set-aside ones included)."""
        started = time.monotonic()
        self._plan_pairs()
        if not self.stop.is_set():
            self._plan_program()
        # One line per tick that did something (the operator's and the benchmarks' view of it);
        # a tick with nothing new, once a minute, says nothing at INFO.
        level = logging.INFO if self.pairs_planned or self.added else logging.DEBUG
        log.log(level, "planner tick%s: %d pairs planned, %d mails enqueued in %.1f s",
                " (stopped)" if self.stop.is_set() else "", self.pairs_planned, len(self.added),
                time.monotonic() - started)  # fmt: skip
        return self.added

    def _plan_pairs(self) -> None:
        with self.store.session() as session:
            queries.adopt_new_pairs(session)
        after = ""
        while not self.stop.is_set():
            with self.store.session() as session:
                batch = queries.pairs_to_plan(session, self.now, after, PAIRS_PER_BATCH)
                if not batch:
                    return
                pair_ids = {pair.pair_id for pair in batch}
                state = queries.pair_planner_state(session, pair_ids, self.now)
            due = due_mail_for_pairs(self.calendar, state, self.now, pair_ids)
            moments = next_moments(self.calendar, state, self.now, pair_ids)
            plans: list[tuple[queries.PairToPlan, datetime | None]] = [
                (pair, moments.get(pair.pair_id)) for pair in batch
            ]
            self._enqueue(
                [(mail, ()) for mail in due], lambda session: queries.record_pair_plans(session, self.now, plans)
            )
            self.pairs_planned += len(batch)
            after = batch[-1].pair_id

    def _plan_program(self) -> None:
        with self.store.session() as session:
            fingerprint = queries.program_fingerprint(session)
            planned = queries.program_plan(session)
            if planned is not None and planned.current(self.now, fingerprint):
                return
            state = with_liaison_activity(session, self.calendar, queries.program_planner_state(session), self.now)
            due = program_due_mail(self.calendar, state, self.now)
            forwarded = [(mail, tuple(queries.question_texts(session, mail.forwards))) for mail in due]
        moment = next_program_moment(self.calendar, state, self.now)
        self._enqueue(forwarded, lambda session: queries.record_program_plan(session, self.now, moment, fingerprint))

    def _enqueue(self, due: Sequence[tuple[DueMail, Sequence[bytes]]], then: Callable[..., None]) -> None:
        """Compose outside any transaction, then write `BATCH_SIZE` mails a transaction; `then`
        (the plans these mails came from) goes with the last write, so a crash before it only
        means the same mails are planned, and ignored by the outbox, again."""
        composed = self.composing.compose_all([(mail, texts, mail.attachments) for mail, texts in due], self.now)
        rows = list(zip((mail for mail, _ in due), composed, strict=True))
        for start in range(0, max(len(rows), 1), BATCH_SIZE):
            with self.store.session() as session:
                for mail, row in rows[start : start + BATCH_SIZE]:
                    # A set-aside digest has forwarded nothing: its questions wait for the next one.
                    forwards = mail.forwards if row.status == "pending" else ()
                    if queries.enqueue(session, row, forwards):
                        self.added.append(mail.key)
                        log.debug("enqueued %s", mail.key)  # INFO says "sent", once a mail
                if start + BATCH_SIZE >= len(rows):
                    then(session)


def with_liaison_activity(session: Session, calendar: Calendar, state: PlannerState, now: datetime) -> PlannerState:
    """The program-wide state (pairs without contacts) with the figures of the liaison summary
    due at `now`, read in SQL, when one is due and not yet sent: the only committee mail that
    needs the pairs' contacts."""
    found = liaison_summary_due(calendar, state, now)
    if found is None:
        return state
    _, at = found
    activity = queries.liaison_activity(session, at, **liaison_activity_options(calendar, state, at))
    return replace(state, liaison_activity=activity)


def tick(
    store: Store, calendar: Calendar, composing: Composing, now: datetime, stop: threading.Event | None = None
) -> list[str]:
    """Enqueue everything due at `now`; returns the keys that were added (set-aside ones included)."""
    return Tick(store, calendar, composing, now, stop or threading.Event()).run()
