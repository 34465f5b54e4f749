"""A nudge to both members of a pair that has gone quiet."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, time, timedelta

from ....store.planner_state import PairState, PlannerState
from .calendar import Calendar, round_ends_on
from .due import DueMail, is_running, members, person_fields, template_context


def plan_nudges(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    period = timedelta(days=calendar.schedule.inactive_after_days)
    for pair in state.pairs:
        started = calendar.at(pair.started_on, time(0))
        ends = calendar.at(round_ends_on(calendar, pair), time(0))
        if not is_running(pair) or now >= ends or now < started:
            continue
        last = max((c.occurred_at for c in pair.contacts if c.occurred_at <= now), default=None)
        quiet_since = last or started
        periods = (now - quiet_since) // period
        if periods < 1:
            continue
        due = quiet_since + periods * period
        days_since = (now - last).days if last else None
        for role, person in members(pair):
            yield DueMail(
                key=f"nudge:pair-{pair.pair_id}:since-{quiet_since:%Y%m%dT%H%M}:{periods}:{role}",
                kind="nudge",
                due_at=due,
                to=(person,),
                context=template_context(
                    calendar, person, role, partner=person_fields(pair.partner(person)), days_since_contact=days_since
                ),
                pair_id=pair.pair_id,
                reply_person=person.person_id,
                reference=f"pair-{pair.pair_id}",
            )


def nudge_moments(calendar: Calendar, pair: PairState, now: datetime) -> Iterable[datetime]:
    """The round's start and end (nudges run between them), the end of the current quiet period,
    and every contact still ahead of `now` (each one restarts the quiet period when it comes)."""
    period = timedelta(days=calendar.schedule.inactive_after_days)
    started = calendar.at(pair.started_on, time(0))
    yield started
    yield calendar.at(round_ends_on(calendar, pair), time(0))
    last = max((c.occurred_at for c in pair.contacts if c.occurred_at <= now), default=None)
    quiet_since = last or started
    yield quiet_since + max((now - quiet_since) // period + 1, 1) * period
    yield from (c.occurred_at for c in pair.contacts if c.occurred_at > now)
