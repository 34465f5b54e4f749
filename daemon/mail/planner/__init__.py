"""The program calendar: which of the program's mail is due.

Pure: a `Calendar` (from the config), a `PlannerState` (read from the store) and `now` in, a list
of `DueMail` out; no clock, no database. Every mail has a deterministic key
(`topic:pair-17:month-3:mentee`), and the outbox ignores a key it already holds, so a tick can
run any number of times, after any crash, on any number of daemons. `mentormail simulate` runs
the same function in virtual time.

All times are in the program's time zone: "09:00 on the 1st" is 09:00 local on either side of a
daylight-saving change.

Catching up after downtime: a one-off mail (pairing, reminders, survey, survey reminder, survey
results, round end) is sent late rather than never; of a recurring one (topic, check-in, nudge, summary, digest) only the latest
occurrence is sent, so a week offline does not end in a burst of stale mail.


The package has a module per kind of mail (pairing, reminders, topics, nudges, check-ins,
surveys, summaries), each a `plan_*` function over the same `Calendar` and `PlannerState`;
`PLANS` below is the calendar read as a list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from ....store.planner_state import PlannerState
from .calendar import Calendar, add_months, round_ends_on
from .checkins import plan_checkins
from .due import DueMail
from .nudges import plan_nudges
from .pairing import plan_pairing, plan_round_end
from .reminders import plan_intro_reminders
from .summaries import plan_digest, plan_liaison_summary
from .surveys import plan_survey_reminders, plan_survey_results, plan_surveys
from .topics import plan_topics

# The planner's interface: what the outbox, replies, simulate and the tests use.
__all__ = ["Calendar", "DueMail", "PLANS", "add_months", "due_mail", "round_ends_on"]


def due_mail(calendar: Calendar, state: PlannerState, now: datetime) -> list[DueMail]:
    """Everything due at `now` that is not in the outbox yet, in due order."""
    due = [mail for plan in PLANS for mail in plan(calendar, state, now) if mail.key not in state.sent_keys]
    return sorted(due, key=lambda mail: (mail.due_at, mail.key))


# The calendar, read as a list: each entry plans one kind of mail.
PLANS: tuple[Callable[[Calendar, PlannerState, datetime], Iterator[DueMail]], ...] = (
    plan_pairing,
    plan_intro_reminders,
    plan_topics,
    plan_nudges,
    plan_checkins,
    plan_surveys,
    plan_survey_reminders,
    plan_survey_results,
    plan_round_end,
    plan_liaison_summary,
    plan_digest,
)
