"""`mentormail export contacts`: contacts per pair and month, by direction and channel.

Safe to open in a spreadsheet: a cell that starts with = + - @ (or a tab or carriage return)
is prefixed with an apostrophe, so that a name cannot become a formula.
"""

from __future__ import annotations

import csv
import io
import json

from mentormail.store.queries import MonthlyContacts

COLUMNS = ("pair_id", "mentor", "mentee", "month", "mentor_to_mentee", "mentee_to_mentor", "email", "phone", "meeting")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def contact_rows(months: list[MonthlyContacts]) -> list[dict[str, object]]:
    return [
        {
            "pair_id": m.pair_id,
            "mentor": m.mentor,
            "mentee": m.mentee,
            "month": m.month,
            "mentor_to_mentee": m.by_direction.get("mentor_to_mentee", 0),
            "mentee_to_mentor": m.by_direction.get("mentee_to_mentor", 0),
            "email": m.by_channel.get("email", 0),
            "phone": m.by_channel.get("phone", 0),
            "meeting": m.by_channel.get("meeting", 0),
        }
        for m in months
    ]


def as_json(rows: list[dict[str, object]]) -> str:
    return json.dumps({"contacts": rows}, ensure_ascii=False, indent=2) + "\n"


def as_csv(rows: list[dict[str, object]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})
    return buffer.getvalue()


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
