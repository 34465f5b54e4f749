"""The program calendar: which of the program's mail is due.

Pure: a `Calendar` (from the config), a `PlannerState` (read from the store) and `now` in, a list
of `DueMail` out; no clock, no database. Every mail has a deterministic key
(`topic:pair-17:month-3:mentee`), and the outbox ignores a key it already holds, so a tick can
run any number of times, after any crash, on any number of daemons. `mentormail simulate` runs
the same function in virtual time.

All times are in the program's time zone: "09:00 on the 1st" is 09:00 local on either side of a
daylight-saving change.

Catching up after downtime: a one-off mail (pairing, reminders, survey, round end) is sent late
rather than never; of a recurring one (topic, check-in, nudge, summary, digest) only the latest
occurrence is sent, so a week offline does not end in a burst of stale mail.
"""

from __future__ import annotations

import calendar as calendar_module
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from mentormail.daemon.settings import ScheduleSettings, Settings, SurveySettings, TopicSettings

ONE_SIDED_WINDOW_DAYS = 60
LONG_INACTIVE_DAYS = 45
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# --- what the planner is given -------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    program_name: str
    program_address: str
    zone: ZoneInfo
    months: int
    schedule: ScheduleSettings
    topics: tuple[TopicSettings, ...]
    surveys: tuple[SurveySettings, ...]
    coordinators: tuple[str, ...]
    liaison: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Calendar:
        return cls(
            program_name=settings.program.name,
            program_address=settings.program.address,
            zone=settings.program.zone,
            months=settings.program.months,
            schedule=settings.schedule,
            topics=settings.topics,
            surveys=settings.surveys,
            coordinators=settings.people.coordinators,
            liaison=settings.people.liaison,
        )

    def at(self, day: date, moment: time) -> datetime:
        """`moment` local on `day`, as an aware UTC datetime (DST-correct)."""
        return datetime.combine(day, moment, tzinfo=self.zone).astimezone(timezone.utc)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


@dataclass(frozen=True)
class Person:
    person_id: int  # 0 for an address that is not a participant (coordinators, the liaison)
    name: str
    email: str


@dataclass(frozen=True)
class Contact:
    occurred_at: datetime  # aware UTC
    direction: str  # mentor_to_mentee | mentee_to_mentor


@dataclass(frozen=True)
class PairState:
    pair_id: str
    mentor: Person
    mentee: Person
    status: str  # active | paused | ended
    started_on: date
    contacts: tuple[Contact, ...]  # oldest first

    def partner(self, person: Person) -> Person:
        return self.mentee if person == self.mentor else self.mentor


@dataclass(frozen=True)
class Bounce:
    person: Person
    at: datetime
    pair_ids: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    question_id: int
    person: Person
    received_at: datetime


@dataclass(frozen=True)
class DeliveryFailure:
    kind: str
    to: str
    reason: str
    since: datetime  # when it was given up


@dataclass(frozen=True)
class UnknownSender:
    email: str
    at: datetime


@dataclass(frozen=True)
class PlannerState:
    pairs: tuple[PairState, ...]
    sent_keys: frozenset[str]  # every key already in the outbox
    bounces: tuple[Bounce, ...] = ()
    questions: tuple[Question, ...] = ()  # not yet forwarded
    failures: tuple[DeliveryFailure, ...] = ()
    unknown_senders: tuple[UnknownSender, ...] = ()
    last_digest_at: datetime | None = None  # due time of the latest digest in the outbox


# --- what the planner gives back -----------------------------------------------------------


@dataclass(frozen=True)
class DueMail:
    key: str
    kind: str
    due_at: datetime
    to: tuple[Person, ...]
    context: dict[str, object]  # for the template of `kind`
    pair_id: str | None = None
    # Who a reply is expected from (0: any recipient) and what it refers to: the signed
    # Reply-To is made from these.
    reply_person: int = 0
    reference: str = ""
    forwards: tuple[int, ...] = field(default=())  # question ids attached to a digest


def due_mail(calendar: Calendar, state: PlannerState, now: datetime) -> list[DueMail]:
    """Everything due at `now` that is not in the outbox yet, in due order."""
    due = [mail for plan in PLANS for mail in plan(calendar, state, now) if mail.key not in state.sent_keys]
    return sorted(due, key=lambda mail: (mail.due_at, mail.key))


# --- calendar arithmetic -------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar_module.monthrange(year, month)[1]))


def round_ends_on(calendar: Calendar, pair: PairState) -> date:
    return add_months(pair.started_on, calendar.months)


def latest(occurrences: Sequence[datetime], now: datetime) -> int | None:
    """Index of the latest occurrence at or before `now` (the current one), or None."""
    passed = [index for index, moment in enumerate(occurrences) if moment <= now]
    return passed[-1] if passed else None


def _running(pair: PairState) -> bool:
    return pair.status == "active"


def _context(calendar: Calendar, recipient: Person, role: str, **values: object) -> dict[str, object]:
    return {
        "program": {
            "name": calendar.program_name,
            "address": calendar.program_address,
            "coordinators": list(calendar.coordinators),
            "liaison": calendar.liaison,
        },
        "recipient": {"name": recipient.name, "email": recipient.email, "role": role},
        **values,
    }


def _person(person: Person) -> dict[str, str]:
    return {"name": person.name, "email": person.email}


def _members(pair: PairState) -> Iterator[tuple[str, Person]]:
    yield "mentor", pair.mentor
    yield "mentee", pair.mentee


# --- one function per kind of mail ---------------------------------------------------------


def plan_pairing(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    for pair in state.pairs:
        due = calendar.at(pair.started_on, calendar.schedule.send_time)
        if due <= now and _running(pair) and now < calendar.at(round_ends_on(calendar, pair), time(0)):
            yield DueMail(
                key=f"pairing:pair-{pair.pair_id}",
                kind="pairing",
                due_at=due,
                to=(pair.mentor, pair.mentee),
                context=_context(
                    calendar,
                    pair.mentor,
                    "mentor",
                    mentor=_person(pair.mentor),
                    mentee=_person(pair.mentee),
                    pair_id=pair.pair_id,
                    starts_on=pair.started_on,
                    ends_on=round_ends_on(calendar, pair),
                ),
                pair_id=pair.pair_id,
                reference=f"pair-{pair.pair_id}",
            )


def plan_intro_reminders(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    schedule = calendar.schedule
    for pair in state.pairs:
        if not _running(pair):
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
                context=_context(
                    calendar,
                    pair.mentor,
                    "mentor",
                    mentor=_person(pair.mentor),
                    mentee=_person(pair.mentee),
                    days_since_start=days,
                    reminder_number=number,
                ),
                pair_id=pair.pair_id,
                reply_person=pair.mentor.person_id,
                reference=f"pair-{pair.pair_id}",
            )


def plan_topics(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    months = min(calendar.months, len(calendar.topics))
    for pair in state.pairs:
        if not _running(pair) or months == 0:
            continue
        occurrences = [calendar.at(add_months(pair.started_on, n), calendar.schedule.send_time) for n in range(months)]
        current = latest(occurrences, now)
        if current is None:
            continue
        topic = calendar.topics[current]
        for role, person in _members(pair):
            yield DueMail(
                key=f"topic:pair-{pair.pair_id}:month-{current + 1}:{role}",
                kind="topic",
                due_at=occurrences[current],
                to=(person,),
                context=_context(
                    calendar,
                    person,
                    role,
                    month=current + 1,
                    months=calendar.months,
                    topic={
                        "title": topic.title,
                        "prompts": list(topic.prompts),
                        "resources": [{"title": title, "url": url} for title, url in topic.resources],
                    },
                    partner=_person(pair.partner(person)),
                ),
                pair_id=pair.pair_id,
                reply_person=person.person_id,
                reference=f"topic-{current + 1}",
            )


def plan_nudges(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    period = timedelta(days=calendar.schedule.inactive_after_days)
    for pair in state.pairs:
        started = calendar.at(pair.started_on, time(0))
        ends = calendar.at(round_ends_on(calendar, pair), time(0))
        if not _running(pair) or now >= ends or now < started:
            continue
        last = max((c.occurred_at for c in pair.contacts if c.occurred_at <= now), default=None)
        quiet_since = last or started
        periods = (now - quiet_since) // period
        if periods < 1:
            continue
        due = quiet_since + periods * period
        days_since = (now - last).days if last else None
        for role, person in _members(pair):
            yield DueMail(
                key=f"nudge:pair-{pair.pair_id}:since-{quiet_since:%Y%m%dT%H%M}:{periods}:{role}",
                kind="nudge",
                due_at=due,
                to=(person,),
                context=_context(
                    calendar, person, role, partner=_person(pair.partner(person)), days_since_contact=days_since
                ),
                pair_id=pair.pair_id,
                reply_person=person.person_id,
                reference=f"pair-{pair.pair_id}",
            )


def plan_checkins(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    offset = timedelta(days=calendar.schedule.checkin_day_of_month - 1)
    for pair in state.pairs:
        if not _running(pair):
            continue
        occurrences = [
            calendar.at(add_months(pair.started_on, n) + offset, calendar.schedule.send_time)
            for n in range(calendar.months)
        ]
        current = latest(occurrences, now)
        if current is None:
            continue
        yield DueMail(
            key=f"checkin:pair-{pair.pair_id}:month-{current + 1}",
            kind="checkin",
            due_at=occurrences[current],
            to=(pair.mentor,),
            context=_context(
                calendar,
                pair.mentor,
                "mentor",
                mentee=_person(pair.mentee),
                month=current + 1,
                months=calendar.months,
            ),
            pair_id=pair.pair_id,
            reply_person=pair.mentor.person_id,
            reference=f"checkin-{current + 1}",
        )


def plan_surveys(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    for survey in calendar.surveys:
        audience = {"mentors": ("mentor",), "mentees": ("mentee",), "both": ("mentor", "mentee")}[survey.audience]
        for pair in state.pairs:
            if pair.status == "paused":
                continue
            ends_on = round_ends_on(calendar, pair)
            opens = calendar.at(ends_on - timedelta(days=survey.opens_days_before_end), calendar.schedule.send_time)
            closes = ends_on + timedelta(days=survey.closes_days_after_end)
            if not opens <= now < calendar.at(closes, time(0)):
                continue
            for role, person in _members(pair):
                if role not in audience:
                    continue
                yield DueMail(
                    key=f"survey:{survey.id}:pair-{pair.pair_id}:{role}",
                    kind="survey",
                    due_at=opens,
                    to=(person,),
                    context=_context(
                        calendar,
                        person,
                        role,
                        survey={
                            "title": survey.title,
                            "questions": [
                                {"number": n, "text": q.text, "kind": q.kind, "labels": list(q.labels)}
                                for n, q in enumerate(survey.questions, start=1)
                            ],
                        },
                        closes_on=closes,
                    ),
                    pair_id=pair.pair_id,
                    reply_person=person.person_id,
                    reference=f"survey-{survey.id}",
                )


def plan_round_end(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    for pair in state.pairs:
        ends_on = round_ends_on(calendar, pair)
        due = calendar.at(ends_on, calendar.schedule.send_time)
        if due > now or pair.status == "paused":
            continue
        for role, person in _members(pair):
            yield DueMail(
                key=f"round_end:pair-{pair.pair_id}:{role}",
                kind="round_end",
                due_at=due,
                to=(person,),
                context=_context(
                    calendar,
                    person,
                    role,
                    partner=_person(pair.partner(person)),
                    starts_on=pair.started_on,
                    ends_on=ends_on,
                ),
                pair_id=pair.pair_id,
                reply_person=person.person_id,
                reference=f"end-{pair.pair_id}",
            )


# --- the committee's mail ------------------------------------------------------------------


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
    liaison = Person(0, "", calendar.liaison)
    yield DueMail(
        key=key,
        kind="liaison_summary",
        due_at=due,
        to=(liaison,),
        context=_context(calendar, liaison, "liaison", **liaison_summary(calendar, state, due)),
        reference="summary",
    )


def liaison_summary(calendar: Calendar, state: PlannerState, at: datetime) -> dict[str, object]:
    """The summary's content: pairs by concern, bouncing addresses, and the weekly activity chart."""
    started = [p for p in state.pairs if calendar.at(p.started_on, time(0)) <= at and p.status != "ended"]
    running = [p for p in started if p.status == "active"]

    def row(pair: PairState) -> dict[str, object]:
        last = _last_contact(pair, at)
        return {
            "pair_id": pair.pair_id,
            "mentor": _person(pair.mentor),
            "mentee": _person(pair.mentee),
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
        },
        "never_started": never_started,
        "inactive_30": inactive_30,
        "inactive_45": inactive_45,
        "one_sided": one_sided,
        "paused": paused,
        "bouncing": bouncing,
        "chart": activity_chart(calendar, started, at),
    }


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
    if not calendar.coordinators or not state.pairs:
        return
    today = calendar.local_date(now)
    due = calendar.at(today, calendar.schedule.digest_time)
    if due > now:
        due = calendar.at(today - timedelta(days=1), calendar.schedule.digest_time)
    key = f"digest:{calendar.local_date(due).isoformat()}"
    if key in state.sent_keys:
        return
    since = state.last_digest_at or datetime.min.replace(tzinfo=timezone.utc)

    def new(moment: datetime) -> bool:
        return since <= moment < due

    questions = [q for q in state.questions if q.received_at < due]
    bounces = [b for b in _latest_per_address(state.bounces) if new(b.at)]
    failures = [f for f in state.failures if new(f.since)]
    unknown: dict[str, int] = {}
    for sender in state.unknown_senders:
        if new(sender.at):
            unknown[sender.email] = unknown.get(sender.email, 0) + 1
    if not (questions or bounces or failures or unknown):
        return  # only when something needs them
    coordinators = tuple(Person(0, "", address) for address in calendar.coordinators)
    yield DueMail(
        key=key,
        kind="digest",
        due_at=due,
        to=coordinators,
        context=_context(
            calendar,
            coordinators[0],
            "coordinator",
            day=calendar.local_date(due),
            questions=[
                {"name": q.person.name, "email": q.person.email, "received_at": q.received_at} for q in questions
            ],
            bounces=[
                {"name": b.person.name, "email": b.person.email, "pair_id": ", ".join(b.pair_ids), "at": b.at}
                for b in bounces
            ],
            failed_deliveries=[{"kind": f.kind, "to": f.to, "reason": f.reason, "since": f.since} for f in failures],
            unknown_senders=[{"email": email, "count": count} for email, count in sorted(unknown.items())],
        ),
        reference="digest",
        forwards=tuple(q.question_id for q in questions),
    )


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


# The calendar, read as a list: each entry plans one kind of mail.
PLANS: tuple[Callable[[Calendar, PlannerState, datetime], Iterator[DueMail]], ...] = (
    plan_pairing,
    plan_intro_reminders,
    plan_topics,
    plan_nudges,
    plan_checkins,
    plan_surveys,
    plan_round_end,
    plan_liaison_summary,
    plan_digest,
)
