"""The liaison's weekly summary at any size: the worst pairs of each list, counts for the rest,
a bounded chart, and every pair in an attached CSV; its figures read in SQL agree with the ones
the pure planner derives from the contacts.

The pure tests use the calendar of tests/test_planner.py (America/Chicago, from 1 September 2026).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Program, free_port
from mentormail.daemon.mail.planner import due_mail
from mentormail.daemon.mail.planner.calendar import Calendar
from mentormail.daemon.mail.planner.due import DueMail
from mentormail.daemon.mail.planner.liaison import (
    CHART_LIMIT,
    COMMENT_CHARACTERS,
    COMMENT_LIMIT,
    CSV_COLUMNS,
    LIST_LIMIT,
    activity_from_contacts,
    liaison_activity_options,
    liaison_summary_due,
    plan_liaison_summary,
)
from mentormail.daemon.mail.planner.surveys import survey_results_moments
from mentormail.daemon.mail.render import Renderer
from mentormail.daemon.service import open_store
from mentormail.daemon.settings import load_settings
from mentormail.parsers.roster_csv import RosterRow
from mentormail.store import queries
from mentormail.store.models import CheckinReply, ContactEvent, IntakeRecord, Pair
from mentormail.store.planner_state import Bounce, CheckinRow, Contact, PairState, Person, PlannerState
from mentormail.store.queries.summary import liaison_activity
from mentormail.store.summary_state import CheckinNote
from test_planner import CALENDAR, CHICAGO, COORDINATOR, LIAISON, PAIRS, at_local
from test_templates import parse_html

START = date(2026, 9, 1)
MONDAY = at_local(date(2027, 1, 11), 10)  # after the 09:00 summary of that Monday
DUE = at_local(date(2027, 1, 11), 9)
TO_MENTEE, TO_MENTOR = "mentor_to_mentee", "mentee_to_mentor"


def summary_of(state: PlannerState, now: datetime = MONDAY, calendar: Calendar = CALENDAR) -> DueMail:
    (mail,) = [m for m in due_mail(calendar, state, now) if m.kind == "liaison_summary"]
    return mail


def section_of(mail: DueMail) -> dict[str, Any]:
    """The summary's one section (a program of one round has one)."""
    (section,) = mail.context["rounds"]  # type: ignore[misc]
    return section  # type: ignore[no-any-return]


def csv_rows(mail: DueMail) -> list[dict[str, str]]:
    (attachment,) = mail.attachments
    return list(csv.DictReader(io.StringIO(attachment.data.decode("utf-8"))))


def pair(n: int, contacts: tuple[Contact, ...] = (), started_on: date = START, status: str = "active") -> PairState:
    mentor = Person(1000 + 2 * n, f"Mentor {n}", f"mentor{n}@example.org")
    mentee = Person(1001 + 2 * n, f"Mentee {n}", f"mentee{n}@example.net")
    return PairState(f"x{n:03d}", mentor, mentee, status, started_on, contacts)


def large_program() -> PlannerState:
    """40 pairs that never wrote (started on different days), 40 silent for 46 to 85 days, 40
    writing every week both ways, and 30 paused: every list longer than a person reads."""
    pairs = []
    for n in range(40):  # the later the number, the earlier the start
        pairs.append(pair(n, started_on=START + timedelta(days=40 - n)))
    for n in range(40, 80):  # the later the number, the longer the silence
        last = DUE - timedelta(days=46 + (n - 40))
        pairs.append(pair(n, (Contact(last - timedelta(days=3), TO_MENTEE), Contact(last, TO_MENTOR))))
    for n in range(80, 120):
        weekly = tuple(Contact(DUE - timedelta(days=7 * k + 1), (TO_MENTEE, TO_MENTOR)[k % 2]) for k in range(8))
        pairs.append(pair(n, weekly))
    for n in range(120, 150):
        pairs.append(pair(n, (Contact(DUE - timedelta(days=n - 100), TO_MENTEE),), status="paused"))
    return PlannerState(pairs=tuple(pairs), sent_keys=frozenset(), staff=(COORDINATOR, LIAISON))


# --- readable at any size ---------------------------------------------------------------------------


def test_a_large_program_lists_the_worst_of_each_concern_and_counts_the_rest() -> None:
    mail = summary_of(large_program())
    context = mail.context
    counts = section_of(mail)["counts"]
    assert (counts["pairs"], counts["never_started"], counts["inactive_45"], counts["paused"]) == (150, 40, 40, 30)
    assert counts["active"] == 40
    never, inactive, paused = (section_of(mail)[name] for name in ("never_started", "inactive_45", "paused"))
    assert len(never) == len(inactive) == len(paused) == LIST_LIMIT
    # Never started: those waiting longest, i.e. started first (x039 started on day 1).
    assert [row["pair_id"] for row in never] == [f"x{n:03d}" for n in range(39, 14, -1)]
    # Inactive: the longest silence first (x079 has been silent 85 days).
    assert [row["pair_id"] for row in inactive] == [f"x{n:03d}" for n in range(79, 54, -1)]
    assert [row["days_since_contact"] for row in inactive] == list(range(85, 60, -1))
    assert [row["pair_id"] for row in paused][:2] == ["x149", "x148"]

    text = Renderer().render("liaison_summary", context).text
    assert "Never started (40)" in text and "Inactive for 45 days or more (40)" in text and "Paused (30)" in text
    words = " ".join(text.split())
    csv_note = "every pair is in the attached pairs-2027-01-11.csv."
    assert f"And 15 more. Above are the 25 that started longest ago; {csv_note}" in words
    assert f"And 15 more. Above are the 25 silent longest; {csv_note}" in words  # inactive
    assert f"And 5 more. Above are the 25 silent longest; {csv_note}" in words  # paused
    assert all(len(line) <= 78 for line in text.splitlines()), max(text.splitlines(), key=len)


def test_a_large_programs_chart_shows_only_pairs_it_lists_with_contacts_to_show() -> None:
    mail = summary_of(large_program())
    context = mail.context
    charted = [row["pair_id"] for row in section_of(mail)["chart"]["rows"]]
    assert len(charted) == CHART_LIMIT
    listed = {row["pair_id"] for name in ("inactive_45", "paused") for row in section_of(mail)[name]}
    assert set(charted) <= listed  # the never-started ones have nothing to chart
    assert charted == [row["pair_id"] for row in section_of(mail)["inactive_45"]]  # silence first, in the order listed
    rendered = Renderer().render("liaison_summary", context)
    assert "Of the 150 pairs, 25 of those listed above are shown" in rendered.text
    assert rendered.html is not None
    html_text = " ".join("".join(parse_html(rendered.html).text).split())
    assert "Of the 150 pairs, 25 of those listed above are shown" in html_text
    assert (
        "And 15 more. Above are the 25 silent longest; every pair is in the attached pairs-2027-01-11.csv." in html_text
    )
    assert "Never started (40)" in html_text


def test_the_csv_has_every_pair_with_its_figures_and_the_lists_it_is_in() -> None:
    state = large_program()
    mail = summary_of(state)
    (attachment,) = mail.attachments
    assert (attachment.filename, attachment.content_type) == ("pairs-2027-01-11.csv", "text/csv")
    rows = csv_rows(mail)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row["pair_id"] for row in rows] == [p.pair_id for p in state.pairs]  # roster order, all 150
    categories = Counter(word for row in rows for word in row["category"].split())
    counts = section_of(mail)["counts"]
    assert categories["never_started"] == counts["never_started"]
    assert categories["inactive_45"] == counts["inactive_45"] and categories["paused"] == counts["paused"]
    assert categories["active"] == counts["active"]
    by_id = {row["pair_id"]: row for row in rows}
    assert by_id["x079"] == {
        "round": "1", "pair_id": "x079", "mentor": "Mentor 79", "mentee": "Mentee 79", "status": "active",
        "category": "inactive_45", "days_since_contact": "85", "mentor_to_mentee": "1", "mentee_to_mentor": "1",
        "latest_rating": "",
    }  # fmt: skip
    assert by_id["x000"]["days_since_contact"] == "" and by_id["x000"]["mentor_to_mentee"] == "0"
    assert by_id["x080"]["category"] == "active" and by_id["x080"]["mentor_to_mentee"] == "4"


def test_a_small_program_reads_as_before_and_has_its_csv_too() -> None:
    """Four pairs: nothing is cut, so nothing in the mail mentions the CSV; it is attached all the same."""
    talking = replace(PAIRS[0], contacts=(Contact(DUE - timedelta(days=3), TO_MENTEE),))
    state = PlannerState(pairs=(talking, *PAIRS[1:]), sent_keys=frozenset(), staff=(COORDINATOR, LIAISON))
    mail = summary_of(state)
    rendered = Renderer().render("liaison_summary", mail.context)
    assert "attached" not in rendered.text and "more. Above" not in rendered.text
    assert [row["pair_id"] for row in section_of(mail)["chart"]["rows"]] == ["p1", "p2", "p3", "p4"]
    rows = csv_rows(mail)
    assert [(r["pair_id"], r["category"], r["mentor_to_mentee"], r["days_since_contact"]) for r in rows] == [
        ("p1", "one_sided", "1", "3"),
        ("p2", "never_started", "0", ""),
        ("p3", "never_started", "0", ""),
        ("p4", "never_started", "0", ""),
    ]


def test_the_csv_keeps_a_name_from_becoming_a_formula_and_gives_the_latest_rating() -> None:
    schemer = replace(PAIRS[0], mentor=Person(1, "=HYPERLINK(1)", "ana@example.org"))
    checkins = (
        CheckinRow("p1", 3, 2, None, at_local(date(2026, 11, 16))),
        CheckinRow("p1", 4, 4, None, at_local(date(2026, 12, 15))),
        CheckinRow("p1", 5, 1, None, at_local(date(2027, 1, 12))),  # after the summary
    )
    state = PlannerState(pairs=(schemer, *PAIRS[1:]), sent_keys=frozenset(), checkins=checkins)
    (row, *_) = csv_rows(summary_of(state))
    assert row["mentor"] == "'=HYPERLINK(1)" and row["latest_rating"] == "4"


# --- the tick's cheap question, and figures handed in ------------------------------------------------


def test_whether_a_summary_is_due_is_answered_without_contacts() -> None:
    state = large_program()
    without_contacts = replace(state, pairs=tuple(replace(p, contacts=()) for p in state.pairs))
    mail = summary_of(state)
    assert liaison_summary_due(CALENDAR, without_contacts, MONDAY) == (mail.key, mail.due_at)
    assert mail.due_at == DUE
    sent = replace(without_contacts, sent_keys=frozenset({mail.key}))
    assert liaison_summary_due(CALENDAR, sent, MONDAY) is None
    assert liaison_summary_due(replace(CALENDAR, liaison=None), without_contacts, MONDAY) is None


def test_figures_handed_in_make_the_same_summary_and_figures_of_another_moment_are_refused() -> None:
    state = large_program()
    _, due = liaison_summary_due(CALENDAR, state, MONDAY) or ("", MONDAY)
    without_contacts = replace(state, pairs=tuple(replace(p, contacts=()) for p in state.pairs))
    given = replace(without_contacts, liaison_activity=activity_from_contacts(CALENDAR, state, due))
    assert list(plan_liaison_summary(CALENDAR, given, MONDAY)) == [summary_of(state)]
    stale = replace(without_contacts, liaison_activity=activity_from_contacts(CALENDAR, state, due - timedelta(days=7)))
    with pytest.raises(ValueError, match="liaison activity as of"):
        list(plan_liaison_summary(CALENDAR, stale, MONDAY))


# --- SQL and the pure planner agree, on a real SQLite store -------------------------------------------

ZONES = ("America/Chicago", "Pacific/Auckland", "Asia/Kolkata", "America/St_Johns", "Europe/London", "UTC")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# Moments on either side of a local Monday midnight, several across a daylight-saving change.
WEEK_EDGES = (
    utc(2026, 11, 2, 5, 59, 59), utc(2026, 11, 2, 6),  # Chicago, the Monday after DST ends
    utc(2026, 10, 26, 4, 59, 59), utc(2026, 10, 26, 5),  # Chicago, the Monday before
    utc(2026, 9, 27, 10, 59, 59), utc(2026, 9, 27, 11),  # Auckland, the Monday after DST starts
    utc(2026, 10, 4, 18, 29, 59), utc(2026, 10, 4, 18, 30),  # Kolkata (+05:30)
    utc(2026, 10, 26, 2, 29, 59), utc(2026, 10, 26, 2, 30),  # St John's (-02:30 in DST)
    utc(2026, 11, 2, 3, 29, 59), utc(2026, 11, 2, 3, 30),  # St John's (-03:30 after)
    utc(2026, 10, 18, 22, 59, 59), utc(2026, 10, 18, 23),  # London, BST
    utc(2026, 10, 26, 0, 0, 0), utc(2026, 10, 25, 23, 59, 59),  # London, after BST; UTC
)  # fmt: skip


def roster(count: int) -> list[RosterRow]:
    return [
        RosterRow(
            line=n + 2,
            mentor_email=f"mentor{n}@example.org",
            mentor_name=f"Mentor {n}",
            mentee_email=f"mentee{n}@example.net",
            mentee_name=f"Mentee {n}",
            pair_id=f"s{n:02d}",
            # Twenty start with the round, twenty in mid-November: early summaries chart every
            # pair, later ones only those they list.
            starts_on=START if n < 20 else date(2026, 11, 16),
            mentor_aliases=(),
            mentee_aliases=(),
        )
        for n in range(count)
    ]


def contact(pair_id: str, moment: datetime, direction: str, n: int) -> ContactEvent:
    return ContactEvent(
        pair_id=pair_id, direction=direction, occurred_at=moment, source="smtp", message_hash=f"{pair_id}-{n}"
    )


@pytest.fixture
def varied_store(tmp_path: Path):  # type: ignore[no-untyped-def]
    """40 pairs: week-edge contacts (s00-s03), one-sided ones (s04-s07), none at all (s08-s11),
    paused (s12, s13) and ended (s14, s15) pairs with contacts, steady pairs, check-ins and bounces."""
    program = Program(tmp_path, free_port())
    settings = load_settings(program.config)
    store = open_store(settings)
    with store.session() as session:
        queries.apply_roster(session, roster(40), START, "roster.csv", queries.FIRST_ROUND)
    with store.session() as session:
        n = 0
        for index, pair_id in enumerate(("s00", "s01", "s02", "s03")):
            for moment in WEEK_EDGES:
                session.add(contact(pair_id, moment + timedelta(seconds=index % 2), (TO_MENTEE, TO_MENTOR)[n % 2], n))
                n += 1
        for index, pair_id in enumerate(("s04", "s05", "s06", "s07", "s24", "s25")):
            for k in range(6):  # one way only, every ten days from October (or December)
                start = utc(2026, 10, 1, 15) if index < 4 else utc(2026, 12, 1, 15)
                session.add(contact(pair_id, start + timedelta(days=10 * k), (TO_MENTEE, TO_MENTOR)[index % 2], n))
                n += 1
        for pair_id in ("s12", "s13", "s14", "s15", *(f"s{k:02d}" for k in range(16, 40) if k not in (24, 25))):
            for k in range(0, 150, 9):  # both ways every nine days, from 3 September or 20 November
                start = utc(2026, 9, 3, 20) if pair_id < "s20" else utc(2026, 11, 20, 20)
                if pair_id in ("s30", "s31", "s32") and k > 20:
                    break  # these go quiet
                session.add(contact(pair_id, start + timedelta(days=k, hours=k), (TO_MENTEE, TO_MENTOR)[k % 2], n))
                n += 1
        for pair_id, status in (("s12", "paused"), ("s13", "paused"), ("s14", "ended"), ("s15", "ended")):
            row = session.get(Pair, pair_id)
            assert row is not None
            row.status = status
            session.add(row)
        for pair_id, month, rating, wants, received in (
            ("s16", 2, 1, False, utc(2026, 10, 16, 14)),
            ("s17", 3, 2, True, utc(2026, 11, 16, 14)),
            ("s17", 4, 5, None, utc(2026, 12, 16, 14)),
            ("s30", 4, None, True, utc(2027, 1, 2, 14)),
        ):
            session.add(
                CheckinReply(pair_id=pair_id, month=month, rating=rating, wants_contact=wants, received_at=received)
            )
        mentor_of_s18 = queries.planner_state(session).pairs[18].mentor
        session.add(
            IntakeRecord(
                outcome="bounce", address=mentor_of_s18.email, person_id=mentor_of_s18.person_id,
                occurred_at=utc(2026, 12, 3), source="smtp", message_hash="bounce-1",
            )
        )  # fmt: skip
    try:
        yield settings, store
    finally:
        store.close()


def summary_moments() -> list[datetime]:
    """Mondays (10:00 UTC, after any zone's 09:00 summary) before and after the second start,
    across the DST changes, at the end of the round and a week after."""
    return [utc(2026, 9, 28, 22), utc(2026, 11, 2, 22), utc(2026, 11, 9, 22), utc(2027, 1, 11, 22), utc(2027, 6, 7, 22)]


def test_the_figures_read_in_sql_are_those_derived_from_the_contacts(varied_store) -> None:  # type: ignore[no-untyped-def]
    settings, store = varied_store
    with store.session() as session:
        state = queries.planner_state(session)
        without_contacts = replace(state, pairs=tuple(replace(p, contacts=()) for p in state.pairs))
        compared = 0
        for zone in ZONES:
            calendar = replace(Calendar.from_settings(settings), zone=ZoneInfo(zone))
            for now in summary_moments():
                found = liaison_summary_due(calendar, without_contacts, now)
                assert found is not None
                _, at = found
                options = liaison_activity_options(calendar, without_contacts, at)
                from_sql = liaison_activity(session, at, **options)
                assert from_sql == activity_from_contacts(calendar, state, at), (zone, at)
                assert from_sql.chart  # every moment charts some pairs
                given = replace(without_contacts, liaison_activity=from_sql)
                assert list(plan_liaison_summary(calendar, given, now)) == list(
                    plan_liaison_summary(calendar, state, now)
                )
                compared += 1
    assert compared == len(ZONES) * len(summary_moments())


def test_weeks_are_local_weeks_across_daylight_saving_time(varied_store) -> None:  # type: ignore[no-untyped-def]
    """Worked out by hand for Chicago: the week of Monday 26 October (CDT, -05:00) ends at 06:00
    UTC on 2 November (CST, -06:00), an hour later than a week of 168 hours from its start would."""
    settings, store = varied_store
    calendar = replace(Calendar.from_settings(settings), zone=CHICAGO)
    at = calendar.at(date(2026, 11, 9), time(9))
    with store.session() as session:
        state = queries.planner_state(session)
        activity = liaison_activity(session, at, **liaison_activity_options(calendar, state, at))
    assert activity.weeks_from == date(2026, 8, 31)
    cells = activity.chart["s00"]
    assert len(cells) == 11  # 31 Aug ... 9 Nov
    week_of_oct_26, week_of_nov_2 = (date(2026, 10, 26) - date(2026, 8, 31)).days // 7, 9
    # In the week of 26 October: 05:00 UTC on the 26th (Monday 00:00 CDT), and on 2 November
    # 03:29:59, 03:30 and 05:59:59 UTC (Sunday evening CST). In the week of 2 November: only
    # 06:00 UTC (Monday 00:00 CST). Weeks of 168 hours would give 3 and 2.
    assert (cells[week_of_oct_26], cells[week_of_nov_2]) == (4, 1)
    assert sum(cells) == len(WEEK_EDGES)


# --- who the summary is about, and its chart (issue 10) ----------------------------------------------

# A pair carried over from an earlier round: its nine months ran out on 1 December 2026.
CARRIED_OVER = date(2026, 3, 1)


def ended_program() -> PlannerState:
    """x001 talking; x002 ended by a coordinator, its mentee bouncing; x003 carried over and past
    its end, silent; Mentor 4 has two mentees, x005 ended, and bounces; x006 never started."""
    recent = (Contact(DUE - timedelta(days=3), TO_MENTEE), Contact(DUE - timedelta(days=2), TO_MENTOR))
    mentor4 = Person(1008, "Mentor 4", "mentor4@example.org")
    pairs = (
        pair(1, recent),
        pair(2, recent, status="ended"),
        pair(3, started_on=CARRIED_OVER),
        replace(pair(4, recent), mentor=mentor4),
        replace(pair(5, recent, status="ended"), mentor=mentor4),
        pair(6),
    )
    bounces = (
        Bounce(pairs[1].mentee, DUE - timedelta(days=20), ("x002",)),
        Bounce(mentor4, DUE - timedelta(days=10), ("x004", "x005")),
    )
    return PlannerState(pairs=pairs, sent_keys=frozenset(), staff=(COORDINATOR, LIAISON), bounces=bounces)


def test_ended_pairs_and_pairs_past_their_end_leave_the_summary_and_its_bouncing_list() -> None:
    mail = summary_of(ended_program())
    context = mail.context
    counts = section_of(mail)["counts"]
    assert (counts["pairs"], counts["active"], counts["never_started"], counts["inactive_45"]) == (3, 2, 1, 0)
    assert [row["pair_id"] for row in csv_rows(mail)] == ["x001", "x004", "x006"]
    # The ended pair's mentee is no concern of the liaison's; Mentor 4 is, for the pair still running.
    assert section_of(mail)["bouncing"] == [{"name": "Mentor 4", "email": "mentor4@example.org", "pair_id": "x004"}]
    assert counts["bouncing"] == 1
    text = Renderer().render("liaison_summary", context).text
    assert "x002" not in text and "x003" not in text and "x005" not in text
    assert "2 of 3 pairs active" in Renderer().render("liaison_summary", context).subject


def test_no_summary_is_due_once_the_ended_round_has_left_it() -> None:
    """An ended round keeps its section until its survey results have gone out (with no survey,
    for a week after its end); after that a summary would be about nobody."""
    state = ended_program()
    end = CALENDAR.at(CALENDAR.ends_on, time(0))
    for calendar, kept in (
        (CALENDAR, max(survey_results_moments(CALENDAR, state, end))),
        (replace(CALENDAR, surveys=()), end + timedelta(days=7)),
    ):
        later = kept + timedelta(days=10)
        found = liaison_summary_due(calendar, state, later)
        assert found is not None and end <= found[1] < kept  # the last one before it left, sent late
        assert liaison_summary_due(calendar, replace(state, sent_keys=frozenset({found[0]})), later) is None
        (mail,) = plan_liaison_summary(calendar, state, found[1])
        assert "Round" not in Renderer().render("liaison_summary", mail.context).text  # one round: no heading


def late_starter() -> PlannerState:
    """x001 from the round's start; x002 five weeks later (its first week: 5 October)."""
    weekly = tuple(Contact(DUE - timedelta(days=7 * k + 1), TO_MENTEE) for k in range(12))
    return PlannerState(
        pairs=(pair(1, weekly), pair(2, weekly[:4], started_on=START + timedelta(weeks=5))),
        sent_keys=frozenset(),
        staff=(COORDINATOR, LIAISON),
    )


def test_the_chart_is_blank_before_a_pair_started_in_text_and_html() -> None:
    mail = summary_of(late_starter())
    chart = section_of(mail)["chart"]
    rows = {row["pair_id"]: row["cells"] for row in chart["rows"]}
    assert chart["weeks"][0] == date(2026, 8, 31) and len(chart["weeks"]) == 20
    assert rows["x002"][:5] == [None] * 5 and rows["x002"][5] == 0  # its start week had no contact
    assert None not in rows["x001"]
    rendered = Renderer().render("liaison_summary", mail.context)
    chart_lines = rendered.text.split("Activity by week", 1)[1].splitlines()
    line = next(line for line in chart_lines if line.startswith("  x002  "))
    assert line[8:13] == "     " and line[13] == "."
    assert rendered.html is not None
    cells = re.findall(r'<td title="([^"]*)"[^>]*>([^<]*)</td>', rendered.html)
    x002 = cells[len(chart["weeks"]) :]
    assert [text for _, text in x002[:5]] == [""] * 5 and x002[5][1] == "."
    assert all("before the pair started" in title for title, _ in x002[:5])


def test_the_html_chart_labels_months_not_every_weeks_number() -> None:
    """43 weeks of numbers ran together ("1011121314..."): the header names the months."""
    weekly = tuple(Contact(at_local(START + timedelta(days=7 * k + 2)), TO_MENTEE) for k in range(43))
    state = PlannerState(pairs=(pair(1, weekly),), sent_keys=frozenset(), staff=(COORDINATOR, LIAISON))
    monday = at_local(date(2027, 6, 21), 10)
    calendar = replace(CALENDAR, months=10, ends_on=date(2027, 7, 1))
    mail = summary_of(state, monday, calendar)
    assert len(section_of(mail)["chart"]["weeks"]) == 43
    html = Renderer().render("liaison_summary", mail.context).html
    assert html is not None
    headers = re.findall(r"<th [^>]*>([^<]*)</th>", html.split("Activity by week", 1)[1])
    assert not [h for h in headers if h.strip().isdigit()], "no header is a week's number"
    months = [h for h in headers if h and h != "Pair"]
    assert months[:3] == ["Sep 2026", "Oct", "Nov"] and "Jan 2027" in months and months[-1] == "Jun"


def chart_key(text: str) -> list[tuple[str, str]]:
    """The key's entries, (symbol, meaning), from the text part's key line(s)."""
    words = " ".join(text.split())
    found = re.search(r"Key: (.*?)\.(?: |$)", words)
    assert found, "the text chart has a key"
    return [tuple(part.strip().split(" ", 1)) for part in found.group(1).split(", ")]  # type: ignore[misc]


def test_the_text_and_html_keys_say_the_same() -> None:
    rendered = Renderer().render("liaison_summary", summary_of(late_starter()).context)
    text_key = chart_key(rendered.text)
    assert rendered.html is not None
    html_text = " ".join(re.sub(r"<[^>]*>", " ", rendered.html.split("Key:", 1)[1]).split())
    html_key = [(symbol, meaning) for symbol, meaning in text_key if meaning in html_text]
    assert html_key == text_key and len(text_key) >= 4
    symbols = dict((meaning, symbol) for symbol, meaning in text_key)
    assert symbols["no contact"] == '"."' and symbols["before the pair started"] == "blank"
    # The HTML cells show the same symbols the key and the text chart do.
    cells = [cell for _, cell in re.findall(r'<td title="([^"]*)"[^>]*>([^<]*)</td>', rendered.html or "")]
    assert set(cells) <= {"", ".", "+", *"123456789"}


# --- what mentors wrote in their check-ins (issue 10) ---------------------------------------------


def note(
    pair_id: str, days_ago: float, comment: str, rating: int | None = None, wants: bool | None = None
) -> CheckinNote:
    return CheckinNote(pair_id, 5, rating, wants, comment, DUE - timedelta(days=days_ago))


def with_comments(state: PlannerState, *notes: CheckinNote) -> PlannerState:
    _, due = liaison_summary_due(CALENDAR, state, MONDAY) or ("", MONDAY)
    activity = replace(activity_from_contacts(CALENDAR, state, due), comments=notes)
    return replace(state, liaison_activity=activity)


def test_the_weeks_check_in_comments_are_shown_to_the_liaison() -> None:
    state = with_comments(
        ended_program(),
        note("x001", 5, "We met twice; she is applying for jobs.\nCould you suggest a résumé workshop?", 4, True),
        note("x002", 4, "Our pair has ended, thanks."),  # an ended pair: not the liaison's concern
        note("x006", 2, "Pretty well, <thanks>! No need for the liaison."),
    )
    mail = summary_of(state)
    context = mail.context
    assert section_of(mail)["counts"]["comments"] == 2
    assert [(row["pair_id"], row["lines"], row["wants_contact"]) for row in section_of(mail)["comments"]] == [
        ("x001", ["We met twice; she is applying for jobs.", "Could you suggest a résumé workshop?"], True),
        ("x006", ["Pretty well, <thanks>! No need for the liaison."], False),
    ]
    rendered = Renderer().render("liaison_summary", context)
    text = rendered.text
    assert "What mentors wrote in their check-ins (2)" in text
    assert "| We met twice; she is applying for jobs." in text and "| Could you suggest a résumé workshop?" in text
    assert "rated 4 of 5; asks to hear from you:" in " ".join(text.split())
    assert "Our pair has ended" not in text
    assert rendered.html is not None
    assert "We met twice; she is applying for jobs.<br>Could you suggest a résumé workshop?" in rendered.html
    assert "Pretty well, &lt;thanks&gt;! No need for the liaison." in rendered.html
    assert "Our pair has ended" not in rendered.html


def test_of_many_comments_the_mail_shows_those_asking_for_the_liaison_then_the_lowest_ratings() -> None:
    state = large_program()
    notes = [
        note(f"x{n:03d}", 6 - (n - 80) / 10, f"Comment {n}", rating=1 + n % 5, wants=n % 8 == 0) for n in range(80, 120)
    ]
    mail = summary_of(with_comments(state, *notes))
    shown = [row["pair_id"] for row in section_of(mail)["comments"]]
    assert section_of(mail)["counts"]["comments"] == 40 and len(shown) == COMMENT_LIMIT
    asking = [f"x{n:03d}" for n in range(80, 120) if n % 8 == 0]
    assert shown[: len(asking)] == sorted(asking, key=lambda p: (1 + int(p[1:]) % 5, -int(p[1:])))
    assert [row["rating"] for row in section_of(mail)["comments"][len(asking) :]] == sorted(
        row["rating"] for row in section_of(mail)["comments"][len(asking) :]
    )
    text = Renderer().render("liaison_summary", mail.context).text
    assert "And 30 more this week, not shown." in " ".join(text.split())


def test_a_long_comment_is_shortened_at_a_word() -> None:
    """A check-in keeps up to 1,000 characters (two replies); the mail shows 500 of each."""
    long = "We talked about interviews. " * 30  # 840 characters
    mail = summary_of(with_comments(ended_program(), note("x001", 1, long.strip())))
    (line,) = section_of(mail)["comments"][0]["lines"]
    kept = line.removesuffix("…")
    assert len(line) <= COMMENT_CHARACTERS and line.endswith("…") and long.startswith(kept)
    assert long[len(kept)] == " ", "cut between words"


def test_the_comments_are_read_from_the_store_for_the_week_up_to_the_summary(varied_store) -> None:  # type: ignore[no-untyped-def]
    settings, store = varied_store
    calendar = replace(Calendar.from_settings(settings), zone=CHICAGO)
    at = calendar.at(date(2027, 1, 11), time(9))
    with store.session() as session:
        for pair_id, month, comment, received in (
            ("s20", 2, "Two weeks ago: shown last week.", at - timedelta(days=8)),
            ("s21", 2, "She has an interview on Friday!", at - timedelta(days=3)),
            ("s22", 2, "After the summary: next week's.", at + timedelta(hours=1)),
            ("s14", 2, "An ended pair.", at - timedelta(days=1)),
        ):
            session.add(CheckinReply(pair_id=pair_id, month=month, comment=comment, received_at=received))
    with store.session() as session:
        state = queries.planner_state(session)
        activity = liaison_activity(session, at, **liaison_activity_options(calendar, state, at))
    assert [(c.pair_id, c.comment) for c in activity.comments] == [  # oldest first
        ("s21", "She has an interview on Friday!"),
        ("s14", "An ended pair."),
    ]
    (mail,) = plan_liaison_summary(calendar, replace(state, liaison_activity=activity), at + timedelta(minutes=5))
    assert [(row["pair_id"], row["lines"]) for row in section_of(mail)["comments"]] == [
        ("s21", ["She has an interview on Friday!"])
    ]


# --- a section a round -----------------------------------------------------------------------------

ROUND_2027 = replace(CALENDAR, round_id="2027", starts_on=date(2026, 11, 2), ends_on=date(2027, 8, 2), rounds={})
TWO_ROUNDS = replace(CALENDAR, rounds={"1": CALENDAR, "2027": ROUND_2027})


def in_round_2027(state: PlannerState, keep: int | None = None) -> tuple[PairState, ...]:
    """`state`'s pairs (the first `keep`) as round 2027's, with people of their own."""
    return tuple(
        replace(
            p,
            pair_id=f"2027/{p.pair_id}",
            round_id="2027",
            started_on=max(p.started_on, ROUND_2027.starts_on),
            mentor=replace(p.mentor, person_id=p.mentor.person_id + 5000, email="2027." + p.mentor.email),
            mentee=replace(p.mentee, person_id=p.mentee.person_id + 5000, email="2027." + p.mentee.email),
            contacts=tuple(c for c in p.contacts if c.occurred_at.date() >= ROUND_2027.starts_on),
        )
        for p in state.pairs[:keep]
    )


def test_two_large_rounds_share_each_lists_rows_and_the_chart_so_the_mail_stays_one_rounds_size() -> None:
    one = large_program()
    two = replace(one, pairs=(*one.pairs, *in_round_2027(one)))
    mail = summary_of(two, calendar=TWO_ROUNDS)
    first, second = mail.context["rounds"]  # type: ignore[misc]
    assert (first["round"]["id"], second["round"]["id"]) == ("1", "2027")
    assert first["counts"]["pairs"] == second["counts"]["pairs"] == 150
    for name in ("never_started", "inactive_45", "paused"):
        assert len(first[name]) + len(second[name]) == LIST_LIMIT  # shared: 13 and 12
        assert {row["pair_id"] for row in second[name]} <= {p.pair_id for p in two.pairs[150:]}
    assert len(first["chart"]["rows"]) + len(second["chart"]["rows"]) <= CHART_LIMIT
    assert [row["round"] for row in csv_rows(mail)] == ["1"] * 150 + ["2027"] * 150
    # The readable part of two full rounds is about one full round's (the CSV has every pair).
    alone = Renderer().render("liaison_summary", summary_of(one).context)
    both = Renderer().render("liaison_summary", mail.context)
    assert len(both.text) + len(both.html) < 1.2 * (len(alone.text) + len(alone.html))


def test_a_round_with_few_pairs_to_list_leaves_the_rest_of_the_rows_to_the_other() -> None:
    one = large_program()
    few = in_round_2027(one, keep=3)  # three of round 2027's pairs never started
    mail = summary_of(replace(one, pairs=(*one.pairs, *few)), calendar=TWO_ROUNDS)
    first, second = mail.context["rounds"]  # type: ignore[misc]
    assert (len(first["never_started"]), len(second["never_started"])) == (LIST_LIMIT - 3, 3)
    assert second["counts"]["never_started"] == 3 and first["counts"]["never_started"] == 40
