"""`[privacy] keep_days_after_round` (issue 12, part 3): a round that ended more than the kept days
ago loses its per-person data on the planner's tick; only its counts stay, and `status` shows them.

Round 1 (September 2025 to June 2026): Ana mentors Ben, Dev mentors Eve. Round 2 (from
September 2026): Ben mentors Finn, Dev mentors Cléo. Round 1 is made by the daemon's own parts on
a virtual clock (tests/in_process.py): contacts, a question, a bounce, a check-in with a comment,
survey answers, a letter request, a `my data`; then the real daemon starts (the machine's clock is
past round 1's end and 120 kept days) and purges it. Ana and Eve were in round 1 only: they go
entirely. Ben and Dev stay with their round-2 pairs and data.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from conftest import PROGRAM_ADDRESS, Daemon, Program, dsn_for, message, reply, wait_until
from in_process import in_process
from test_forget import stored_bytes
from test_mail_instructions import first_mail, kind_to, to_program
from test_replies_daemon import SURVEY

ANA, BEN, DEV, EVE = "ana@example.org", "ben@example.net", "dev@example.org", "eve@example.com"
ROUND_1 = """\
mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on
ana@example.org,Ana Álvarez,ben@example.net,Ben O'Brien,p1,2025-09-01
dev@example.org,Dev Patel,eve@example.com,Eve Cohen,p2,2025-09-01
"""
ROUND_2 = """\
mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on
ben@example.net,Ben O'Brien,finn@example.net,Finn Murphy,p1,2026-09-01
dev@example.org,Dev Patel,cleo@example.net,Cléo Martin,p2,2026-09-01
"""
ROUNDS = """
[[rounds]]
id = "1"
starts_on = 2025-09-01

[[rounds]]
id = "2"
starts_on = 2026-09-01
"""
R1_STARTS = datetime(2025, 9, 1, 16, tzinfo=timezone.utc)
R1_LATER = datetime(2025, 10, 10, 16, tzinfo=timezone.utc)
R1_SURVEY = datetime(2026, 5, 20, 16, tzinfo=timezone.utc)
R2_LATER = datetime(2026, 9, 10, 16, tzinfo=timezone.utc)
# What would name Ana or Eve: their addresses and surnames (Ana's in UTF-8, as the store keeps it).
TRACES = (ANA.encode(), EVE.encode(), "Álvarez".encode(), b"Cohen")


def two_rounds(program: Program, keep_days: str = "120") -> None:
    """The config with two rounds and `[privacy]`, an empty store with round 1's roster."""
    program.fresh_store()
    program.write_config(extra=SURVEY + ROUNDS + f"\n[privacy]\nkeep_days_after_round = {keep_days}\n")
    text = program.config.read_text(encoding="utf-8").replace("starts_on = 2026-09-01\n", "", 1)
    program.config.write_text(text, encoding="utf-8")
    import_round(program, "1", ROUND_1)


def import_round(program: Program, round_id: str, roster: str) -> None:
    (program.root / f"round-{round_id}.csv").write_text(roster, encoding="utf-8")
    program.cli("import-roster", str(program.root / f"round-{round_id}.csv"), "--round", round_id)


def live_rounds(program: Program) -> None:
    """Round 1 lived through on the virtual clock, then round 2's roster imported (in August, as
    coordinators do) and its first days."""
    with in_process(program) as daemon:
        daemon.run_at(R1_STARTS)
        for sender, to in ((ANA, BEN), (BEN, ANA), (DEV, EVE)):
            daemon.ingest(message(sender, [to], [PROGRAM_ADDRESS], date=R1_LATER), R1_LATER)
        daemon.ingest(to_program(ANA, "Could the mentors meet for lunch once?\n", R1_LATER), R1_LATER)
        daemon.ingest_bytes(dsn_for(EVE), R1_LATER)
        checkin, when = first_mail(daemon, "checkin", ANA, start=R1_LATER, days=40)
        daemon.ingest(reply(checkin, ANA, "1. 4\n2. no\nBen O'Brien is doing great.\n"), when)
        surveys = daemon.run_at(R1_SURVEY)
        for person in (ANA, BEN, EVE):
            for survey in kind_to(surveys, "survey", person):
                daemon.ingest(reply(survey, person, "1. 4\n2. yes\n3. More lunches\n"), R1_SURVEY)
        daemon.ingest(to_program(ANA, "letter\n", R1_SURVEY), R1_SURVEY)
        daemon.ingest(message(ANA, [PROGRAM_ADDRESS], subject="my data", date=R1_SURVEY), R1_SURVEY)
        daemon.run_at(R1_SURVEY + timedelta(hours=1))
    import_round(program, "2", ROUND_2)
    with in_process(program) as daemon:
        daemon.run_at(R2_LATER)
        daemon.ingest(message(BEN, ["finn@example.net"], [PROGRAM_ADDRESS], date=R2_LATER), R2_LATER)


def traces(program: Program) -> list[str]:
    return [f"{trace!r} in {name}" for name, data in stored_bytes(program).items() for trace in TRACES if trace in data]


def counts_by_round(program: Program, table: str) -> list[tuple[str, int]]:
    return program.sql(
        f"SELECT pair.round_id, count(*) FROM {table} JOIN pair ON pair.id = {table}.pair_id "
        "GROUP BY pair.round_id ORDER BY pair.round_id"
    )


def test_a_round_past_its_kept_days_is_purged_by_the_running_daemon_and_its_counts_stay(
    program: Program, daemon: Daemon
) -> None:
    two_rounds(program)
    live_rounds(program)
    assert counts_by_round(program, "contactevent") == [("1", 3), ("2", 1)]
    assert counts_by_round(program, "surveyresponse") == [("1", 3)]
    assert counts_by_round(program, "checkinreply") == [("1", 1)] and counts_by_round(program, "letterrequest")
    assert traces(program), "round 1 names Ana and Eve before it is purged"

    daemon.start()
    wait_until(lambda: "retention: round 1 purged" in daemon.log(), timeout=120)
    assert daemon.stop() == 0
    log = daemon.log()
    assert all(address not in log for address in (ANA, EVE, "Álvarez", "Cohen"))

    assert program.sql("SELECT round_id, count(*) FROM pair GROUP BY round_id") == [("2", 2)]
    people = {email for (email,) in program.sql("SELECT email FROM person WHERE staff = :no", no=False)}
    assert people == {BEN, DEV, "finn@example.net", "cleo@example.net"}
    assert counts_by_round(program, "contactevent") == [("2", 1)], "Ben keeps his round-2 contact"
    assert program.sql("SELECT count(*) FROM surveyresponse") == [(0,)]
    for table in ("checkinreply", "letterrequest"):
        assert program.sql(f"SELECT count(*) FROM {table}") == [(0,)], table
    assert program.sql("SELECT count(*) FROM questionmessage") == [(0,)]

    document = json.loads(program.cli("status", "--json", "--round", "2").stdout)
    (kept,) = document["purged_rounds"]
    assert kept["round"] == "1" and kept["pairs"] == 2 and kept["people_forgotten"] == 2 and kept["purged_at"]
    assert kept["contacts"] == {"email": 3, "mentee_to_mentor": 1, "mentor_to_mentee": 2}
    by_month = {(t["month"], t["name"]): t["count"] for t in kept["tallies"]["contacts"]}
    assert by_month == {("2025-10", "mentor_to_mentee"): 2, ("2025-10", "mentee_to_mentor"): 1}
    survey = {(t["name"], t["value"]): t["count"] for t in kept["tallies"]["survey"]}
    assert survey == {("feedback.useful", "4"): 3, ("feedback.recommend", "yes"): 3, ("feedback.change", "answered"): 3}
    assert kept["tallies"]["checkins"] == [{"month": "", "name": "rating", "value": "4", "count": 1}]
    assert "round 1: purged" in program.cli("status", "--round", "2").stdout
    audit = program.sql("SELECT coordinator, command, result FROM auditentry WHERE command = 'purge round 1'")
    assert audit == [("retention", "purge round 1", "removed 2 pairs and 2 people; kept their counts")]

    program.cli("forget", "--vacuum")  # checkpoint and VACUUM, as after `forget`
    assert traces(program) == []

    # The next ticks find nothing more to do and keep the counts as they are.
    tallies = program.sql("SELECT kind, month, name, value, count FROM roundtally ORDER BY id")
    with in_process(program) as again:
        again.run_at(datetime.now(timezone.utc))
    assert program.sql("SELECT kind, month, name, value, count FROM roundtally ORDER BY id") == tallies
    assert program.sql("SELECT count(*) FROM auditentry WHERE command = 'purge round 1'") == [(1,)]


def test_a_round_within_its_kept_days_and_keep_days_0_keep_everything(program: Program) -> None:
    two_rounds(program, keep_days="400")  # round 1 ended on 1 June 2026: kept until July 2027
    live_rounds(program)
    with in_process(program) as daemon:
        daemon.run_at(datetime(2027, 7, 5, 16, tzinfo=timezone.utc))
    assert counts_by_round(program, "contactevent") == [("1", 3), ("2", 1)]
    program.write_config(extra=SURVEY + ROUNDS + "\n[privacy]\nkeep_days_after_round = 0\n")
    text = program.config.read_text(encoding="utf-8").replace("starts_on = 2026-09-01\n", "", 1)
    program.config.write_text(text, encoding="utf-8")
    assert program.cli("check-config").stdout.splitlines()[-1].startswith("retention: off")
    with in_process(program) as daemon:
        daemon.run_at(datetime(2030, 1, 1, 16, tzinfo=timezone.utc))
    assert counts_by_round(program, "contactevent") == [("1", 3), ("2", 1)]
    assert program.sql("SELECT count(*) FROM roundpurge") == [(0,)]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("-1", "privacy.keep_days_after_round: must be 0 (keep until forgotten) or a number of days"),
        ("7", "must be more than the surveys' closes_days_after_end (14)"),
        ('"a year"', "privacy.keep_days_after_round: must be"),
    ],
)
def test_keep_days_after_round_is_checked_with_a_clear_error(program: Program, value: str, error: str) -> None:
    program.write_config(extra=SURVEY + f"\n[privacy]\nkeep_days_after_round = {value}\n")
    checked = program.cli("check-config", check=False)
    assert checked.returncode == 1 and error in checked.stderr and "Traceback" not in checked.stderr
    assert len(checked.stderr.strip().splitlines()) == 1


def test_check_config_says_how_long_data_is_kept_by_default(program: Program) -> None:
    assert program.cli("check-config").stdout.splitlines()[-1] == (
        "retention: a round's per-person data is removed 365 days after the round ends, its counts kept "
        "([privacy] keep_days_after_round)"
    )
