"""Catching up: the daemon first runs weeks into a round, or comes back after downtime (issue 10).

The policy (README, "Starting mid-round"; DESIGN.md, "Catching up"): a pair's own calendar
starts when its pairing mail goes out; of recurring mail only the latest occurrence due is sent;
mail is dated and worded when it is sent. Pure: the planner and the composer, stepped hour by
hour the way the store would see it (a pairing mail's send time is kept, as `outbox.composed_at`
keeps it), without a store or a clock. The daemon's own test is in test_program_mail_daemon.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from mentormail.daemon.mail.compose import Composer, Sender
from mentormail.daemon.mail.planner import Calendar, DueMail, due_mail
from mentormail.daemon.mail.render import Renderer
from mentormail.daemon.settings import ConfigError, load_settings
from mentormail.store.planner_state import Contact, PairState, PlannerState
from test_planner import CALENDAR, CHICAGO, END, PAIRS, START, Person

FIVE_WEEKS_IN = datetime.combine(START + timedelta(weeks=5), time(10), tzinfo=CHICAGO).astimezone(timezone.utc)


def run(
    pairs: tuple[PairState, ...],
    start: datetime,
    until: datetime,
    calendar: Calendar = CALENDAR,
    sent: dict[str, datetime] | None = None,
) -> list[tuple[datetime, DueMail]]:
    """Tick hourly from `start`; each pair's pairing mail is remembered with the tick that sent it,
    as the store does. `sent`: what the outbox holds already (key -> when it was composed)."""
    outbox = dict(sent or {})
    ticks: list[tuple[datetime, DueMail]] = []
    now = start
    while now < until:
        state = PlannerState(
            pairs=tuple(
                replace(
                    pair,
                    contacts=tuple(c for c in pair.contacts if c.occurred_at <= now),
                    welcomed_at=outbox.get(f"pairing:pair-{pair.pair_id}"),
                )
                for pair in pairs
            ),
            sent_keys=frozenset(outbox),
            surveys_sent_at={key: at for key, at in outbox.items() if key.startswith("survey:")},
        )
        for mail in due_mail(calendar, state, now):
            assert mail.key not in outbox
            outbox[mail.key] = now
            ticks.append((now, mail))
        now += timedelta(hours=1)
    return ticks


def to_ana(ticks: list[tuple[datetime, DueMail]], kind: str, pair_id: str = "p1") -> list[tuple[datetime, DueMail]]:
    return [
        (at, m) for at, m in ticks if m.kind == kind and m.pair_id == pair_id and m.to[0].email == "ana@example.org"
    ]


def test_a_first_run_five_weeks_in_sends_the_welcome_and_nothing_it_supersedes() -> None:
    # Ana mentors Ben and Cléo; nobody has written. Today one mentor got 12 mails in one second.
    ticks = run(PAIRS[:2], FIVE_WEEKS_IN, FIVE_WEEKS_IN + timedelta(hours=1))
    first = Counter((m.kind, m.to[0].email) for _, m in ticks for _ in m.to[:1])
    assert first == {
        ("pairing", "ana@example.org"): 2,  # one per pair, to mentor and mentee together
        ("topic", "ana@example.org"): 2, ("topic", "ben@example.net"): 1, ("topic", "cleo@example.net"): 1,
        ("liaison_summary", "liaison@example.org"): 1,
    }  # fmt: skip
    # The first topic is topic 1, although the round is in its second month.
    assert {m.context["month"] for _, m in ticks if m.kind == "topic"} == {1}


def test_after_a_late_welcome_the_pairs_calendar_counts_from_it() -> None:
    ticks = run(PAIRS[:1], FIVE_WEEKS_IN, datetime.combine(END + timedelta(days=2), time(0), tzinfo=timezone.utc))
    welcome = FIVE_WEEKS_IN
    welcome_day = welcome.astimezone(CHICAGO).date()
    # The intro reminders a week and two weeks after the welcome, at send_time, counting from it.
    reminders = to_ana(ticks, "intro_reminder")
    assert [at for at, _ in reminders] == [CALENDAR.at(welcome_day + timedelta(days=d), time(9)) for d in (7, 14)]
    assert [m.context["days_since_welcome"] for _, m in reminders] == [7, 14]
    assert [m.context["reminded_before"] for _, m in reminders] == [False, True]
    # Topics: 1, 2, 3 ... a month apart from the welcome, never two at once; the round's end does
    # not move, so this pair has eight months (6 October to 1 June).
    topics = to_ana(ticks, "topic")
    assert [m.context["month"] for _, m in topics] == list(range(1, 9))
    assert {m.context["months"] for _, m in topics} == {8}
    assert all(b - a >= timedelta(days=28) for (a, _), (b, _) in zip(topics, topics[1:]))
    # Check-ins too, from day 15 of the pair's first month.
    checkins = to_ana(ticks, "checkin")
    assert checkins[0][0] == CALENDAR.at(welcome_day + timedelta(days=14), time(9))
    assert [m.context["month"] for _, m in checkins] == list(range(1, len(checkins) + 1))
    # The first nudge 30 days after the welcome, at send_time: not "no contact since your round
    # began" with the welcome itself.
    nudges = to_ana(ticks, "nudge")
    assert nudges[0][0] == CALENDAR.at(welcome_day + timedelta(days=30), time(9))
    assert {at.astimezone(CHICAGO).time() for at, _ in nudges} == {time(9)}
    # The round ends for this pair with everyone else's.
    (end,) = to_ana(ticks, "round_end")
    assert end[1].context["ends_on"] == END and end[0] == CALENDAR.at(END, time(9))


def test_after_downtime_only_the_latest_of_each_recurring_mail_is_sent() -> None:
    # Welcomed on time on 1 September at 09:00, then down until 20 October (day 49).
    welcomed = CALENDAR.at(START, time(9))
    sent = {
        "pairing:pair-p1": welcomed,
        "topic:pair-p1:month-1:mentor": welcomed,
        "topic:pair-p1:month-1:mentee": welcomed,
    }
    back = datetime.combine(date(2026, 10, 20), time(11), tzinfo=CHICAGO).astimezone(timezone.utc)
    ticks = run(PAIRS[:1], back, back + timedelta(hours=1), sent=sent)
    kinds = Counter(m.kind for _, m in ticks if m.pair_id == "p1")
    # One intro reminder (the second, which supersedes the first), one topic each, one check-in,
    # one nudge each: none of the others the downtime skipped.
    assert kinds == {"intro_reminder": 1, "topic": 2, "checkin": 1, "nudge": 2}
    (reminder,) = [m for _, m in ticks if m.kind == "intro_reminder"]
    assert reminder.key == "intro_reminder:pair-p1:2" and not reminder.context["reminded_before"]
    assert reminder.context["days_since_welcome"] == 49  # counted at the send, not "began 14 days ago"
    assert {m.context["month"] for _, m in ticks if m.kind == "topic"} == {2}
    (checkin,) = [m for _, m in ticks if m.kind == "checkin"]
    assert checkin.key == "checkin:pair-p1:month-2" and checkin.context["month"] == 2
    # Back on 6 October instead: month 1's check-in (15 September) is the latest due, and it says
    # what month it is now, the second.
    back = datetime.combine(date(2026, 10, 6), time(11), tzinfo=CHICAGO).astimezone(timezone.utc)
    (checkin,) = [m for _, m in run(PAIRS[:1], back, back + timedelta(hours=1), sent=sent) if m.kind == "checkin"]
    assert checkin.key == "checkin:pair-p1:month-1" and checkin.context["month"] == 2


def test_no_reminder_once_the_mentor_wrote_during_downtime() -> None:
    welcomed = CALENDAR.at(START, time(9))
    wrote = replace(PAIRS[0], contacts=(Contact(welcomed + timedelta(days=10), "mentor_to_mentee"),))
    back = welcomed + timedelta(days=20)
    ticks = run((wrote,), back, back + timedelta(hours=1), sent={"pairing:pair-p1": welcomed})
    assert not [m for _, m in ticks if m.kind == "intro_reminder"]


def test_a_survey_sent_late_is_not_followed_by_its_reminder() -> None:
    # Down from 1 May until 9 June: the survey (due 11 May) goes out then, after its reminder's day
    # (8 June); the reminder would only repeat it a tick later.
    back = CALENDAR.at(date(2027, 6, 9), time(12))
    ticks = run(PAIRS[:1], back, back + timedelta(days=5), sent={"pairing:pair-p1": CALENDAR.at(START, time(9))})
    assert Counter(m.kind for _, m in ticks if m.kind.startswith("survey")) == {"survey": 2}
    # Sent on time, it is reminded of as before.
    on_time = run(PAIRS[:1], CALENDAR.at(date(2027, 5, 11), time(0)), CALENDAR.at(date(2027, 6, 10), time(0)))
    assert Counter(m.kind for _, m in on_time if m.kind.startswith("survey")) == {"survey": 2, "survey_reminder": 2}


def test_a_nudge_goes_at_send_time_on_both_sides_of_the_dst_change() -> None:
    # The last contacts at 23:00 local: the nudges 30 days on, at 09:00, in summer and in winter time.
    late_evening = [CALENDAR.at(date(2026, 9, 20), time(23)), CALENDAR.at(date(2026, 11, 20), time(23))]
    nudged = []
    for last in late_evening:
        pair = replace(PAIRS[0], contacts=(Contact(last, "mentee_to_mentor"), Contact(last, "mentor_to_mentee")))
        ticks = run((pair,), last, last + timedelta(days=32), sent={"pairing:pair-p1": CALENDAR.at(START, time(9))})
        nudged.append(min(at for at, m in ticks if m.kind == "nudge"))
    assert [n.astimezone(CHICAGO).time() for n in nudged] == [time(9), time(9)]
    assert [n.astimezone(CHICAGO).date() for n in nudged] == [date(2026, 10, 21), date(2026, 12, 21)]


def test_a_late_mail_is_dated_and_its_reply_address_counted_from_when_it_is_composed() -> None:
    (pairing,) = [
        m for m in due_mail(CALENDAR, PlannerState(PAIRS[:1], frozenset()), FIVE_WEEKS_IN) if m.kind == "pairing"
    ]
    assert pairing.due_at == CALENDAR.at(START, time(9))  # due five weeks ago: its key and the outbox say so
    sender = Sender("Test round", "mentoring@example.org", CHICAGO, b"secret", 9)
    row = Composer(sender, Renderer()).compose(pairing, now=FIVE_WEEKS_IN)
    parsed = message_from_bytes(row.raw or b"", policy=policy.default)
    assert parsed["Date"].datetime == FIVE_WEEKS_IN.replace(microsecond=0)
    assert row.composed_at == FIVE_WEEKS_IN and row.due_at == pairing.due_at


# --- one round, one calendar -------------------------------------------------------------------


def test_a_pair_added_in_week_three_ends_with_the_round() -> None:
    late = replace(PAIRS[2], started_on=START + timedelta(weeks=3))
    week_three = CALENDAR.at(late.started_on, time(10))
    (pairing,) = [m for m in due_mail(CALENDAR, PlannerState((late,), frozenset()), week_three) if m.kind == "pairing"]
    assert pairing.context["ends_on"] == END  # not 22 June: a month after everyone else


def test_an_explicit_end_date_is_the_end_of_every_pair() -> None:
    shorter = replace(CALENDAR, ends_on=date(2027, 5, 15))
    ticks = run(PAIRS[:1], CALENDAR.at(START, time(8)), CALENDAR.at(date(2027, 5, 20), time(0)), calendar=shorter)
    (end,) = to_ana(ticks, "round_end")
    assert end[1].context["ends_on"] == date(2027, 5, 15) and end[0] == CALENDAR.at(date(2027, 5, 15), time(9))
    assert all(
        at < CALENDAR.at(date(2027, 5, 15), time(0)) for at, m in ticks if m.kind in ("topic", "checkin", "nudge")
    )


def test_a_pair_carried_over_from_before_the_round_ends_when_its_months_are_up() -> None:
    early = replace(PAIRS[0], started_on=date(2026, 3, 1))
    (pairing,) = [
        m for m in due_mail(CALENDAR, PlannerState((early,), frozenset()), FIVE_WEEKS_IN) if m.kind == "pairing"
    ]
    assert pairing.context["ends_on"] == date(2026, 12, 1)


PROGRAM_CONFIG = """
[program]
name = "Round"
address = "mentoring@example.org"
starts_on = 2026-09-01
timezone = "America/New_York"
secret_file = "secret"
{extra}
[people]
coordinators = ["coordinator@example.org"]
"""


def settings_with(tmp_path: Path, extra: str):  # type: ignore[no-untyped-def]
    (tmp_path / "secret").write_text("s3cret-for-tests")
    (tmp_path / "secret").chmod(0o600)
    config = tmp_path / "mentormail.toml"
    config.write_text(PROGRAM_CONFIG.format(extra=extra), encoding="utf-8")
    return load_settings(config)


def test_the_round_ends_on_starts_on_plus_months_or_on_ends_on(tmp_path: Path) -> None:
    assert Calendar.from_settings(settings_with(tmp_path, "")).ends_on == date(2027, 6, 1)
    assert Calendar.from_settings(settings_with(tmp_path, "months = 6")).ends_on == date(2027, 3, 1)
    assert Calendar.from_settings(settings_with(tmp_path, "ends_on = 2027-05-28")).ends_on == date(2027, 5, 28)


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("ends_on = 2026-08-31", "program.ends_on: must be after starts_on (2026-09-01)"),
        ("ends_on = 2027-06-02", "at most months = 9 later, 2027-06-01 (got 2027-06-02); raise months"),
        ('ends_on = "June"', "program.ends_on: must be a date like 2026-09-01"),
    ],
)
def test_an_end_date_before_the_start_or_beyond_the_months_is_refused(tmp_path: Path, extra: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        settings_with(tmp_path, extra)


def test_nobody_of_a_nameless_pair_is_left_blank_in_the_planners_mail() -> None:
    # A pair made by address only (`pair a@x b@y`): every mail due in its first day renders.
    bare = replace(PAIRS[0], mentor=Person(1, "", "ana@example.org"), mentee=Person(2, "", "ben@example.net"))
    renderer = Renderer()
    for mail in due_mail(CALENDAR, PlannerState((bare,), frozenset()), CALENDAR.at(START, time(10))):
        rendered = renderer.render(mail.kind, mail.context)
        assert "  " not in rendered.subject and not rendered.subject.endswith(("and", "with")), rendered.subject
        assert "Dear ," not in rendered.text and "Dear  and ," not in rendered.text


# --- a whole round, through the store --------------------------------------------------------------


def test_a_whole_round_first_run_five_weeks_in_through_the_store(program) -> None:  # type: ignore[no-untyped-def]
    """The daemon's parts on a virtual clock (the store, the incremental tick, composing, delivery),
    hour by hour from five weeks into the round to past its end: the welcome's time goes into the
    outbox and back into the plan, and every mail goes once, dated when it was sent."""
    from in_process import in_process

    program.write_config(extra="".join(f'\n[[topics]]\ntitle = "Topic {n}"\n' for n in range(1, 10)))
    first = datetime.combine(START + timedelta(weeks=5), time(10), tzinfo=CHICAGO).astimezone(timezone.utc)
    sent: list[tuple[datetime, object]] = []
    # Ticks at the first run, then at 00:00, 09:00 (send_time) and 15:00 local each day: what a
    # daemon ticking every few minutes would send then.
    days = (END + timedelta(days=20) - START).days
    slots = [CALENDAR.at(START + timedelta(days=d), time(h)) for d in range(days) for h in (0, 9, 15)]
    with in_process(program) as daemon:
        for now in [first, *(slot for slot in slots if slot > first)]:
            daemon.mail.plan(now)
            daemon.mail.deliver(now)
            for _, raw in daemon.backend.outbox[len(sent) :]:
                sent.append((now, message_from_bytes(raw, policy=policy.default)))
    assert len({str(m["Message-ID"]) for _, m in sent}) == len(sent)  # each mail once
    assert all(m["Date"].datetime == at for at, m in sent)  # dated when it was sent
    welcome_day = first.astimezone(CHICAGO).date()

    def of(kind: str, to: str) -> list[tuple[datetime, object]]:
        return [(at, m) for at, m in sent if m["X-Mentormail-Kind"] == kind and to in str(m["To"])]

    assert [at for at, _ in of("pairing", "ben@")] == [first]
    # Nobody wrote: Dev is reminded a week and two after the welcome, at 09:00, with true figures.
    reminders = of("intro_reminder", "dev@")
    assert [at for at, _ in reminders] == [CALENDAR.at(welcome_day + timedelta(days=d), time(9)) for d in (7, 14)]
    texts = [" ".join(m.get_body(("plain",)).get_content().split()) for _, m in reminders]
    assert "It is 7 days since we introduced you" in texts[0] and "It is 14 days since" in texts[1]
    # Eve's topics 1 to 8 in order, a month apart, none with the welcome but the first.
    topics = of("topic", "eve@")
    assert [str(m["Subject"]).split(" with ")[0] for _, m in topics] == [f"Month {n} of 8" for n in range(1, 9)]
    assert topics[0][0] == first and all(b - a >= timedelta(days=28) for (a, _), (b, _) in zip(topics, topics[1:]))
    # No nudge in the 30 days after the welcome; every nudge at 09:00.
    nudges = of("nudge", "eve@")
    assert nudges[0][0] == CALENDAR.at(welcome_day + timedelta(days=30), time(9))
    assert {at.astimezone(CHICAGO).time() for at, _ in nudges} == {time(9)}
    # The round ends for everyone on 1 June.
    assert [at for at, _ in of("round_end", "eve@")] == [CALENDAR.at(END, time(9))]


@pytest.mark.parametrize("seed", range(3))
def test_planning_at_the_next_moments_after_a_late_first_run_misses_nothing(seed: int) -> None:
    """As test_incremental_planning's check, but the daemon first runs weeks into the round: the
    pairs' moments, counted from a welcome at the first tick, agree with planning every hour."""
    from mentormail.daemon.mail.planner import due_mail_for_pairs, next_moments
    from test_incremental_planning import changed_between, scenario, state_at

    pairs, statuses, answers = scenario(seed)
    outbox: dict[str, datetime] = {}

    def state(now: datetime) -> PlannerState:
        given = state_at(pairs, statuses, answers, now, set(outbox))
        welcomed = tuple(replace(p, welcomed_at=outbox.get(f"pairing:pair-{p.pair_id}")) for p in given.pairs)
        return replace(given, pairs=welcomed)

    every = {p.pair_id for p in pairs}
    now = datetime.combine(min(p.started_on for p in pairs) + timedelta(weeks=5), time(13), tzinfo=CHICAGO)
    now = now.astimezone(timezone.utc)
    end, previous = now + timedelta(days=500), now - timedelta(hours=1)
    next_at: dict[str, datetime | None] = {}
    while now < end:
        changed = changed_between(pairs, statuses, answers, previous, now)
        to_plan = {pid for pid in every if pid not in next_at or pid in changed or ((m := next_at[pid]) and m <= now)}
        if to_plan:
            planned = state(now)
            outbox.update((mail.key, now) for mail in due_mail_for_pairs(CALENDAR, planned, now, to_plan))
            next_at.update(next_moments(CALENDAR, planned, now, to_plan))
        naive = due_mail_for_pairs(CALENDAR, state(now), now, every)
        assert not naive, f"missed at {now}: {[m.key for m in naive]}"
        previous, now = now, now + timedelta(hours=1)
    assert any(key.startswith("intro_reminder:") for key in outbox) and any(key.startswith("topic:") for key in outbox)
