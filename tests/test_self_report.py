"""parsers/self_report.py: calls and meetings reported by email, read against a fixed `today`."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from mentormail.parsers.self_report import NotAReport, SelfReport, parse_self_report

TODAY = date(2026, 11, 12)  # a Thursday
STARTED = date(2026, 9, 1)


def report(text: str, today: date = TODAY, started_on: date = STARTED) -> SelfReport | NotAReport | None:
    return parse_self_report(text, today, started_on)


# --- accepted ---------------------------------------------------------------------------------------


def test_call_alone_is_a_call_today():
    assert report("call") == SelfReport(channel="phone", on=TODAY, minutes=None)


def test_phone_call_with_minutes_yesterday():
    assert report("phone call 45 min yesterday") == SelfReport(channel="phone", on=date(2026, 11, 11), minutes=45)


def test_phoned_today():
    assert report("Phoned today.") == SelfReport(channel="phone", on=TODAY, minutes=None)


def test_video_call_counts_as_a_call():
    assert report("video call 1h on Monday") == SelfReport(channel="phone", on=date(2026, 11, 9), minutes=60)


def test_a_zoom_meeting_is_a_call_not_a_meeting():
    assert report("zoom meeting 1h30 yesterday") == SelfReport(channel="phone", on=date(2026, 11, 11), minutes=90)


def test_we_met_on_a_day_and_month():
    assert report("We met on 3 November") == SelfReport(channel="meeting", on=date(2026, 11, 3), minutes=None)


def test_month_then_day():
    assert report("met November 3rd") == SelfReport(channel="meeting", on=date(2026, 11, 3), minutes=None)


def test_met_for_coffee_on_an_iso_date():
    assert report("met for coffee 2026-11-03") == SelfReport(channel="meeting", on=date(2026, 11, 3), minutes=None)


def test_meeting_last_friday_with_minutes():
    assert report("meeting last Friday 30 minutes") == SelfReport(channel="meeting", on=date(2026, 11, 6), minutes=30)


def test_call_with_minutes_and_no_date_is_today():
    assert report("call 30 min") == SelfReport(channel="phone", on=TODAY, minutes=30)


def test_hours_as_a_decimal_and_in_words():
    assert report("call 1.5 hours").minutes == 90
    assert report("call 1 hour").minutes == 60
    assert report("call 90 minutes").minutes == 90
    assert report("an hour and a half call").minutes == 90
    assert report("met for half an hour").minutes == 30


def test_a_weekday_said_on_that_weekday_is_today_but_last_weekday_is_a_week_ago():
    assert report("call on Thursday").on == TODAY
    assert report("call last Thursday").on == date(2026, 11, 5)


def test_days_ago():
    assert report("phone call 3 days ago").on == date(2026, 11, 9)


def test_a_date_without_a_year_is_the_most_recent_one_not_after_today():
    assert report("met 3 January", today=date(2027, 2, 1)).on == date(2027, 1, 3)
    assert report("met 20 December", today=date(2027, 1, 5)).on == date(2026, 12, 20)


def test_an_unambiguous_numeric_date():
    assert report("met 10/11").reason.startswith("'10/11' could be")  # both at most 12: refused
    assert report("we met 11/11").on == date(2026, 11, 11)
    assert report("we met 5.11.2026").reason.startswith("'5.11.2026' could be")
    assert report("we met 30/10").on == date(2026, 10, 30)


def test_the_greeting_line_is_skipped():
    assert report("Hi Sam,\n\nwe had a call yesterday") == SelfReport(channel="phone", on=date(2026, 11, 11))


def test_a_time_of_day_is_not_a_date():
    assert report("met at 10.30 today").on == TODAY


def test_sat_down_is_not_saturday():
    assert report("We sat down for coffee yesterday").on == date(2026, 11, 11)


def test_only_the_first_line_matters():
    assert report("call yesterday\nWe will meet on 25 December") == SelfReport(channel="phone", on=date(2026, 11, 11))


# --- refused, with a reason -----------------------------------------------------------------------


def test_ambiguous_day_month_numbers_are_refused():
    result = report("we met 3/11")
    assert isinstance(result, NotAReport)
    assert result.reason.startswith("'3/11' could be day/month or month/day")


def test_a_date_in_the_future():
    assert report("met 2026-12-01") == NotAReport("1 December 2026 is in the future")
    assert report("call tomorrow") == NotAReport("13 November 2026 is in the future")


def test_a_date_before_the_pair_started():
    assert report("met 3 August") == NotAReport("3 August 2026 is before your pair started on 1 September 2026")


def test_a_day_still_to_come_this_year_is_said_so():
    assert report("we met 25 November") == NotAReport("25 November is still to come this year")


def test_a_date_that_does_not_exist():
    assert report("met on 31 November") == NotAReport("'31 November' is not a date")
    assert report("met 2026-02-30") == NotAReport("'2026-02-30' is not a date")


def test_a_vague_period_asks_for_the_day():
    result = report("we met last week")
    assert isinstance(result, NotAReport)
    assert result.reason.startswith("'last week' does not say which day")
    assert isinstance(report("met in October"), NotAReport)


def test_more_than_a_day_long():
    assert report("call 2000 minutes") == NotAReport("'2000 minutes' is longer than a day")


# --- not a report at all ----------------------------------------------------------------------------


def test_a_question_is_not_a_report():
    assert report("Can we schedule a call?") is None
    assert report("When is the next meeting") is None


def test_a_plan_is_not_a_report():
    assert report("We'll call next week") is None
    assert report("We are planning to meet on Friday") is None


def test_something_that_did_not_happen_is_not_a_report():
    assert report("We haven't met yet") is None
    assert report("The call was cancelled") is None


def test_a_request_to_be_called_is_not_a_report():
    assert report("Please call me") is None


def test_a_report_with_a_plan_after_it_is_still_a_report():
    assert report("We met yesterday and will meet again next month") == SelfReport(
        channel="meeting", on=date(2026, 11, 11)
    )


def test_mail_without_a_call_or_meeting_is_not_a_report():
    assert report("Thanks for the newsletter!") is None
    assert report("") is None
    assert report("\n\n   \n") is None


def test_a_long_message_is_not_a_report():
    assert report("We had a call " + "and talked about many things " * 10) is None


# --- never raises ---------------------------------------------------------------------------------

words = st.sampled_from(
    [
        "call", "met", "zoom", "yesterday", "today", "tomorrow", "last", "monday", "on", "sat", "3", "29",
        "november", "feb", "2026-02-29", "3/11", "25/11/26", "1h30", "45 min", "1.5 hours", "an hour",
        "days ago", "?", "not", "will", " ", "\n", "9999-12-31", "0001-01-01",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    text=st.one_of(st.text(max_size=200), st.lists(words, max_size=12).map(" ".join)),
    today=st.dates(),
    started_on=st.dates(),
)
def test_never_raises(text, today, started_on):
    result = parse_self_report(text, today, started_on)
    assert result is None or isinstance(result, NotAReport | SelfReport)
    if isinstance(result, SelfReport):
        assert started_on <= result.on <= today
        assert result.minutes is None or 1 <= result.minutes <= 24 * 60


# --- "emailed", as the nudge and the intro reminder suggest (issue 10) ---------------------------


def test_emailed_is_an_email_today():
    assert report("Emailed!") == SelfReport(channel="email", on=TODAY, minutes=None)


def test_an_email_sent_on_a_stated_day():
    assert report("I sent her an email on 3 November") == SelfReport(channel="email", on=date(2026, 11, 3))


def test_email_as_a_question_or_a_plan_is_no_report():
    assert report("Can I email you?") is None
    assert report("I will email her next week") is None
    assert report("I haven't emailed her yet") is None


# --- naming the mentee (issue 10) ----------------------------------------------------------------

MENTEES = ("Ben O'Brien", "Cléo Martin")


def test_a_first_name_names_that_mentee():
    from mentormail.parsers.self_report import named

    assert named("phone call with Ben 20 min today", MENTEES) == (0,)


def test_a_full_name_without_accents_or_capitals_names_that_mentee():
    from mentormail.parsers.self_report import named

    assert named("we met with cleo martin yesterday", MENTEES) == (1,)


def test_a_full_name_tells_two_mentees_of_one_first_name_apart():
    from mentormail.parsers.self_report import named

    assert named("call with Ben Jones", ("Ben Smith", "Ben Jones")) == (1,)
    assert named("call with Ben", ("Ben Smith", "Ben Jones")) == (0, 1)


def test_a_name_inside_another_word_names_nobody():
    from mentormail.parsers.self_report import named

    assert named("called Benjamin", MENTEES) == ()
