"""`mentormail export contacts|surveys`: contacts per pair and month, by direction and channel;
survey answers, one row per person and survey, a column per question.

Safe to open in a spreadsheet: a cell that starts with = + - @ (or a tab or carriage return)
is prefixed with an apostrophe, so that a name cannot become a formula.

The rows are written as the store yields them: an export of 10,000 pairs over a round is some
100,000 rows, and none of them is kept once written.

Every pair has a row for every month of the round so far, zeros included (`contacts_through`):
a pair that has gone quiet shows as months of zeros, not as missing rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ...store.queries import MonthlyContacts, SurveyRow
from ..settings import RoundSettings, SurveySettings
from .cells import FORMULA_STARTS, spreadsheet_safe

COLUMNS = ("pair_id", "mentor", "mentee", "month", "mentor_to_mentee", "mentee_to_mentor", "email", "phone", "meeting")


def contacts_through(chosen: RoundSettings, zone: ZoneInfo, now: datetime) -> date:
    """The last day every pair's months run to: today in the program's zone, at most the round's
    last day (the day before it ends), so that an export after the round covers all of it."""
    return min(now.astimezone(zone).date(), chosen.last_day - timedelta(days=1))


def contact_rows(months: Iterable[MonthlyContacts]) -> Iterator[dict[str, object]]:
    """The JSON rows; the CSV takes the `MonthlyContacts` themselves (their cells are COLUMNS)."""
    for month in months:
        yield dict(zip(COLUMNS, month))


def write_contacts_csv(out: TextIO, months: Iterable[MonthlyContacts]) -> None:
    """What `write_csv` would write for the contacts, a pair's text cells made once per pair.

    A pair's rows come together, and only its id and addresses are text from outside: those go
    through the csv module (quoted as needed, made spreadsheet-safe) once per pair; the month
    and the counts are digits and dashes, which the csv module writes as they are, so the rest
    of each line is joined here (a `writerow` per row was most of a 10,000-pair export's time).
    """
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    head = io.StringIO()
    head_writer = csv.writer(head, lineterminator="")
    pair_id, prefix = None, ""
    for row in months:
        if row[0] != pair_id:
            pair_id = row[0]
            head.seek(0)
            head.truncate()
            head_writer.writerow([*map(spreadsheet_safe, row[:3]), ""])  # the trailing "" adds the comma
            prefix = head.getvalue()
        out.write(f"{prefix}{row[3]},{row[4]},{row[5]},{row[6]},{row[7]},{row[8]}\r\n")


def survey_columns(surveys: tuple[SurveySettings, ...]) -> tuple[str, ...]:
    """survey, email, name, pair_id, role (mentor or mentee in that pair), answered_at, then
    SURVEY.QUESTION for every question."""
    questions = tuple(f"{survey.id}.{question.id}" for survey in surveys for question in survey.questions)
    return ("survey", "email", "name", "pair_id", "role", "answered_at", *questions)


def survey_export_rows(rows: Iterable[SurveyRow]) -> Iterator[dict[str, object]]:
    for row in rows:
        yield {
            "survey": row.survey_id,
            "email": row.email,
            "name": row.name,
            "pair_id": row.pair_id,
            "role": row.role,
            "answered_at": row.updated_at.isoformat(),
            **{f"{row.survey_id}.{qid}": _cell(value) for qid, value in row.answers.items()},
        }


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def survey_csv_rows(rows: Iterable[dict[str, object]], columns: tuple[str, ...]) -> Iterator[list[object]]:
    """A survey row's cells in column order; a question not answered is an empty cell."""
    for row in rows:
        yield [row.get(column, "") for column in columns]


def write_json(out: TextIO, name: str, rows: Iterable[dict[str, object]], **head: str) -> None:
    """`{**head, name: [rows]}` exactly as `json.dumps(..., ensure_ascii=False, indent=2)` lays it
    out, plus a newline, written a row at a time. The layout is done here and each value encoded
    by the C encoder: with `indent` the standard library encodes in pure Python, four times slower."""
    out.write("{\n  " + "".join(f"{_encode(key)}: {_encode(value)},\n  " for key, value in head.items()))
    out.write(_encode(name) + ": [")
    separator = "\n    "
    for row in rows:
        out.write(separator)
        out.write(_layout(row, "    "))
        separator = ",\n    "
    out.write("]\n}\n" if separator == "\n    " else "\n  ]\n}\n")


_encode = json.JSONEncoder(ensure_ascii=False).encode
# The commonest scalars encoded without the encoder's own dispatch (the same text it gives).
_SCALAR_ENCODERS: dict[type, Callable[[Any], str]] = {
    str: json.encoder.encode_basestring,  # ensure_ascii=False's encoder (C)
    int: int.__repr__,
    bool: lambda value: "true" if value else "false",
    type(None): lambda _: "null",
}


def _layout(value: object, indent: str) -> str:
    """`json.dumps(value, ensure_ascii=False, indent=2)` for a value that starts at `indent`."""
    if isinstance(value, dict) and value and all(isinstance(key, str) for key in value):
        inner = indent + "  "
        fields = f",\n{inner}".join(f"{_encode(key)}: {_layout(item, inner)}" for key, item in value.items())
        return f"{{\n{inner}{fields}\n{indent}}}"
    if isinstance(value, (list, tuple)) and value:
        inner = indent + "  "
        items = f",\n{inner}".join(_layout(item, inner) for item in value)
        return f"[\n{inner}{items}\n{indent}]"
    if isinstance(value, (dict, list, tuple)):  # empty, or keys json turns into strings
        return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + indent)
    scalar = _SCALAR_ENCODERS.get(value.__class__)
    return scalar(value) if scalar is not None else _encode(value)


def write_csv(out: TextIO, rows: Iterable[Sequence[object]], columns: tuple[str, ...]) -> None:
    """A header line, then a line per row of cells in column order (CRLF, as spreadsheets want)."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    starts = FORMULA_STARTS
    for row in rows:
        # spreadsheet_safe, inlined: a call per cell was a fifth of a large export's time.
        writer.writerow(["'" + cell if isinstance(cell, str) and cell.startswith(starts) else cell for cell in row])
