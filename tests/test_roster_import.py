"""`mentormail import-roster FILE.csv` as a coordinator uses it (DESIGN.md section 6).

Idempotent; adds or updates people and pairs; a bad line is exit 1 with one line naming the file
and the line, and nothing from that file is applied. Every test goes through the real CLI and
looks at the result the way a user would: the command's output and `status --json` (names,
which status does not show, are read from the database).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import ROSTER_CSV, Program, free_port

HEADER = "mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on\n"
# A valid new pair, used as line 2 before a bad line 3.
NEW_PAIR = "fay@example.org,Fay Fischer,gus@example.net,Gus Grant,p4,2026-09-01\n"


def write(program: Program, text: str, name: str = "more.csv") -> Path:
    path = program.root / name
    path.write_text(text, encoding="utf-8")
    return path


def import_roster(program: Program, path: Path) -> subprocess.CompletedProcess[str]:
    return program.cli("import-roster", str(path), check=False)


def summary(result: subprocess.CompletedProcess[str]) -> str:
    """The counts part of the one-line summary: "0 added, 0 updated, 3 unchanged"."""
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert "\n" not in line
    return line.split(": ", 1)[1]


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    message = result.stderr.strip()
    assert message, "no error message"
    assert "\n" not in message, f"more than one line:\n{result.stderr}"
    assert "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def names(program: Program) -> dict[str, str]:
    """email -> name of the participants, as stored (status does not show names). The staff
    (coordinators, liaison) are people too, but not the roster's."""
    return dict(program.sql("SELECT email, name FROM person WHERE NOT staff"))


@pytest.fixture
def empty_program(tmp_path: Path) -> Program:
    """A program whose roster has not been imported yet."""
    return Program(tmp_path, free_port())


# --- what a successful import does -----------------------------------------------------------


def test_first_import_adds_every_pair(empty_program: Program) -> None:
    result = import_roster(empty_program, empty_program.root / "roster.csv")

    assert summary(result) == "3 added, 0 updated, 0 unchanged"
    assert result.stdout.startswith(str(empty_program.root / "roster.csv") + ": ")
    assert set(empty_program.status()) == {"p1", "p2", "p3"}


def test_importing_the_same_roster_twice_changes_nothing(program: Program) -> None:
    before = program.status()
    names_before = names(program)

    result = import_roster(program, program.root / "roster.csv")

    assert summary(result) == "0 added, 0 updated, 3 unchanged"
    assert program.status() == before
    assert names(program) == names_before


def test_a_changed_name_counts_as_updated_and_is_stored(program: Program) -> None:
    changed = ROSTER_CSV.replace("Eve Cohen", "Eve Cohen-Levi")

    result = import_roster(program, write(program, changed))

    assert summary(result) == "0 added, 1 updated, 2 unchanged"
    assert names(program)["eve@example.com"] == "Eve Cohen-Levi"
    # and a second import of the changed file is a no-op again
    assert summary(import_roster(program, program.root / "more.csv")) == "0 added, 0 updated, 3 unchanged"


def test_a_changed_start_date_counts_as_updated_and_shows_in_status(program: Program) -> None:
    changed = ROSTER_CSV.replace("p3,2026-09-01", "p3,2026-10-01")

    result = import_roster(program, write(program, changed))

    assert summary(result) == "0 added, 1 updated, 2 unchanged"
    assert program.status()["p3"]["started_on"] == "2026-10-01"
    assert program.status()["p1"]["started_on"] == "2026-09-01"


def test_counts_added_updated_and_unchanged_in_one_file(program: Program) -> None:
    text = (
        HEADER
        + "ana@example.org,Ana Álvarez,ben@example.net,Ben O'Brien,p1,2026-09-01\n"  # unchanged
        + "dev@example.org,Dev Patel,eve@example.com,Eve C.,p3,2026-09-01\n"  # updated (name)
        + NEW_PAIR  # added
    )

    result = import_roster(program, write(program, text))

    assert summary(result) == "1 added, 1 updated, 1 unchanged"
    status = program.status()
    assert set(status) == {"p1", "p2", "p3", "p4"}
    assert (status["p4"]["mentor"], status["p4"]["mentee"]) == ("fay@example.org", "gus@example.net")


def test_a_mentor_with_two_mentees_has_two_pairs(empty_program: Program) -> None:
    text = (
        HEADER
        + "hal@example.org,Hal Hughes,ida@example.net,Ida Ito,,\n"
        + "hal@example.org,Hal Hughes,jon@example.net,Jon Jones,,\n"
    )

    assert summary(import_roster(empty_program, write(empty_program, text))) == "2 added, 0 updated, 0 unchanged"

    pairs = empty_program.status().values()
    assert sorted((p["mentor"], p["mentee"]) for p in pairs) == [
        ("hal@example.org", "ida@example.net"),
        ("hal@example.org", "jon@example.net"),
    ]
    assert len(names(empty_program)) == 3  # Hal is one person


def test_a_pair_without_pair_id_gets_a_number_and_keeps_it(program: Program) -> None:
    text = (
        "mentor_email,mentor_name,mentee_email,mentee_name\n"
        "fay@example.org,Fay Fischer,gus@example.net,Gus Grant\n"
        "hal@example.org,Hal Hughes,ida@example.net,Ida Ito\n"
    )
    path = write(program, text)

    assert summary(import_roster(program, path)) == "2 added, 0 updated, 0 unchanged"
    status = program.status()
    assert (status["1"]["mentor"], status["1"]["mentee"]) == ("fay@example.org", "gus@example.net")
    assert (status["2"]["mentor"], status["2"]["mentee"]) == ("hal@example.org", "ida@example.net")
    # The pair is found again by its people, not given a new number.
    assert summary(import_roster(program, path)) == "0 added, 0 updated, 2 unchanged"
    assert set(program.status()) == {"p1", "p2", "p3", "1", "2"}


def test_a_pair_without_starts_on_starts_with_the_program(empty_program: Program) -> None:
    text = "mentor_email,mentor_name,mentee_email,mentee_name\nfay@example.org,Fay,gus@example.net,Gus\n"

    import_roster(empty_program, write(empty_program, text))

    assert empty_program.status()["1"]["started_on"] == "2026-09-01"  # [program] starts_on


def test_address_case_and_spaces_do_not_make_new_people(program: Program) -> None:
    text = HEADER + " ANA@Example.ORG , Ana Álvarez , Ben@EXAMPLE.net , Ben O'Brien , p1 , 2026-09-01\n"

    assert summary(import_roster(program, write(program, text))) == "0 added, 0 updated, 1 unchanged"
    assert len(names(program)) == 5


def test_a_file_with_a_byte_order_mark_imports(empty_program: Program) -> None:
    path = empty_program.root / "excel.csv"
    path.write_bytes("\ufeff".encode() + ROSTER_CSV.encode())

    assert summary(import_roster(empty_program, path)) == "3 added, 0 updated, 0 unchanged"


# --- bad lines: exit 1, one line naming the file and the line, nothing applied ------------------

BAD_LINES = {
    "missing_address": ("dev@example.org,Dev Patel,,Nobody,p5,2026-09-01\n", "mentee_email: missing"),
    "invalid_address": ("dev@example.org,Dev Patel,not-an-address,Nobody,p5,2026-09-01\n", "not-an-address"),
    "invalid_mentor_address": ("dev@@example.org,Dev Patel,kim@example.net,Kim,p5,2026-09-01\n", "mentor_email"),
    "paired_with_themselves": ("kim@example.net,Kim,KIM@example.net,Kim,p5,2026-09-01\n", "themselves"),
    "bad_starts_on": ("kim@example.org,Kim,lou@example.net,Lou,p5,2026-13-45\n", "starts_on"),
    "starts_on_not_a_date": ("kim@example.org,Kim,lou@example.net,Lou,p5,next monday\n", "starts_on"),
    "bad_pair_id": ("kim@example.org,Kim,lou@example.net,Lou,pair 5!,2026-09-01\n", "pair_id"),
    "duplicate_pair": (NEW_PAIR.replace(",p4,", ",p9,"), "line 2"),
    "duplicate_pair_id": ("kim@example.org,Kim,lou@example.net,Lou,p4,2026-09-01\n", "pair_id"),
    "too_many_fields": ("kim@example.org,Kim,lou@example.net,Lou,p5,2026-09-01,extra\n", "fields"),
    "mentee_who_is_a_mentor_in_the_file": ("gus@example.net,Gus Grant,mo@example.net,Mo,p5,\n", "mentor"),
    # A name is written into mail headers: a line break in it would add a header of its own.
    "header_injection_in_a_name": (
        'kim@example.org,"Evil\r\nBcc: attacker@evil.example",lou@example.net,Lou,p5,\n',
        "mentor_name: contains a control character (U+000D)",
    ),
    "nul_in_a_name": (
        "kim@example.org,Kim,lou@example.net,Lou\x00,p5,\n",
        "mentee_name: contains a control character (U+0000)",
    ),
    "line_separator_in_a_name": ("kim@example.org,Ki\u2028m,lou@example.net,Lou,p5,\n", "U+2028"),
}


@pytest.mark.parametrize("bad_line", list(BAD_LINES.values()), ids=list(BAD_LINES))
def test_a_bad_line_is_named_and_nothing_from_the_file_is_applied(program: Program, bad_line: tuple[str, str]) -> None:
    line, fragment = bad_line
    before = program.status()
    path = write(program, HEADER + NEW_PAIR + line)

    result = import_roster(program, path)

    error = assert_one_line_error(result, str(path), fragment)
    # the mentee_who_is_a_mentor case names line 2 too; the bad line itself is line 3
    assert ": line 3:" in error or ": line 2:" in error and "line 3" in error
    assert result.stdout == ""
    assert program.status() == before  # line 2's pair p4 is not there
    assert "fay@example.org" not in names(program)


def test_a_bad_line_after_blank_lines_is_named_by_the_line_it_is_on(program: Program) -> None:
    """Spreadsheets save empty rows as blank or comma-only lines; csv skips them, the message
    must still name the line the coordinator sees in an editor."""
    path = write(program, HEADER + NEW_PAIR + "\n,,,,,\n\n" + BAD_LINES["bad_starts_on"][0])

    assert_one_line_error(import_roster(program, path), f"{path}: line 6: starts_on")


@pytest.mark.parametrize(
    "header, fragment",
    [
        ("mentor_email,mentor_name,mentee_mail,mentee_name,pair_id,starts_on\n", "'mentee_mail' it, misspelt?"),
        ("mentor_email,mentor_name,mentee_email,pair_id,starts_on\n", "missing column 'mentee_name'"),
    ],
    ids=["misspelt_column", "missing_column"],
)
def test_a_bad_header_line_is_named_as_line_1(program: Program, header: str, fragment: str) -> None:
    before = program.status()
    path = write(program, header + NEW_PAIR)

    result = import_roster(program, path)

    assert_one_line_error(result, f"{path}: line 1:", fragment)
    assert program.status() == before


def test_an_empty_file_is_a_one_line_error(program: Program) -> None:
    path = write(program, "")

    assert_one_line_error(import_roster(program, path), f"{path}: line 1:")


def test_a_pair_id_taken_by_another_pair_in_the_store_applies_nothing(program: Program) -> None:
    """This error is found while applying, after line 2 was written: the transaction rolls back."""
    before = program.status()
    names_before = names(program)
    text = (
        HEADER
        + "ana@example.org,Ana Renamed,ben@example.net,Ben O'Brien,p1,2026-09-01\n"  # an update
        + NEW_PAIR
        + "kim@example.org,Kim,lou@example.net,Lou,p1,2026-09-01\n"  # p1 is Ana and Ben's
    )
    path = write(program, text)

    result = import_roster(program, path)

    assert_one_line_error(result, f"{path}: line 4:", "p1")
    assert program.status() == before
    assert names(program) == names_before  # Ana's new name was not kept, Fay and Kim not added


def test_an_existing_pair_under_another_pair_id_applies_nothing(program: Program) -> None:
    before = program.status()
    text = HEADER + NEW_PAIR + "ana@example.org,Ana Álvarez,ben@example.net,Ben O'Brien,other,2026-09-01\n"
    path = write(program, text)

    result = import_roster(program, path)

    assert_one_line_error(result, f"{path}: line 3:", "'p1'")
    assert program.status() == before
    assert "fay@example.org" not in names(program)


def test_a_mentor_in_the_store_cannot_become_a_mentee_in_a_later_file(program: Program) -> None:
    """One person, one role (parsers/roster_csv.py `_check_roles`), across imports too: Ana
    mentors Ben and Cleo, so a second file must not make her someone's mentee."""
    before = program.status()
    path = write(program, HEADER + "zed@example.org,Zed Zimmer,ana@example.org,Ana Álvarez,p7,2026-09-01\n")

    result = import_roster(program, path)

    assert_one_line_error(result, f"{path}: line 2:", "ana@example.org")
    assert program.status() == before


# --- files that cannot be read -----------------------------------------------------------------


def test_a_missing_file_is_a_one_line_error(program: Program) -> None:
    path = program.root / "no-such-roster.csv"

    assert_one_line_error(import_roster(program, path), str(path), "cannot read")


def test_a_folder_instead_of_a_file_is_a_one_line_error(program: Program) -> None:
    folder = program.root / "rosters"
    folder.mkdir()

    assert_one_line_error(import_roster(program, folder), str(folder))


# --- consistency of a file with itself and with the store ---------------------------------------


def test_an_automatic_number_does_not_take_a_pair_id_claimed_later_in_the_file(empty_program: Program) -> None:
    """Line 2 has no pair_id and line 3 asks for pair_id 1: the file is consistent, so line 3
    gets "1" and line 2 another number, instead of line 3 failing because line 2 took "1"."""
    text = (
        "mentor_email,mentor_name,mentee_email,mentee_name,pair_id\n"
        "fay@example.org,Fay Fischer,gus@example.net,Gus Grant,\n"
        "hal@example.org,Hal Hughes,ida@example.net,Ida Ito,1\n"
    )

    result = import_roster(empty_program, write(empty_program, text))

    assert summary(result) == "2 added, 0 updated, 0 unchanged"
    status = empty_program.status()
    assert status["1"]["mentor"] == "hal@example.org"
    assert [p["mentor"] for pid, p in status.items() if pid != "1"] == ["fay@example.org"]


def test_a_person_named_two_ways_in_one_file_is_an_error_or_imports_idempotently(program: Program) -> None:
    """Ana's rows disagree on her name. Either the file is refused (naming the line), or
    importing it twice must change nothing the second time: never "updated" on every import."""
    text = (
        HEADER
        + "ana@example.org,Ana Álvarez,ben@example.net,Ben O'Brien,p1,2026-09-01\n"
        + "ana@example.org,Ana Alvarez,cleo@example.net,Cléo Martin,p2,2026-09-01\n"
    )
    path = write(program, text)

    first = import_roster(program, path)

    if first.returncode == 1:
        assert_one_line_error(first, f"{path}: line 3:", "ana@example.org")
    else:
        assert summary(import_roster(program, path)) == "0 added, 0 updated, 2 unchanged"


def test_an_alias_that_is_another_participants_address_is_refused(program: Program) -> None:
    """Dev's alias must not be Ben's address: Ben's mail to Ana would then be taken as Dev's,
    and their contact would no longer be counted."""
    before = program.status()
    path = write(
        program,
        "mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on,mentor_aliases\n"
        "dev@example.org,Dev Patel,eve@example.com,Eve Cohen,p3,2026-09-01,dev@home.example ben@example.net\n",
    )

    result = import_roster(program, path)

    assert_one_line_error(result, f"{path}: line 2:", "ben@example.net")
    assert program.status() == before
    mail = program.root / "ben-to-ana.eml"
    mail.write_bytes(b"From: ben@example.net\r\nTo: ana@example.org\r\nCc: mentoring@example.org\r\n\r\nhi\r\n")
    assert '"outcome": "contact"' in program.cli("explain", str(mail), "--json").stdout


def test_an_alias_used_by_two_people_in_one_file_is_refused(empty_program: Program) -> None:
    path = write(
        empty_program,
        "mentor_email,mentor_name,mentee_email,mentee_name,mentor_aliases,mentee_aliases\n"
        "fay@example.org,Fay,gus@example.net,Gus,shared@example.org,\n"
        "hal@example.org,Hal,ida@example.net,Ida,,shared@example.org\n",
    )

    result = import_roster(empty_program, path)

    assert_one_line_error(result, f"{path}: line 3:", "shared@example.org")
    assert empty_program.status() == {}
