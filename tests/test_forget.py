"""`mentormail forget EMAIL` (issue 12, part 3): a participant asks to be forgotten, and after it
their address and name are nowhere in the store: not in the SQLite file, its WAL or shared memory
(checkpointed and vacuumed), nor in a dump of the PostgreSQL database; not in `status`, the
exports, or what the daemon logs afterwards. Their partner and her other pair are untouched.

The round is made by the daemon's own parts in process (tests/in_process.py): real contacts,
a question, a bounce, a check-in and survey answers by reply, the program's mail to Ben still
unsent; then the real CLI forgets Ben and the real daemon runs on the store.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from conftest import PROGRAM_ADDRESS, Daemon, Program, dsn_for, message, reply, send_each
from in_process import in_process
from mentormail.parsers.tokens import Claims, Purpose, make_token, reply_address
from test_mail_instructions import answers_to, first_mail, kind_to, text_of, to_program
from test_replies_daemon import SURVEY
from test_reply_answers import LATER, ROUND_STARTS, SURVEY_OPEN

BEN = "ben@example.net"
# What would name Ben: his address and his surname (ASCII, so no encoding can hide it).
TRACES = (BEN.encode(), b"O'Brien", b"O&#39;Brien")


def a_round_with_ben(program: Program) -> None:
    program.write_config(extra=SURVEY)
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)  # the pairing mail, sent
        for sender, to in (("ana@example.org", BEN), (BEN, "ana@example.org"), ("ana@example.org", "cleo@example.net")):
            daemon.ingest(message(sender, [to], [PROGRAM_ADDRESS], date=LATER), LATER)
        daemon.ingest(to_program(BEN, "Could I meet Ana in person next month?\n", LATER), LATER)
        daemon.ingest_bytes(dsn_for(BEN), LATER)
        _, when = first_mail(daemon, "checkin", "ana@example.org", start=LATER, days=40)
        for checkin in kind_to(daemon.run_at(when), "checkin", "ana@example.org"):  # one for p1, one for p2
            comment = "Ben O'Brien is shy." if "Ben" in str(checkin.get_body(("plain",))) else "We met twice."
            daemon.ingest(reply(checkin, "ana@example.org", f"1. 4\n2. no\n{comment}\n"), when)
        surveys = daemon.run_at(SURVEY_OPEN)
        for person in ("ana@example.org", BEN):
            for survey in kind_to(surveys, "survey", person):
                daemon.ingest(reply(survey, person, "1. 4\n2. yes\n"), SURVEY_OPEN)
        daemon.ingest(to_program(BEN, "Can the letter say I am O'Brien, not OBrien?\n", SURVEY_OPEN), SURVEY_OPEN)
        # Planned, not delivered: the answers to Ben and Ana and a digest with Ben's question wait
        # in the outbox, their text whole.
        daemon.mail.plan(SURVEY_OPEN + timedelta(days=1))


def stored_bytes(program: Program) -> dict[str, bytes]:
    """Every file of the SQLite store (the database, its -wal and -shm), or a PostgreSQL dump."""
    if program.on_sqlite:
        return {path.name: path.read_bytes() for path in program.database.parent.glob(program.database.name + "*")}
    return {name: dump.encode() for name, dump in program.stored_text().items()}


def traces(program: Program) -> list[str]:
    return [f"{trace!r} in {name}" for name, data in stored_bytes(program).items() for trace in TRACES if trace in data]


def test_forget_removes_ben_from_every_byte_of_the_store_and_keeps_ana_and_her_other_pair(program: Program) -> None:
    a_round_with_ben(program)
    before = program.status()
    assert traces(program), "the round should name Ben before he is forgotten"
    pending = program.sql("SELECT kind, recipients FROM outboxmessage WHERE status = 'pending' ORDER BY id")
    assert ("reply", BEN) in pending and "digest" in {kind for kind, _ in pending}, pending
    assert program.sql("SELECT count(*) FROM checkinreply")[0][0] == 2

    asked = program.cli("forget", BEN, check=False)
    assert asked.returncode == 1 and "--yes" in asked.stdout and "1 pair" in asked.stdout
    assert program.status() == before, "without --yes nothing is removed"

    done = program.cli("forget", BEN, "--yes")
    assert done.stdout.startswith("forgot 1 person, 1 pair, 2 contact events, 1 check-in reply, 1 survey response")
    assert BEN not in done.stdout + done.stderr and "O'Brien" not in done.stdout + done.stderr
    assert traces(program) == []

    after = program.status()
    assert sorted(after) == ["p2", "p3"]
    assert after["p2"] == before["p2"] and after["p3"] == before["p3"]
    for what in ("contacts", "surveys"):
        for form in ("csv", "json"):
            exported = program.cli("export", what, "--format", form).stdout
            assert BEN not in exported and "O'Brien" not in exported and "Ben" not in exported
    surveys = json.loads(program.cli("export", "surveys", "--format", "json").stdout)["surveys"]
    assert [(row["email"], row["pair_id"]) for row in surveys] == [("ana@example.org", "p2")]
    assert program.sql("SELECT email FROM person WHERE email = 'ana@example.org'") == [("ana@example.org",)]
    audit = program.sql("SELECT command, result FROM auditentry ORDER BY id")
    assert audit[-1][0] == "forget" and audit[-1][1].startswith("forgot 1 person")

    again = program.cli("forget", BEN, "--yes", check=False)
    assert again.returncode == 1 and "no one in the program has that address" in again.stderr

    # The daemon on the forgotten store: its log and the store it writes to stay clean of him.
    daemon = Daemon(program).start()
    try:
        time.sleep(3)
    finally:
        daemon.stop()
    assert BEN not in daemon.log() and "O'Brien" not in daemon.log()
    assert all(trace not in data for data in stored_bytes(program).values() for trace in TRACES)


def test_a_coordinator_cannot_be_forgotten_and_says_how(program: Program) -> None:
    refused = program.cli("forget", "coordinator@example.org", "--yes", check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "mentormail: that address is a coordinator's or the liaison's: remove it from [people] in the config first"
    )
    unknown = program.cli("forget", "nobody@example.com", check=False)
    assert unknown.returncode == 1 and "no one in the program has that address" in unknown.stderr


def test_forget_with_the_daemon_running_leaves_no_trace_and_it_goes_on(program: Program, daemon: Daemon) -> None:
    daemon.start()
    mails = [message("ana@example.org", [BEN], [PROGRAM_ADDRESS]), message(BEN, ["ana@example.org"], [PROGRAM_ADDRESS])]
    mails.append(message("ana@example.org", ["cleo@example.net"], [PROGRAM_ADDRESS]))
    assert send_each(program.smtp_port, mails) == [250, 250, 250]
    assert program.contacts()["p1"] == (1, 1)

    logged_before = len(daemon.log())
    done = program.cli("forget", BEN, "--yes")
    assert done.stdout.startswith("forgot 1 person, 1 pair, 2 contact events") and done.stderr == ""
    assert traces(program) == []
    # The daemon sees the roster without him at once: his next copy is a stranger's, Ana's still counts.
    assert send_each(program.smtp_port, [message("ana@example.org", ["cleo@example.net"], [PROGRAM_ADDRESS])]) == [250]
    assert program.contacts() == {"p2": (2, 0), "p3": (0, 0)}
    assert daemon.stop() == 0
    logged_after = daemon.log()[logged_before:]
    assert "CC copy: pair p2" in logged_after and BEN not in logged_after and "O'Brien" not in logged_after


def test_vacuum_alone_rewrites_the_store_and_forget_needs_an_address_or_it(program: Program) -> None:
    assert program.cli("forget", "--vacuum").stdout == "vacuumed the store\n"
    usage = program.cli("forget", check=False)
    assert usage.returncode == 2 and "EMAIL, or --vacuum alone" in usage.stderr


def command_mail(program: Program, text: str) -> EmailMessage:
    """A coordinator's reply to a digest of ours (its reply address signed for her), on either store."""
    secret = (program.root / "secret").read_bytes().strip()
    ((coordinator,),) = program.sql("SELECT id FROM person WHERE email = 'coordinator@example.org'")
    claims = Claims(Purpose.REPLY, coordinator, "digest", LATER.date() + timedelta(days=30))
    msg = EmailMessage()
    msg["From"] = "Rosa Okafor <coordinator@example.org>"
    msg["To"] = reply_address(PROGRAM_ADDRESS, make_token(secret, claims))
    msg["Subject"] = "Re: digest"
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg.set_content(text)
    return msg


def test_a_coordinator_forgets_by_email_only_when_she_confirms_in_reply_to_our_answer(program: Program) -> None:
    with in_process(program) as daemon:
        daemon.run_at(ROUND_STARTS)
        for sender, to in (("ana@example.org", BEN), ("ana@example.org", "cleo@example.net")):
            daemon.ingest(message(sender, [to], [PROGRAM_ADDRESS], date=LATER), LATER)
        daemon.ingest(command_mail(program, "pause p1\npause p2\n"), LATER)
        daemon.ingest(command_mail(program, f"forget {BEN}"), LATER)
        asked = answers_to(daemon, LATER, "coordinator@example.org")[-1]
        assert f"forget {BEN}: not done yet: this would forget 1 person, 1 pair, 1 contact event" in text_of(asked)
        assert "reply to this email with the same line" in text_of(asked)
        # The same line again, but not in reply to that answer: still only asked.
        daemon.ingest(command_mail(program, f"forget {BEN}"), LATER)
        assert "not done yet" in text_of(answers_to(daemon, LATER, "coordinator@example.org")[-1])
        assert "p1" in program.status()

        daemon.ingest(reply(asked, "coordinator@example.org", f"forget {BEN}\n"), LATER)
        done = text_of(answers_to(daemon, LATER, "coordinator@example.org")[-1])
        assert "forget: done: forgot 1 person, 1 pair, 1 contact event" in done and BEN not in done
        # A mistyped address in reply to the same answer is not confirmed by it.
        daemon.ingest(reply(asked, "coordinator@example.org", "forget cleo@example.net\n"), LATER)
        assert "not done yet" in text_of(answers_to(daemon, LATER, "coordinator@example.org")[-1])

    assert sorted(program.status()) == ["p2", "p3"]
    audit = program.sql("SELECT command, result FROM auditentry ORDER BY id")
    assert not [entry for entry in audit if any(BEN in text or "O'Brien" in text or "p1" in text for text in entry)]
    assert audit[:2] == [("ERASED", "ERASED"), ("pause p2", "done: pair p2 is paused")], audit
    assert [entry for entry in audit if entry[0] == "forget"] == [
        (
            "forget",
            "done: forgot 1 person, 1 pair, 1 contact event, 3 mails in the outbox, 1 command use, "
            "3 audit entries rewritten",
        )
    ]
    program.cli("forget", "--vacuum")
    assert traces(program) == []


def test_forget_by_an_alias_forgets_the_person_and_the_alias(program: Program) -> None:
    program.sql("UPDATE person SET aliases = 'ben.obrien@work.example' WHERE email = :ben", ben=BEN)
    done = program.cli("forget", "Ben.OBrien@work.example", "--yes")
    assert done.stdout == "forgot 1 person, 1 pair\n"
    assert program.sql("SELECT count(*) FROM person WHERE email = :ben", ben=BEN) == [(0,)]
    assert all(b"ben.obrien@work.example" not in data for data in stored_bytes(program).values())
