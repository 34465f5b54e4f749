"""Rosters as spreadsheets save them (issue 12, part 4), through `mentormail import-roster`.

Each file is written with the csv module in the dialect and encoding the program saves in:
Excel's "CSV UTF-8" (a BOM, commas, CRLF), Excel's plain "CSV" where the locale uses a decimal comma
(semicolons, Windows-1252), Excel's "Unicode Text" (UTF-16 with a BOM, tabs), LibreOffice's "Text
CSV" (UTF-8, commas, every field quoted), Google Sheets' download (UTF-8, commas, LF), and a
Latin-1 file from an older tool. Every bad line is reported at once; extra columns are ignored with
a warning.
"""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest
from conftest import Program, free_port

COLUMNS = ["mentor_email", "mentor_name", "mentee_email", "mentee_name", "pair_id", "starts_on", "notes"]
ROWS = [
    ["jose@example.org", "José Núñez", "zoe@example.net", "Zoë Brontë", "s1", "2026-09-01", "met at the conference"],
    ["ines@example.org", "Inès Gaël", "bjorn@example.net", "Bjørn Ødegård", "s2", "2026-09-01", ""],
]
# name -> (encoding, csv writer options) as each program saves
SAVED_BY = {
    "excel_csv_utf8": ("utf-8-sig", {"delimiter": ",", "lineterminator": "\r\n"}),
    "excel_csv_semicolon_cp1252": ("cp1252", {"delimiter": ";", "lineterminator": "\r\n"}),
    "excel_unicode_text": ("utf-16", {"delimiter": "\t", "lineterminator": "\r\n"}),
    "libreoffice_text_csv": ("utf-8", {"delimiter": ",", "quoting": csv.QUOTE_ALL, "lineterminator": "\n"}),
    "google_sheets": ("utf-8", {"delimiter": ",", "lineterminator": "\n"}),
    "latin1_tab": ("latin-1", {"delimiter": "\t", "lineterminator": "\n"}),
}


def saved(rows: list[list[str]], encoding: str, options: dict) -> bytes:  # type: ignore[type-arg]
    text = io.StringIO()
    writer = csv.writer(text, **options)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def import_bytes(program: Program, data: bytes, name: str = "roster.csv") -> subprocess.CompletedProcess[str]:
    path = program.root / name
    path.write_bytes(data)
    return program.cli("import-roster", str(path), check=False)


def names(program: Program) -> dict[str, str]:
    return dict(program.sql("SELECT email, name FROM person WHERE NOT staff"))


@pytest.fixture
def empty_program(tmp_path: Path) -> Program:
    return Program(tmp_path, free_port())


@pytest.mark.parametrize("saved_by", SAVED_BY)
def test_a_roster_saved_by_a_spreadsheet_is_read_with_its_names_intact(empty_program: Program, saved_by: str) -> None:
    encoding, options = SAVED_BY[saved_by]
    result = import_bytes(empty_program, saved(ROWS, encoding, options))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(": 2 added, 0 updated, 0 unchanged")
    assert names(empty_program) == {
        "jose@example.org": "José Núñez",
        "zoe@example.net": "Zoë Brontë",
        "ines@example.org": "Inès Gaël",
        "bjorn@example.net": "Bjørn Ødegård",
    }
    warnings = [line for line in result.stderr.splitlines() if line]
    assert warnings[-1].startswith("mentormail: warning: ") and "ignored column 'notes'" in warnings[-1]
    guessed = encoding in ("cp1252", "latin-1")
    assert any("not UTF-8" in line for line in warnings) == guessed, warnings
    if guessed:
        assert "line 2 is the first that is not" in result.stderr and '"CSV UTF-8"' in result.stderr


def test_every_bad_line_is_reported_at_once_and_nothing_is_imported(empty_program: Program) -> None:
    rows = [
        ROWS[0],
        ["not-an-address", "X", "y@example.net", "Y", "s3", "2026-09-01", ""],
        ROWS[1],
        ["kim@example.org", "Kim", "lou@example.net", "Lou", "s4", "1 September", ""],
        ["kim@example.org", "Kim", "kim@example.org", "Kim", "s5", "2026-09-01", ""],
    ]
    result = import_bytes(empty_program, saved(rows, "utf-8", {"delimiter": ";"}))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    path = empty_program.root / "roster.csv"
    assert lines[0] == f"mentormail: {path}: 3 bad lines, nothing imported:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["line 3", "line 5", "line 6"]
    assert "'not-an-address' is not an email address" in lines[1]
    assert "starts_on: '1 September' is not a date" in lines[2]
    assert "cannot be paired with themselves" in lines[3]
    # Nothing imported: the file was refused before the store was opened (a SQLite file is not even made).
    if empty_program.on_sqlite:
        assert not empty_program.database.exists()
    else:
        assert names(empty_program) == {}


def test_many_bad_lines_are_listed_up_to_a_cap(empty_program: Program) -> None:
    rows = [[f"bad{n}", "X", f"y{n}@example.net", "Y", f"b{n}", "2026-09-01", ""] for n in range(80)]
    result = import_bytes(empty_program, saved(rows, "utf-8", {"delimiter": ","}))
    lines = result.stderr.strip().splitlines()
    assert lines[0].endswith("80 bad lines, nothing imported:")
    assert len(lines) == 1 + 50 + 1 and lines[-1].strip() == "... and 30 more"


def test_a_header_no_separator_splits_says_what_was_found(empty_program: Program) -> None:
    result = import_bytes(empty_program, b"mentor|mentee\nana@example.org|ben@example.net\n")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "line 1: no known column in the header (it begins 'mentor|mentee')" in line
    assert "commas, semicolons or tabs" in line


def test_a_workbook_instead_of_csv_says_how_to_save_it(empty_program: Program) -> None:
    result = import_bytes(empty_program, b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), "roster.xlsx")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "spreadsheet workbook" in line and "CSV UTF-8" in line
