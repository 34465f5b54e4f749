"""The program calendar over whole rounds, in virtual time, without a store or a clock.

The round runs in America/Chicago from 1 September, across the end of daylight-saving time on
1 November 2026, for four pairs (one mentor with two mentees). Each test steps the pure planner
hour by hour, "sending" what it says is due (its key joins the outbox keys), and counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from mentormail.daemon.planner import (
    Calendar,
    Contact,
    DueMail,
    PairState,
    Person,
    PlannerState,
    add_months,
    due_mail,
)
from mentormail.daemon.settings import ScheduleSettings, SurveyQuestion, SurveySettings, TopicSettings

CHICAGO = ZoneInfo("America/Chicago")
START = date(2026, 9, 1)
ANA, DEV = Person(1, "Ana Álvarez", "ana@example.org"), Person(4, "Dev Patel", "dev@example.org")
BEN, CLEO = Person(2, "Ben O'Brien", "ben@example.net"), Person(3, "Cléo Martin", "cleo@example.net")
EVE, FAY = Person(5, "Eve Cohen", "eve@example.com"), Person(7, "Fay Wu", "fay@example.com")
GIL = Person(6, "Gil Moreau", "gil@example.org")
PAIRS = (
    PairState("p1", ANA, BEN, "active", START, ()),
    PairState("p2", ANA, CLEO, "active", START, ()),
    PairState("p3", DEV, EVE, "active", START, ()),
    PairState("p4", GIL, FAY, "active", START, ()),
)
CALENDAR = Calendar(
    program_name="Test round",
    program_address="mentoring@example.org",
    zone=CHICAGO,
    months=9,
    schedule=ScheduleSettings(),
    topics=tuple(TopicSettings(title=f"Topic {n}", prompts=("What?",)) for n in range(1, 10)),
    surveys=(
        SurveySettings(
            id="feedback",
            title="Feedback",
            audience="both",
            questions=(SurveyQuestion(id="q1", text="Useful?", kind="yesno"),),
        ),
    ),
    coordinators=("coordinator@example.org",),
    liaison="liaison@example.org",
)
END = add_months(START, 9)  # 1 June 2027


def run_round(pairs: tuple[PairState, ...], until: date = END + timedelta(days=10)) -> list[DueMail]:
    """Step hourly from the start to `until`; contacts dated up to `now` are visible."""
    sent: list[DueMail] = []
    keys: set[str] = set()
    now = datetime.combine(START, time(0), tzinfo=CHICAGO).astimezone(timezone.utc)
    end = datetime.combine(until, time(0), tzinfo=CHICAGO).astimezone(timezone.utc)
    while now < end:
        visible = tuple(replace(p, contacts=tuple(c for c in p.contacts if c.occurred_at <= now)) for p in pairs)
        for mail in due_mail(CALENDAR, PlannerState(pairs=visible, sent_keys=frozenset(keys)), now):
            assert mail.key not in keys
            keys.add(mail.key)
            sent.append(mail)
        now += timedelta(hours=1)
    return sent


def every_two_weeks(pair: PairState) -> PairState:
    """Contacts every 14 days from day 2, mentor first, alternating."""
    first = datetime.combine(pair.started_on + timedelta(days=2), time(18), tzinfo=CHICAGO).astimezone(timezone.utc)
    contacts = tuple(
        Contact(first + timedelta(days=14 * n), ("mentor_to_mentee", "mentee_to_mentor")[n % 2]) for n in range(20)
    )
    return replace(pair, contacts=contacts)


def per_recipient(mails: list[DueMail], kind: str) -> Counter[str]:
    return Counter(person.email for mail in mails if mail.kind == kind for person in mail.to)


def test_a_round_without_any_contact() -> None:
    mails = run_round(PAIRS)
    participants = {p.email for pair in PAIRS for p in (pair.mentor, pair.mentee)}
    # Nine topics to every participant: Ana once per mentee.
    assert per_recipient(mails, "topic") == {
        "ana@example.org": 18, "ben@example.net": 9, "cleo@example.net": 9,
        "dev@example.org": 9, "eve@example.com": 9, "gil@example.org": 9, "fay@example.com": 9,
    }  # fmt: skip
    assert per_recipient(mails, "pairing") == {**dict.fromkeys(participants, 1), "ana@example.org": 2}
    # No mentor wrote, so each is reminded twice (per pair), and never a mentee.
    assert per_recipient(mails, "intro_reminder") == {"ana@example.org": 4, "dev@example.org": 2, "gil@example.org": 2}
    # Silent all round: a nudge every 30 days of the 273-day round (days 30, 60 ... 270), to both.
    assert per_recipient(mails, "nudge") == {**dict.fromkeys(participants, 9), "ana@example.org": 18}
    assert per_recipient(mails, "checkin") == {"ana@example.org": 18, "dev@example.org": 9, "gil@example.org": 9}
    assert per_recipient(mails, "survey") == {**dict.fromkeys(participants, 1), "ana@example.org": 2}
    assert per_recipient(mails, "round_end") == {**dict.fromkeys(participants, 1), "ana@example.org": 2}


def test_a_liaison_summary_every_week_of_the_round_on_monday_morning_local_time() -> None:
    summaries = [m for m in run_round(PAIRS) if m.kind == "liaison_summary"]
    first_monday = date(2026, 9, 7)
    weeks = (END + timedelta(days=7) - first_monday).days // 7 + 1
    assert len(summaries) == weeks
    for mail in summaries:
        local = mail.due_at.astimezone(CHICAGO)
        assert (local.weekday(), local.time()) == (0, time(9, 0))
    assert [m.to[0].email for m in summaries] == ["liaison@example.org"] * weeks


def test_pairs_that_write_every_two_weeks_get_no_nudge_and_no_reminder() -> None:
    mails = run_round(tuple(every_two_weeks(p) for p in PAIRS))
    kinds = Counter(m.kind for m in mails)
    assert kinds["nudge"] == 0 and kinds["intro_reminder"] == 0
    assert kinds["topic"] == 72 and kinds["pairing"] == 4


def test_only_the_pair_that_went_quiet_is_nudged() -> None:
    quiet = replace(every_two_weeks(PAIRS[2]), contacts=every_two_weeks(PAIRS[2]).contacts[:3])  # stops in October
    mails = run_round((every_two_weeks(PAIRS[0]), every_two_weeks(PAIRS[1]), quiet, every_two_weeks(PAIRS[3])))
    nudged = {m.pair_id for m in mails if m.kind == "nudge"}
    assert nudged == {"p3"}
    last_contact = quiet.contacts[-1].occurred_at
    first_nudge = min(m.due_at for m in mails if m.kind == "nudge")
    assert first_nudge == last_contact + timedelta(days=30)


def test_topics_go_out_at_nine_local_time_on_both_sides_of_the_dst_change() -> None:
    topics = sorted({m.due_at for m in run_round(PAIRS[:1]) if m.kind == "topic"})
    assert [t.astimezone(CHICAGO).time() for t in topics] == [time(9, 0)] * 9
    # 1 October is daylight time (UTC-5), 1 December standard time (UTC-6).
    utc_hours = {t.astimezone(CHICAGO).date(): t.hour for t in topics}
    assert utc_hours[date(2026, 10, 1)] == 14 and utc_hours[date(2026, 12, 1)] == 15


def test_a_paused_pair_gets_no_mail_and_an_ended_one_no_nudge() -> None:
    paused = replace(PAIRS[0], status="paused")
    ended = replace(PAIRS[2], status="ended")
    mails = run_round((paused, ended))
    assert all(m.pair_id != "p1" for m in mails if m.pair_id)
    assert {m.kind for m in mails if m.pair_id == "p3"} == {"survey", "round_end"}


def test_after_downtime_recurring_mail_catches_up_once_and_one_off_mail_is_sent_late() -> None:
    # The daemon was down from the start until mid-November: one tick then.
    now = datetime(2026, 11, 16, 12, tzinfo=timezone.utc)
    mails = due_mail(CALENDAR, PlannerState(pairs=PAIRS[:1], sent_keys=frozenset()), now)
    kinds = Counter(m.kind for m in mails)
    assert kinds["pairing"] == 1  # late, but sent
    assert kinds["topic"] == 2 and {m.context["month"] for m in mails if m.kind == "topic"} == {3}
    assert kinds["liaison_summary"] == 1 and kinds["checkin"] == 1
    assert kinds["intro_reminder"] == 2


def test_the_digest_goes_out_only_when_something_needs_the_coordinators() -> None:
    from mentormail.daemon.planner import Question, UnknownSender

    now = datetime(2026, 10, 5, 14, tzinfo=timezone.utc)  # after 08:00 Chicago
    quiet = due_mail(CALENDAR, PlannerState(pairs=PAIRS, sent_keys=frozenset()), now)
    assert not [m for m in quiet if m.kind == "digest"]
    busy = PlannerState(
        pairs=PAIRS,
        sent_keys=frozenset(),
        questions=(Question(9, BEN, now - timedelta(days=1)),),
        unknown_senders=(UnknownSender("zed@x.example", now - timedelta(hours=20)),) * 2,
    )
    (digest,) = [m for m in due_mail(CALENDAR, busy, now) if m.kind == "digest"]
    assert digest.forwards == (9,)
    assert digest.context["unknown_senders"] == [{"email": "zed@x.example", "count": 2}]
    assert [p.email for p in digest.to] == ["coordinator@example.org"]
