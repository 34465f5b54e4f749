"""The monthly check-in with each mentor: how is it going?"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ....store.planner_state import PairState, PlannerState
from .calendar import Calendar, latest, monthly, round_month
from .due import DueMail, is_running, person_fields, template_context


def plan_checkins(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    for pair in state.pairs:
        if not is_running(pair):
            continue
        occurrences = checkin_moments(calendar, pair, now)
        current = latest(occurrences, now)
        if current is None:
            continue
        month, months, _ = round_month(calendar, pair, now)
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
                # The month it is when sent: after downtime, month 1's check-in may go in month 2.
                month=month,
                months=months,  # the pair's months in the round
            ),
            pair_id=pair.pair_id,
            reply_person=pair.mentor.person_id,
            reference=f"checkin-{current + 1}",
        )


def checkin_moments(calendar: Calendar, pair: PairState, now: datetime) -> list[datetime]:
    """Day `checkin_day_of_month` of each of the pair's months, counted from its welcome; the
    latest only is sent (after downtime, the months missed are not asked about)."""
    return monthly(calendar, pair, calendar.schedule.checkin_day_of_month - 1)
