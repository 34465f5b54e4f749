"""`[privacy] keep_days_after_round`: the planner tick's last step purges a round whose end is more
than that many days ago, keeping only its counts (store/queries/retention.py; README "Erasure").

Run under the planner's lock (one daemon at a time), in short transactions of a batch of pairs
each, between which a stopping daemon stops; the next tick goes on where it stopped. Logged by
round id and counts, never a name or an address; the audit gets one entry a round, which the
coordinators see with `status` (what is kept of each purged round).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, time

from ...store import queries
from ...store.db import Store
from ..settings import Settings

log = logging.getLogger("mentormail.retention")

# Who the audit entry names as having acted.
AUDITED_AS = "retention"


class Retention:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.keep_days = settings.privacy.keep_days_after_round
        self.zone = settings.program.zone
        self.free_text = frozenset(
            f"{survey.id}.{question.id}" for survey in settings.surveys for question in survey.questions
            if question.kind == "text"
        )  # fmt: skip

    def purge_due(self, now: datetime, stop: threading.Event | None = None) -> list[str]:
        """Purge every round due at `now` (0 kept days: none ever is); the ids of those finished."""
        if self.keep_days == 0:
            return []
        today = now.astimezone(self.zone).date()
        with self.store.session() as session:
            due = queries.rounds_due(session, today, self.keep_days)
        finished = []
        for round_id in due:
            if self._purge(round_id, now, stop):
                finished.append(round_id)
        return finished

    def _purge(self, round_id: str, now: datetime, stop: threading.Event | None) -> bool:
        with self.store.session() as session:
            ends_on = queries.round_ends_on(session, round_id)
            if ends_on is None:
                return False
            if queries.count_round(session, round_id, self.zone, now, self.free_text):
                log.info("retention: round %s ended on %s, kept %d days: counted", round_id, ends_on, self.keep_days)
        pairs = people = 0
        while True:
            if stop is not None and stop.is_set():
                return False
            with self.store.session() as session:
                removed, forgotten = queries.purge_pairs(session, round_id, now)
            if not removed:
                break
            pairs, people = pairs + removed, people + forgotten
        # Strangers' records and machine mail from before the round's end are nobody's round data.
        before = datetime.combine(ends_on, time(), tzinfo=self.zone)
        while True:
            if stop is not None and stop.is_set():
                return False
            with self.store.session() as session:
                if not queries.purge_strangers(session, before):
                    break
        with self.store.session() as session:
            purge = queries.finish_purge(session, round_id, now)
            queries.audit(
                session, now, AUDITED_AS, f"purge round {round_id}",
                f"removed {purge.pairs} pairs and {purge.people_forgotten} people; kept their counts",
            )  # fmt: skip
        log.info(
            "retention: round %s purged: %d pairs and %d people removed now (%d pairs, %d people in all); counts kept",
            round_id, pairs, people, purge.pairs, purge.people_forgotten,
        )  # fmt: skip
        return True


def describe(keep_days: int) -> str:
    """The line `check-config` prints for `[privacy] keep_days_after_round`."""
    if keep_days == 0:
        return "retention: off ([privacy] keep_days_after_round = 0): per-person data is kept until forgotten"
    return (
        f"retention: a round's per-person data is removed {keep_days} days after the round ends, "
        "its counts kept ([privacy] keep_days_after_round)"
    )
