"""Feedback surveys: one per person, opened and closed by the round's end (a pair carried over from an
earlier round: by its own); reminders; results to the committee."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ....store.planner_state import PairState, Person, PlannerState
from ...settings import SurveyQuestion, SurveySettings
from .calendar import Calendar, round_ends_on
from .due import DueMail, committee_members, members, template_context

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

    round_suffix: str = ""  # Calendar.key_suffix: a survey a round

    @property
    def key(self) -> str:
        return f"survey:{self.survey.id}:person-{self.person.person_id}{self.round_suffix}"


def survey_invites(calendar: Calendar, state: PlannerState, survey: SurveySettings) -> list[SurveyInvite]:
    """Everyone in the survey's audience by their role in an active or ended pair (paused pairs
    are left out), each once, timed by the pair of theirs whose round ends last."""
    roles = AUDIENCE_ROLES[survey.audience]
    latest_pair: dict[int, tuple[date, int, str, PairState, Person]] = {}
    pair_ids: dict[int, list[str]] = {}
    for index, pair in enumerate(state.pairs):
        ends_on = round_ends_on(calendar, pair)
        if pair.status not in ("active", "ended") or pair.started_on >= ends_on:
            continue  # a pair added after the round's end had no round to give feedback on
        for role, person in members(pair):
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
                round_suffix=calendar.key_suffix,
            )
        )
    return invites


def _survey_sent(state: PlannerState, invite: SurveyInvite) -> bool:
    """The survey mail is in the outbox, under today's key or one per pair (as it once was keyed)."""
    if invite.key in state.sent_keys:
        return True
    return any(f"survey:{invite.survey.id}:pair-{pid}:{invite.role}" in state.sent_keys for pid in invite.pair_ids)


def _survey_context(calendar: Calendar, invite: SurveyInvite, now: datetime) -> dict[str, object]:
    ends_on = round_ends_on(calendar, invite.pair)
    return template_context(
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
        ends_on=ends_on,
        # Worded at the tick that sends it: a survey sent after the round's end says it ended.
        ended=calendar.local_date(now) >= ends_on,
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
                context=_survey_context(calendar, invite, now),
                pair_id=invite.pair.pair_id,
                reply_person=invite.person.person_id,
                reference=f"survey-{survey.id}",
            )


def reminder_at(calendar: Calendar, invite: SurveyInvite) -> datetime:
    return _reminder_at(calendar, calendar.local_date(invite.opens), invite.closes_on)


def _reminder_at(calendar: Calendar, opens_on: date, closes_on: date) -> datetime:
    """A week before closing, or halfway through a survey open for less than two weeks."""
    halfway = opens_on + timedelta(days=(closes_on - opens_on).days // 2)
    week_before = closes_on - timedelta(days=REMINDER_DAYS_BEFORE_CLOSING)
    return calendar.at(max(week_before, halfway), calendar.schedule.send_time)


def survey_moments(calendar: Calendar, pair: PairState, now: datetime) -> Iterator[datetime]:
    """When each survey opens, is reminded of and closes for someone whose latest pair is `pair`
    (a person's invite is timed by one of their pairs, so the moments of all of a person's pairs
    cover it)."""
    ends_on = round_ends_on(calendar, pair)
    for survey in calendar.surveys:
        opens_on = ends_on - timedelta(days=survey.opens_days_before_end)
        closes_on = ends_on + timedelta(days=survey.closes_days_after_end)
        yield calendar.at(opens_on, calendar.schedule.send_time)
        yield _reminder_at(calendar, opens_on, closes_on)
        yield calendar.at(closes_on, time(0))


def plan_survey_reminders(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    answered = state.answered()
    for survey in calendar.surveys:
        for invite in survey_invites(calendar, state, survey):
            due = reminder_at(calendar, invite)
            if not due <= now < invite.closes or (survey.id, invite.person.person_id) in answered:
                continue
            if not _survey_sent(state, invite):
                continue  # never a reminder of a survey that was not sent (it is going out now, late)
            sent_at = state.surveys_sent_at.get(invite.key)
            if sent_at is not None and sent_at >= due:
                continue  # a survey sent late (after downtime) is its own reminder
            yield DueMail(
                key=f"survey_reminder:{survey.id}:person-{invite.person.person_id}{calendar.key_suffix}",
                kind="survey_reminder",
                due_at=due,
                to=(invite.person,),
                context=_survey_context(calendar, invite, now),
                pair_id=invite.pair.pair_id,
                reply_person=invite.person.person_id,
                reference=f"survey-{survey.id}",
            )


def survey_results_moments(calendar: Calendar, state: PlannerState, now: datetime) -> Iterable[datetime]:
    """When each survey's results fall due: the morning after it closes for the last person."""
    for survey in calendar.surveys:
        invites = survey_invites(calendar, state, survey)
        if invites:
            yield _results_due(calendar, max(invite.closes_on for invite in invites))


def _results_due(calendar: Calendar, closes_on: date) -> datetime:
    # Answers are taken through the last day the survey mail names: the results, the morning after.
    return calendar.at(closes_on + timedelta(days=1), calendar.schedule.send_time)


def plan_survey_results(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    """When a survey has closed for everyone invited, the results, once, to each member of the
    committee: a mail each, so that each has a reply address of their own."""
    committee = committee_members(calendar, state)
    for survey in calendar.surveys:
        invites = survey_invites(calendar, state, survey)
        if not invites or not committee:
            continue
        closes_on = max(invite.closes_on for invite in invites)
        due = _results_due(calendar, closes_on)
        keys = {person.email: f"survey_results:{survey.id}:{person.email}{calendar.key_suffix}" for _, person in committee}
        if due > now or all(key in state.sent_keys for key in keys.values()):
            continue
        results = survey_results(survey, invites, state)
        for role, person in committee:
            yield DueMail(
                key=keys[person.email],
                kind="survey_results",
                due_at=due,
                to=(person,),
                context=template_context(calendar, person, role, closes_on=closes_on, **results),
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
    # A survey of mentors and mentees says which side answered what (issue 10): each question's
    # answers again per role, and the response per role.
    role_of = {invite.person.person_id: invite.role for invite in invites}
    roles = AUDIENCE_ROLES[survey.audience] if len(AUDIENCE_ROLES[survey.audience]) > 1 else ()
    questions = []
    for number, question in enumerate(survey.questions, start=1):
        entry = _question_results(number, question, list(answers.values()))
        entry["by_role"] = [
            {"role": role, **_question_results(number, question, [a for p, a in answers.items() if role_of[p] == role])}
            for role in roles
        ]
        questions.append(entry)
    return {
        "survey": {"id": survey.id, "title": survey.title, "audience": survey.audience},
        "invited": len(invited),
        "responded": len(answers),
        "response_rate": round(100 * len(answers) / len(invited)) if invited else 0,
        "questions": questions,
        "by_role": [
            {
                "role": role,
                "invited": sum(1 for p in invited if role_of[p] == role),
                "responded": sum(1 for p in answers if role_of[p] == role),
            }
            for role in roles
        ],
    }


def _question_results(
    number: int, question: SurveyQuestion, answers: Sequence[Mapping[str, object]]
) -> dict[str, object]:
    """One question's answers: the distribution (or the free-text answers, alphabetical)."""
    given = [a[question.id] for a in answers if a.get(question.id) not in (None, "")]
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
    return entry


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
