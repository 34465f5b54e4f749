"""Reminders to a mentor who has not written the introductory email yet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from ....store.planner_state import PairState, PlannerState
from .calendar import Calendar, welcomed
from .due import DueMail, is_running, person_fields, template_context


def plan_intro_reminders(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    """The latest reminder due, counted from the welcome; none once the mentor has written.

    After downtime only the latest of the reminders due is sent (the second supersedes the
    first), and none is sent once a mentor-to-mentee contact has come, however late.
    """
    for pair in state.pairs:
        if not is_running(pair):
            continue
        moments = intro_reminder_moments(calendar, pair, now)
        due = [number for number, moment in enumerate(moments, start=1) if moment <= now]
        if not due or any(c.direction == "mentor_to_mentee" and c.occurred_at <= now for c in pair.contacts):
            continue
        number = due[-1]
        key = f"intro_reminder:pair-{pair.pair_id}:{number}"
        if key in state.sent_keys:
            continue
        welcome = welcomed(calendar, pair)
        yield DueMail(
            key=key,
            kind="intro_reminder",
            due_at=moments[number - 1],
            to=(pair.mentor,),
            context=template_context(
                calendar,
                pair.mentor,
                "mentor",
                mentor=person_fields(pair.mentor),
                mentee=person_fields(pair.mentee),
                # Counted at the tick that sends it, from the day the pair was introduced.
                days_since_welcome=(calendar.local_date(now) - calendar.local_date(welcome)).days,
                reminder_number=number,
                reminded_before=any(f"intro_reminder:pair-{pair.pair_id}:{n}" in state.sent_keys for n in due),
                last_reminder=number == calendar.schedule.intro_reminders_max,
            ),
            pair_id=pair.pair_id,
            reply_person=pair.mentor.person_id,
            reference=f"pair-{pair.pair_id}",
        )


def intro_reminder_moments(calendar: Calendar, pair: PairState, now: datetime) -> list[datetime]:
    """Every `intro_within_days` days from the welcome's day, at send_time."""
    schedule = calendar.schedule
    first = calendar.local_date(welcomed(calendar, pair))
    return [
        calendar.at(first + timedelta(days=schedule.intro_within_days * number), schedule.send_time)
        for number in range(1, schedule.intro_reminders_max + 1)
    ]
