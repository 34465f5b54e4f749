"""The round's first and last mail to a pair: the pairing announcement and the round's end."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, time

from ....store.planner_state import PairState, PlannerState
from .calendar import Calendar, round_ends_on
from .due import DueMail, is_running, members, person_fields, template_context


def pairing_due(calendar: Calendar, pair: PairState, now: datetime) -> bool:
    """The pairing mail is due from the pair's first day (send_time) until the round ends."""
    return (
        is_running(pair)
        and calendar.at(pair.started_on, calendar.schedule.send_time) <= now
        and now < calendar.at(round_ends_on(calendar, pair), time(0))
    )


def plan_pairing(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    for pair in state.pairs:
        if pairing_due(calendar, pair, now):
            yield DueMail(
                key=f"pairing:pair-{pair.pair_id}",
                kind="pairing",
                due_at=calendar.at(pair.started_on, calendar.schedule.send_time),
                to=(pair.mentor, pair.mentee),
                context=template_context(
                    calendar,
                    pair.mentor,
                    "mentor",
                    mentor=person_fields(pair.mentor),
                    mentee=person_fields(pair.mentee),
                    pair_id=pair.pair_id,
                    starts_on=pair.started_on,
                    ends_on=round_ends_on(calendar, pair),
                ),
                pair_id=pair.pair_id,
                reference=f"pair-{pair.pair_id}",
            )


def pairing_moments(calendar: Calendar, pair: PairState, now: datetime) -> Iterable[datetime]:
    """When the pairing mail falls due, and when it stops being due (the round's end)."""
    return (
        calendar.at(pair.started_on, calendar.schedule.send_time),
        calendar.at(round_ends_on(calendar, pair), time(0)),
    )


def plan_round_end(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    for pair in state.pairs:
        ends_on = round_ends_on(calendar, pair)
        due = calendar.at(ends_on, calendar.schedule.send_time)
        # A pair added after the round's end had no round to end.
        if due > now or pair.status == "paused" or pair.started_on >= ends_on:
            continue
        for role, person in members(pair):
            yield DueMail(
                key=f"round_end:pair-{pair.pair_id}:{role}",
                kind="round_end",
                due_at=due,
                to=(person,),
                context=template_context(
                    calendar,
                    person,
                    role,
                    partner=person_fields(pair.partner(person)),
                    starts_on=pair.started_on,
                    ends_on=ends_on,
                    # Sent late (after downtime), it says the round ended, not that it ends.
                    ended=calendar.local_date(now) > ends_on,
                ),
                pair_id=pair.pair_id,
                reply_person=person.person_id,
                reference=f"end-{pair.pair_id}",
            )


def round_end_moments(calendar: Calendar, pair: PairState, now: datetime) -> Iterable[datetime]:
    return (calendar.at(round_ends_on(calendar, pair), calendar.schedule.send_time),)
