"""A nudge to both members of a pair that has gone quiet."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, time, timedelta

from ....store.planner_state import PairState, PlannerState
from .calendar import Calendar, at_send_time, round_ends_on, welcomed
from .due import DueMail, is_running, members, person_fields, template_context


def plan_nudges(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    """After each `inactive_after_days` without contact, at the next send_time; only the latest.

    The quiet period starts with the last contact, and never before the welcome: a pairing mail
    that goes out late is not followed by a nudge about the weeks before it.
    """
    period = timedelta(days=calendar.schedule.inactive_after_days)
    for pair in state.pairs:
        started = calendar.at(pair.started_on, time(0))
        ends = calendar.at(round_ends_on(calendar, pair), time(0))
        if not is_running(pair) or now >= ends or now < started:
            continue
        last, quiet_since = _quiet_since(calendar, pair, now)
        periods = _periods(calendar, quiet_since, now, period)
        if periods < 1:
            continue
        due = at_send_time(calendar, quiet_since + periods * period)
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


def _quiet_since(calendar: Calendar, pair: PairState, now: datetime) -> tuple[datetime | None, datetime]:
    """The last contact up to `now`, and when the pair's quiet period began: at that contact, or
    at the start (midnight) of the day it was welcomed, whichever is later. (Midnight: for a pair
    welcomed on its first day, the quiet period and so the nudges' keys are what they always were.)"""
    last = max((c.occurred_at for c in pair.contacts if c.occurred_at <= now), default=None)
    welcome_day = calendar.at(calendar.local_date(welcomed(calendar, pair)), time(0))
    return last, max(last, welcome_day) if last else welcome_day


def _periods(calendar: Calendar, quiet_since: datetime, now: datetime, period: timedelta) -> int:
    """How many quiet periods have ended by `now`, each counted at the send_time after it."""
    periods = (now - quiet_since) // period
    # The send_time after a period's end is less than a day later, and a period is a day or more.
    return periods - 1 if periods >= 1 and at_send_time(calendar, quiet_since + periods * period) > now else periods


def nudge_moments(calendar: Calendar, pair: PairState, now: datetime) -> Iterable[datetime]:
    """The round's start and end (nudges run between them), the next quiet period's nudge, and
    every contact still ahead of `now` (each one restarts the quiet period when it comes)."""
    period = timedelta(days=calendar.schedule.inactive_after_days)
    yield calendar.at(pair.started_on, time(0))
    yield calendar.at(round_ends_on(calendar, pair), time(0))
    _, quiet_since = _quiet_since(calendar, pair, now)
    yield at_send_time(calendar, quiet_since + max(_periods(calendar, quiet_since, now, period) + 1, 1) * period)
    yield from (c.occurred_at for c in pair.contacts if c.occurred_at > now)
