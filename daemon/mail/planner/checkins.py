"""The monthly check-in with each mentor: how is it going?"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from ....store.planner_state import PairState, PlannerState
from .calendar import Calendar, add_months, latest
from .due import DueMail, is_running, person_fields, template_context


def plan_checkins(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    for pair in state.pairs:
        if not is_running(pair):
            continue
        occurrences = checkin_moments(calendar, pair, now)
        current = latest(occurrences, now)
        if current is None:
            continue
        yield DueMail(
            key=f"checkin:pair-{pair.pair_id}:month-{current + 1}",
            kind="checkin",
            due_at=occurrences[current],
            to=(pair.mentor,),
            context=template_context(
                calendar,
                pair.mentor,
                "mentor",
                mentee=person_fields(pair.mentee),
                month=current + 1,
                months=calendar.months,
            ),
            pair_id=pair.pair_id,
            reply_person=pair.mentor.person_id,
            reference=f"checkin-{current + 1}",
        )


def checkin_moments(calendar: Calendar, pair: PairState, now: datetime) -> list[datetime]:
    offset = timedelta(days=calendar.schedule.checkin_day_of_month - 1)
    return [
        calendar.at(add_months(pair.started_on, n) + offset, calendar.schedule.send_time)
        for n in range(calendar.months)
    ]
