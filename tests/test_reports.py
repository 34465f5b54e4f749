"""`mentormail export contacts` and `status --json` against a plain count of the same events.

The events sit on the edges a month bucket can get wrong: local midnight on the first of a month
(the program runs on America/Chicago time), both sides of the autumn and spring clock changes, a
fraction of a second before a boundary, a month without contact between two with, a contact
before the pair's start, pairs without any contact. The expected rows are computed here, one
event at a time, with `zoneinfo`: the export must say the same, in the same order and format.

Every pair has a row for every month of the round so far (issue 10): a month without contact is a
row of zeros, also after the pair's last contact, since those are the quiet pairs a coordinator
looks for. "So far" is today in the program's zone (the CLI's clock), at most the round's last month.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Program, free_port
from mentormail.daemon.operation.export import write_contacts_csv, write_json
from mentormail.daemon.service import open_store
from mentormail.daemon.settings import load_settings
from mentormail.store import queries
from mentormail.store.models import Person
from sqlmodel import select

ZONE = ZoneInfo("America/Chicago")
MORE_PAIRS = """\
mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on
fay@example.org,Fay Fischer,gus@example.net,Gus Grant,p4,2026-10-15
hal@example.org,Hal Hart,ivy@example.net,Ivy Irwin,p5,2027-01-10
"""
STARTS = {"p1": date(2026, 9, 1), "p2": date(2026, 9, 1), "p3": date(2026, 9, 1), "p4": date(2026, 10, 15)}
STARTS["p5"] = date(2027, 1, 10)
PEOPLE = {
    "p1": ("ana@example.org", "ben@example.net"),
    "p2": ("ana@example.org", "cleo@example.net"),
    "p3": ("dev@example.org", "eve@example.com"),
    "p4": ("fay@example.org", "gus@example.net"),
    "p5": ("hal@example.org", "ivy@example.net"),
}
M2M, E2M = "mentor_to_mentee", "mentee_to_mentor"
SURVEY = """
[[surveys]]
id = "feedback"
title = "End-of-round feedback"
audience = "both"
[[surveys.questions]]
id = "useful"
text = "The program was useful to me."
kind = "scale"
"""
# Feedback from both sides of p1 and from p3's mentor.
SURVEY_ANSWERS = [("ana@example.org", "p1", 5), ("ben@example.net", "p1", 3), ("dev@example.org", "p3", 4)]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)  # type: ignore[misc]


EVENTS = [
    ("p1", M2M, "email", utc(2026, 9, 3, 15)),
    ("p1", E2M, "email", utc(2026, 10, 1, 4, 30)),  # 23:30 on 30 September, Chicago
    ("p1", M2M, "phone", utc(2026, 10, 1, 5)),  # midnight, 1 October
    ("p1", E2M, "email", utc(2026, 11, 1, 4, 59)),  # 23:59 on 31 October (CDT)
    ("p1", M2M, "meeting", utc(2026, 11, 1, 5)),  # midnight, 1 November, before the clocks go back
    ("p1", E2M, "email", utc(2026, 11, 1, 7, 30)),  # 01:30 CST, after
    ("p1", M2M, "email", utc(2026, 12, 1, 5, 59)),  # 23:59 on 30 November (CST)
    ("p1", E2M, "email", utc(2026, 12, 1, 6)),  # midnight, 1 December
    ("p1", M2M, "email", utc(2027, 2, 14, 18)),  # nothing in January
    ("p1", E2M, "phone", datetime(2027, 4, 1, 4, 59, 59, 500000, tzinfo=timezone.utc)),  # half a second before April
    ("p1", M2M, "email", utc(2027, 4, 1, 5)),  # midnight, 1 April (CDT since 14 March)
    ("p3", M2M, "email", utc(2026, 8, 31, 12)),  # before the pair's start
    ("p3", E2M, "email", utc(2026, 9, 15, 9)),
    ("p3", E2M, "meeting", utc(2026, 9, 16, 9)),
    ("p4", E2M, "email", utc(2027, 1, 1, 5, 59)),  # 23:59 on 31 December, two months after the start
]


@pytest.fixture(scope="module")
def reporting(tmp_path_factory: pytest.TempPathFactory) -> Program:
    root = tmp_path_factory.mktemp("reports")
    program = Program(root, free_port(), extra_config=SURVEY)
    program.cli("import-roster", str(root / "roster.csv"))
    (root / "more.csv").write_text(MORE_PAIRS, encoding="utf-8")
    program.cli("import-roster", str(root / "more.csv"))
    store = open_store(load_settings(program.config))
    try:
        with store.session() as session:
            for n, (pair_id, direction, channel, when) in enumerate(EVENTS):
                queries.record_reported_contact(session, pair_id, direction, channel, when, f"event-{n}")
            for email, pair_id, useful in SURVEY_ANSWERS:
                person = session.exec(select(Person).where(Person.email == email)).one()
                assert person.id is not None
                queries.save_survey_answers(session, "feedback", person.id, pair_id, {"useful": useful}, utc(2027, 6, 3))
    finally:
        store.close()
    return program


# The round: 1 September 2026 (the test config) and nine months, so its last month is May 2027.
ROUND_LAST_DAY = date(2027, 5, 31)


def round_so_far() -> str:
    """The last month every pair has a row for: this month in the program's zone, within the round."""
    return min(datetime.now(ZONE).date(), ROUND_LAST_DAY).strftime("%Y-%m")


def expected_contacts() -> list[dict[str, object]]:
    """Every month from a pair's start (or earlier contact) to its last contact or to the round so
    far, whichever is later; pairs by start."""
    by_month: dict[tuple[str, str], Counter[str]] = {}
    for pair_id, direction, channel, when in EVENTS:
        counts = by_month.setdefault((pair_id, when.astimezone(ZONE).strftime("%Y-%m")), Counter())
        counts[direction] += 1
        counts[channel] += 1
    rows = []
    for pair_id in sorted(STARTS, key=lambda p: (STARTS[p], p)):
        months = {month for pid, month in by_month if pid == pair_id} | {STARTS[pair_id].strftime("%Y-%m")}
        months.add(max(min(months), round_so_far()))  # not before the pair's first month
        year, month = map(int, min(months).split("-"))
        while f"{year:04d}-{month:02d}" <= max(months):
            label = f"{year:04d}-{month:02d}"
            counts = by_month.get((pair_id, label), Counter())
            mentor, mentee = PEOPLE[pair_id]
            rows.append(
                {"pair_id": pair_id, "mentor": mentor, "mentee": mentee, "month": label}
                | {key: counts[key] for key in (M2M, E2M, "email", "phone", "meeting")}
            )
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return rows


def test_the_expected_rows_cover_the_edges() -> None:
    """The oracle itself: the boundaries fall where the calendar says (else the test proves little)."""
    p1 = {row["month"]: row for row in expected_contacts() if row["pair_id"] == "p1"}
    assert list(p1) == [f"2026-{m:02d}" for m in range(9, 13)] + [f"2027-{m:02d}" for m in range(1, 5)]
    assert (p1["2026-09"]["mentee_to_mentor"], p1["2026-10"]["phone"], p1["2026-11"]["meeting"]) == (1, 1, 1)
    assert p1["2026-11"]["email"] == 2 and p1["2027-01"]["email"] == 0 and p1["2027-03"]["phone"] == 1


def test_export_contacts_csv_is_a_count_of_the_events_per_local_month(reporting: Program) -> None:
    text = reporting.cli("export", "contacts").stdout
    expected = expected_contacts()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [{key: str(value) for key, value in row.items()} for row in expected]
    assert len(text.splitlines()) == len(expected) + 1


def test_a_quiet_pair_has_a_row_of_zeros_for_every_month_of_the_round_so_far(reporting: Program) -> None:
    """p2 never wrote and p3 stopped in September: both are in every month up to this one."""
    rows = list(csv.DictReader(io.StringIO(reporting.cli("export", "contacts").stdout)))
    months = [f"2026-{m:02d}" for m in range(9, 13)] + [f"2027-{m:02d}" for m in range(1, 6)]
    so_far = [month for month in months if month <= round_so_far()]
    counts = ("mentor_to_mentee", "mentee_to_mentor", "email", "phone", "meeting")
    p2 = [row for row in rows if row["pair_id"] == "p2"]
    assert [row["month"] for row in p2] == so_far
    assert all(row[key] == "0" for row in p2 for key in counts)
    p3 = [row["month"] for row in rows if row["pair_id"] == "p3"]
    assert p3 == ["2026-08", *so_far]  # a contact before its start, then every month of the round so far
    assert all(row[key] == "0" for row in rows if row["pair_id"] == "p3" and row["month"] > "2026-09" for key in counts)


def test_export_contacts_json_is_the_same_rows_in_the_documented_layout(reporting: Program) -> None:
    text = reporting.cli("export", "contacts", "--format", "json").stdout
    assert text == json.dumps({"contacts": expected_contacts()}, ensure_ascii=False, indent=2) + "\n"


def test_status_counts_every_event_by_direction_and_reported_contacts_apart(reporting: Program) -> None:
    status = reporting.status()
    assert list(status) == sorted(STARTS, key=lambda p: (STARTS[p], p))
    for pair_id in STARTS:
        events = [event for event in EVENTS if event[0] == pair_id]
        contacts = status[pair_id]["contacts"]
        assert contacts == {
            "mentor_to_mentee": sum(1 for _, d, c, _ in events if d == M2M and c == "email"),
            "mentee_to_mentor": sum(1 for _, d, c, _ in events if d == E2M and c == "email"),
            "self_reported": sum(1 for _, _, c, _ in events if c != "email"),
        }, pair_id
        last = max((when for *_, when in events), default=None)
        assert status[pair_id]["last_contact"] == (last.isoformat() if last else None), pair_id


def test_export_surveys_says_whether_each_answer_came_from_a_mentor_or_a_mentee(reporting: Program) -> None:
    rows = list(csv.DictReader(io.StringIO(reporting.cli("export", "surveys").stdout)))
    assert [(row["email"], row["pair_id"], row["role"], row["feedback.useful"]) for row in rows] == [
        ("ana@example.org", "p1", "mentor", "5"),
        ("ben@example.net", "p1", "mentee", "3"),
        ("dev@example.org", "p3", "mentor", "4"),
    ]
    assert list(rows[0])[:6] == ["survey", "email", "name", "pair_id", "role", "answered_at"]
    answers = json.loads(reporting.cli("export", "surveys", "--format", "json").stdout)["surveys"]
    assert [answer["role"] for answer in answers] == ["mentor", "mentee", "mentor"]


def test_an_export_of_a_program_without_pairs_is_just_the_header(tmp_path: Path) -> None:
    program = Program(tmp_path, free_port())
    assert program.cli("export", "contacts").stdout == (
        "pair_id,mentor,mentee,month,mentor_to_mentee,mentee_to_mentor,email,phone,meeting\n"  # CRLF, read as text
    )
    assert program.cli("export", "contacts", "--format", "json").stdout == '{\n  "contacts": []\n}\n'


def test_the_contacts_csv_keeps_an_id_or_address_from_becoming_a_formula_on_every_row_of_its_pair() -> None:
    rows = [
        ("=1+1", "@ana@example.org", "ben@example.net", "2026-09", 1, 0, 1, 0, 0),
        ("=1+1", "@ana@example.org", "ben@example.net", "2026-10", 0, 0, 0, 0, 0),
        ("p2", "cleo@example.org", "-dan@example.net", "2026-09", 0, 1, 1, 0, 0),
        ("p3", "eve@example.org", "fay@example.net", "2026-09", 0, 0, 0, 0, 0),
    ]
    out = io.StringIO()
    write_contacts_csv(out, iter(rows))
    assert out.getvalue().split("\r\n")[1:] == [
        "'=1+1,'@ana@example.org,ben@example.net,2026-09,1,0,1,0,0",
        "'=1+1,'@ana@example.org,ben@example.net,2026-10,0,0,0,0,0",
        "p2,cleo@example.org,'-dan@example.net,2026-09,0,1,1,0,0",
        "p3,eve@example.org,fay@example.net,2026-09,0,0,0,0,0",
        "",
    ]


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [{}],
        [{"a": 1, "b": "x"}, {"c": None}],
        [{"nested": {"contacts": {"m": 1}, "flags": ["one_sided", "bouncing"], "none": [], "empty": {}}}],
        [{"text": 'Cléo "quoted" \\ back\nslash \u2028', "float": 1.5, "yes": True, "no": False, "tuple": (1, 2)}],
        [{"deep": [[1, [2, {"k": [3]}]], {}]}],
    ],
    ids=["no_rows", "empty_row", "scalars", "nested", "escapes", "deep"],
)
def test_json_written_a_row_at_a_time_is_laid_out_as_json_dumps_would(rows: list[dict[str, object]]) -> None:
    """`status --json` and the exports stream their JSON; a reader may compare it as text."""
    out = io.StringIO()
    write_json(out, "rows", iter(rows))
    assert out.getvalue() == json.dumps({"rows": rows}, ensure_ascii=False, indent=2) + "\n"
