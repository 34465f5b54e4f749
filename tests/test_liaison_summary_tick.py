"""The liaison's weekly summary end to end: a planner tick on a real SQLite store composes it
with every pair's CSV attached, in process on a virtual clock (tests/in_process.py)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from conftest import PROGRAM_ADDRESS, Program, free_port, message, reply
from in_process import in_process
from mentormail.store.models import Pair
from mentormail.store.outcomes import OutcomeKind

# The mail at 10,000 pairs stays under this (measured by tests/bench/scale_summary.py); a 40-pair
# program's mail is a small fraction of it.
SIZE_BOUND = 1_000_000


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> EmailMessage:
    """40 pairs, 10 of which wrote in September; the summary of Monday 12 October as a planner
    tick composes it and delivery sends it."""
    root = tmp_path_factory.mktemp("program")
    program = Program(root, free_port())
    lines = ["mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on"]
    lines += [
        f"mentor{n}@example.org,Mentor {n},mentee{n}@example.net,Mentee {n},t{n:02d},2026-09-01" for n in range(40)
    ]
    (root / "big-roster.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    program.cli("import-roster", str(root / "big-roster.csv"))
    with in_process(program) as daemon:
        for n in range(10):
            written = datetime(2026, 9, 20 + n, 15, tzinfo=UTC)
            cc = message(
                f"Mentor {n} <mentor{n}@example.org>", [f"mentee{n}@example.net"], [PROGRAM_ADDRESS], date=written
            )
            assert daemon.ingest(cc, written).kind is OutcomeKind.CONTACT
        monday = datetime(2026, 10, 12, 15, tzinfo=UTC)  # 10:00 in Chicago
        sent = daemon.run_at(monday)
        while not any(m["X-Mentormail-Kind"] == "liaison_summary" for m in sent):
            sent, before = daemon.run_at(monday), len(sent)  # delivery sends a batch at a time
            assert len(sent) > before, "delivery stopped before the summary went out"
    (mail,) = [m for m in sent if m["X-Mentormail-Kind"] == "liaison_summary"]
    return mail


def csv_rows(mail: EmailMessage) -> list[dict[str, str]]:
    (attachment,) = list(mail.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content_type()) == ("pairs-2026-10-12.csv", "text/csv")
    return list(csv.DictReader(io.StringIO(attachment.get_content())))


def test_a_tick_sends_the_summary_with_every_pair_in_the_attached_csv(summary: EmailMessage) -> None:
    assert len(summary.as_bytes()) < SIZE_BOUND
    rows = csv_rows(summary)
    assert [row["pair_id"] for row in rows] == [f"t{n:02d}" for n in range(40)]
    assert (rows[0]["mentor"], rows[0]["mentee"], rows[0]["status"]) == ("Mentor 0", "Mentee 0", "active")


def test_a_tick_gives_the_summary_the_pairs_figures(summary: EmailMessage) -> None:
    """The summary lists 25 of the 30 that never started, says 5 more, and has the figures of
    the 10 that wrote (one way each)."""
    rows = csv_rows(summary)
    assert Counter(row["category"] for row in rows) == {"never_started": 30, "one_sided": 10}
    assert rows[3] == {
        "round": "1", "pair_id": "t03", "mentor": "Mentor 3", "mentee": "Mentee 3", "status": "active",
        "category": "one_sided",
        "days_since_contact": "18", "mentor_to_mentee": "1", "mentee_to_mentor": "0", "latest_rating": "",
    }  # fmt: skip
    text = summary.get_body(preferencelist=("plain",)).get_content()
    assert "Never started (30)" in text and "One-sided (10)" in text
    assert "And 5 more. Above are the 25 that started longest ago" in " ".join(text.split())


def test_a_mentors_check_in_comment_reaches_the_next_summary_and_an_ended_pair_leaves_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The default roster (p1, p2: Ana; p3: Dev) from 1 September: the check-ins of 15 September,
    Dev's reply with a comment, p2 ended before the summary of Monday 21 September."""
    program = Program(tmp_path_factory.mktemp("comments"), free_port())
    program.cli("import-roster", str(program.root / "roster.csv"))
    with in_process(program) as daemon:
        daemon.run_at(datetime(2026, 9, 1, 15, tzinfo=UTC))  # the pairing mail: each pair's calendar starts
        sent = daemon.run_at(datetime(2026, 9, 15, 15, tzinfo=UTC))
        checkins = [m for m in sent if m["X-Mentormail-Kind"] == "checkin"]
        assert len(checkins) == 3
        devs = next(m for m in checkins if "dev@example.org" in str(m["To"]))
        answer = "1. 4\n2. no\n\nShe has her first interview on Friday; we rehearsed it twice.\n"
        assert daemon.ingest(reply(devs, "dev@example.org", answer), datetime(2026, 9, 17, 14, tzinfo=UTC)).kind is (
            OutcomeKind.CHECKIN_REPLY
        )
        with daemon.store.session() as session:
            row = session.get(Pair, "p2")
            assert row is not None
            row.status = "ended"
            session.add(row)
        monday = datetime(2026, 9, 21, 15, tzinfo=UTC)  # 10:00 in Chicago
        sent = daemon.run_at(monday)
        while not (summaries := [m for m in sent if "Weekly summary for the week of 21 Sep" in str(m["Subject"])]):
            sent, before = daemon.run_at(monday), len(sent)
            assert len(sent) > before, "delivery stopped before the summary went out"
    (mail,) = summaries
    text = " ".join(mail.get_body(preferencelist=("plain",)).get_content().split())
    assert "What mentors wrote in their check-ins (1)" in text
    assert "| She has her first interview on Friday; we rehearsed it twice." in text
    assert [row["pair_id"] for row in csv_rows_of(mail, "pairs-2026-09-21.csv")] == ["p1", "p3"]


def csv_rows_of(mail: EmailMessage, filename: str) -> list[dict[str, str]]:
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == filename
    return list(csv.DictReader(io.StringIO(attachment.get_content())))
