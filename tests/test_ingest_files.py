"""`mentormail ingest`: messages from an MTA pipe (stdin), files, a Maildir or an mbox.

What a user relies on: every message is counted once (the same message twice is a duplicate),
unreadable input is exit 1 in one line, and a store failure is exit 75 (EX_TEMPFAIL) with
nothing recorded, so that the MTA keeps the message and the retry counts it.
"""

from __future__ import annotations

import mailbox
import subprocess
from email.message import EmailMessage
from pathlib import Path

from conftest import PROGRAM_ADDRESS, Program, message

EX_TEMPFAIL = 75


def cc(sender: str, partner: str, **kwargs: object) -> EmailMessage:
    return message(sender, [partner], [PROGRAM_ADDRESS], **kwargs)  # type: ignore[arg-type]


def save(program: Program, msg: EmailMessage, name: str) -> Path:
    path = program.root / name
    path.write_bytes(msg.as_bytes())
    return path


def ingest(program: Program, *paths: Path | str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return program.cli("ingest", *map(str, paths), stdin=stdin, check=False)


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stdout.rstrip("\n").split("\n") if result.stdout.strip() else []


def total(result: subprocess.CompletedProcess[str]) -> str | None:
    found = [line for line in lines(result) if line.startswith("total: ")]
    assert len(found) <= 1
    return found[0] if found else None


def one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    text = result.stderr.strip()
    assert text and "\n" not in text and "Traceback" not in text, result.stderr
    for fragment in fragments:
        assert fragment in text


NO_CONTACTS = {"p1": (0, 0), "p2": (0, 0), "p3": (0, 0)}


# --- standard input: an MTA pipe ----------------------------------------------------------------


def test_a_cc_copy_piped_on_stdin_is_counted(program: Program) -> None:
    result = ingest(program, "-", stdin=cc("Ana Álvarez <ana@example.org>", "ben@example.net").as_bytes())

    assert result.returncode == 0, result.stderr
    assert lines(result) == [lines(result)[0]] and lines(result)[0].startswith("<stdin>: contact: ")
    assert total(result) is None  # one message: no total line
    assert program.contacts() == {**NO_CONTACTS, "p1": (1, 0)}


def test_a_bcc_copy_piped_on_stdin_is_counted(program: Program) -> None:
    result = ingest(program, "-", stdin=message("eve@example.com", ["dev@example.org"]).as_bytes())

    assert result.returncode == 0, result.stderr
    assert program.contacts()["p3"] == (0, 1)


def test_a_pipe_that_prepends_a_from_line_is_read(program: Program) -> None:
    """Postfix's pipe(8) with flags=F, and procmail, put an mbox "From " line first."""
    raw = b"From ana@example.org  Tue Sep  1 09:30:00 2026\n" + cc("ana@example.org", "cleo@example.net").as_bytes()

    result = ingest(program, "-", stdin=raw)

    assert result.returncode == 0, result.stderr
    assert program.contacts()["p2"] == (1, 0)


def test_the_same_message_piped_twice_is_counted_once(program: Program) -> None:
    raw = cc("dev@example.org", "eve@example.com").as_bytes()

    first = ingest(program, "-", stdin=raw)
    second = ingest(program, "-", stdin=raw)

    assert first.returncode == second.returncode == 0
    assert ": contact: " in first.stdout
    assert second.stdout.startswith("<stdin>: duplicate: ")
    assert program.contacts()["p3"] == (1, 0)


# --- files, Maildir, mbox ------------------------------------------------------------------------


def test_several_files_at_once_print_a_line_each_and_a_total(program: Program) -> None:
    paths = [
        save(program, cc("ana@example.org", "ben@example.net"), "1.eml"),
        save(program, cc("ben@example.net", "ana@example.org"), "2.eml"),
        save(program, message("cleo@example.net", [PROGRAM_ADDRESS]), "3.eml"),
        save(program, cc("stranger@elsewhere.example", "eve@example.com"), "4.eml"),
    ]

    result = ingest(program, *paths)

    assert result.returncode == 0, result.stderr
    out = lines(result)
    assert len(out) == 5
    for path, line in zip(paths, out):
        assert line.startswith(f"{path}: ")
    assert total(result) == "total: contact 2, question 1, unknown_sender 1"
    assert program.contacts() == {**NO_CONTACTS, "p1": (1, 1)}


def test_the_same_file_twice_in_one_run_is_counted_once(program: Program) -> None:
    path = save(program, cc("ana@example.org", "ben@example.net"), "a.eml")

    result = ingest(program, path, path)

    assert result.returncode == 0, result.stderr
    assert lines(result)[1].startswith(f"{path}: duplicate: ")
    assert total(result) == "total: contact 1, duplicate 1"
    assert program.contacts()["p1"] == (1, 0)


def test_the_same_file_in_two_runs_is_counted_once(program: Program) -> None:
    path = save(program, cc("ana@example.org", "ben@example.net"), "a.eml")

    ingest(program, path)
    again = ingest(program, path)

    assert again.returncode == 0
    assert again.stdout.startswith(f"{path}: duplicate: ")
    assert program.contacts()["p1"] == (1, 0)


def test_the_cc_and_bcc_copies_of_one_message_are_counted_once(program: Program) -> None:
    msg = cc("ana@example.org", "ben@example.net")
    bcc = message("ana@example.org", ["ben@example.net"], message_id=msg["Message-ID"])
    paths = [save(program, msg, "cc.eml"), save(program, bcc, "bcc.eml")]

    result = ingest(program, *paths)

    assert total(result) == "total: contact 1, duplicate 1"
    assert program.contacts()["p1"] == (1, 0)


def test_a_maildir_of_several_messages(program: Program) -> None:
    folder = program.root / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    box.add(cc("ana@example.org", "ben@example.net"))
    box.add(cc("ana@example.org", "cleo@example.net"))
    read = mailbox.MaildirMessage(cc("eve@example.com", "dev@example.org"))
    read.set_subdir("cur")  # already seen by a mail client: still a message of the folder
    box.add(read)
    box.add(message("ben@example.net", [PROGRAM_ADDRESS]))
    box.close()

    result = ingest(program, folder)

    assert result.returncode == 0, result.stderr
    assert total(result) == "total: contact 3, question 1"
    assert all(line.startswith(f"{folder}/") for line in lines(result)[:-1])
    assert program.contacts() == {"p1": (1, 0), "p2": (1, 0), "p3": (0, 1)}
    # the folder is left as it was
    assert len(mailbox.Maildir(folder, create=False)) == 4


def test_a_maildir_ingested_twice_counts_nothing_new(program: Program) -> None:
    folder = program.root / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    box.add(cc("ana@example.org", "ben@example.net"))
    box.add(cc("dev@example.org", "eve@example.com"))
    box.close()

    ingest(program, folder)
    again = ingest(program, folder)

    assert total(again) == "total: duplicate 2"
    assert program.contacts() == {"p1": (1, 0), "p2": (0, 0), "p3": (1, 0)}


def test_an_empty_maildir_counts_nothing(program: Program) -> None:
    folder = program.root / "Maildir"
    mailbox.Maildir(folder, create=True).close()

    result = ingest(program, folder)

    assert result.returncode == 0, result.stderr
    assert program.contacts() == NO_CONTACTS


def test_an_mbox_file(program: Program) -> None:
    path = program.root / "archive.mbox"
    box = mailbox.mbox(path)
    box.add(cc("ana@example.org", "ben@example.net", body="From the start, I think...\n"))
    box.add(cc("cleo@example.net", "ana@example.org"))
    box.add(cc("eve@example.com", "dev@example.org"))
    box.close()

    result = ingest(program, path)

    assert result.returncode == 0, result.stderr
    assert [line.split(": ")[0] for line in lines(result)[:-1]] == [f"{path}#1", f"{path}#2", f"{path}#3"]
    assert total(result) == "total: contact 3"
    assert program.contacts() == {"p1": (1, 0), "p2": (0, 1), "p3": (0, 1)}


def test_files_maildirs_and_mboxes_mixed_in_one_run(program: Program) -> None:
    folder = program.root / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    box.add(cc("ana@example.org", "ben@example.net"))
    box.close()
    mbox_path = program.root / "archive.mbox"
    mbox = mailbox.mbox(mbox_path)
    mbox.add(cc("ben@example.net", "ana@example.org"))
    mbox.close()
    single = save(program, cc("dev@example.org", "eve@example.com"), "one.eml")

    result = ingest(program, folder, mbox_path, single)

    assert total(result) == "total: contact 3"
    assert program.contacts() == {"p1": (1, 1), "p2": (0, 0), "p3": (1, 0)}


# --- unreadable input: exit 1, one line ------------------------------------------------------------


def test_a_folder_that_is_not_a_maildir_is_a_user_error(program: Program) -> None:
    folder = program.root / "not-a-maildir"
    folder.mkdir()
    (folder / "a.eml").write_bytes(cc("ana@example.org", "ben@example.net").as_bytes())

    result = ingest(program, folder)

    one_line_error(result, str(folder), "Maildir")
    assert program.contacts() == NO_CONTACTS


def test_a_missing_file_is_a_user_error(program: Program) -> None:
    missing = program.root / "missing.eml"

    result = ingest(program, missing)

    one_line_error(result, str(missing))
    assert program.contacts() == NO_CONTACTS


def test_no_file_at_all_is_a_usage_error(program: Program) -> None:
    assert program.cli("ingest", check=False).returncode == 2


# --- a store failure: exit 75, nothing recorded, the retry counts ---------------------------------


def test_a_store_failure_is_a_temporary_failure_and_the_retry_counts(program: Program) -> None:
    raw = cc("ana@example.org", "ben@example.net").as_bytes()
    program.sql("ALTER TABLE contactevent RENAME TO contactevent_away")

    failed = ingest(program, "-", stdin=raw)

    assert failed.returncode == EX_TEMPFAIL, (failed.returncode, failed.stdout, failed.stderr)
    assert "<stdin>" in failed.stderr and "not recorded" in failed.stderr
    assert ": contact: " not in failed.stdout
    assert "Traceback" not in failed.stderr

    program.sql("ALTER TABLE contactevent_away RENAME TO contactevent")
    assert program.contacts() == NO_CONTACTS  # nothing was counted

    retried = ingest(program, "-", stdin=raw)

    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.startswith("<stdin>: contact: ")
    assert program.contacts() == {**NO_CONTACTS, "p1": (1, 0)}


def test_a_store_failure_from_a_file_is_exit_75_and_names_it(program: Program) -> None:
    path = save(program, message("ben@example.net", [PROGRAM_ADDRESS]), "question.eml")
    program.sql("ALTER TABLE intakerecord RENAME TO intakerecord_away")

    failed = ingest(program, path)

    assert failed.returncode == EX_TEMPFAIL
    assert str(path) in failed.stderr

    program.sql("ALTER TABLE intakerecord_away RENAME TO intakerecord")
    retried = ingest(program, path)
    assert retried.returncode == 0
    assert retried.stdout.startswith(f"{path}: question: ")  # not "duplicate": nothing was kept
