"""Incremental planning: a tick plans only the pairs that changed or whose next moment has come,
and misses nothing that planning every pair at every moment would send.

The pure part is checked against the naive planner over whole rounds: every hour, after the
incremental tick, nothing the naive planner calls due may be left unsent. Rounds start on
awkward days (either side of daylight-saving changes, the 31st), people have two pairs (a
person's survey is timed by the later one), pairs are paused and resumed, and contacts come at
random. The store part runs the real tick on a real SQLite store.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone

import pytest
from conftest import PROGRAM_ADDRESS, Program, message
from in_process import in_process
from test_planner import CALENDAR, CHICAGO, Person

from mentormail.daemon.mail.planner import (
    Calendar,
    add_months,
    due_mail,
    due_mail_for_pairs,
    next_moments,
)
from mentormail.store import queries
from mentormail.store.planner_state import Contact, PairState, PlannerState, SurveyAnswerRow

PEOPLE = [Person(n, f"Person {n}", f"p{n}@example.org") for n in range(1, 12)]


def scenario(seed: int) -> tuple[list[PairState], dict[str, list[tuple[date, str]]], list[tuple[datetime, int]]]:
    """Pairs (with their contacts), status changes by pair, and survey answers (when, who)."""
    rng = random.Random(seed)
    starts = [date(2026, 9, 1), date(2026, 10, 31), date(2026, 11, 1), date(2027, 1, 31), date(2027, 3, 14)]
    people = PEOPLE[:]
    pairs: list[PairState] = []
    for n in range(5):
        mentor = people[0] if n < 2 else people[n + 1]  # person 1 mentors two pairs
        mentee = people[6 + n]
        started = rng.choice(starts)
        contacts: list[Contact] = []
        moment = datetime.combine(started, time(12), tzinfo=CHICAGO).astimezone(timezone.utc)
        end = datetime.combine(add_months(started, 9), time(0), tzinfo=CHICAGO).astimezone(timezone.utc)
        while rng.random() < 0.9:
            moment += timedelta(hours=rng.randrange(1, 24 * 50))
            if moment >= end:
                break
            contacts.append(Contact(moment, rng.choice(("mentor_to_mentee", "mentee_to_mentor"))))
        pairs.append(PairState(f"p{n}", mentor, mentee, "active", started, tuple(contacts)))
    statuses: dict[str, list[tuple[date, str]]] = {}
    paused = rng.choice(pairs)
    pause_on = paused.started_on + timedelta(days=rng.randrange(10, 120))
    statuses[paused.pair_id] = [(pause_on, "paused"), (pause_on + timedelta(days=rng.randrange(5, 60)), "active")]
    ended = rng.choice([p for p in pairs if p is not paused])
    statuses[ended.pair_id] = [(ended.started_on + timedelta(days=rng.randrange(30, 200)), "ended")]
    answer_at = datetime.combine(max(p.started_on for p in pairs), time(10), tzinfo=timezone.utc) + timedelta(days=265)
    answers = [(answer_at, pairs[0].mentee.person_id), (answer_at + timedelta(days=3), PEOPLE[0].person_id)]
    return pairs, statuses, answers


def state_at(pairs, statuses, answers, now: datetime, sent: set[str]) -> PlannerState:  # type: ignore[no-untyped-def]
    today = now.astimezone(CHICAGO).date()
    visible = []
    for pair in pairs:
        status = pair.status
        for day, new_status in statuses.get(pair.pair_id, ()):
            if day <= today:
                status = new_status
        contacts = tuple(c for c in pair.contacts if c.occurred_at <= now)
        visible.append(replace(pair, status=status, contacts=contacts))
    given = tuple(SurveyAnswerRow("feedback", pid, {"q1": True}) for at, pid in answers if at <= now)
    return PlannerState(pairs=tuple(visible), sent_keys=frozenset(sent), survey_answers=given)


def changed_between(pairs, statuses, answers, before: datetime, now: datetime) -> set[str]:  # type: ignore[no-untyped-def]
    """The pairs whose data changed in (before, now]: what the store's hooks would mark."""
    changed = {p.pair_id for p in pairs if any(before < c.occurred_at <= now for c in p.contacts)}
    local = (before.astimezone(CHICAGO).date(), now.astimezone(CHICAGO).date())
    people: set[int] = {pid for at, pid in answers if before < at <= now}
    for pair in pairs:
        if any(local[0] < day <= local[1] for day, _ in statuses.get(pair.pair_id, ())):
            people |= {pair.mentor.person_id, pair.mentee.person_id}
    return changed | {p.pair_id for p in pairs if {p.mentor.person_id, p.mentee.person_id} & people}


@pytest.mark.parametrize("seed", range(8))
def test_planning_at_the_next_moments_misses_nothing_planning_every_hour_would_send(seed: int) -> None:
    pairs, statuses, answers = scenario(seed)
    calendar: Calendar = CALENDAR
    first = min(p.started_on for p in pairs) - timedelta(days=2)
    now = datetime.combine(first, time(0), tzinfo=CHICAGO).astimezone(timezone.utc)
    end = now + timedelta(days=560)
    sent: set[str] = set()
    next_at: dict[str, datetime | None] = {}
    every = {p.pair_id for p in pairs}
    previous = now - timedelta(hours=1)
    planned_ticks = 0
    while now < end:
        changed = changed_between(pairs, statuses, answers, previous, now)
        to_plan = {pid for pid in every if pid not in next_at or pid in changed or ((m := next_at[pid]) and m <= now)}
        if to_plan:
            planned_ticks += 1
            state = state_at(pairs, statuses, answers, now, sent)
            sent.update(mail.key for mail in due_mail_for_pairs(calendar, state, now, to_plan))
            next_at.update(next_moments(calendar, state, now, to_plan))
        # Whatever the naive planner (every pair, every hour) finds due now has been sent.
        naive = due_mail_for_pairs(calendar, state_at(pairs, statuses, answers, now, sent), now, every)
        assert not naive, f"missed at {now}: {[m.key for m in naive]}"
        previous, now = now, now + timedelta(hours=1)
    assert planned_ticks < 560 * 24 / 4  # it is incremental: most hours plan nothing
    assert any(key.startswith("survey:") for key in sent) and any(key.startswith("nudge:") for key in sent)


def test_a_batch_of_pairs_gives_the_mail_of_its_members_only() -> None:
    """Planning p0 reads p1 too (they share a mentor), but p1's mentee's mail waits for p1."""
    pairs, _, _ = scenario(1)
    state = PlannerState(pairs=tuple(pairs), sent_keys=frozenset())
    now = datetime.combine(max(p.started_on for p in pairs), time(23), tzinfo=CHICAGO).astimezone(timezone.utc)
    everything = due_mail(calendar=CALENDAR, state=state, now=now)
    mine = due_mail_for_pairs(CALENDAR, state, now, {"p0"})
    members = {pairs[0].mentor.person_id, pairs[0].mentee.person_id}
    assert mine and all({p.person_id for p in mail.to} <= members for mail in mine)
    assert {m.key for m in mine} == {m.key for m in everything if {p.person_id for p in m.to} <= members}


# --- the store ---------------------------------------------------------------------------------

ROUND_START = datetime(2026, 9, 1, 14, tzinfo=timezone.utc)  # 09:00 in Chicago: the pairing mail


def waiting(program_store) -> list[str]:  # type: ignore[no-untyped-def]
    with program_store.session() as session:
        return [p.pair_id for p in queries.pairs_to_plan(session, ROUND_START + timedelta(hours=1), "", 1000)]


def test_a_tick_with_nothing_new_plans_no_pair_and_a_contact_plans_its_pair_again(program: Program) -> None:
    with in_process(program) as daemon:
        first = daemon.run_at(ROUND_START)
        assert len(first) > 0  # the pairing mails
        assert waiting(daemon.store) == []  # every pair has its next moment, in the future
        assert daemon.mail.plan(ROUND_START + timedelta(minutes=30)) == []
        daemon.ingest(message("dev@example.org", ["eve@example.com"], [PROGRAM_ADDRESS]), ROUND_START)
        assert waiting(daemon.store) == ["p3"]


def test_pausing_a_pair_plans_every_pair_of_its_members_again(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_START)
        with daemon.store.session() as session:
            queries.set_pair_status(session, "p1", "paused")
        assert waiting(daemon.store) == ["p1", "p2"]  # Ana mentors both: her survey is timed by both


def test_a_roster_import_plans_every_pair_again_and_a_new_pair_at_once(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_START)
        later = program.root / "later.csv"
        later.write_text(
            "mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on\n"
            "dev@example.org,Dev Patel,eve@example.com,Eve Cohen,p3,2026-09-02\n"
            "gil@example.org,Gil Moreau,fay@example.com,Fay Wu,p4,2026-09-01\n",
            encoding="utf-8",
        )
        program.cli("import-roster", str(later))
        assert waiting(daemon.store) == ["p1", "p2", "p3", "p4"]
        added = daemon.mail.plan(ROUND_START + timedelta(minutes=5))
        assert "pairing:pair-p4" in added
        assert waiting(daemon.store) == []
