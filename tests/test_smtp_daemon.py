"""The daemon as a user runs it, fed over SMTP by smtplib and by swaks.

Each test starts `mentormail run` in a subprocess on a fresh program and checks what
`mentormail status --json` (the user's view) says afterwards.
"""

from __future__ import annotations

import smtplib
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

import pytest

from conftest import PROGRAM_ADDRESS, Daemon, Program, dsn_for, message, require_tool, send_each

# aiosmtpd-style named status codes, so a failing assertion reads as a protocol fact.
OK = 250
NO_SUCH_RECIPIENT = 550
TOO_BIG = 552
TRY_AGAIN_LATER = 451


def send(
    program: Program, msg: EmailMessage | bytes, *, rcpt: list[str] | None = None, sender: str | None = None
) -> None:
    with smtplib.SMTP("127.0.0.1", program.smtp_port, timeout=30) as smtp:
        if isinstance(msg, bytes):
            smtp.sendmail(sender or "", rcpt or [PROGRAM_ADDRESS], msg)
        else:
            smtp.send_message(msg, from_addr=sender or msg["From"], to_addrs=rcpt or [PROGRAM_ADDRESS])


def test_cc_bcc_duplicates_machine_mail_and_strangers_are_counted_as_they_should(
    program: Program, daemon: Daemon
) -> None:
    daemon.start()
    # A CC copy, mentor to mentee.
    send(program, message("Ana Álvarez <ana@example.org>", ["ben@example.net"], [PROGRAM_ADDRESS]))
    # A BCC copy: the headers do not name the program; only the envelope does.
    send(program, message("ben@example.net", ["ana@example.org"]))
    # One message to both of Ana's mentees: one event per pair.
    send(program, message("ana@example.org", ["ben@example.net", "cleo@example.net"], [PROGRAM_ADDRESS]))
    # The same copy delivered twice (say CC and a forward of it): counted once.
    twice = message("dev@example.org", ["eve@example.com"], [PROGRAM_ADDRESS])
    send(program, twice)
    send(program, twice)
    # An auto-reply from a participant to their partner, with the program in CC.
    send(
        program,
        message(
            "eve@example.com",
            ["dev@example.org"],
            [PROGRAM_ADDRESS],
            subject="Out of office",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    # A bounce about Eve's address, and a stranger's mail.
    send(program, dsn_for("eve@example.com"), sender="")
    send(program, message("zed@elsewhere.example", ["ben@example.net"], [PROGRAM_ADDRESS]))
    daemon.stop()

    assert program.contacts() == {"p1": (2, 1), "p2": (1, 0), "p3": (1, 0)}
    status = program.status()
    assert "bouncing" in status["p3"]["flags"]
    assert "bouncing" not in status["p1"]["flags"]
    assert status["p2"]["flags"] == ["one_sided"]
    assert status["p1"]["last_contact"] is not None and status["p1"]["days_since_contact"] == 0


def test_swaks_cc_and_bcc_copies_are_counted(program: Program, daemon: Daemon) -> None:
    swaks = require_tool("swaks")
    daemon.start()

    def swaks_send(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [swaks, "--server", "127.0.0.1", "--port", str(program.smtp_port), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    cc = swaks_send(
        "--from", "dev@example.org", "--to", PROGRAM_ADDRESS,
        "--header", "From: Dev Patel <dev@example.org>",
        "--header", "To: eve@example.com", "--header", f"Cc: {PROGRAM_ADDRESS}",
        "--header", "Subject: first steps", "--body", "Hello Eve",
    )  # fmt: skip
    assert cc.returncode == 0, cc.stdout
    bcc = swaks_send(
        "--from", "eve@example.com", "--to", PROGRAM_ADDRESS,
        "--header", "From: eve@example.com", "--header", "To: dev@example.org",
        "--header", "Subject: Re: first steps", "--body", "Hello Dev",
    )  # fmt: skip
    assert bcc.returncode == 0, bcc.stdout
    refused = swaks_send("--from", "dev@example.org", "--to", "someone-else@example.org", "--body", "x")
    assert "550 5.1.1" in refused.stdout
    daemon.stop()
    assert program.contacts()["p3"] == (1, 1)


def test_only_the_program_address_and_its_subaddresses_are_accepted(program: Program, daemon: Daemon) -> None:
    daemon.start()
    with smtplib.SMTP("127.0.0.1", program.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("ana@example.org")
        assert smtp.rcpt("ben@example.net")[0] == NO_SUCH_RECIPIENT
        assert smtp.rcpt("Mentoring+p1@Example.ORG")[0] == OK
        assert smtp.rcpt(PROGRAM_ADDRESS)[0] == OK
        smtp.rset()
    daemon.stop()


def test_a_message_over_the_size_limit_is_refused_with_552(program: Program, daemon: Daemon) -> None:
    program.write_config(smtp_options="max_message_bytes = 20000")
    daemon.start()
    big = message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS], body="x" * 40000)
    with pytest.raises(smtplib.SMTPResponseException) as refused:
        send(program, big)
    assert refused.value.smtp_code == TOO_BIG
    send(program, message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]))
    daemon.stop()
    assert program.contacts()["p1"] == (1, 0)


def test_a_store_failure_answers_451_and_the_retry_is_counted(program: Program, daemon: Daemon) -> None:
    daemon.start()
    msg = message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS])
    # Break the store under the running daemon: the table the event goes to disappears.
    program.sql("ALTER TABLE contactevent RENAME TO contactevent_away")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(program, msg)
    assert refused.value.smtp_code == TRY_AGAIN_LATER
    program.sql("ALTER TABLE contactevent_away RENAME TO contactevent")
    send(program, msg)  # what the sending server does next
    daemon.stop()
    assert program.contacts()["p1"] == (1, 0)
    assert "could not record a message, answered 451" in daemon.log()


@pytest.mark.sqlite
def test_parallel_connections_are_answered_after_their_batch_commits_and_451_when_it_fails(
    program: Program, daemon: Daemon
) -> None:
    daemon.start()
    # Six connections at once, five CC copies each, alternating p1's mentor and p2's mentee.
    directions = [("ana@example.org", "ben@example.net"), ("cleo@example.net", "ana@example.org")]
    shares = [
        [message(sender, [to], [PROGRAM_ADDRESS]) for sender, to in (directions[(c + n) % 2] for n in range(5))]
        for c in range(6)
    ]
    # Every commit that holds a contact now fails in SQLite itself (a deferred foreign key that
    # does not hold is refused at COMMIT): each message of every batch must hear 451.
    with sqlite3.connect(program.database) as db:
        db.executescript(
            """
            CREATE TABLE commit_guard (id INTEGER PRIMARY KEY);
            CREATE TABLE commit_breaker (guard INTEGER REFERENCES commit_guard (id) DEFERRABLE INITIALLY DEFERRED);
            CREATE TRIGGER break_commit AFTER INSERT ON contactevent BEGIN INSERT INTO commit_breaker VALUES (-1); END;
            """
        )

    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        assert list(pool.map(lambda share: send_each(program.smtp_port, share), shares)) == [[TRY_AGAIN_LATER] * 5] * 6
    assert program.contacts() == {"p1": (0, 0), "p2": (0, 0), "p3": (0, 0)}
    with sqlite3.connect(program.database) as db:
        db.execute("DROP TRIGGER break_commit")
    # The sending servers try again: every message is answered 250 and counted exactly once.
    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        assert list(pool.map(lambda share: send_each(program.smtp_port, share), shares)) == [[OK] * 5] * 6
    daemon.stop()
    assert program.contacts() == {"p1": (15, 0), "p2": (0, 15), "p3": (0, 0)}


def test_sigterm_and_sigint_stop_the_daemon_cleanly(program: Program, daemon: Daemon) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        daemon.start()
        send(program, message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]))
        assert daemon.stop(sig) == 0
        assert "stopped" in daemon.log()
    assert program.contacts()["p1"] == (2, 0)
