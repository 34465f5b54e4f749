"""The roster file: bytes as a spreadsheet saved them in, validated rows out, or every bad line named.

Pure. The whole file is checked before anything is applied, so a bad line leaves the store as it
was (nothing half-imported), and every bad line is reported at once (up to `MAX_REPORTED`), each
with its line number, so that a coordinator fixes the file in one go.

Spreadsheets save CSV in more ways than one, and the file is read the way it was saved rather than
refused: the encoding (UTF-8 with or without a BOM, UTF-16 with a BOM as Excel's "Unicode Text";
else Windows-1252 as Excel's plain "CSV" in Western Europe, or Latin-1, each with a warning, since
a guess at an encoding can be wrong) and the separator (`,`, `;` where Excel's locale uses a
decimal comma, or tab), found from the header line: whichever of them splits it into the most
known column names. Columns the program does not know (a coordinator's `notes`) are ignored with
a warning naming them. The standard csv module reads the rows; only the choice of dialect is ours,
because csv.Sniffer guesses from letter frequencies and is easily fooled by a short file.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from .addresses import normalise

REQUIRED_COLUMNS = ("mentor_email", "mentor_name", "mentee_email", "mentee_name")
OPTIONAL_COLUMNS = ("pair_id", "starts_on", "mentor_aliases", "mentee_aliases")
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
SEPARATORS = (",", ";", "\t")
MAX_REPORTED = 50  # bad lines listed in one error; the rest are counted
_PAIR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Control characters (CR, LF, NUL, ...) and line or paragraph separators: a name goes into mail
# headers, where a line break would start a header of the writer's choosing (`Bcc: ...`).
_NOT_ONE_LINE = frozenset({"Cc", "Zl", "Zp"})


class RosterError(ValueError):
    """`str()` is the message: one line for one bad line ("roster.csv: line 4: mentee_email: 'x' is
    not an address"), else a first line counting them and one indented line for each."""


@dataclass(frozen=True)
class RosterRow:
    line: int
    mentor_email: str
    mentor_name: str
    mentee_email: str
    mentee_name: str
    pair_id: str | None
    starts_on: date | None
    mentor_aliases: tuple[str, ...]
    mentee_aliases: tuple[str, ...]


@dataclass(frozen=True)
class RosterFile:
    """The rows of a good roster file, and what the coordinator should know about how it was read."""

    rows: list[RosterRow]
    warnings: tuple[str, ...] = ()


def read_roster(data: bytes, filename: str) -> RosterFile:
    """A roster file's bytes, in whatever encoding and separator a spreadsheet saved them."""
    text, warnings = decode_roster(data, filename)
    parsed = parse_roster(text, filename)
    return RosterFile(parsed.rows, (*warnings, *parsed.warnings))


def decode_roster(data: bytes, filename: str) -> tuple[str, tuple[str, ...]]:
    """The file's text, and a warning when its encoding had to be guessed."""
    if data.startswith(b"PK\x03\x04"):
        raise RosterError(
            f"{filename}: this is a spreadsheet workbook (.xlsx or .ods), not CSV: save it as "
            "\"CSV UTF-8 (Comma delimited)\" (Excel) or \"Text CSV\" (LibreOffice) and import that file"
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), ()  # Excel's "Unicode Text": UTF-16 with a BOM, tab-separated
        except UnicodeDecodeError as exc:
            raise RosterError(f"{filename}: starts as UTF-16 text but byte {exc.start} is not") from None
    try:
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    line = data.count(b"\n", 0, first_bad) + 1
    for encoding, described in (("cp1252", "Windows-1252 (cp1252)"), ("latin-1", "Latin-1 (ISO-8859-1)")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, (
            f"{filename}: not UTF-8 (line {line} is the first that is not); read as {described}, as Excel's "
            "plain \"CSV\" saves it: check that accented names look right, or save as \"CSV UTF-8\" next time",
        )
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def parse_roster(text: str, filename: str) -> RosterFile:
    text = text.lstrip("\ufeff")
    separator = _separator(text, filename)
    reader = csv.DictReader(io.StringIO(text), delimiter=separator, skipinitialspace=True)
    columns = [c.strip() for c in reader.fieldnames or []]
    if not columns:
        raise RosterError(f"{filename}: line 1: the file is empty; expected a header line")
    warnings = _check_columns(columns, filename)
    problems: list[str] = []
    rows: list[RosterRow] = []
    seen_pair_ids: dict[str, int] = {}
    seen_pairs: dict[tuple[str, str], int] = {}
    previous_end = reader.line_num  # the header's last line
    lines = text.splitlines()  # once: per blank line it made a file of many blank lines quadratic
    for record in reader:
        # The line a record starts on: a quoted field may hold line breaks (refused below, but
        # named where the coordinator will look for it).
        line, previous_end = _start_line(lines, previous_end, reader.line_num), reader.line_num
        values = {
            k.strip(): (v or "").strip() for k, v in record.items() if k is not None and k.strip() in KNOWN_COLUMNS
        }
        if None in record:
            problems.append(f"{filename}: line {line}: more fields than the header has columns")
            continue
        if not any(values.values()):
            continue  # a blank line
        try:
            row = _row(values, line, filename)
        except RosterError as bad:
            problems.append(str(bad))
            continue
        key = (row.mentor_email, row.mentee_email)
        if key in seen_pairs:
            problems.append(f"{filename}: line {line}: the same pair as line {seen_pairs[key]}")
            continue
        seen_pairs[key] = line
        if row.pair_id is not None:
            if row.pair_id in seen_pair_ids:
                problems.append(
                    f"{filename}: line {line}: pair_id: {row.pair_id!r} is also used on line {seen_pair_ids[row.pair_id]}"
                )
                continue
            seen_pair_ids[row.pair_id] = line
        rows.append(row)
    problems += _check_roles(rows, filename)
    problems += _check_people_agree(rows, filename)
    if problems:
        raise RosterError(_report(problems, filename))
    return RosterFile(rows, warnings)


def _report(problems: list[str], filename: str) -> str:
    if len(problems) == 1:
        return problems[0]
    listed = [f"  {problem.removeprefix(filename + ': ')}" for problem in problems[:MAX_REPORTED]]
    if len(problems) > MAX_REPORTED:
        listed.append(f"  ... and {len(problems) - MAX_REPORTED} more")
    return "\n".join([f"{filename}: {len(problems)} bad lines, nothing imported:", *listed])


def _separator(text: str, filename: str) -> str:
    """The separator that splits the header line into the most known column names."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    if not header:
        raise RosterError(f"{filename}: line 1: the file is empty; expected a header line")

    def known(separator: str) -> int:
        cells = next(csv.reader([header], delimiter=separator))
        return sum(cell.strip() in KNOWN_COLUMNS for cell in cells)

    best = max(SEPARATORS, key=known)
    if known(best) == 0:
        found = next(csv.reader([header]))[0].strip()
        raise RosterError(
            f"{filename}: line 1: no known column in the header (it begins {found[:60]!r}); the first line "
            f"must name the columns, separated by commas, semicolons or tabs: {', '.join(KNOWN_COLUMNS)}"
        )
    return best


def _start_line(lines: list[str], previous_end: int, end: int) -> int:
    """The first line after `previous_end` that is not blank (csv skips blank lines silently)."""
    if end == previous_end + 1:
        return end
    start = previous_end + 1
    while start < end and not lines[start - 1].strip(" ,\t"):
        start += 1
    return start


def _check_columns(columns: list[str], filename: str) -> tuple[str, ...]:
    unknown = [column for column in columns if column not in KNOWN_COLUMNS]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        described = []
        for column in missing:
            close = difflib.get_close_matches(column, unknown, n=1, cutoff=0.7)
            described.append(f"{column!r}" + (f" (is {close[0]!r} it, misspelt?)" if close else ""))
        raise RosterError(f"{filename}: line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(described)}")
    if not unknown:
        return ()
    return (
        f"{filename}: line 1: ignored column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
        f"(known: {', '.join(KNOWN_COLUMNS)})",
    )


def _row(values: dict[str, str], line: int, filename: str) -> RosterRow:
    for column, value in values.items():
        bad = next((char for char in value if unicodedata.category(char) in _NOT_ONE_LINE), None)
        if bad is not None:
            raise RosterError(
                f"{filename}: line {line}: {column}: contains a control character (U+{ord(bad):04X}); "
                "names and addresses are one line of text"
            )

    def address(column: str) -> str:
        raw = values.get(column, "")
        if not raw:
            raise RosterError(f"{filename}: line {line}: {column}: missing")
        normal = normalise(raw)
        if normal is None or normal != raw.lower().strip("<>"):
            raise RosterError(f"{filename}: line {line}: {column}: {raw!r} is not an email address")
        return normal

    def aliases(column: str) -> tuple[str, ...]:
        found = []
        for raw in re.split(r"[\s;]+", values.get(column, "")):
            if raw:
                normal = normalise(raw)
                if normal is None:
                    raise RosterError(f"{filename}: line {line}: {column}: {raw!r} is not an email address")
                found.append(normal)
        return tuple(found)

    mentor, mentee = address("mentor_email"), address("mentee_email")
    if mentor == mentee:
        raise RosterError(f"{filename}: line {line}: {mentor} cannot be paired with themselves")
    pair_id = values.get("pair_id") or None
    if pair_id is not None and not _PAIR_ID.match(pair_id):
        raise RosterError(
            f"{filename}: line {line}: pair_id: {pair_id!r} must be letters, digits, '.', '_' or '-' (at most 64)"
        )
    starts_on = None
    if values.get("starts_on"):
        try:
            starts_on = date.fromisoformat(values["starts_on"])
        except ValueError:
            raise RosterError(
                f"{filename}: line {line}: starts_on: {values['starts_on']!r} is not a date (YYYY-MM-DD)"
            ) from None
    return RosterRow(
        line=line,
        mentor_email=mentor,
        mentor_name=values.get("mentor_name", ""),
        mentee_email=mentee,
        mentee_name=values.get("mentee_name", ""),
        pair_id=pair_id,
        starts_on=starts_on,
        mentor_aliases=aliases("mentor_aliases"),
        mentee_aliases=aliases("mentee_aliases"),
    )


def _check_roles(rows: list[RosterRow], filename: str) -> list[str]:
    """One person, one role: a mentor may have several mentees, but is nobody's mentee."""
    mentors = {r.mentor_email: r.line for r in rows}
    return [
        f"{filename}: line {row.line}: {row.mentee_email} is a mentee here and a mentor on line "
        f"{mentors[row.mentee_email]}"
        for row in rows
        if row.mentee_email in mentors
    ]


def _check_people_agree(rows: list[RosterRow], filename: str) -> list[str]:
    """A person on several rows is described the same way on each, and owns their aliases.

    Otherwise every import would flip a name back and forth, or one person's alias would send
    another person's mail to the wrong pair.
    """
    problems: list[str] = []
    described: dict[str, tuple[str, tuple[str, ...], int]] = {}  # email -> (name, aliases, line)
    owner: dict[str, tuple[str, int]] = {}  # any address -> (email of its person, line)
    for row in rows:
        for email, name, aliases in (
            (row.mentor_email, row.mentor_name, row.mentor_aliases),
            (row.mentee_email, row.mentee_name, row.mentee_aliases),
        ):
            if email in described:
                first_name, first_aliases, line = described[email]
                if name != first_name:
                    problems.append(
                        f"{filename}: line {row.line}: {email} is named {name!r} here and {first_name!r} on line {line}"
                    )
                elif aliases and aliases != first_aliases:
                    problems.append(f"{filename}: line {row.line}: {email} has other aliases here than on line {line}")
                continue
            described[email] = (name, aliases, row.line)
            for address in (email, *aliases):
                if address in owner and owner[address][0] != email:
                    problems.append(
                        f"{filename}: line {row.line}: {address} already belongs to {owner[address][0]} "
                        f"(line {owner[address][1]})"
                    )
                    continue
                owner[address] = (email, row.line)
    return problems
