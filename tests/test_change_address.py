"""A person's address changes mid-round (issue 12, part 2).

`mentormail change-address OLD NEW` (the real CLI) and a coordinator's `address OLD NEW` in reply
to a digest (through the running daemon, over SMTP) move a person to NEW: the program's mail goes
there, a late copy of mail from OLD still counts, a bounce of OLD no longer flags the pair, and
the audit says who did it. A roster re-import with a known pair_id and a changed address says
which change-address to run, naming people, never internal ids. The test roster's round starts
on 1 September 2026 (Chicago); Ana mentors Ben (p1) and Cléo (p2), Dev mentors Eve (p3).
"""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import pytest
import test_replies_daemon
from conftest import PROGRAM_ADDRESS, ROSTER_CSV, Program, dsn_for, message, wait_until
from in_process import in_process
from mentormail.parsers.commands import BadCommand, Command, parse_commands
from mentormail.store.outcomes import OutcomeKind
from test_replies_daemon import command_mail, replies_to, send

ROUND_STARTS = datetime(2026, 9, 1, 16, tzinfo=timezone.utc)  # 11:00 in Chicago: after send_time
OLD, NEW = "ben@example.net", "ben.obrien@new.example"
running = test_replies_daemon.running  # the fixture: the daemon running, its mail delivered to a relay


def copy_to_program(sender: str, to: str, when: datetime | None = None) -> EmailMessage:
    """Mail between partners with the program in CC, as participants are asked to send it."""
    return message(sender, [to], [PROGRAM_ADDRESS], date=when)


def flags(program: Program, pair_id: str) -> list[str]:
    return program.status()[pair_id]["flags"]


def audited(program: Program) -> list[tuple[str, str]]:
    return [(command, result) for command, result in program.sql("SELECT command, result FROM auditentry ORDER BY id")]


# --- the command line ------------------------------------------------------------------------


def test_after_change_address_the_planners_mail_goes_to_new_and_copies_from_old_still_count(program: Program) -> None:
    with in_process(program) as daemon:
        sent = daemon.run_at(ROUND_STARTS)
        assert any(OLD in str(m["To"]) for m in sent)  # the welcome, before the change
        daemon.ingest_bytes(dsn_for(OLD), ROUND_STARTS + timedelta(hours=1))
        assert "bouncing" in flags(program, "p1")

        moved = program.cli("change-address", OLD, NEW)
        assert moved.stdout.strip() == (
            f"Ben O'Brien <{NEW}> now gets the program's mail at {NEW}; mail from {OLD} still counts; "
            "no longer marked as bouncing"
        )
        assert "bouncing" not in flags(program, "p1")

        before = len(sent)
        later: list[EmailMessage] = []
        for day in range(1, 70):  # until the planner next writes to Ben
            later = [m for m in daemon.run_at(ROUND_STARTS + timedelta(days=day))[before:] if "ben" in str(m["To"])]
            if later:
                break
        assert later, "no mail to Ben within 70 days of the change"
        assert all(NEW in str(m["To"]) and OLD not in str(m["To"]) for m in later), [str(m["To"]) for m in later]

        when = ROUND_STARTS + timedelta(days=2)
        late_copy = daemon.ingest(copy_to_program(f"Ben <{OLD}>", "ana@example.org", when), when)
        from_new = daemon.ingest(copy_to_program(f"Ben <{NEW}>", "ana@example.org", when), when)

    assert late_copy.kind is OutcomeKind.CONTACT and from_new.kind is OutcomeKind.CONTACT
    assert program.contacts()["p1"] == (0, 2)
    assert program.sql("SELECT email, aliases FROM person WHERE email = :new", new=NEW) == [(NEW, OLD)]
    [(coordinator, command, result)] = program.sql("SELECT coordinator, command, result FROM auditentry")
    assert coordinator.startswith("command line") and command == f"change-address {OLD} {NEW}"
    assert result.startswith("done: ")


def test_mail_queued_for_the_old_address_and_not_yet_sent_is_delivered_to_the_new_one(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.mail.plan(ROUND_STARTS)  # the welcomes are queued, not sent
        moved = program.cli("change-address", OLD, NEW)
        daemon.mail.deliver(ROUND_STARTS)
        envelopes = [envelope.recipients for envelope, _ in daemon.backend.outbox]

    assert not any(OLD in recipients for recipients in envelopes), envelopes
    assert any(NEW in recipients for recipients in envelopes)
    assert "unsent mail now goes to" in moved.stdout


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("fay@example.org", "fay@new.example", "no one in the program has the address fay@example.org"),
        (OLD, "eve@example.com", "eve@example.com already belongs to Eve Cohen <eve@example.com>"),
        (OLD, "not-an-address", "'not-an-address' is not an email address"),
        (OLD, "Ben@Example.NET", "ben@example.net is already the address: nothing to change"),
        ("coordinator@example.org", "rosa@new.example", "coordinator@example.org is a coordinator's or the liaison's"),
    ],
)
def test_change_address_refuses_with_one_line_and_changes_nothing(
    program: Program, old: str, new: str, error: str
) -> None:
    people = program.sql("SELECT id, email, aliases FROM person ORDER BY id")
    refused = program.cli("change-address", old, new, check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"mentormail: {error}") and refused.stderr.count("\n") == 1, refused.stderr
    assert program.sql("SELECT id, email, aliases FROM person ORDER BY id") == people
    assert audited(program) == []


def test_a_new_address_that_is_someone_elses_alias_is_refused(program: Program) -> None:
    roster = ROSTER_CSV.replace("pair_id,starts_on", "pair_id,starts_on,mentee_aliases").replace(
        "p3,2026-09-01", "p3,2026-09-01,eve.cohen@home.example"
    )
    (program.root / "aliases.csv").write_text(roster.replace("2026-09-01\n", "2026-09-01,\n"), encoding="utf-8")
    program.cli("import-roster", str(program.root / "aliases.csv"))
    refused = program.cli("change-address", OLD, "eve.cohen@home.example", check=False)
    assert (refused.returncode, refused.stderr) == (
        1,
        "mentormail: eve.cohen@home.example already belongs to Eve Cohen <eve@example.com>\n",
    )


def test_changing_an_address_twice_says_it_is_done(program: Program) -> None:
    program.cli("change-address", OLD, NEW)
    again = program.cli("change-address", OLD, NEW, check=False)
    assert (again.returncode, again.stderr) == (1, f"mentormail: {OLD} already moved to {NEW}: nothing to change\n")


# --- the roster ------------------------------------------------------------------------------


def test_a_reimport_with_a_known_pair_id_and_a_changed_address_says_what_to_run(program: Program) -> None:
    moved = program.root / "moved.csv"
    moved.write_text(ROSTER_CSV.replace(OLD, NEW), encoding="utf-8")
    refused = program.cli("import-roster", str(moved), check=False)
    assert (refused.returncode, refused.stderr) == (
        1,
        f"mentormail: {moved}: line 2: pair_id 'p1' is Ana Álvarez <ana@example.org> and Ben O'Brien <{OLD}>; "
        f"if {OLD} changed address, run: mentormail change-address {OLD} {NEW}\n",
    )
    program.cli("change-address", OLD, NEW)  # doing what it says
    assert program.cli("import-roster", str(moved)).stdout.endswith("0 added, 0 updated, 3 unchanged\n")
    # and the old file, imported again, names the address to write instead of a second Ben
    stale = program.cli("import-roster", str(program.root / "roster.csv"), check=False)
    assert stale.stderr == (
        f"mentormail: {program.root / 'roster.csv'}: line 2: {OLD} is an alias of {NEW} (its address changed?): "
        f"write {NEW} in this line\n"
    )


def test_a_known_pair_id_given_to_two_other_people_names_the_pair_without_internal_ids(program: Program) -> None:
    other = program.root / "other.csv"
    other.write_text(
        "mentor_email,mentor_name,mentee_email,mentee_name,pair_id\n"
        "fay@example.org,Fay Green,gus@example.net,Gus O'Hara,p1\n",
        encoding="utf-8",
    )
    refused = program.cli("import-roster", str(other), check=False)
    assert refused.stderr == (
        f"mentormail: {other}: line 2: pair_id 'p1' is Ana Álvarez <ana@example.org> and Ben O'Brien <{OLD}>, "
        "not fay@example.org and gus@example.net: give this line another pair_id\n"
    )
    assert " id " not in refused.stderr


# --- the coordinators' command, by email through the running daemon ---------------------------


def test_a_coordinators_address_command_moves_the_person_and_the_running_daemon_sees_it(running) -> None:  # type: ignore[no-untyped-def]
    program, daemon, relay = running
    send(program, copy_to_program("eve@example.com", "dev@example.org"))  # the daemon's roster is cached now
    wait_until(lambda: program.contacts()["p3"] == (0, 1))
    with smtplib.SMTP("127.0.0.1", program.smtp_port, timeout=30) as smtp:  # a bounce, with a null sender
        smtp.sendmail("<>", [PROGRAM_ADDRESS], dsn_for("eve@example.com"))
    wait_until(lambda: "bouncing" in flags(program, "p3"))

    commands = "address eve@example.com eve@new.example\naddress dev@example.org ana@example.org"
    send(program, command_mail(program, commands, dmarc="pass"))
    answer = wait_until(lambda: replies_to(relay, "coordinator@example.org"))[0].get_body(("plain",)).get_content()
    text = " ".join(answer.split())
    assert "address eve@example.com eve@new.example: done: Eve Cohen <eve@new.example> now gets" in text
    assert "address dev@example.org ana@example.org: not done: ana@example.org already belongs to Ana" in text
    assert "bouncing" not in flags(program, "p3")
    assert [command for command, _ in audited(program)] == [
        "address eve@example.com eve@new.example",
        "address dev@example.org ana@example.org",
    ]

    send(program, copy_to_program("Eve <eve@new.example>", "dev@example.org"))  # a new address, known at once
    send(program, copy_to_program("eve@example.com", "dev@example.org"))  # a late copy from the old one
    wait_until(lambda: program.contacts()["p3"] == (0, 3))
    send(program, command_mail(program, "nudge p3", dmarc="pass"))
    nudge = wait_until(
        lambda: [m for m in relay.messages() if m["X-Mentormail-Kind"] == "nudge" and "Eve" in str(m["To"])]
    )
    assert [str(m["To"]) for m in nudge] == ["Eve Cohen <eve@new.example>"]


# --- the parser ------------------------------------------------------------------------------


def test_the_address_command_is_parsed_with_or_without_to_and_angle_brackets() -> None:
    for line in ("address ben@example.net ben@new.example", "Address <Ben@Example.net> to <ben@new.example>."):
        [command] = parse_commands(line)
        assert isinstance(command, Command) and command.args == ("ben@example.net", "ben@new.example"), command


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("address ben@example.net", "address takes the old and the new email address (address OLD_EMAIL NEW_EMAIL)"),
        ("address ben@example.net ben", "'ben' is not an email address (address OLD_EMAIL NEW_EMAIL)"),
        ("address ben@example.net BEN@example.net", "address needs two different addresses, not ben@example.net twice"),
    ],
)
def test_a_wrong_address_command_says_how_to_write_it(line: str, reason: str) -> None:
    assert parse_commands(line) == [BadCommand(line=line, reason=reason, number=1)]
