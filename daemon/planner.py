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
"""

from __future__ import annotations

import calendar as calendar_module
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from mentormail.daemon.settings import ScheduleSettings, Settings, SurveySettings, TopicSettings
from mentormail.store.planner_state import (
    Bounce,
    CheckinRow,
    PairState,
    Person,
    PlannerState,
)

ONE_SIDED_WINDOW_DAYS = 60
LONG_INACTIVE_DAYS = 45
LOW_RATING = 2  # a check-in rating at or below this is listed in the liaison summary
CONTACT_REQUEST_DAYS = 45  # how long a check-in's request to hear from the liaison is listed
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# --- what the planner is given (and store/planner_state.py) --------------------------------------


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
    to_committee: bool = False  # coordinators or the liaison, whose replies may carry commands
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


# --- feedback surveys: one per person, opened and closed by the end of their latest pair --------

AUDIENCE_ROLES = {"mentors": ("mentor",), "mentees": ("mentee",), "both": ("mentor", "mentee")}
REMINDER_DAYS_BEFORE_CLOSING = 7
RESULT_BAR_WIDTH = 30  # characters of the longest bar in the text chart


@dataclass(frozen=True)
class SurveyInvite:
    """One person invited to one survey, timed by the end of their latest pair in its audience."""

    survey: SurveySettings
    person: Person
    role: str  # mentor | mentee
    pair: PairState  # their latest pair: its end times the survey, and a reply is about it
    pair_ids: tuple[str, ...]  # every pair of theirs in the audience
    opens: datetime
    closes_on: date  # the last day the mail names ("please reply by ...")
    closes: datetime  # when the survey stops being sent and reminded of

    @property
    def key(self) -> str:
        return f"survey:{self.survey.id}:person-{self.person.person_id}"


def survey_invites(calendar: Calendar, state: PlannerState, survey: SurveySettings) -> list[SurveyInvite]:
    """Everyone in the survey's audience by their role in an active or ended pair (paused pairs
    are left out), each once, timed by the pair of theirs whose round ends last."""
    roles = AUDIENCE_ROLES[survey.audience]
    latest_pair: dict[int, tuple[date, int, str, PairState, Person]] = {}
    pair_ids: dict[int, list[str]] = {}
    for index, pair in enumerate(state.pairs):
        if pair.status not in ("active", "ended"):
            continue
        ends_on = round_ends_on(calendar, pair)
        for role, person in _members(pair):
            if role not in roles:
                continue
            pair_ids.setdefault(person.person_id, []).append(pair.pair_id)
            current = latest_pair.get(person.person_id)
            if current is None or (ends_on, index) > current[:2]:
                latest_pair[person.person_id] = (ends_on, index, role, pair, person)
    invites = []
    for ends_on, _, role, pair, person in latest_pair.values():
        closes_on = ends_on + timedelta(days=survey.closes_days_after_end)
        invites.append(
            SurveyInvite(
                survey=survey,
                person=person,
                role=role,
                pair=pair,
                pair_ids=tuple(pair_ids[person.person_id]),
                opens=calendar.at(ends_on - timedelta(days=survey.opens_days_before_end), calendar.schedule.send_time),
                closes_on=closes_on,
                closes=calendar.at(closes_on, time(0)),
            )
        )
    return invites


def _survey_sent(state: PlannerState, invite: SurveyInvite) -> bool:
    """The survey mail is in the outbox, under today's key or one per pair (as it once was keyed)."""
    if invite.key in state.sent_keys:
        return True
    return any(f"survey:{invite.survey.id}:pair-{pid}:{invite.role}" in state.sent_keys for pid in invite.pair_ids)


def _survey_context(calendar: Calendar, invite: SurveyInvite) -> dict[str, object]:
    return _context(
        calendar,
        invite.person,
        invite.role,
        survey={
            "title": invite.survey.title,
            "questions": [
                {"number": n, "text": q.text, "kind": q.kind, "labels": list(q.labels)}
                for n, q in enumerate(invite.survey.questions, start=1)
            ],
        },
        closes_on=invite.closes_on,
        pair_id=invite.pair.pair_id,
    )


def plan_surveys(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    answered = state.answered()
    for survey in calendar.surveys:
        for invite in survey_invites(calendar, state, survey):
            if not invite.opens <= now < invite.closes or _survey_sent(state, invite):
                continue
            if (survey.id, invite.person.person_id) in answered:
                continue
            yield DueMail(
                key=invite.key,
                kind="survey",
                due_at=invite.opens,
                to=(invite.person,),
                context=_survey_context(calendar, invite),
                pair_id=invite.pair.pair_id,
                reply_person=invite.person.person_id,
                reference=f"survey-{survey.id}",
            )


def reminder_at(calendar: Calendar, invite: SurveyInvite) -> datetime:
    """A week before closing, or halfway through a survey open for less than two weeks."""
    opens_on = calendar.local_date(invite.opens)
    halfway = opens_on + timedelta(days=(invite.closes_on - opens_on).days // 2)
    week_before = invite.closes_on - timedelta(days=REMINDER_DAYS_BEFORE_CLOSING)
    return calendar.at(max(week_before, halfway), calendar.schedule.send_time)


def plan_survey_reminders(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    answered = state.answered()
    for survey in calendar.surveys:
        for invite in survey_invites(calendar, state, survey):
            due = reminder_at(calendar, invite)
            if not due <= now < invite.closes or (survey.id, invite.person.person_id) in answered:
                continue
            if not _survey_sent(state, invite):
                continue  # never a reminder of a survey that was not sent (it is going out now, late)
            yield DueMail(
                key=f"survey_reminder:{survey.id}:person-{invite.person.person_id}",
                kind="survey_reminder",
                due_at=due,
                to=(invite.person,),
                context=_survey_context(calendar, invite),
                pair_id=invite.pair.pair_id,
                reply_person=invite.person.person_id,
                reference=f"survey-{survey.id}",
            )


def plan_survey_results(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    """When a survey has closed for everyone invited, the results, once, to each member of the
    committee: a mail each, so that each has a reply address of their own."""
    committee = _committee(calendar, state)
    for survey in calendar.surveys:
        invites = survey_invites(calendar, state, survey)
        if not invites or not committee:
            continue
        closes_on = max(invite.closes_on for invite in invites)
        # Answers are taken through the last day the survey mail names: the results, the morning after.
        due = calendar.at(closes_on + timedelta(days=1), calendar.schedule.send_time)
        keys = {person.email: f"survey_results:{survey.id}:{person.email}" for _, person in committee}
        if due > now or all(key in state.sent_keys for key in keys.values()):
            continue
        results = survey_results(survey, invites, state)
        for role, person in committee:
            yield DueMail(
                key=keys[person.email],
                kind="survey_results",
                due_at=due,
                to=(person,),
                context=_context(calendar, person, role, closes_on=closes_on, **results),
                reply_person=person.person_id,
                reference=f"results-{survey.id}",
                to_committee=True,
            )


def survey_results(survey: SurveySettings, invites: Sequence[SurveyInvite], state: PlannerState) -> dict[str, object]:
    """Response rate and, per question, the distribution of answers (or the free-text answers).

    Nothing names who answered what: the free-text answers are listed in alphabetical order, not
    in the order of the roster or of their arrival.
    """
    invited = {invite.person.person_id for invite in invites}
    answers = {
        row.person_id: row.answers
        for row in state.survey_answers
        if row.survey_id == survey.id and row.person_id in invited
    }
    questions = []
    for number, question in enumerate(survey.questions, start=1):
        given = [a[question.id] for a in answers.values() if a.get(question.id) not in (None, "")]
        entry: dict[str, object] = {
            "number": number,
            "id": question.id,
            "text": question.text,
            "kind": question.kind,
            "answered": 0,
            "bars": [],
            "texts": [],
        }
        if question.kind == "text":
            texts = sorted((" ".join(str(value).split()) for value in given if str(value).strip()), key=_alphabetical)
            entry.update(answered=len(texts), texts=texts)
        else:
            counts = _tally(question.kind, question.labels, given)
            entry.update(answered=sum(count for _, _, count in counts), bars=_bars(counts))
        questions.append(entry)
    return {
        "survey": {"id": survey.id, "title": survey.title, "audience": survey.audience},
        "invited": len(invited),
        "responded": len(answers),
        "response_rate": round(100 * len(answers) / len(invited)) if invited else 0,
        "questions": questions,
    }


def _alphabetical(text: str) -> tuple[str, str]:
    """Dictionary order: "Être" among the e's, not after the z's."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return bare.casefold(), text


def _tally(kind: str, labels: Sequence[str], given: Sequence[object]) -> list[tuple[str, str, int]]:
    """(value as shown, label, count) for every possible answer, in the survey's order."""
    if kind == "yesno":
        options: list[tuple[str, str, object]] = [("yes", "yes", True), ("no", "no", False)]
    elif kind == "scale":
        options = [(str(n), label, n) for n, label in enumerate(labels or ("",) * 5, start=1)]
    else:  # choice: the label is the answer (a number in 1..n is read as the n-th label)
        options = [(str(n), label, label) for n, label in enumerate(labels, start=1)]
    counts = [0] * len(options)
    for value in given:
        for index, (_, _, expected) in enumerate(options):
            if _same_answer(kind, value, expected, index):
                counts[index] += 1
                break
    return [(shown, label, counts[index]) for index, (shown, label, _) in enumerate(options)]


def _same_answer(kind: str, value: object, expected: object, index: int) -> bool:
    if kind == "yesno":
        return value is expected or (isinstance(value, str) and value.casefold() == ("yes", "no")[index])
    if kind == "scale":
        return not isinstance(value, bool) and str(value).strip() == str(expected)
    if isinstance(value, int) and not isinstance(value, bool):
        return value == index + 1
    return isinstance(value, str) and isinstance(expected, str) and value.casefold() == expected.casefold()


def _bars(counts: Sequence[tuple[str, str, int]]) -> list[dict[str, object]]:
    """Each answer's count, its share of the answers (percent) and its bar (percent of the longest)."""
    total = sum(count for _, _, count in counts)
    longest = max((count for _, _, count in counts), default=0)
    return [
        {
            "value": shown,
            "label": label,
            "count": count,
            "percent": round(100 * count / total) if total else 0,
            "width": round(100 * count / longest) if longest else 0,
            "text_bar": "#" * max(round(RESULT_BAR_WIDTH * count / longest), 1) if count else "",
        }
        for shown, label, count in counts
    ]


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


def _committee(calendar: Calendar, state: PlannerState) -> list[tuple[str, Person]]:
    """(role, person) of each coordinator and the liaison, each address once."""
    members: list[tuple[str, Person]] = []
    for role, email in [*(("coordinator", c) for c in calendar.coordinators), ("liaison", calendar.liaison)]:
        if email and all(person.email.casefold() != email.casefold() for _, person in members):
            members.append((role, state.staff_person(email)))
    return members


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
        context=_context(calendar, liaison, "liaison", **liaison_summary(calendar, state, due)),
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
    coordinators = [person for role, person in _committee(calendar, state) if role == "coordinator"]
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
            context=_context(calendar, coordinator, "coordinator", **content),
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
