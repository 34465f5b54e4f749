"""The program calendar over whole rounds, in virtual time, without a store or a clock.

The round runs in America/Chicago from 1 September, across the end of daylight-saving time on
1 November 2026, for four pairs (one mentor with two mentees). Each test steps the pure planner
hour by hour, "sending" what it says is due (its key joins the outbox keys), and counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from mentormail.daemon.mail.planner import Calendar, DueMail, add_months, due_mail
from mentormail.daemon.mail.planner.surveys import survey_results_moments
from mentormail.store.planner_state import CheckinRow, Contact, LetterRow, PairState, Person, PlannerState, SpoofAttempt, SurveyAnswerRow
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
    starts_on=START,
    ends_on=add_months(START, 9),
)
END = add_months(START, 9)  # 1 June 2027
# The committee, as the store knows them: people with ids of their own, so that replies are signed for them.
COORDINATOR = Person(20, "Rosa Okafor", "coordinator@example.org")
LIAISON = Person(21, "", "liaison@example.org")


def run_round(
    pairs: tuple[PairState, ...],
    until: date = END + timedelta(days=10),
    calendar: Calendar = CALENDAR,
    start: date = START,
    **state: Any,
) -> list[DueMail]:
    """Step hourly from `start` to `until`; contacts dated up to `now` are visible. `state` adds to
    the planner's state (staff, survey answers, ...): a value, or a function of `now` giving one."""
    sent: list[DueMail] = []
    keys: set[str] = set()
    now = datetime.combine(start, time(0), tzinfo=CHICAGO).astimezone(timezone.utc)
    end = datetime.combine(until, time(0), tzinfo=CHICAGO).astimezone(timezone.utc)
    while now < end:
        visible = tuple(replace(p, contacts=tuple(c for c in p.contacts if c.occurred_at <= now)) for p in pairs)
        extra = {name: value(now) if callable(value) else value for name, value in state.items()}
        for mail in due_mail(calendar, PlannerState(pairs=visible, sent_keys=frozenset(keys), **extra), now):
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
    # One survey per person, however many pairs: Ana too. Nobody answered, so everyone is reminded.
    assert per_recipient(mails, "survey") == dict.fromkeys(participants, 1)
    assert per_recipient(mails, "survey_reminder") == dict.fromkeys(participants, 1)
    assert per_recipient(mails, "round_end") == {**dict.fromkeys(participants, 1), "ana@example.org": 2}


def test_mail_to_the_committee_and_only_that_is_marked_so() -> None:
    committee = {COORDINATOR.email, LIAISON.email}
    mails = run_round(PAIRS)
    assert "liaison_summary" in {mail.kind for mail in mails if mail.to_committee}
    for mail in mails:
        assert mail.to_committee == ({person.email for person in mail.to} <= committee), mail.key


def test_a_liaison_summary_every_week_of_the_round_on_monday_morning_local_time() -> None:
    summaries = [m for m in run_round(PAIRS, until=END + timedelta(days=30)) if m.kind == "liaison_summary"]
    first_monday = date(2026, 9, 7)
    # Up to the morning the round's survey results go out, not a week past it: the ended round keeps
    # its section until then (issue 12), and after it a summary would be about nobody.
    results = max(survey_results_moments(CALENDAR, PlannerState(pairs=PAIRS, sent_keys=frozenset()), CALENDAR.at(END, time(0))))
    weeks = sum(1 for k in range(60) if CALENDAR.at(first_monday + timedelta(weeks=k), time(9)) < results)
    assert CALENDAR.at(END, time(0)) < results < CALENDAR.at(END + timedelta(days=30), time(0))
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
    # 30 days after the last contact (18:00 on 1 October) is 18:00 on 31 October: the nudge goes at
    # the next send_time, 09:00 on 1 November (standard time by then), not at the contact's hour.
    quiet_ends = (last_contact + timedelta(days=30)).astimezone(CHICAGO)
    assert quiet_ends.hour == 18 and first_nudge == CALENDAR.at(quiet_ends.date() + timedelta(days=1), time(9))
    assert {m.due_at.astimezone(CHICAGO).time() for m in mails if m.kind == "nudge"} == {time(9)}


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
    assert {m.kind for m in mails if m.pair_id == "p3"} == {"survey", "survey_reminder", "round_end"}


def test_a_first_tick_weeks_into_the_round_welcomes_the_pair_and_sends_nothing_it_supersedes() -> None:
    # The daemon first runs in mid-November, 11 weeks into the round (issue 10 changed this: it
    # used to send both intro reminders and month 3's topic with the welcome). See test_catch_up.py.
    now = datetime(2026, 11, 16, 16, tzinfo=timezone.utc)  # 10:00 in Chicago, after send_time
    mails = due_mail(CALENDAR, PlannerState(pairs=PAIRS[:1], sent_keys=frozenset()), now)
    kinds = Counter(m.kind for m in mails)
    assert kinds["pairing"] == 1  # late, but sent
    assert kinds["topic"] == 2 and {m.context["month"] for m in mails if m.kind == "topic"} == {1}
    assert kinds["liaison_summary"] == 1
    assert kinds["intro_reminder"] == kinds["nudge"] == kinds["checkin"] == 0


def test_the_digest_goes_out_only_when_something_needs_the_coordinators() -> None:
    from mentormail.store.planner_state import Question, UnknownSender

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
    assert digest.to_committee  # its reply address carries commands, so it lasts a month only


# --- surveys, their reminders and results ------------------------------------------------------

RESULTS_SURVEY = SurveySettings(
    id="feedback",
    title="End-of-round feedback",
    audience="both",
    questions=(
        SurveyQuestion(
            id="useful",
            text="How useful was it?",
            kind="scale",
            labels=("strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree"),
        ),
        SurveyQuestion(id="again", text="Again?", kind="yesno"),
        SurveyQuestion(id="how", text="How did you keep in touch?", kind="choice", labels=("Email", "Phone", "A mix")),
        SurveyQuestion(id="better", text="What would have helped?", kind="text"),
    ),
)
RESULTS_CALENDAR = replace(CALENDAR, surveys=(RESULTS_SURVEY,))
PARTICIPANTS = (ANA, BEN, CLEO, DEV, EVE, FAY, GIL)
SURVEY_END = END + timedelta(days=20)  # past the close (15 June) and the results


def answers(person: Person, **values: object) -> SurveyAnswerRow:
    return SurveyAnswerRow("feedback", person.person_id, values)


def at_local(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=CHICAGO).astimezone(timezone.utc)


def test_one_survey_per_person_and_a_pair_added_late_ends_with_the_round() -> None:
    # Ana's second mentee joined two months late: that pair ends with the round (issue 10: it used
    # to run its own nine months), and Ana's one survey is about her latest pair.
    late = replace(PAIRS[1], started_on=add_months(START, 2))
    mails = run_round((PAIRS[0], late), until=SURVEY_END, start=END - timedelta(days=30))
    surveys = {m.to[0].email: m for m in mails if m.kind == "survey"}
    assert set(surveys) == {"ana@example.org", "ben@example.net", "cleo@example.net"}
    ana = surveys["ana@example.org"]
    assert ana.key == "survey:feedback:person-1" and ana.pair_id == "p2" and ana.context["pair_id"] == "p2"
    assert ana.reply_person == 1 and ana.reference == "survey-feedback"
    assert ana.due_at == CALENDAR.at(END - timedelta(days=21), time(9))
    assert {m.context["closes_on"] for m in surveys.values()} == {END + timedelta(days=14)}
    assert ana.context["recipient"] == {"name": "Ana Álvarez", "email": "ana@example.org", "role": "mentor"}
    assert {m.context["ends_on"] for m in mails if m.kind in ("round_end", "survey")} == {END}
    assert {m.due_at for m in mails if m.kind == "round_end"} == {CALENDAR.at(END, time(9))}


def test_survey_audience_mentors_only_and_the_old_per_pair_key_counts_as_sent() -> None:
    mentors = replace(CALENDAR, surveys=(replace(CALENDAR.surveys[0], audience="mentors"),))
    now = at_local(END)
    state = PlannerState(pairs=PAIRS, sent_keys=frozenset({"survey:feedback:pair-p2:mentor"}))
    surveys = [m for m in due_mail(mentors, state, now) if m.kind == "survey"]
    # Ana was sent the survey under the key it had per pair: not again.
    assert sorted(m.to[0].email for m in surveys) == ["dev@example.org", "gil@example.org"]


def test_the_survey_reminder_goes_only_to_those_who_have_not_answered() -> None:
    answered = (answers(ANA, again=True), answers(EVE, useful=4))
    replied = at_local(END - timedelta(days=5))  # Ana and Eve answer the survey a few days after it came

    def answers_by(now: datetime) -> tuple[SurveyAnswerRow, ...]:
        return answered if now >= replied else ()

    mails = run_round(PAIRS, until=SURVEY_END, start=END - timedelta(days=30), survey_answers=answers_by)
    assert per_recipient(mails, "survey") == {p.email: 1 for p in PARTICIPANTS}
    reminders = [m for m in mails if m.kind == "survey_reminder"]
    assert per_recipient(mails, "survey_reminder") == {p.email: 1 for p in PARTICIPANTS if p not in (ANA, EVE)}
    # A week before the survey closes on 15 June, with what the survey said and the pair it is about.
    assert {m.due_at for m in reminders} == {CALENDAR.at(END + timedelta(days=7), time(9))}
    ben = next(m for m in reminders if m.to[0] == BEN)
    assert ben.key == "survey_reminder:feedback:person-2" and ben.reply_person == 2 and ben.pair_id == "p1"
    assert ben.reference == "survey-feedback" and ben.context["closes_on"] == END + timedelta(days=14)
    assert ben.context["survey"]["questions"][0]["text"] == "Useful?"


def test_a_survey_open_less_than_two_weeks_is_reminded_of_halfway() -> None:
    short = replace(CALENDAR, surveys=(replace(CALENDAR.surveys[0], opens_days_before_end=3, closes_days_after_end=4),))
    mails = run_round(PAIRS[:1], until=SURVEY_END, calendar=short, start=END - timedelta(days=10))
    (reminder,) = [m for m in mails if m.kind == "survey_reminder" and m.to[0] == BEN]
    # Open from 29 May to 5 June: halfway is 1 June, not 29 May (a week before closing).
    assert reminder.due_at == CALENDAR.at(END, time(9))


def test_no_reminder_after_an_answer_or_before_the_survey_was_sent() -> None:
    now = at_local(END + timedelta(days=8))
    fresh = PlannerState(pairs=PAIRS[:1], sent_keys=frozenset())
    kinds = Counter(m.kind for m in due_mail(CALENDAR, fresh, now))
    assert kinds["survey"] == 2 and kinds["survey_reminder"] == 0  # the survey goes out late, alone
    sent = frozenset({"survey:feedback:person-1", "survey:feedback:person-2"})
    answered = PlannerState(pairs=PAIRS[:1], sent_keys=sent, survey_answers=(answers(BEN, q1=False),))
    assert [m.to[0] for m in due_mail(CALENDAR, answered, now) if m.kind == "survey_reminder"] == [ANA]


def test_survey_results_go_once_to_each_member_of_the_committee() -> None:
    given = (
        answers(ANA, useful=4, again=True, how="Email", better="More structure in the first month."),
        answers(BEN, useful=5, again=True, how="A mix", better="  Être mis en relation plus tôt.  "),
        answers(CLEO, useful=4, again=False, how="email"),
        answers(DEV, useful=2, better=""),
        answers(Person(99, "Zed", "zed@example.org"), useful=1),  # not invited: not counted
    )
    mails = run_round(
        PAIRS,
        until=SURVEY_END,
        calendar=RESULTS_CALENDAR,
        start=END - timedelta(days=30),
        survey_answers=given,
        staff=(COORDINATOR, LIAISON),
    )
    results = [m for m in mails if m.kind == "survey_results"]
    assert [(m.to, m.reply_person, m.key) for m in results] == [
        ((COORDINATOR,), 20, "survey_results:feedback:coordinator@example.org"),
        ((LIAISON,), 21, "survey_results:feedback:liaison@example.org"),
    ]
    # The morning after the survey's last day (15 June), when it no longer takes answers.
    assert {m.due_at for m in results} == {CALENDAR.at(END + timedelta(days=15), time(9))}
    assert results[0].context["recipient"]["role"] == "coordinator"
    assert results[1].context["recipient"]["role"] == "liaison"
    context = results[0].context
    assert (context["invited"], context["responded"], context["response_rate"]) == (7, 4, 57)
    assert context["closes_on"] == END + timedelta(days=14)
    useful, again, how, better = context["questions"]
    assert [(b["value"], b["label"], b["count"]) for b in useful["bars"]] == [
        ("1", "strongly disagree", 0),
        ("2", "disagree", 1),
        ("3", "neither agree nor disagree", 0),
        ("4", "agree", 2),
        ("5", "strongly agree", 1),
    ]
    assert useful["answered"] == 4
    # The longest bar is 30 characters and 100% wide; the others in proportion; none for no answers.
    assert [b["text_bar"] for b in useful["bars"]] == ["", "#" * 15, "", "#" * 30, "#" * 15]
    assert [b["width"] for b in useful["bars"]] == [0, 50, 0, 100, 50]
    assert [b["percent"] for b in useful["bars"]] == [0, 25, 0, 50, 25]
    assert [(b["label"], b["count"]) for b in again["bars"]] == [("yes", 2), ("no", 1)]
    assert [(b["label"], b["count"]) for b in how["bars"]] == [("Email", 2), ("Phone", 0), ("A mix", 1)]
    # Free text in alphabetical order, tidied, with nothing that says whose it is.
    assert better["texts"] == ["Être mis en relation plus tôt.", "More structure in the first month."]
    assert better["answered"] == 2 and better["bars"] == []
    assert "Ana" not in str(context["questions"]) and "ana@example.org" not in str(context["questions"])


def test_survey_results_follow_the_round_not_the_last_pair_and_do_not_repeat() -> None:
    # Dev and Eve began a month late; they end with the round on 1 June (issue 10: the results
    # used to wait for their own end on 1 July).
    late = replace(PAIRS[2], started_on=add_months(START, 1))
    state = PlannerState(pairs=(PAIRS[0], late), sent_keys=frozenset(), staff=(COORDINATOR, LIAISON))
    last_close = END + timedelta(days=14)
    assert not [m for m in due_mail(CALENDAR, state, at_local(last_close)) if m.kind == "survey_results"]
    due = [m for m in due_mail(CALENDAR, state, at_local(last_close + timedelta(days=1))) if m.kind == "survey_results"]
    assert len(due) == 2 and due[0].context["invited"] == 4
    sent = replace(state, sent_keys=frozenset(m.key for m in due))
    assert not [
        m for m in due_mail(CALENDAR, sent, at_local(last_close + timedelta(days=30))) if m.kind == "survey_results"
    ]


# --- the committee's mail: check-ins, letters, forged replies ------------------------------------


def test_the_liaison_summary_lists_a_low_rating_and_a_request_to_get_in_touch() -> None:
    monday = at_local(date(2027, 1, 11), 10)  # after 09:00 on a Monday
    checkins = (
        CheckinRow("p1", 3, 1, False, at_local(date(2026, 11, 16))),  # low, then better: not listed
        CheckinRow("p1", 4, 4, None, at_local(date(2026, 12, 15))),
        CheckinRow("p2", 4, 2, None, at_local(date(2026, 12, 16))),  # low in the latest: listed
        CheckinRow("p3", 2, 3, True, at_local(date(2026, 10, 16))),  # asked, but long ago (87 days)
        CheckinRow("p4", 4, None, True, at_local(date(2026, 12, 20))),  # asked 22 days ago: listed
        CheckinRow("p4", 5, 5, None, at_local(date(2027, 1, 12))),  # after the summary: not seen yet
    )
    state = PlannerState(pairs=PAIRS, sent_keys=frozenset(), checkins=checkins, staff=(COORDINATOR, LIAISON))
    (summary,) = [m for m in due_mail(CALENDAR, state, monday) if m.kind == "liaison_summary"]
    assert summary.key == "liaison_summary:2027-01-11"
    assert summary.to == (LIAISON,) and summary.reply_person == 21
    (context,) = summary.context["rounds"]  # a program of one round: one section
    (low,) = context["low_ratings"]
    assert (low["pair_id"], low["rating"], low["month"], low["received_on"]) == ("p2", 2, 4, date(2026, 12, 16))
    assert low["mentor"] == {"name": "Ana Álvarez", "email": "ana@example.org"}
    assert low["mentee"] == {"name": "Cléo Martin", "email": "cleo@example.net"}
    (asked,) = context["contact_requests"]
    assert (asked["pair_id"], asked["month"], asked["rating"]) == ("p4", 4, None)
    assert asked["mentor"]["name"] == "Gil Moreau" and asked["days_since_contact"] is None
    assert context["counts"]["low_ratings"] == 1 and context["counts"]["contact_requests"] == 1


def test_the_digest_lists_a_letter_to_approve_and_a_forged_reply_to_each_coordinator() -> None:
    second = Person(22, "Ravi Iyer", "ravi@example.org")
    calendar = replace(CALENDAR, coordinators=("coordinator@example.org", "ravi@example.org"))
    now = datetime(2026, 10, 5, 14, tzinfo=timezone.utc)  # after 08:00 Chicago
    last_digest = datetime(2026, 10, 3, 13, tzinfo=timezone.utc)
    state = PlannerState(
        pairs=PAIRS,
        sent_keys=frozenset(f"pairing:pair-{pair.pair_id}" for pair in PAIRS),  # welcomed on time
        staff=(COORDINATOR, second, LIAISON),
        last_digest_at=last_digest,
        letter_requests=(LetterRow(7, DEV, "p3", now - timedelta(days=1), contacts=5),),
        spoofed=(
            SpoofAttempt("coordinator@example.org", now - timedelta(hours=20)),
            SpoofAttempt("coordinator@example.org", now - timedelta(hours=18)),
            SpoofAttempt("mallory@example.net", last_digest - timedelta(hours=1)),  # reported before
        ),
    )
    digests = [m for m in due_mail(calendar, state, now) if m.kind == "digest"]
    assert [(m.key, m.to, m.reply_person) for m in digests] == [
        ("digest:2026-10-05:coordinator@example.org", (COORDINATOR,), 20),
        ("digest:2026-10-05:ravi@example.org", (second,), 22),
    ]
    context = digests[0].context
    assert context["recipient"] == {"name": "Rosa Okafor", "email": "coordinator@example.org", "role": "coordinator"}
    (letter,) = context["letter_requests"]
    assert letter["approve"] == "approve letter 7" and letter["request_id"] == 7
    assert (letter["name"], letter["email"], letter["pair_id"]) == ("Dev Patel", "dev@example.org", "p3")
    # The pair's month and logged contacts, for the coordinator to judge a letter asked for early.
    assert (letter["month"], letter["months"], letter["completed"], letter["contacts"]) == (2, 9, False, 5)
    (spoofed,) = context["spoofed"]
    assert (spoofed["email"], spoofed["count"]) == ("coordinator@example.org", 2)
    # Sent once per coordinator and day.
    sent = replace(state, sent_keys=frozenset(m.key for m in digests))
    assert not [m for m in due_mail(calendar, sent, now + timedelta(hours=2)) if m.kind == "digest"]


def test_a_pending_letter_alone_brings_the_digest_and_unknown_staff_have_no_id() -> None:
    now = datetime(2026, 10, 5, 14, tzinfo=timezone.utc)
    state = PlannerState(
        pairs=PAIRS, sent_keys=frozenset(), letter_requests=(LetterRow(3, ANA, "p1", now - timedelta(days=9)),)
    )
    (digest,) = [m for m in due_mail(CALENDAR, state, now) if m.kind == "digest"]
    assert digest.to == (Person(0, "", "coordinator@example.org"),) and digest.reply_person == 0
    assert [r["approve"] for r in digest.context["letter_requests"]] == ["approve letter 3"]
