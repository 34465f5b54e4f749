"""`mentormail export contacts|surveys`: contacts per pair and month, by direction and channel;
survey answers, one row per person and survey, a column per question.

Safe to open in a spreadsheet: a cell that starts with = + - @ (or a tab or carriage return)
is prefixed with an apostrophe, so that a name cannot become a formula.
"""

from __future__ import annotations

import csv
import io
import json

from ...store.queries import MonthlyContacts, SurveyRow
from ..settings import SurveySettings

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


def survey_columns(surveys: tuple[SurveySettings, ...]) -> tuple[str, ...]:
    """survey, email, name, pair_id, answered_at, then SURVEY.QUESTION for every question."""
    questions = tuple(f"{survey.id}.{question.id}" for survey in surveys for question in survey.questions)
    return ("survey", "email", "name", "pair_id", "answered_at", *questions)


def survey_export_rows(rows: list[SurveyRow]) -> list[dict[str, object]]:
    return [
        {
            "survey": row.survey_id,
            "email": row.email,
            "name": row.name,
            "pair_id": row.pair_id,
            "answered_at": row.updated_at.isoformat(),
            **{f"{row.survey_id}.{qid}": _cell(value) for qid, value in row.answers.items()},
        }
        for row in rows
    ]


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def as_json(name: str, rows: list[dict[str, object]]) -> str:
    return json.dumps({name: rows}, ensure_ascii=False, indent=2) + "\n"


def as_csv(rows: list[dict[str, object]], columns: tuple[str, ...] = COLUMNS) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})
    return buffer.getvalue()


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
