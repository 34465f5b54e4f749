"""Reminders to a mentor who has not written the introductory email yet."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from ....store.planner_state import PairState, PlannerState
from .calendar import Calendar
from .due import DueMail, is_running, person_fields, template_context


def plan_intro_reminders(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    schedule = calendar.schedule
    for pair in state.pairs:
        if not is_running(pair):
            continue
        for number in range(1, schedule.intro_reminders_max + 1):
            days = schedule.intro_within_days * number
            due = calendar.at(pair.started_on + timedelta(days=days), schedule.send_time)
            introduced = any(c.direction == "mentor_to_mentee" and c.occurred_at < due for c in pair.contacts)
            if due > now or introduced:
                break
            yield DueMail(
                key=f"intro_reminder:pair-{pair.pair_id}:{number}",
                kind="intro_reminder",
                due_at=due,
                to=(pair.mentor,),
                context=template_context(
                    calendar,
                    pair.mentor,
                    "mentor",
                    mentor=person_fields(pair.mentor),
                    mentee=person_fields(pair.mentee),
                    days_since_start=days,
                    reminder_number=number,
                ),
                pair_id=pair.pair_id,
                reply_person=pair.mentor.person_id,
                reference=f"pair-{pair.pair_id}",
            )


def intro_reminder_moments(calendar: Calendar, pair: PairState, now: datetime) -> Iterable[datetime]:
    schedule = calendar.schedule
    return (
        calendar.at(pair.started_on + timedelta(days=schedule.intro_within_days * number), schedule.send_time)
        for number in range(1, schedule.intro_reminders_max + 1)
    )
