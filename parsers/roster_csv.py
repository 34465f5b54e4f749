"""The roster file: CSV text in, validated rows out, or the first bad line named.

Pure. The whole file is checked before anything is applied, so a bad line leaves the store as it
was (nothing half-imported).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from .addresses import normalise

REQUIRED_COLUMNS = ("mentor_email", "mentor_name", "mentee_email", "mentee_name")
OPTIONAL_COLUMNS = ("pair_id", "starts_on", "mentor_aliases", "mentee_aliases")
_PAIR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Control characters (CR, LF, NUL, ...) and line or paragraph separators: a name goes into mail
# headers, where a line break would start a header of the writer's choosing (`Bcc: ...`).
_NOT_ONE_LINE = frozenset({"Cc", "Zl", "Zp"})


class RosterError(ValueError):
    """`str()` is the one-line message: "roster.csv: line 4: mentee_email: 'x' is not an address"."""


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


def parse_roster(text: str, filename: str) -> list[RosterRow]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), skipinitialspace=True)
    columns = [c.strip() for c in reader.fieldnames or []]
    if not columns:
        raise RosterError(f"{filename}: line 1: the file is empty; expected a header line")
    _check_columns(columns, filename)
    rows: list[RosterRow] = []
    seen_pair_ids: dict[str, int] = {}
    seen_pairs: dict[tuple[str, str], int] = {}
    previous_end = reader.line_num  # the header's last line
    lines = text.splitlines()  # once: per blank line it made a file of many blank lines quadratic
    for record in reader:
        # The line a record starts on: a quoted field may hold line breaks (refused below, but
        # named where the coordinator will look for it).
        line, previous_end = _start_line(lines, previous_end, reader.line_num), reader.line_num
        values = {k.strip(): (v or "").strip() for k, v in record.items() if k is not None}
        if None in record:
            raise RosterError(f"{filename}: line {line}: more fields than the header has columns")
        if not any(values.values()):
            continue  # a blank line
        row = _row(values, line, filename)
        key = (row.mentor_email, row.mentee_email)
        if key in seen_pairs:
            raise RosterError(f"{filename}: line {line}: the same pair as line {seen_pairs[key]}")
        seen_pairs[key] = line
        if row.pair_id is not None:
            if row.pair_id in seen_pair_ids:
                raise RosterError(
                    f"{filename}: line {line}: pair_id: {row.pair_id!r} is also used on line {seen_pair_ids[row.pair_id]}"
                )
            seen_pair_ids[row.pair_id] = line
        rows.append(row)
    _check_roles(rows, filename)
    _check_people_agree(rows, filename)
    return rows


def _start_line(lines: list[str], previous_end: int, end: int) -> int:
    """The first line after `previous_end` that is not blank (csv skips blank lines silently)."""
    if end == previous_end + 1:
        return end
    start = previous_end + 1
    while start < end and not lines[start - 1].strip(" ,\t"):
        start += 1
    return start


def _check_columns(columns: list[str], filename: str) -> None:
    for column in columns:
        if column not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            known = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
            raise RosterError(f"{filename}: line 1: unknown column {column!r} (known: {known})")
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            raise RosterError(f"{filename}: line 1: missing column {column!r}")


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


def _check_roles(rows: list[RosterRow], filename: str) -> None:
    """One person, one role: a mentor may have several mentees, but is nobody's mentee."""
    mentors = {r.mentor_email: r.line for r in rows}
    for row in rows:
        if row.mentee_email in mentors:
            raise RosterError(
                f"{filename}: line {row.line}: {row.mentee_email} is a mentee here and a mentor on line "
                f"{mentors[row.mentee_email]}"
            )


def _check_people_agree(rows: list[RosterRow], filename: str) -> None:
    """A person on several rows is described the same way on each, and owns their aliases.

    Otherwise every import would flip a name back and forth, or one person's alias would send
    another person's mail to the wrong pair.
    """
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
                    raise RosterError(
                        f"{filename}: line {row.line}: {email} is named {name!r} here and {first_name!r} on line {line}"
                    )
                if aliases and aliases != first_aliases:
                    raise RosterError(
                        f"{filename}: line {row.line}: {email} has other aliases here than on line {line}"
                    )
                continue
            described[email] = (name, aliases, row.line)
            for address in (email, *aliases):
                if address in owner and owner[address][0] != email:
                    raise RosterError(
                        f"{filename}: line {row.line}: {address} already belongs to {owner[address][0]} "
                        f"(line {owner[address][1]})"
                    )
                owner[address] = (email, row.line)
