"""The IMAP watcher against a real Dovecot, in-process, with a real SQLite store.

Each test gets its own mailbox (a new Dovecot user) and its own database file. Mail is put in
the mailbox by APPEND from a second connection, as a delivery agent would; the watcher runs in a
thread exactly as `mentormail run` starts it, and the tests look only at what a user could see:
the store's rows and what is left in the folders.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date
from email import policy
from email.message import EmailMessage
from pathlib import Path

import postgres_server
import pytest
from imapclient import IMAPClient
from sqlmodel import func, select

from conftest import PROGRAM_ADDRESS, ROSTER_CSV, dsn_for, message, wait_until
from dovecot_server import Dovecot
from mentormail.daemon.intake import imap
from mentormail.daemon.intake.imap import ImapWatcher
from mentormail.daemon.intake.ingest import Intake
from mentormail.daemon.settings import ImapIntakeSettings
from mentormail.parsers.roster_csv import parse_roster
from mentormail.store import queries
from mentormail.store.db import Store
from mentormail.store.models import ContactEvent, IntakeRecord

pytestmark = pytest.mark.dovecot

SECRET = b"imap-test-secret"
STRANGER = "someone@elsewhere.example"


@dataclass
class Mailbox:
    """One test's world: a Dovecot account, a store with the test roster, an intake."""

    dovecot: Dovecot
    username: str
    password: str
    store: Store
    intake: Intake
    database: Path

    def settings(self, *, after_logging: str = "delete", folder: str = "INBOX") -> ImapIntakeSettings:
        return ImapIntakeSettings(
            enabled=True,
            host=self.dovecot.host,
            port=self.dovecot.port,
            security="none",
            username=self.username,
            password=self.password,
            folder=folder,
            after_logging=after_logging,
        )

    @contextmanager
    def watching(
        self, *, after_logging: str = "delete", folder: str = "INBOX", intake: Intake | None = None
    ) -> Iterator[ImapWatcher]:
        """The watcher in a thread, as service.py runs it; stopped (and checked stopped) at the end."""
        stop = threading.Event()
        settings = self.settings(after_logging=after_logging, folder=folder)
        watcher = ImapWatcher(settings, intake or self.intake, PROGRAM_ADDRESS, stop)
        thread = threading.Thread(target=watcher.run, name="imap-intake-test", daemon=True)
        thread.start()
        try:
            yield watcher
        finally:
            stop.set()
            thread.join(timeout=15)
            assert not thread.is_alive(), "the watcher did not stop"

    def client(self) -> IMAPClient:
        return self.dovecot.client(self.username, self.password)

    def append(self, *messages: EmailMessage | bytes, folder: str = "INBOX") -> None:
        with self.client() as client:
            client.multiappend(folder, [_bytes(m) for m in messages])

    def message_ids(self, folder: str = "INBOX") -> list[str]:
        """Message-IDs in the folder, in UID order (read with a header-field PEEK only)."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            if not uids:
                return []
            fetched = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        found = []
        for uid in sorted(fetched):
            field = fetched[uid].get(b"BODY[HEADER.FIELDS (MESSAGE-ID)]", b"")
            match = re.search(rb"<([^>]+)>", field)
            found.append(f"<{match.group(1).decode()}>" if match else "")
        return found

    def flags(self, folder: str = "INBOX") -> list[tuple[bytes, ...]]:
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            return [flags for _, flags in sorted(client.get_flags(uids).items())] if uids else []

    def contacts(self) -> list[tuple[str, str]]:
        with self.store.session() as session:
            rows = session.exec(select(ContactEvent.pair_id, ContactEvent.direction).order_by(ContactEvent.id))
            return [tuple(row) for row in rows]  # type: ignore[misc]

    def contact_count(self) -> int:
        with self.store.session() as session:
            return session.exec(select(func.count()).select_from(ContactEvent)).one()

    def records(self) -> list[tuple[str, str]]:
        with self.store.session() as session:
            rows = session.exec(select(IntakeRecord.outcome, IntakeRecord.address))
            return sorted(tuple(row) for row in rows)  # type: ignore[misc]

    def checkpoint(self, folder: str = "INBOX") -> tuple[int, int] | None:
        """(UIDVALIDITY, last UID) as the store has it."""
        with self.store.session() as session:
            row = queries.load_checkpoint(session, f"{self.username}@{self.dovecot.host}/{folder}")
            return (row.uidvalidity, row.last_uid) if row else None

    def last_uid(self, folder: str = "INBOX") -> int | None:
        checkpoint = self.checkpoint(folder)
        return checkpoint[1] if checkpoint else None


def _bytes(msg: EmailMessage | bytes) -> bytes:
    if isinstance(msg, bytes):
        return msg
    return msg.as_bytes(policy=policy.default.clone(linesep="\r\n"))


@pytest.fixture
def mailbox(dovecot: Dovecot, tmp_path: Path) -> Iterator[Mailbox]:
    username, password = dovecot.add_user("program")
    database = tmp_path / "mentormail.db"
    store = Store.open(postgres_server.store_url() or f"sqlite:///{database}")
    with store.session() as session:
        # As `mentormail run` and `import-roster` leave it: the program row, then the roster.
        queries.sync_program(session, "Test mentoring round", PROGRAM_ADDRESS, date(2026, 9, 1), 9)
        queries.sync_rounds(session, [queries.RoundDates(queries.FIRST_ROUND, date(2026, 9, 1), 9, date(2027, 6, 1))])
    with store.session() as session:
        queries.apply_roster(
            session,
            parse_roster(ROSTER_CSV, "roster.csv").rows,
            default_start=date(2026, 9, 1),
            filename="roster.csv",
            round_id=queries.FIRST_ROUND,
        )
    try:
        yield Mailbox(dovecot, username, password, store, Intake(store, PROGRAM_ADDRESS, SECRET), database)
    finally:
        store.close()


def contact(sender: str, to: str, **kwargs: object) -> EmailMessage:
    """A CC copy of mail between partners."""
    return message(sender, [to], [PROGRAM_ADDRESS], **kwargs)  # type: ignore[arg-type]


def question() -> EmailMessage:
    return message("ana@example.org", [PROGRAM_ADDRESS], subject="How do I report a phone call?")


def stranger() -> EmailMessage:
    return message(STRANGER, [PROGRAM_ADDRESS], subject="Is this the mentoring program?")


def fetch_counts(mailbox: Mailbox) -> list[tuple[int, int]]:
    """(header fetches, body fetches) of each finished session of the mailbox's user."""
    pattern = re.compile(rf"imap\({re.escape(mailbox.username)}\).*Disconnected.*hdr_count=(\d+).*body_count=(\d+)")
    return [(int(h), int(b)) for h, b in pattern.findall(mailbox.dovecot.log_text())]


# --- catching up and IDLE ------------------------------------------------------------------


def test_mail_that_arrived_while_the_watcher_was_stopped_is_caught_up(mailbox: Mailbox) -> None:
    kept = [question(), stranger()]
    mailbox.append(
        contact("ana@example.org", "ben@example.net"),
        kept[0],
        contact("ben@example.net", "ana@example.org"),
        kept[1],
        contact("dev@example.org", "eve@example.com"),
    )
    with mailbox.watching() as watcher:
        wait_until(watcher.caught_up.is_set)
        wait_until(lambda: mailbox.message_ids() == [m["Message-ID"] for m in kept])
    assert mailbox.contacts() == [("p1", "mentor_to_mentee"), ("p1", "mentee_to_mentor"), ("p3", "mentor_to_mentee")]
    # A stranger writing to the program asks a question too (issue 10).
    assert mailbox.records() == [("question", "ana@example.org"), ("question", STRANGER)]
    assert mailbox.last_uid() == 5
    # What stays for a person still looks unread.
    assert all(b"\\Seen" not in flags for flags in mailbox.flags())


def test_mail_arriving_while_idle_is_logged_within_seconds_and_removed(mailbox: Mailbox) -> None:
    with mailbox.watching() as watcher:
        wait_until(watcher.caught_up.is_set)
        started = time.monotonic()
        mailbox.append(contact("eve@example.com", "dev@example.org"))
        wait_until(lambda: mailbox.contact_count() == 1, timeout=20, interval=0.05)
        arrived = time.monotonic() - started
        wait_until(lambda: mailbox.message_ids() == [])
        # Then a question: logged, and left where a person will see it.
        ask = question()
        mailbox.append(ask)
        wait_until(lambda: mailbox.records() == [("question", "ana@example.org")])
        assert mailbox.message_ids() == [ask["Message-ID"]]
        stop_requested = time.monotonic()
    assert time.monotonic() - stop_requested < 5, "stop was not noticed promptly while idle"
    assert mailbox.contacts() == [("p3", "mentee_to_mentor")]
    assert arrived < 10, f"IDLE took {arrived:.1f} s to report the new message"


def test_bounce_is_read_in_full_recorded_and_removed(mailbox: Mailbox) -> None:
    mailbox.append(dsn_for("ben@example.net", message_id="imap-bounce-1@mx.example.com"))
    with mailbox.watching() as watcher:
        wait_until(watcher.caught_up.is_set)
        wait_until(lambda: mailbox.message_ids() == [])
    assert mailbox.records() == [("bounce", "ben@example.net")]
    assert mailbox.contact_count() == 0
    # Not participant mail, so intake asked for the whole message; Dovecot's log shows that
    # fetch, which is what makes its silence in the header-only test below mean something.
    wait_until(lambda: any(bodies >= 1 for _, bodies in fetch_counts(mailbox)))


@pytest.mark.parametrize("how", ["kicked", "killed"])
def test_a_dropped_connection_is_made_again_and_nothing_is_missed(mailbox: Mailbox, how: str) -> None:
    with mailbox.watching() as watcher:
        wait_until(watcher.caught_up.is_set)
        if how == "kicked":  # the server says BYE and closes (a restart, an admin)
            subprocess.run(
                ["doveadm", "-c", str(mailbox.dovecot.root / "dovecot.conf"), "kick", mailbox.username],
                check=True,
                capture_output=True,
            )
        else:  # the connection just ends, no BYE (a crash, a dropped NAT mapping)
            os.kill(mailbox.dovecot.session_pids(mailbox.username)[-1], signal.SIGKILL)
        wait_until(lambda: not watcher.caught_up.is_set(), timeout=10)
        mailbox.append(contact("ana@example.org", "cleo@example.net"))
        wait_until(lambda: mailbox.message_ids() == [])
    assert mailbox.contacts() == [("p2", "mentor_to_mentee")]


# --- after_logging -------------------------------------------------------------------------


def test_keep_leaves_every_copy_unread_and_the_next_start_reads_only_new_mail(mailbox: Mailbox) -> None:
    first = contact("ana@example.org", "cleo@example.net")
    ask = question()
    mailbox.append(first, ask)
    with mailbox.watching(after_logging="keep") as watcher:
        wait_until(watcher.caught_up.is_set)
    assert mailbox.contact_count() == 1
    assert mailbox.message_ids() == [first["Message-ID"], ask["Message-ID"]]
    assert all(b"\\Seen" not in flags for flags in mailbox.flags())

    later = contact("cleo@example.net", "ana@example.org")
    mailbox.append(later)
    with mailbox.watching(after_logging="keep") as watcher:
        wait_until(watcher.caught_up.is_set)
        wait_until(lambda: mailbox.contact_count() == 2)
    assert mailbox.contacts() == [("p2", "mentor_to_mentee"), ("p2", "mentee_to_mentor")]
    assert mailbox.message_ids() == [first["Message-ID"], ask["Message-ID"], later["Message-ID"]]
    assert mailbox.last_uid() == 3


def test_move_puts_logged_copies_in_the_named_folder_and_leaves_questions(mailbox: Mailbox) -> None:
    logged = contact("ana@example.org", "ben@example.net")
    ask = question()
    mailbox.append(logged, ask)
    with mailbox.watching(after_logging="move:Logged") as watcher:
        wait_until(watcher.caught_up.is_set)
        wait_until(lambda: mailbox.message_ids() == [ask["Message-ID"]])
        later = contact("ben@example.net", "ana@example.org")
        mailbox.append(later)
        wait_until(lambda: mailbox.message_ids("Logged") == [logged["Message-ID"], later["Message-ID"]])
    assert mailbox.message_ids() == [ask["Message-ID"]]
    assert mailbox.contact_count() == 2


# --- never double-count, never lose ---------------------------------------------------------


def test_the_same_message_twice_counts_once_and_both_copies_go(mailbox: Mailbox) -> None:
    twice = contact("dev@example.org", "eve@example.com")
    mailbox.append(twice, twice)
    with mailbox.watching() as watcher:
        wait_until(watcher.caught_up.is_set)
        wait_until(lambda: mailbox.message_ids() == [])
        mailbox.append(twice)  # a third copy, arriving while idle
        wait_until(lambda: mailbox.last_uid() == 3)
        wait_until(lambda: mailbox.message_ids() == [])
    assert mailbox.contacts() == [("p3", "mentor_to_mentee")]


def test_a_kept_question_survives_restarts_though_it_is_read_again(
    mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    # The start-of-session sweep re-reads what is left in the folder; a question comes back as
    # a duplicate of itself, and must stay for the coordinator all the same.
    kept = [question(), stranger()]
    mailbox.append(*kept)
    with caplog.at_level(logging.INFO, logger="mentormail"):
        for _ in range(2):
            with mailbox.watching() as watcher:
                wait_until(watcher.caught_up.is_set)
            assert mailbox.message_ids() == [m["Message-ID"] for m in kept]
    assert "duplicate via imap" in caplog.text  # the second start did read the question again
    # A stranger writing to the program asks a question too (issue 10).
    assert mailbox.records() == [("question", "ana@example.org"), ("question", STRANGER)]


def test_a_copy_left_behind_by_a_crash_is_swept_at_the_next_start(mailbox: Mailbox) -> None:
    # Simulate a crash between the commit and the removal: the message is logged (by the same
    # intake, with its checkpoint) but still in the folder.
    left = contact("ana@example.org", "ben@example.net")
    ask = question()
    mailbox.append(left, ask)
    with mailbox.watching(after_logging="keep") as watcher:
        wait_until(watcher.caught_up.is_set)
    assert mailbox.contact_count() == 1 and mailbox.checkpoint() is not None
    with mailbox.watching(after_logging="delete") as watcher:
        wait_until(watcher.caught_up.is_set)
        wait_until(lambda: mailbox.message_ids() == [ask["Message-ID"]])
    assert mailbox.contact_count() == 1


def test_uidvalidity_change_loses_nothing_and_counts_nothing_twice(mailbox: Mailbox) -> None:
    folder = "Program"
    with mailbox.client() as client:
        client.create_folder(folder)
    a = contact("ana@example.org", "ben@example.net")
    b = contact("ben@example.net", "ana@example.org")
    mailbox.append(a, b, folder=folder)
    # Dovecot does not end the session when the selected folder is deleted: it sends a "* NO"
    # during IDLE and goes on showing the old UIDs until the folder is selected again.
    with mailbox.watching(after_logging="keep", folder=folder) as watcher:
        wait_until(watcher.caught_up.is_set)
        wait_until(lambda: mailbox.contact_count() == 2)
        before = mailbox.checkpoint(folder)
        assert before is not None and before[1] == 2
        # The folder is deleted and made again under the running watcher (a restore, a server
        # migration): UIDs start over. The new message gets UID 1, below the old checkpoint.
        c = contact("dev@example.org", "eve@example.com")
        with mailbox.client() as client:
            client.delete_folder(folder)
            client.create_folder(folder)
            client.multiappend(folder, [_bytes(c), _bytes(a), _bytes(b)])
        wait_until(lambda: (now := mailbox.checkpoint(folder)) is not None and now[0] != before[0] and now[1] == 3)
        wait_until(watcher.caught_up.is_set)
    assert mailbox.contacts() == [("p1", "mentor_to_mentee"), ("p1", "mentee_to_mentor"), ("p3", "mentor_to_mentee")]
    assert mailbox.message_ids(folder) == [c["Message-ID"], a["Message-ID"], b["Message-ID"]]


@pytest.mark.sqlite
def test_a_store_failure_keeps_the_message_and_it_is_retried(
    mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    messages = [contact("ana@example.org", "ben@example.net") for _ in range(3)]
    mailbox.append(*messages)
    # The store refuses the second contact, as a full disk would: a real failure of SQLite's,
    # inside the batch that holds all three messages.
    with closing(sqlite3.connect(mailbox.database)) as db:
        db.execute(
            "CREATE TRIGGER refuse_second BEFORE INSERT ON contactevent"
            " WHEN (SELECT count(*) FROM contactevent) >= 1 BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    with caplog.at_level(logging.INFO, logger="mentormail"):
        with mailbox.watching() as watcher:
            wait_until(lambda: "could not record UID 2" in caplog.text)
            # The first message was committed and removed; the one that failed and the one
            # after it are still there, and the checkpoint has not moved past the first.
            wait_until(lambda: mailbox.message_ids() == [m["Message-ID"] for m in messages[1:]])
            assert mailbox.last_uid() == 1
            assert mailbox.contact_count() == 1
            with closing(sqlite3.connect(mailbox.database)) as db:
                db.execute("DROP TRIGGER refuse_second")
            # The retry (after the backoff) logs the rest.
            wait_until(watcher.caught_up.is_set)
            wait_until(lambda: mailbox.message_ids() == [])
    assert mailbox.contact_count() == 3
    assert mailbox.last_uid() == 3
    assert "disk full" not in caplog.text  # exceptions are logged by class and place only


@pytest.mark.sqlite
def test_catch_up_commits_a_batch_at_a_time_with_its_checkpoint(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imap, "BATCH_SIZE", 4)
    mailbox.append(*[contact("dev@example.org", "eve@example.com") for _ in range(10)])
    # The database's own record of every checkpoint write, and of how many contacts each saw
    # committed with it.
    with closing(sqlite3.connect(mailbox.database)) as db:
        db.executescript(
            """
            CREATE TABLE checkpoint_write (last_uid INTEGER, contacts INTEGER);
            CREATE TRIGGER checkpoint_inserted AFTER INSERT ON imapcheckpoint BEGIN
                INSERT INTO checkpoint_write SELECT NEW.last_uid, count(*) FROM contactevent; END;
            CREATE TRIGGER checkpoint_updated AFTER UPDATE ON imapcheckpoint BEGIN
                INSERT INTO checkpoint_write SELECT NEW.last_uid, count(*) FROM contactevent; END;
            """
        )
    with mailbox.watching() as watcher:
        wait_until(watcher.caught_up.is_set)
        wait_until(lambda: mailbox.message_ids() == [])
    with closing(sqlite3.connect(mailbox.database)) as db:
        writes = db.execute("SELECT last_uid, contacts FROM checkpoint_write ORDER BY rowid").fetchall()
    # One write per batch of four (not per message), each in the transaction of its batch's events.
    assert writes == [(4, 4), (8, 8), (10, 10)]
    assert mailbox.contact_count() == 10


@pytest.mark.sqlite
def test_a_batch_whose_commit_fails_stores_nothing_and_is_read_again(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(imap, "BATCH_SIZE", 4)
    mailbox.append(*[contact("dev@example.org", "eve@example.com") for _ in range(10)])
    # From the fifth contact on, every transaction breaks a deferred foreign key: SQLite refuses
    # its COMMIT (the statements themselves succeed), as when the disk fills at the commit.
    with closing(sqlite3.connect(mailbox.database)) as db:
        db.executescript(breaks_commits_after(4))
    with caplog.at_level(logging.INFO, logger="mentormail"):
        with mailbox.watching(after_logging="keep") as watcher:
            wait_until(lambda: "could not record UID 5" in caplog.text)
            # The first batch is in, with its checkpoint; nothing of the second.
            assert mailbox.contact_count() == 4 and mailbox.last_uid() == 4
            with closing(sqlite3.connect(mailbox.database)) as db:
                db.execute("DROP TRIGGER break_commit")
            wait_until(watcher.caught_up.is_set)
            wait_until(lambda: mailbox.last_uid() == 10)
    assert mailbox.contact_count() == 10  # nothing counted twice


def breaks_commits_after(contacts: int) -> str:
    """SQL that makes every later transaction with a contact fail at COMMIT (and only there)."""
    return f"""
        CREATE TABLE commit_guard (id INTEGER PRIMARY KEY);
        CREATE TABLE commit_breaker (
            guard INTEGER REFERENCES commit_guard (id) DEFERRABLE INITIALLY DEFERRED);
        CREATE TRIGGER break_commit AFTER INSERT ON contactevent
            WHEN (SELECT count(*) FROM contactevent) > {contacts}
            BEGIN INSERT INTO commit_breaker VALUES (-1); END;
    """


# --- confidentiality -----------------------------------------------------------------------


def test_partner_mail_is_read_by_its_header_only(mailbox: Mailbox, caplog: pytest.LogCaptureFixture) -> None:
    canary = "CANARY-7f3a9c1e-imap"
    private = contact(
        "ana@example.org",
        "ben@example.net",
        subject=f"About your offer {canary}-subject",
        body=f"My salary is {canary}-body.\n",
        attachment_name=f"{canary}-attachment.pdf",
    )
    bcc = message("ben@example.net", ["ana@example.org"], subject=f"Re {canary}-bcc", body=f"{canary}-bcc-body\n")
    mailbox.append(private, bcc)
    with caplog.at_level(logging.DEBUG, logger="mentormail"):
        with mailbox.watching(after_logging="keep") as watcher:
            wait_until(watcher.caught_up.is_set)
            wait_until(lambda: mailbox.contact_count() == 2)
    assert mailbox.contacts() == [("p1", "mentor_to_mentee"), ("p1", "mentee_to_mentor")]
    mailbox.store.close()  # everything on disk, nothing held in a connection

    # The server's own account of the sessions (written at logout): headers fetched, no body.
    wait_until(lambda: any(headers >= 2 for headers, _ in fetch_counts(mailbox)))
    assert all(bodies == 0 for _, bodies in fetch_counts(mailbox)), fetch_counts(mailbox)
    # Nor was anything marked read.
    assert all(b"\\Seen" not in flags for flags in mailbox.flags())
    # And no canary anywhere the daemon writes: the database (with its WAL) and the logs.
    if postgres_server.on_postgresql():
        url = mailbox.store.engine.url.render_as_string(hide_password=False)
        stored = postgres_server.cluster().dump(url)
        assert "ana@example.org" in stored and canary not in stored
    else:
        files = list(mailbox.database.parent.glob(mailbox.database.name + "*"))
        assert mailbox.database in files
        for path in files:
            assert canary.encode() not in path.read_bytes(), path.name
    assert canary not in caplog.text


def test_a_handled_reply_is_removed_but_a_spoofing_attempt_stays(mailbox: Mailbox) -> None:
    call = message("eve@example.com", [PROGRAM_ADDRESS], subject="call", body="phone call 30 min today\n")
    forged = message(
        "ben@example.net", ["mentoring+abcdefghijklmnopqrstuvwxyz234567abcdefghij@example.org"], body="1. 5\n"
    )
    mailbox.append(call, forged)
    with mailbox.watching() as watcher:
        wait_until(watcher.caught_up.is_set)
        wait_until(lambda: mailbox.message_ids() == [forged["Message-ID"]])
    assert sorted(outcome for outcome, _ in mailbox.records()) == ["self_report", "spoofed"]
