"""Rounds (issue 12, part 1): a program runs a round a year, through the real CLI and the daemon's
own parts.

The program here has two rounds: "1" (the test roster's, from 1 September 2026: the one-round
config's round, kept as "1" when the config moves to [[rounds]]) and "2027" (from 6 September
2027). Ben, a mentee in round 1, mentors in round 2027; Ana mentors Cleo again.
"""

from __future__ import annotations

import csv
import io
import json
import mailbox
import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import PROGRAM_ADDRESS, ROSTER_CSV, Program, message
from in_process import in_process
from mentormail.daemon.mail.planner import Calendar, due_mail
from mentormail.daemon.settings import load_settings
from mentormail.store.planner_state import PairState, Person, PlannerState
from test_forget import command_mail
from test_reply_answers import LATER

FIXTURE = Path(__file__).parent / "fixtures" / "release_store"
# The day tests/fixtures/release_store/status.json was printed (days_since_contact counts from it).
FIXTURE_MADE_ON = date(2026, 12, 2)

TWO_ROUNDS = """
[[rounds]]
id = "1"
starts_on = 2026-09-01

[[rounds]]
id = "2027"
starts_on = 2027-09-06
months = 6
"""
TOPICS = "".join(f'\n[[topics]]\ntitle = "Topic {n}"\nprompts = ["Prompt {n}"]\n' for n in range(1, 10))

HEADER = "mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on\n"
# Round 2027: Ben, a mentee in round 1, mentors Fay; Ana mentors Cleo again (the same two people
# paired in two rounds); pair ids p1 and p2 again, as next year's spreadsheet numbers them.
ROUND_2027 = (
    HEADER
    + "ben@example.net,Ben O'Brien,fay@example.com,Fay Lind,p1,\n"
    + "ana@example.org,Ana Álvarez,cleo@example.net,Cléo Martin,p2,\n"
)


def with_rounds(program: Program, rounds: str = TWO_ROUNDS, extra: str = "") -> None:
    """The program's config moved to [[rounds]]: [program] keeps no dates (README, "Rounds")."""
    program.write_config(extra=extra)
    text = program.config.read_text(encoding="utf-8").replace(f"starts_on = {program.starts_on}\n", "")
    program.config.write_text(text + rounds, encoding="utf-8")


def import_2027(program: Program, roster: str = ROUND_2027) -> str:
    path = program.root / "roster-2027.csv"
    path.write_text(roster, encoding="utf-8")
    return program.cli("import-roster", "--round", "2027", str(path)).stdout


def status(program: Program, *args: str) -> dict:
    return json.loads(program.cli("status", "--json", *args).stdout)


def one_line_error(result, *wanted: str) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    for text in wanted:
        assert text in result.stderr
    return result.stderr


# --- the migration ------------------------------------------------------------------------------


def test_a_store_made_by_the_release_before_rounds_migrates_with_the_same_status(tmp_path: Path) -> None:
    """The store in tests/fixtures/release_store was made by the release before rounds (schema
    0011, made_store.py); migrated, its `status --json` is what that release printed, but for
    the one field rounds add (the document's `round`, "1") and the days since contact, which the
    clock has moved on since."""
    program = Program(tmp_path, 0)
    if not program.on_sqlite:
        # The fixture is that release's SQLite file; a PostgreSQL store of that release would have
        # to be made by that release's code (store/copy.py copies a store at today's schema only).
        pytest.skip("the release's store is a SQLite file: this test is about SQLite")
    program.database.parent.mkdir(parents=True)
    shutil.copy(FIXTURE / "mentormail.db", program.database)
    before = json.loads((FIXTURE / "status.json").read_text(encoding="utf-8"))

    after = status(program)

    assert program.sql("SELECT version_num FROM alembic_version") != [("0011",)]
    assert after.pop("round") == "1"  # the one field rounds add
    # Days since contact are whole days of elapsed time, not calendar dates: since the fixture was
    # printed (some hour of FIXTURE_MADE_ON) they have grown by the days since then, or one more.
    elapsed = (datetime.now(timezone.utc).date() - FIXTURE_MADE_ON).days
    for was, now in zip(before["pairs"], after["pairs"]):
        if was["days_since_contact"] is not None and now["days_since_contact"] is not None:
            assert now["days_since_contact"] - was["days_since_contact"] in (elapsed, elapsed + 1), now["id"]
            was["days_since_contact"] = now["days_since_contact"]
    assert after == before
    # Nothing else was lost either: the answers, the check-in, the paused pair, all in round "1".
    assert program.sql("SELECT count(*) FROM surveyresponse") == [(2,)]
    assert program.sql("SELECT count(*) FROM checkinreply") == [(1,)]
    assert program.sql("SELECT id, round_id FROM pair WHERE status = 'paused'") == [("p3", "1")]
    assert program.sql("SELECT id, starts_on FROM round") in ([("1", date(2026, 9, 1))], [("1", "2026-09-01")])


def test_a_store_before_rounds_migrates_into_round_1_on_either_database(tmp_path: Path) -> None:
    """The migration's own path on PostgreSQL too (the test above is SQLite's): a store at the
    revision before rounds, its pairs written as that release wrote them, comes up in round "1",
    and the same two people can then be paired again in a later round."""
    from alembic import command
    from mentormail.store.db import _alembic_config
    from sqlalchemy import create_engine, text

    program = Program(tmp_path, 0)
    with_rounds(program)
    url = f"sqlite:///{program.database}" if program.on_sqlite else program.store_url
    program.database.parent.mkdir(parents=True, exist_ok=True)
    if not program.on_sqlite:  # the test databases are made migrated: start from an empty one
        program.sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine = create_engine(url)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0012")
        for statement in (
            "INSERT INTO program (id, name, address, starts_on, months, roster_version) "
            "VALUES (1, 'P', 'mentoring@example.org', '2026-09-01', 9, 1)",
            "INSERT INTO person (email, name, aliases, staff) VALUES "
            "('ana@example.org', 'Ana', '', false), ('cleo@example.net', 'Cleo', '', false)",
            "INSERT INTO pair (id, mentor_id, mentee_id, status, started_on) SELECT 'p2', ana.id, cleo.id, "
            "'paused', '2026-09-01' FROM person ana, person cleo "
            "WHERE ana.email = 'ana@example.org' AND cleo.email = 'cleo@example.net'",
            "INSERT INTO contactevent (pair_id, direction, channel, occurred_at, source, message_hash) "
            "VALUES ('p2', 'mentor_to_mentee', 'email', '2026-09-14 16:00:00', 'smtp', 'h1')",
        ):
            connection.execute(text(statement))
    engine.dispose()

    (pair,) = status(program, "--round", "1")["pairs"]
    assert (pair["id"], pair["status"], pair["contacts"]["mentor_to_mentee"]) == ("p2", "paused", 1)
    import_2027(program)  # Ana and Cleo again, as p2 of round 2027
    ana = "(SELECT id FROM person WHERE email = 'ana@example.org')"
    assert program.sql(f"SELECT id, round_id FROM pair WHERE mentor_id = {ana} ORDER BY id") == [
        ("2027/p2", "2027"),
        ("p2", "1"),
    ]


# --- the config ---------------------------------------------------------------------------------


def test_program_dates_and_rounds_together_are_refused(program: Program) -> None:
    program.write_config(extra=TWO_ROUNDS)  # [program] starts_on stays
    one_line_error(program.cli("check-config", check=False), "program.starts_on", "not with [[rounds]]")


def test_a_round_with_pairs_missing_from_the_config_is_refused(program: Program) -> None:
    with_rounds(program)
    import_2027(program)
    with_rounds(program, TWO_ROUNDS.split('[[rounds]]\nid = "2027"')[0])  # round 2027 dropped

    for command in ("status", "check-config"):
        error = one_line_error(program.cli(command, check=False), "'2027' (2 pairs)", "keep them in [[rounds]]")
        assert "(the config lists: 1)" in error
    assert program.sql("SELECT count(*) FROM pair WHERE round_id = '2027'") == [(2,)]  # nothing orphaned


def test_an_unknown_round_is_named_with_the_known_ones(program: Program) -> None:
    with_rounds(program)
    for command in (("status",), ("export", "contacts"), ("simulate", "--until", "2027-01-01")):
        one_line_error(program.cli(*command, "--round", "2028", check=False), "unknown round '2028'", "1, 2027")


# --- importing a later round --------------------------------------------------------------------


def test_a_former_mentee_mentors_in_the_next_round(program: Program) -> None:
    with_rounds(program)
    assert import_2027(program).endswith("(round 2027): 2 added, 0 updated, 0 unchanged\n")

    later = {pair["id"]: pair for pair in status(program, "--round", "2027")["pairs"]}
    assert later["p1"]["mentor"] == "ben@example.net" and later["p1"]["started_on"] == "2027-09-06"
    assert (later["p2"]["mentor"], later["p2"]["mentee"]) == ("ana@example.org", "cleo@example.net")
    first = status(program, "--round", "1")
    assert first["round"] == "1" and {p["id"]: p["mentee"] for p in first["pairs"]}["p1"] == "ben@example.net"


def test_importing_round_1s_roster_into_round_2027_leaves_round_1_untouched(program: Program) -> None:
    """Before rounds, re-importing a pair with next year's starts_on moved the old pair to 2027."""
    with_rounds(program)
    program.cli("ingest", "-", stdin=message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]).as_bytes())
    before = status(program, "--round", "1")
    next_year = ROSTER_CSV.replace("2026-09-01", "2027-09-06")

    assert "3 added, 0 updated" in import_2027(program, next_year)

    assert status(program, "--round", "1") == before
    assert program.sql("SELECT count(*) FROM contactevent WHERE pair_id = 'p1'") == [(1,)]
    assert {p["id"]: p["started_on"] for p in status(program, "--round", "2027")["pairs"]} == dict.fromkeys(
        ("p1", "p2", "p3"), "2027-09-06"
    )


# --- each round its own calendar ----------------------------------------------------------------


def test_each_rounds_topics_come_from_its_own_calendar(program: Program) -> None:
    with_rounds(program, extra=TOPICS)
    calendar = Calendar.from_settings(load_settings(program.config))
    ana, ben = Person(1, "Ana", "ana@example.org"), Person(2, "Ben", "ben@example.net")
    pairs = (
        # Welcomed on their first day (their pairing mail went out on time).
        PairState("p1", ana, ben, "active", date(2026, 9, 1), (), datetime(2026, 9, 1, tzinfo=UTC), round_id="1"),
        PairState("2027/p2", ana, ben, "active", date(2027, 9, 6), (), datetime(2027, 9, 6, tzinfo=UTC), "2027"),
    )

    def topics_due(now: datetime) -> dict[str, datetime]:
        due = due_mail(calendar, PlannerState(pairs, frozenset()), now)
        return {mail.key: mail.due_at for mail in due if mail.kind == "topic" and mail.key.endswith(":mentee")}

    # Round 1's month 3 topic in November 2026; round 2027 has not begun.
    assert set(topics_due(datetime(2026, 11, 2, 16, tzinfo=timezone.utc))) == {"topic:pair-p1:month-3:mentee"}
    # A year on, round 2027's pair gets month 2 on its own day; round 1's ended on 1 June 2027.
    later = topics_due(datetime(2027, 10, 7, 16, tzinfo=timezone.utc))
    assert {key for key in later if "2027/p2" in key} == {"topic:pair-2027/p2:month-2:mentee"}
    assert later["topic:pair-2027/p2:month-2:mentee"].date() == date(2027, 10, 6)
    # Of round 1's pair, at most its last (ninth) month's, if it was never sent: none after its end.
    assert set(later) - {"topic:pair-2027/p2:month-2:mentee"} <= {"topic:pair-p1:month-9:mentee"}
    # Round 2027 lasts six months (to 6 March 2028): no month-7 topic after it.
    after = topics_due(datetime(2028, 4, 7, 16, tzinfo=UTC))
    months = {int(key.split(":month-")[1].split(":")[0]) for key in after if "2027/p2" in key}
    assert months <= set(range(1, 7))


def test_simulate_a_round_mails_only_its_pairs_from_its_start(program: Program) -> None:
    with_rounds(program, extra=TOPICS)
    import_2027(program)
    outbox = program.root / "simulated"

    program.cli("simulate", "--round", "2027", "--until", "2027-10-10", "--outbox", str(outbox))

    pairing = [m for m in mailbox.Maildir(outbox, create=False) if m["X-Mentormail-Kind"] == "pairing"]
    assert sorted(str(m["To"]).count("@") for m in pairing) == [2, 2]
    assert all("dev@" not in str(m["To"]) and "eve@" not in str(m["To"]) for m in pairing)  # round 1's only
    assert any("fay@example.com" in str(m["To"]) for m in pairing)


# --- intake and reports -------------------------------------------------------------------------


def test_a_cc_copy_counts_for_the_pair_of_the_round_running(program: Program) -> None:
    """Ana and Cleo are pair p2 of round 1 and of round 2027: a copy in each round counts there."""
    with_rounds(program)
    import_2027(program)
    with in_process(program) as daemon:
        for when in (datetime(2026, 10, 5, 15, tzinfo=timezone.utc), datetime(2027, 10, 5, 15, tzinfo=timezone.utc)):
            daemon.ingest(message("ana@example.org", ["cleo@example.net"], [PROGRAM_ADDRESS], date=when), when)

    assert program.sql("SELECT pair_id, count(*) FROM contactevent GROUP BY pair_id ORDER BY pair_id") == [
        ("2027/p2", 1),
        ("p2", 1),
    ]
    first = {p["id"]: p["contacts"]["mentor_to_mentee"] for p in status(program, "--round", "1")["pairs"]}
    later = {p["id"]: p["contacts"]["mentor_to_mentee"] for p in status(program, "--round", "2027")["pairs"]}
    assert (first["p2"], later["p2"]) == (1, 1)


def test_a_command_names_the_current_rounds_pair_or_another_rounds_by_its_round(program: Program) -> None:
    with_rounds(program)
    import_2027(program)
    with in_process(program) as daemon:  # on 11 September 2026: round "1" is the current one
        daemon.ingest(command_mail(program, "pause p1\npause 2027/p2\n"), LATER)

    paused = program.sql("SELECT id FROM pair WHERE status = 'paused' ORDER BY id")
    assert paused == [("2027/p2",), ("p1",)]  # not round 2027's p1 (Ben and Fay), nor round 1's p2


def test_a_finished_round_stays_queryable(tmp_path: Path) -> None:
    """Round "1" ran from September 2025 to June 2026; round "2026" is the current one."""
    program = Program(tmp_path, 0)
    with_rounds(
        program, '[[rounds]]\nid = "1"\nstarts_on = 2025-09-01\n[[rounds]]\nid = "2026"\nstarts_on = 2026-09-01\n'
    )
    roster = program.root / "roster-2025.csv"
    roster.write_text(ROSTER_CSV.replace(",2026-09-01", ","), encoding="utf-8")
    program.cli("import-roster", "--round", "1", str(roster))
    january = datetime(2026, 1, 15, 15, tzinfo=timezone.utc)
    with in_process(program) as daemon:
        daemon.ingest(message("dev@example.org", ["eve@example.com"], [PROGRAM_ADDRESS], date=january), january)

    assert status(program) == {"round": "2026", "pairs": []}  # the current round has no pairs yet
    finished = {p["id"]: p for p in status(program, "--round", "1")["pairs"]}
    assert finished["p3"]["contacts"]["mentor_to_mentee"] == 1 and finished["p3"]["started_on"] == "2025-09-01"
    rows = json.loads(program.cli("export", "contacts", "--round", "1", "--format", "json").stdout)["contacts"]
    # Every pair, every month of its nine, and no more: the round has ended.
    months = [f"2025-{m:02}" for m in range(9, 13)] + [f"2026-{m:02}" for m in range(1, 6)]
    assert {pair: [r["month"] for r in rows if r["pair_id"] == pair] for pair in ("p1", "p2", "p3")} == dict.fromkeys(
        ("p1", "p2", "p3"), months
    )
    assert [r["mentor_to_mentee"] for r in rows if r["pair_id"] == "p3" and r["month"] == "2026-01"] == [1]
    assert program.cli("export", "contacts").stdout.count("\n") == 1  # round 2026's: just the header


def test_the_current_round_is_the_latest_that_has_started(tmp_path: Path) -> None:
    program = Program(tmp_path, 0)
    today = datetime.now(timezone.utc).date()
    future = today + timedelta(days=400)
    with_rounds(program, f'\n[[rounds]]\nid = "1"\nstarts_on = {today - timedelta(days=30)}\n'
                         f'\n[[rounds]]\nid = "next"\nstarts_on = {future}\n')  # fmt: skip
    settings = load_settings(program.config)
    assert settings.current_round(today).id == "1"
    assert settings.current_round(future).id == "next"
    assert settings.current_round(today - timedelta(days=60)).id == "1"  # before any: the first
    assert status(program)["round"] == "1"


# --- the liaison summary: a section a round ------------------------------------------------------

# Round 2027 starts before round 1 ends (1 June 2027), so both run in May; the survey closes a week
# after each round's end and its results go out the morning after (round 1's: 9 June, 09:00).
OVERLAPPING_ROUNDS = """
[[rounds]]
id = "1"
starts_on = 2026-09-01

[[rounds]]
id = "2027"
starts_on = 2027-05-03
months = 6
"""
END_SURVEY = """
[[surveys]]
id = "feedback"
title = "Feedback"
audience = "both"
opens_days_before_end = 14
closes_days_after_end = 7

[[surveys.questions]]
id = "worth-it"
text = "Worth it?"
kind = "yesno"
"""
ROUND_2027_MAY = HEADER + "ben@example.net,Ben O'Brien,fay@example.com,Fay Lind,p1,2027-05-03\n"


def weekly_summary(daemon, monday: datetime) -> tuple[str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """The text of the summary of `monday` (09:00 in Chicago) as a tick at 10:00 sends it, and
    its CSV's (round, pair_id) rows."""
    moment = monday.replace(hour=15, tzinfo=UTC)
    filename = f"pairs-{monday.date().isoformat()}.csv"

    def found(sent):  # type: ignore[no-untyped-def]
        return [m for m in sent if m["X-Mentormail-Kind"] == "liaison_summary" and
                next(m.iter_attachments()).get_filename() == filename]

    sent = daemon.run_at(moment)
    while not found(sent):
        sent, before = daemon.run_at(moment), len(sent)
        assert len(sent) > before, "delivery stopped before the summary went out"
    (mail,) = found(sent)
    rows = list(csv.DictReader(io.StringIO(next(mail.iter_attachments()).get_content())))
    text = " ".join(mail.get_body(preferencelist=("plain",)).get_content().split())
    return f"{mail['Subject']} {text}", [(row["round"], row["pair_id"]) for row in rows]


def test_the_liaison_summary_has_a_section_a_running_round_until_its_results_went_out(program: Program) -> None:
    """May 2027: round 1 in its last month, round 2027 in its first, a section each with its own
    pairs and counts; 7 June: round 1 has ended, its results are not out, it keeps its section;
    14 June: its results went out on the 9th, only round 2027 is left."""
    with_rounds(program, OVERLAPPING_ROUNDS, extra=END_SURVEY)
    import_2027(program, ROUND_2027_MAY)
    with in_process(program) as daemon:
        for sender, to, when in (
            ("dev@example.org", "eve@example.com", datetime(2027, 5, 20, 15, tzinfo=UTC)),  # round 1's p3
            ("ben@example.net", "fay@example.com", datetime(2027, 5, 10, 15, tzinfo=UTC)),  # round 2027's p1
        ):
            daemon.ingest(message(sender, [to], [PROGRAM_ADDRESS], date=when), when)
        may, may_rows = weekly_summary(daemon, datetime(2027, 5, 24))
        june, june_rows = weekly_summary(daemon, datetime(2027, 6, 7))
        later, later_rows = weekly_summary(daemon, datetime(2027, 6, 14))

    # The CSV names a pair by its round and the roster's pair_id, as status and export do.
    assert may_rows == june_rows == [("1", "p1"), ("1", "p2"), ("1", "p3"), ("2027", "p1")]
    first, second = may.split("Round 2027, ")
    assert "Round 1, " in first and ": month 9 of 9" in first
    assert ": month 1 of 6" in second
    # Each section counts its own pairs: round 1's two silent pairs, round 2027's one writing pair.
    assert "Never started (2)" in first and "One-sided (1)" in first and "p3" in first
    assert "Never started (" not in second and "One-sided (1)" in second and "2027/p1" in second
    assert "p1 Ana" not in second and "2027/p1" not in first
    assert "2 of 4 pairs active" in may  # the subject: every section's pairs
    assert "Round 1, " in june and ": ended" in june and "Round 2027, " in june
    assert later_rows == [("2027", "p1")]
    assert "Round 1" not in later and "Round 2027" not in later  # one section left: no heading
