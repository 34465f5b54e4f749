"""The committee's mail: the liaison's weekly summary (with its activity chart) and the coordinators' daily digest."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, time, timedelta, timezone

from ....store.planner_state import Bounce, CheckinRow, PairState, PlannerState
from .calendar import WEEKDAYS, Calendar, latest, round_ends_on
from .due import DueMail, committee_members, person_fields, template_context

ONE_SIDED_WINDOW_DAYS = 60


LONG_INACTIVE_DAYS = 45


LOW_RATING = 2  # a check-in rating at or below this is listed in the liaison summary


CONTACT_REQUEST_DAYS = 45  # how long a check-in's request to hear from the liaison is listed


def weekly_occurrences(calendar: Calendar, state: PlannerState) -> list[datetime]:
    """Every liaison-summary time from the first pair's start to a week after the last end."""
    if not state.pairs:
        return []
    first = min(pair.started_on for pair in state.pairs)
    last = max(round_ends_on(calendar, pair) for pair in state.pairs) + timedelta(days=7)
    weekday = WEEKDAYS.index(calendar.schedule.liaison_summary_weekday)
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    occurrences = []
    while day <= last:
        occurrences.append(calendar.at(day, calendar.schedule.liaison_summary_time))
        day += timedelta(days=7)
    return occurrences


def plan_liaison_summary(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    if calendar.liaison is None:
        return
    occurrences = weekly_occurrences(calendar, state)
    current = latest(occurrences, now)
    if current is None:
        return
    due = occurrences[current]
    key = f"liaison_summary:{calendar.local_date(due).isoformat()}"
    if key in state.sent_keys:
        return  # already sent: spare building the summary on every tick of the week
    liaison = state.staff_person(calendar.liaison)
    yield DueMail(
        key=key,
        kind="liaison_summary",
        due_at=due,
        to=(liaison,),
        context=template_context(calendar, liaison, "liaison", **liaison_summary(calendar, state, due)),
        reply_person=liaison.person_id,
        reference="summary",
        to_committee=True,
    )


def liaison_summary(calendar: Calendar, state: PlannerState, at: datetime) -> dict[str, object]:
    """The summary's content: pairs by concern, bouncing addresses, and the weekly activity chart."""
    started = [p for p in state.pairs if calendar.at(p.started_on, time(0)) <= at and p.status != "ended"]
    running = [p for p in started if p.status == "active"]

    def row(pair: PairState) -> dict[str, object]:
        last = _last_contact(pair, at)
        return {
            "pair_id": pair.pair_id,
            "mentor": person_fields(pair.mentor),
            "mentee": person_fields(pair.mentee),
            "days_since_contact": (at - last).days if last else None,
            "last_contact": calendar.local_date(last) if last else None,
        }

    def quiet_for(pair: PairState, days: int) -> bool:
        last = _last_contact(pair, at)
        return last is not None and (at - last).days >= days

    never_started = [row(p) for p in running if _last_contact(p, at) is None]
    inactive_45 = [row(p) for p in running if quiet_for(p, LONG_INACTIVE_DAYS)]
    inactive_30 = [
        row(p) for p in running if quiet_for(p, calendar.schedule.inactive_after_days)
        and not quiet_for(p, LONG_INACTIVE_DAYS)
    ]  # fmt: skip
    one_sided = [row(p) for p in running if _one_sided(p, at)]
    paused = [row(p) for p in started if p.status == "paused"]
    low_ratings, contact_requests = _checkin_concerns(calendar, started, state.checkins, at, row)
    bouncing = [
        {"name": b.person.name, "email": b.person.email, "pair_id": ", ".join(b.pair_ids)}
        for b in _latest_per_address(state.bounces)
        if b.at <= at
    ]
    return {
        "week_of": calendar.local_date(at),
        "counts": {
            "pairs": len(started),
            "active": len(running) - len(never_started) - len(inactive_30) - len(inactive_45),
            "never_started": len(never_started),
            "inactive_30": len(inactive_30),
            "inactive_45": len(inactive_45),
            "one_sided": len(one_sided),
            "bouncing": len(bouncing),
            "paused": len(paused),
            "low_ratings": len(low_ratings),
            "contact_requests": len(contact_requests),
        },
        "never_started": never_started,
        "inactive_30": inactive_30,
        "inactive_45": inactive_45,
        "one_sided": one_sided,
        "paused": paused,
        "low_ratings": low_ratings,
        "contact_requests": contact_requests,
        "bouncing": bouncing,
        "chart": activity_chart(calendar, started, at),
    }


def _checkin_concerns(
    calendar: Calendar,
    pairs: Sequence[PairState],
    checkins: Sequence[CheckinRow],
    at: datetime,
    row: Callable[[PairState], dict[str, object]],
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """From the mentors' check-in replies: the pairs whose latest rating is low, and the mentors who
    asked (in the last 45 days) for the liaison to get in touch; most recent reply first."""
    window = at - timedelta(days=CONTACT_REQUEST_DAYS)
    low: list[tuple[CheckinRow, PairState]] = []
    asked: list[tuple[CheckinRow, PairState]] = []
    by_pair: dict[str, list[CheckinRow]] = {}
    for reply in sorted(checkins, key=lambda c: (c.month, c.received_at)):
        if reply.received_at <= at:
            by_pair.setdefault(reply.pair_id, []).append(reply)
    for pair in pairs:
        replies = by_pair.get(pair.pair_id, [])
        rated = [c for c in replies if c.rating is not None]
        if rated and (rated[-1].rating or 0) <= LOW_RATING:
            low.append((rated[-1], pair))
        wanting = [c for c in replies if c.wants_contact and c.received_at >= window]
        if wanting:
            asked.append((wanting[-1], pair))

    def rows(found: list[tuple[CheckinRow, PairState]]) -> list[dict[str, object]]:
        found.sort(key=lambda item: item[0].received_at, reverse=True)
        return [
            {
                **row(pair),
                "rating": reply.rating,
                "month": reply.month,
                "received_at": reply.received_at,
                "received_on": calendar.local_date(reply.received_at),
            }
            for reply, pair in found
        ]

    return rows(low), rows(asked)


def activity_chart(calendar: Calendar, pairs: Sequence[PairState], at: datetime) -> dict[str, object]:
    """Contacts per pair per week (weeks starting Monday, local time), up to the week of `at`."""
    if not pairs:
        return {"weeks": [], "rows": []}
    first = min(p.started_on for p in pairs)
    first_monday = first - timedelta(days=first.weekday())
    today = calendar.local_date(at)
    weeks = [first_monday + timedelta(weeks=n) for n in range((today - first_monday).days // 7 + 1)]
    rows = []
    for pair in pairs:
        cells = [0] * len(weeks)
        for contact in pair.contacts:
            if contact.occurred_at <= at:
                index = (calendar.local_date(contact.occurred_at) - first_monday).days // 7
                if 0 <= index < len(cells):
                    cells[index] += 1
        rows.append(
            {"pair_id": pair.pair_id, "mentor_name": pair.mentor.name, "mentee_name": pair.mentee.name, "cells": cells}
        )
    return {"weeks": weeks, "rows": rows}


def plan_digest(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    """Daily, only when something needs the coordinators: one mail to each, so that each has a
    reply address of their own to answer with commands."""
    if not calendar.coordinators or not state.pairs:
        return
    today = calendar.local_date(now)
    due = calendar.at(today, calendar.schedule.digest_time)
    if due > now:
        due = calendar.at(today - timedelta(days=1), calendar.schedule.digest_time)
    day = calendar.local_date(due).isoformat()
    coordinators = [person for role, person in committee_members(calendar, state) if role == "coordinator"]
    keys = {person.email: f"digest:{day}:{person.email}" for person in coordinators}
    if all(key in state.sent_keys for key in keys.values()):
        return
    since = state.last_digest_at or datetime.min.replace(tzinfo=timezone.utc)

    def new(moment: datetime) -> bool:
        return since <= moment < due

    questions = [q for q in state.questions if q.received_at < due]
    bounces = [b for b in _latest_per_address(state.bounces) if new(b.at)]
    failures = [f for f in state.failures if new(f.since)]
    unknown = _count_by_address((sender.email, sender.at) for sender in state.unknown_senders if new(sender.at))
    spoofed = _count_by_address((attempt.email, attempt.at) for attempt in state.spoofed if new(attempt.at))
    letters = sorted((r for r in state.letter_requests if r.requested_at < due), key=lambda r: r.request_id)
    if not (questions or bounces or failures or unknown or spoofed or letters):
        return  # only when something needs them
    content = dict(
        day=calendar.local_date(due),
        questions=[{"name": q.person.name, "email": q.person.email, "received_at": q.received_at} for q in questions],
        bounces=[
            {"name": b.person.name, "email": b.person.email, "pair_id": ", ".join(b.pair_ids), "at": b.at}
            for b in bounces
        ],
        failed_deliveries=[{"kind": f.kind, "to": f.to, "reason": f.reason, "since": f.since} for f in failures],
        unknown_senders=[{"email": u["email"], "count": u["count"]} for u in unknown],
        letter_requests=[
            {
                "request_id": r.request_id,
                "name": r.person.name,
                "email": r.person.email,
                "pair_id": r.pair_id,
                "requested_at": r.requested_at,
                "approve": f"approve letter {r.request_id}",
                "decline": f"decline letter {r.request_id}",
            }
            for r in letters
        ],
        spoofed=spoofed,
    )
    for coordinator in coordinators:
        yield DueMail(
            key=keys[coordinator.email],
            kind="digest",
            due_at=due,
            to=(coordinator,),
            context=template_context(calendar, coordinator, "coordinator", **content),
            reply_person=coordinator.person_id,
            reference="digest",
            to_committee=True,
            forwards=tuple(q.question_id for q in questions),
        )


def _count_by_address(seen: Iterable[tuple[str, datetime]]) -> list[dict[str, object]]:
    """[{email, count, last}] per address, by address."""
    counts: dict[str, int] = {}
    last: dict[str, datetime] = {}
    for email, at in seen:
        counts[email] = counts.get(email, 0) + 1
        last[email] = max(at, last.get(email, at))
    return [{"email": email, "count": counts[email], "last": last[email]} for email in sorted(counts)]


def _last_contact(pair: PairState, at: datetime) -> datetime | None:
    return max((c.occurred_at for c in pair.contacts if c.occurred_at <= at), default=None)


def _one_sided(pair: PairState, at: datetime) -> bool:
    window = at - timedelta(days=ONE_SIDED_WINDOW_DAYS)
    directions = {c.direction for c in pair.contacts if window <= c.occurred_at <= at}
    return len(directions) == 1


def _latest_per_address(bounces: Sequence[Bounce]) -> list[Bounce]:
    by_address: dict[str, Bounce] = {}
    for bounce in sorted(bounces, key=lambda b: b.at):
        by_address[bounce.person.email] = bounce
    return list(by_address.values())
