"""A planner tick: what is due goes into the outbox, once.

The planner is pure; this is where its answer meets the store. Each due mail is composed and
enqueued under its key in one transaction with the state it was planned from, so a tick can run
again at any moment (after a crash, on a second daemon) and add nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from mentormail.daemon.compose import Composer
from mentormail.daemon.planner import Calendar, PlannerState, due_mail
from mentormail.store import queries
from mentormail.store.db import Store

log = logging.getLogger("mentormail.outbox")


def tick(
    store: Store, calendar: Calendar, composer: Composer, now: datetime, state: PlannerState | None = None
) -> list[str]:
    """Enqueue everything due at `now`; returns the keys that were added.

    `state` may be given by a caller that knows it is current (`simulate` keeps one between
    ticks); a stale one is harmless, since enqueuing a key the outbox already holds does nothing.
    """
    if state is None:
        with store.session() as session:
            state = queries.planner_state(session)
    due = due_mail(calendar, state, now)
    added: list[str] = []
    if due:
        with store.session() as session:
            for mail in due:
                row = composer.compose(mail, queries.question_texts(session, mail.forwards))
                if queries.enqueue(session, row, mail.forwards):
                    added.append(mail.key)
    for key in added:
        log.info("enqueued %s", key)
    return added
