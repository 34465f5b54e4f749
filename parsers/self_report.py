"""A call or meeting that a participant reports by email: "phone call 45 min yesterday", "we met on 3 November".

Calls and meetings are invisible to a mail daemon, so participants write one line to the program
and it is counted as contact like an email. Only the first line that says something is read: the
report is meant to be a one-line email, and a longer message is more likely a question for the
coordinators than a report.

Three answers: a `SelfReport`; a `NotAReport` when the line is a report the program cannot take as
written (a date in the future or before the pair started, an ambiguous "3/11"), with a reason to send
back; `None` when the text is not a report at all (a question, a plan, "we haven't met yet").

Pure: `today` is a parameter, never the clock; never raises.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from .survey import fold

# "email": an email the program did not see ("emailed", as the nudge and the intro reminder suggest):
# the writer says they wrote to their partner without copying us, and it counts as that email would.
Channel = Literal["phone", "meeting", "email"]

_MAX_LINE = 300  # a report is one short line; the rest of a long first line is not read
_MAX_WORDS = 30  # more than this is a message, not a report
_MAX_MINUTES = 24 * 60
_YEARS_BACK = 8  # how far back a date without a year may reach (29 February needs up to 8)

MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTH_NAMES = (
    {name: number for number, name in enumerate(MONTHS, start=1)}
    | {name[:3]: number for number, name in enumerate(MONTHS, start=1)}
    | {"sept": 9}
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_SHORT = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}

# How the contact happened. A call, video call or anything on a screen is "phone"; meeting in person is
# "meeting"; "we talked" without saying how counts as a call.
_REMOTE = re.compile(
    r"\b(?:call|calls|called|calling|phone|phoned|phoning|telephone|rang|ring|video|videocall|zoom|zoomed"
    r"|teams|skype|skyped|facetime|facetimed|whatsapp|webex|google meet|hangout|hangouts)\b"
)
_IN_PERSON = re.compile(
    r"\b(?:met|meet|meeting|met up|meetup|coffee|lunch|breakfast|dinner|drinks|in person|saw each other"
    r"|visited|got together)\b"
)
_TALK = re.compile(r"\b(?:talked|talk|spoke|spoken|chatted|chat|caught up|catch up|catch-up)\b")
# Wrote without copying us. Only the past tense: "email" alone is as often a question about email.
_EMAILED = re.compile(
    r"\b(?:emailed|e-mailed|mailed|wrote to|written to|sent (?:(?:him|her|them|an|my|the|our|a)\s+){0,2}e-?mails?"
    r"|e-?mails? sent)\b"
)

# Not a report: a question, a request, an intention, or saying it did not happen. The future tense alone
# ("will", "next") does not rule a line out when it also says something happened: "we met yesterday and
# will meet again next month" is a report.
_QUESTION = re.compile(
    r"\?\s*$|^(?:can|could|should|shall|may|how|what|when|where|why|who|is|are|do|does|did|would|will)\b(?!\s*\d)"
)
_REQUEST = re.compile(r"^please\b|\b(?:call|ring|phone|email|contact) (?:me|us)\b")
_INTENT = re.compile(
    r"\b(?:going to|gonna|plan|plans|planning|planned|scheduled?|scheduling|arrange[ds]?|arranging"
    r"|hope to|hoping to|want to|would like|trying to|tried to)\b"
)
_FUTURE = re.compile(r"\b(?:will|shall|next|upcoming)\b|'ll\b")
_PAST = re.compile(
    r"\b(?:met|called|phoned|rang|talked|spoke|chatted|had|yesterday|ago|last|caught up|zoomed|skyped|facetimed"
    r"|emailed|e-mailed|wrote|sent)\b"
)
_NEGATION = re.compile(r"n't\b|\b(?:not|no|never|cannot|missed|cancel+ed|cancel+ing|postponed|rescheduled)\b")
_GREETING = re.compile(r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|bonjour|hallo|hola)\b.{0,60}$")

# How long: "45 min", "1h", "1 hour", "1.5 hours", "90 minutes", "1h30", "an hour and a half", "half an hour".
_DURATION = re.compile(
    r"""(?<![\w.,])(?:
        (?P<half_hour>half\s+an?\s+hour)
      | (?P<hours>\d{1,3}(?:[.,]\d{1,2})?|an?|one|two|three)\s*(?:h|hr|hrs|hours?)(?![a-z])
        (?:\s*(?:and\s+)?(?P<and_minutes>\d{1,2})\s*(?:m|mn|min|mins|minutes?)(?![a-z])|(?P<attached>\d{2})(?!\d))?
        (?P<and_half>\s+and\s+a\s+half)?
      | (?P<minutes>\d{1,5})\s*(?:m|mn|min|mins|minutes?)(?![a-z])
    )""",
    re.VERBOSE,
)
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + r")\.?"
_ORDINAL = r"(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s*(?P<year>\d{4}))?"
# Dates, tried in this order: ISO, "3 November [2026]", "November 3[, 2026]", numeric "3/11[/2026]".
_ISO = re.compile(r"(?<!\d)(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})(?!\d)")
_DAY_MONTH = re.compile(rf"(?<![\w.])(?P<day>\d{{1,2}}){_ORDINAL}\.?\s*(?:of\s+)?{_MONTH}(?![a-z]){_YEAR}(?!\d)")
_MONTH_DAY = re.compile(rf"(?<![a-z]){_MONTH}\s*(?P<day>\d{{1,2}}){_ORDINAL}(?![\d:]){_YEAR}(?!\d)")
# Not a time of day: "at 10.30", "10.30am", "10.30h".
_NUMERIC = re.compile(
    r"(?<![\d/.-])(?<!at )(?P<a>\d{1,2})[/.](?P<b>\d{1,2})(?:[/.](?P<year>\d{4}|\d{2}))?\.?(?![\d/])"
    r"(?!\s*(?:am|pm|a\.m|p\.m|h\b|uhr))"
)
_DAYS_AGO = re.compile(r"\b(?P<n>\d{1,2}|a|an|one|two|three|four|five|six|seven)\s+(?P<unit>days?|weeks?)\s+ago\b")
_WEEKDAY = re.compile(r"\b(?:(?P<last>last|this past|past)\s+|on\s+)?(?P<name>" + "|".join(_WEEKDAYS) + r")\b")
# Abbreviated, a weekday needs "on" or "last" before it: on their own "sat" and "sun" are ordinary words.
_WEEKDAY_SHORT_RE = re.compile(
    r"\b(?:(?P<last>last|this past|past)\s+|on\s+)"
    r"(?P<name>" + "|".join(sorted(_WEEKDAY_SHORT, key=len, reverse=True)) + r")\b\.?"
)
_RELATIVE = {"day before yesterday": -2, "yesterday": -1, "today": 0, "tonight": 0, "this morning": 0,
             "this afternoon": 0, "this evening": 0, "tomorrow": 1}  # fmt: skip
_RELATIVE_WORDS = re.compile(r"\b(?:" + "|".join(sorted(_RELATIVE, key=len, reverse=True)) + r")\b")
# Said when the day is not: the program needs the day, and guessing one would be wrong more often than not.
_VAGUE = re.compile(
    r"\b(?:last|this|earlier this) (?:week|month|weekend)\b|\bthe other day\b|\brecently\b"
    r"|\b(?:a few|some|several|couple of) days ago\b"
    rf"|\b(?:in|during|early|late|mid|last) {_MONTH}(?![a-z])(?!\s*\d)"
)


@dataclass(frozen=True)
class SelfReport:
    channel: Channel
    on: date
    minutes: int | None = None


@dataclass(frozen=True)
class NotAReport:
    """A report that cannot be taken as written; `reason` is sent back to the participant as is."""

    reason: str


def parse_self_report(new_text: str, today: date, started_on: date) -> SelfReport | NotAReport | None:
    line = _first_line(new_text)
    if line is None:
        return None
    channel = _channel(line)
    if channel is None or _not_a_report(line):
        return None
    minutes, rest = _minutes(line)
    if isinstance(minutes, NotAReport):
        return minutes
    on = _day(rest, today)
    if isinstance(on, NotAReport):
        return on
    if on > today:
        return NotAReport(f"{show(on)} is in the future")
    if on < started_on:
        if _is_still_to_come(rest, on, today):
            return NotAReport(f"{on.day} {MONTHS[on.month - 1].capitalize()} is still to come this year")
        return NotAReport(f"{show(on)} is before your pair started on {show(started_on)}")
    return SelfReport(channel=channel, on=on, minutes=minutes)


def named(new_text: str, names: Sequence[str]) -> tuple[int, ...]:
    """Which of `names` the report names, as indexes: "call with Ben", "met cleo martin".

    A mentor of several mentees says which one she called by name. Whole words, compared without
    case or accents; a full name decides over first names, so that "Ben Smith" is told from "Ben
    Jones", while "Ben" alone names both and so neither for sure (the caller asks).
    """
    line = _first_line(new_text)
    if line is None:
        return ()
    folded = [" ".join(fold(name).replace("’", "'").split()) for name in names]

    def says(words: str) -> bool:
        return bool(words) and re.search(rf"(?<![\w']){re.escape(words)}(?![\w'])", line) is not None

    full = tuple(index for index, name in enumerate(folded) if " " in name and says(name))
    return full or tuple(index for index, name in enumerate(folded) if name and says(name.split()[0]))


def _is_still_to_come(text: str, on: date, today: date) -> bool:
    """Whether a day written without a year was put in last year only because this year's is ahead.

    "We will meet on 25 November" read on 12 November is about this year's 25th, which has not
    happened; saying it is before the pair started (last year's) would be true but baffling.
    """
    if str(on.year) in text or on.year != today.year - 1:
        return False
    try:
        return date(today.year, on.month, on.day) > today
    except ValueError:
        return False


def show(day: date) -> str:
    """A day as "3 November 2026": the same on every platform and locale, unlike strftime."""
    return f"{day.day} {MONTHS[day.month - 1].capitalize()} {day.year}"


def _first_line(text: str) -> str | None:
    """The first line that says something, folded (lower case, no accents); a greeting says nothing."""
    if not isinstance(text, str):
        return None
    for raw in text[: _MAX_LINE * 20].splitlines():
        line = " ".join(fold(raw[:_MAX_LINE]).replace("’", "'").split())
        if line and not line.startswith(">") and not _GREETING.match(line):
            return line.rstrip(" .!")
    return None


def _channel(line: str) -> Channel | None:
    if _REMOTE.search(line):
        return "phone"
    if _IN_PERSON.search(line):
        return "meeting"
    if _TALK.search(line):
        return "phone"
    if _EMAILED.search(line):
        return "email"
    return None


def _not_a_report(line: str) -> bool:
    return (
        len(line.split()) > _MAX_WORDS
        or bool(_QUESTION.search(line) or _REQUEST.search(line) or _INTENT.search(line) or _NEGATION.search(line))
        or bool(_FUTURE.search(line) and not _PAST.search(line))
    )


def _minutes(line: str) -> tuple[int | None | NotAReport, str]:
    """(minutes or None, the line without the duration): "45" in "45 min" must not be read as a day."""
    match = _DURATION.search(line)
    if match is None:
        return None, line
    rest = line[: match.start()] + " " + line[match.end() :]
    if match["half_hour"]:
        return 30, rest
    if match["minutes"]:
        minutes = int(match["minutes"])
    else:
        hours = match["hours"]
        hour_count = _NUMBER_WORDS.get(hours) or float(hours.replace(",", "."))
        extra = int(match["and_minutes"] or match["attached"] or 0) + (30 if match["and_half"] else 0)
        minutes = round(hour_count * 60) + extra
    if minutes > _MAX_MINUTES:
        return NotAReport(f"'{match.group(0).strip()}' is longer than a day"), rest
    return (minutes or None), rest


def _day(text: str, today: date) -> date | NotAReport:
    """The day the line names; today when it names none."""
    if match := _ISO.search(text):
        return _exact(match.group(0), int(match["year"]), int(match["month"]), int(match["day"]))
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        if match := pattern.search(text):
            return _named_month(match, today)
    if match := _NUMERIC.search(text):
        return _numeric(match, today)
    if match := _VAGUE.search(text):
        return NotAReport(
            f"'{match.group(0)}' does not say which day: please write the day, "
            "e.g. 'yesterday', 'last Tuesday' or '3 November'"
        )
    if match := _DAYS_AGO.search(text):
        count = _NUMBER_WORDS.get(match["n"]) or int(match["n"])
        return _shifted(today, -count * (7 if match["unit"].startswith("week") else 1))
    if match := _WEEKDAY.search(text) or _WEEKDAY_SHORT_RE.search(text):
        return _weekday(match, today)
    if match := _RELATIVE_WORDS.search(text):
        return _shifted(today, _RELATIVE[match.group(0)])
    return today


def _named_month(match: re.Match[str], today: date) -> date | NotAReport:
    month = _MONTH_NAMES[match["month"]]
    day = int(match["day"])
    written = f"{day} {MONTHS[month - 1].capitalize()}"  # the line is folded: show the date properly
    if match["year"]:
        return _exact(f"{written} {match['year']}", int(match["year"]), month, day)
    return _latest(written, month, day, today)


def _numeric(match: re.Match[str], today: date) -> date | NotAReport:
    """A numeric date: "25/11" is 25 November, "11/25" November 25th; "3/11" could be either, so it is refused."""
    written = match.group(0).rstrip(".")
    first, second = int(match["a"]), int(match["b"])
    if first <= 12 and second <= 12 and first != second:
        return NotAReport(
            f"'{written}' could be day/month or month/day: please write the month as a word "
            "(e.g. '3 November') or the date as 2026-11-03"
        )
    day, month = (first, second) if first > 12 or first == second else (second, first)
    year = match["year"]
    if year is None:
        return _latest(written, month, day, today)
    return _exact(written, int(year) + (2000 if len(year) == 2 else 0), month, day)


def _exact(written: str, year: int, month: int, day: int) -> date | NotAReport:
    try:
        return date(year, month, day)
    except ValueError:
        return NotAReport(f"'{written}' is not a date")


def _latest(written: str, month: int, day: int, today: date) -> date | NotAReport:
    """The most recent `day` of `month` that is not after today: a report is about the past."""
    for year in range(today.year, today.year - _YEARS_BACK - 1, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 31 November, 29 February in a common year, or a year before 1
            continue
        if candidate <= today:
            return candidate
    return NotAReport(f"'{written}' is not a date")


def _weekday(match: re.Match[str], today: date) -> date | NotAReport:
    name = match["name"]
    weekday = _WEEKDAYS.index(name) if name in _WEEKDAYS else _WEEKDAY_SHORT[name]
    back = (today.weekday() - weekday) % 7
    # "Monday" said on a Monday is today; "last Monday" said on a Monday is a week ago.
    if back == 0 and match["last"]:
        back = 7
    return _shifted(today, -back)


def _shifted(today: date, days: int) -> date | NotAReport:
    try:
        return today + timedelta(days=days)
    except OverflowError:  # only at the very ends of the calendar, never for a real report
        return NotAReport("that day is not a date the program can record")
