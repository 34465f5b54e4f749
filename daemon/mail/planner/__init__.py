"""The program calendar: which of the program's mail is due, and when more can fall due.

Pure: a `Calendar` (from the config), a `PlannerState` (read from the store) and `now` in, a list
of `DueMail` out; no clock, no database. Every mail has a deterministic key
(`topic:pair-17:month-3:mentee`), and the outbox ignores a key it already holds, so a tick can
run any number of times, after any crash, on any number of daemons. `mentormail simulate` runs
the same functions in virtual time.

All times are in the program's time zone: "09:00 on the 1st" is 09:00 local on either side of a
daylight-saving change.

Catching up (the daemon first runs weeks into a round, or was down; DESIGN.md, "Catching up"):
- A pair's own calendar starts when its pairing mail goes out (`calendar.welcomed`): on its
  first day, or, late, at the tick that sends it. Intro reminders, nudges (the quiet period),
  topics and check-ins count from then, so the welcome never comes with a reminder, a nudge
  or a second month's topic, and the first topic is topic 1. The round's end does not move:
  what would fall after it is not sent.
- Of a recurring mail (intro reminder, topic, check-in, nudge, summary, digest) only the latest
  occurrence due is sent; one-off mail (pairing, survey, survey reminder, results, round end)
  is sent late rather than never.
- Mail is composed, dated (`Date:`) and worded at the tick that sends it: what a template says
  about elapsed time is computed from `now`, not from when the mail fell due.

Incremental planning (DESIGN.md section 4): besides what is due, each plan says at which moments
what it plans can change for a pair whose data stays as it is (`moments`). The earliest of those
after `now` is the pair's next due moment; the store keeps it, and a tick plans again only the
pairs whose moment has come or whose data changed. Moments may be early (a pair is planned and
nothing is due), never late.

The package has a module per kind of mail (pairing, reminders, topics, nudges, check-ins,
surveys, liaison (the weekly summary), digest), each a `plan_*` function over the same
`Calendar` and `PlannerState`, and its moments; `PAIR_PLANS` and `PROGRAM_PLANS` below are the calendar read as a list.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from ....store.planner_state import PairState, PlannerState
from .calendar import Calendar, add_months, pair_ends_on_for, round_ends_on, round_key_suffix, round_of_key
from .checkins import checkin_moments, plan_checkins
from .digest import digest_moments, plan_digest
from .due import DueMail
from .due import members as _members
from .liaison import liaison_summary_moments, plan_liaison_summary
from .nudges import nudge_moments, plan_nudges
from .pairing import pairing_due, pairing_moments, plan_pairing, plan_round_end, round_end_moments
from .reminders import intro_reminder_moments, plan_intro_reminders
from .surveys import plan_survey_reminders, plan_survey_results, plan_surveys, survey_moments, survey_results_moments
from .topics import plan_topics, topic_moments

# The planner's interface: what the outbox, replies, simulate and the tests use.
__all__ = [
    "PAIR_PLANS",
    "PLANS",
    "PROGRAM_PLANS",
    "Calendar",
    "DueMail",
    "add_months",
    "by_round",
    "due_mail",
    "due_mail_for_pairs",
    "next_moments",
    "next_program_moment",
    "pair_ends_on_for",
    "round_key_suffix",
    "round_of_key",
    "program_due_mail",
    "round_ends_on",
]

Planning = Callable[[Calendar, PlannerState, datetime], Iterator[DueMail]]


@dataclass(frozen=True)
class PairPlan:
    """One kind of a pair's mail: what is due now, and the moments that can change it."""

    due: Planning
    moments: Callable[[Calendar, PairState, datetime], Iterable[datetime]]


@dataclass(frozen=True)
class ProgramPlan:
    """One kind of program-wide mail (to the committee), planned over every pair at once, or over
    each round's pairs (`per_round`: a round's survey results are its own)."""

    due: Planning
    moments: Callable[[Calendar, PlannerState, datetime], Iterable[datetime]]
    per_round: bool = False

    def parts(self, calendar: Calendar, state: PlannerState) -> Iterable[tuple[Calendar, PlannerState]]:
        return by_round(calendar, state) if self.per_round else ((calendar, state),)


# The calendar, read as a list: each entry plans one kind of mail.
PAIR_PLANS: tuple[PairPlan, ...] = (
    PairPlan(plan_pairing, pairing_moments),
    PairPlan(plan_intro_reminders, intro_reminder_moments),
    PairPlan(plan_topics, topic_moments),
    PairPlan(plan_nudges, nudge_moments),
    PairPlan(plan_checkins, checkin_moments),
    PairPlan(plan_surveys, survey_moments),
    PairPlan(plan_survey_reminders, survey_moments),
    PairPlan(plan_round_end, round_end_moments),
)
PROGRAM_PLANS: tuple[ProgramPlan, ...] = (
    ProgramPlan(plan_survey_results, survey_results_moments, per_round=True),
    ProgramPlan(plan_liaison_summary, liaison_summary_moments),
    ProgramPlan(plan_digest, digest_moments),
)
PLANS: tuple[Planning, ...] = tuple(plan.due for plan in (*PAIR_PLANS, *PROGRAM_PLANS))


def due_mail(calendar: Calendar, state: PlannerState, now: datetime) -> list[DueMail]:
    """Everything due at `now` that is not in the outbox yet, in due order."""
    state = welcomed_now(calendar, state, now)
    return _unsent(state, (*_pairs_mail(calendar, state, now), *program_due_mail(calendar, state, now)))


def _pairs_mail(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    """The pairs' own mail, each round's from its calendar."""
    for own, round_state in by_round(calendar, state):
        for plan in PAIR_PLANS:
            yield from plan.due(own, round_state, now)


def by_round(calendar: Calendar, state: PlannerState) -> Iterator[tuple[Calendar, PlannerState]]:
    """The state cut by round, each part with its round's calendar: a pair's mail is planned from
    its own round's dates, and a person's survey is one per round (timed by their latest pair of
    it, answered for it). One pass over the pairs; a program of one round is its state as is."""
    rounds: dict[str, list[PairState]] = {}
    for pair in state.pairs:
        rounds.setdefault(pair.round_id, []).append(pair)
    if len(rounds) <= 1 and all(row.round_id in rounds for row in state.survey_answers):
        yield calendar.for_round(next(iter(rounds), calendar.round_id)), state
        return
    for round_id, pairs in rounds.items():
        answers = tuple(row for row in state.survey_answers if row.round_id == round_id)
        yield calendar.for_round(round_id), replace(state, pairs=tuple(pairs), survey_answers=answers)


def welcomed_now(calendar: Calendar, state: PlannerState, now: datetime) -> PlannerState:
    """The state with each pair whose pairing mail goes out at `now` welcomed at `now`: what the
    store will say once it is composed, so that this tick and the next plan alike."""
    def unwelcomed(pair: PairState) -> bool:
        return pair.welcomed_at is None and f"pairing:pair-{pair.pair_id}" not in state.sent_keys

    pairs = tuple(
        replace(pair, welcomed_at=now)
        if unwelcomed(pair) and pairing_due(calendar.for_round(pair.round_id), pair, now)
        else pair
        for pair in state.pairs
    )
    return state if pairs == state.pairs else replace(state, pairs=pairs)


def due_mail_for_pairs(
    calendar: Calendar, state: PlannerState, now: datetime, pair_ids: Collection[str]
) -> list[DueMail]:
    """The pairs' own mail due at `now` and not yet sent.

    `state` holds these pairs and every other pair of their members (a person's survey is timed
    by the latest of their pairs), and may hold only some of the program's pairs: so only mail
    to members of `pair_ids` is given, whose every pair is in `state`.
    """
    state = welcomed_now(calendar, state, now)
    members = {person.person_id for pair in state.pairs if pair.pair_id in pair_ids for _, person in _members(pair)}
    mails = _pairs_mail(calendar, state, now)
    return _unsent(state, (mail for mail in mails if all(person.person_id in members for person in mail.to)))


def next_moments(
    calendar: Calendar, state: PlannerState, now: datetime, pair_ids: Collection[str]
) -> dict[str, datetime | None]:
    """Each pair's next due moment after `now` (None: none, unless its data changes).

    A member's survey timed by another of their pairs goes out when that pair is planned at its
    own moments; a change to that pair (its status) plans all its members' pairs again.
    """
    state = welcomed_now(calendar, state, now)
    return {
        pair.pair_id: min(
            (m for plan in PAIR_PLANS for m in plan.moments(calendar.for_round(pair.round_id), pair, now) if m > now),
            default=None,
        )
        for pair in state.pairs
        if pair.pair_id in pair_ids
    }


def program_due_mail(calendar: Calendar, state: PlannerState, now: datetime) -> list[DueMail]:
    """The committee's mail due at `now` (survey results, liaison summary, digest), not yet sent."""
    mails = (
        mail
        for plan in PROGRAM_PLANS
        for own, part in plan.parts(calendar, state)
        for mail in plan.due(own, part, now)
    )
    return _unsent(state, mails)


def next_program_moment(calendar: Calendar, state: PlannerState, now: datetime) -> datetime | None:
    later = (
        m
        for plan in PROGRAM_PLANS
        for own, part in plan.parts(calendar, state)
        for m in plan.moments(own, part, now)
        if m > now
    )
    return min(later, default=None)


def _unsent(state: PlannerState, mails: Iterable[DueMail]) -> list[DueMail]:
    due = [mail for mail in mails if mail.key not in state.sent_keys]
    return sorted(due, key=lambda mail: (mail.due_at, mail.key))
