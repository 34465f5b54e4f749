"""The program's calendar: when things happen, in the program's time zone (DST-correct)."""

from __future__ import annotations

import calendar as calendar_module
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from ....store.planner_state import PairState
from ...settings import ProgramSettings, ScheduleSettings, Settings, SurveySettings, TopicSettings

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Calendar:
    program_name: str
    program_address: str
    zone: ZoneInfo
    months: int
    schedule: ScheduleSettings
    topics: tuple[TopicSettings, ...]
    surveys: tuple[SurveySettings, ...]
    coordinators: tuple[str, ...]
    liaison: str | None
    # The round: it starts on [program] starts_on and has one end for every pair (`ends_on`, or
    # starts_on + months), so a pair added in week 3 ends with everyone else.
    starts_on: date
    ends_on: date
    # (address, name) of the staff the config names ("Full Name <address>"): for signatures.
    staff_names: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> Calendar:
        return cls(
            program_name=settings.program.name,
            program_address=settings.program.address,
            zone=settings.program.zone,
            months=settings.program.months,
            schedule=settings.schedule,
            topics=settings.topics,
            surveys=settings.surveys,
            coordinators=settings.people.coordinators,
            liaison=settings.people.liaison,
            starts_on=settings.program.starts_on,
            ends_on=program_ends_on(settings.program.starts_on, settings.program.months, settings.program.ends_on),
            staff_names=settings.people.names,
        )

    def staff_name(self, address: str | None) -> str:
        """The name the config gives a coordinator or the liaison, or ""."""
        return next((name for known, name in self.staff_names if known == address), "")

    def at(self, day: date, moment: time) -> datetime:
        """`moment` local on `day`, as an aware UTC datetime (DST-correct)."""
        return _local_to_utc(day, moment, self.zone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


@lru_cache(maxsize=65536)
def _local_to_utc(day: date, moment: time, zone: ZoneInfo) -> datetime:
    # Cached: the pairs of a round share their dates, and time-zone arithmetic is what planning
    # 10,000 pairs spent its time on.
    return datetime.combine(day, moment, tzinfo=zone).astimezone(timezone.utc)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar_module.monthrange(year, month)[1]))


def program_ends_on(starts_on: date, months: int, ends_on: date | None = None) -> date:
    """The round's one end date: [program] ends_on when given, else starts_on + months."""
    return ends_on or add_months(starts_on, months)


def pair_ends_on(round_ends: date, months: int, started_on: date) -> date:
    """When a pair's round ends: with the round, or sooner for a pair that started before the
    round's first day (carried over from an earlier round) once its `months` are up."""
    return min(round_ends, add_months(started_on, months))


def pair_ends_on_for(program: ProgramSettings, started_on: date) -> date:
    """`pair_ends_on` from the config, for code that has the settings rather than a `Calendar`."""
    return pair_ends_on(program_ends_on(program.starts_on, program.months, program.ends_on), program.months, started_on)


def round_ends_on(calendar: Calendar, pair: PairState) -> date:
    return pair_ends_on(calendar.ends_on, calendar.months, pair.started_on)


def welcomed(calendar: Calendar, pair: PairState) -> datetime:
    """When the pair's own calendar starts: its first day at send_time, or, when its pairing mail
    went out later (the daemon first ran weeks into the round, or was down), when that went out.
    Intro reminders, nudges, topics and check-ins count from here (DESIGN.md, "Catching up")."""
    nominal = calendar.at(pair.started_on, calendar.schedule.send_time)
    return max(nominal, pair.welcomed_at) if pair.welcomed_at is not None else nominal


def round_month(calendar: Calendar, pair: PairState, moment: datetime) -> tuple[int, int, bool]:
    """(month, months, completed): the pair's month of its round at `moment` (1 in its first), how
    many months it has, and whether the round has ended by then."""
    months = monthly(calendar, pair)
    month = max(1, sum(1 for start in months if start <= moment))
    return month, len(months), moment >= calendar.at(round_ends_on(calendar, pair), time(0))


def at_send_time(calendar: Calendar, moment: datetime) -> datetime:
    """The first send_time (local) at or after `moment`: reminders go out when mail does, not at
    the hour a quiet period happens to end (which would shift across a DST change)."""
    day = calendar.local_date(moment)
    slot = calendar.at(day, calendar.schedule.send_time)
    return slot if slot >= moment else calendar.at(day + timedelta(days=1), calendar.schedule.send_time)


def monthly(calendar: Calendar, pair: PairState, offset_days: int = 0) -> list[datetime]:
    """A pair's monthly moments (topics, check-ins) at send_time: from the day its calendar starts,
    `offset_days` into each month, at most `months` of them and only those before the round ends."""
    first = calendar.local_date(welcomed(calendar, pair))
    end = calendar.at(round_ends_on(calendar, pair), time(0))
    offset = timedelta(days=offset_days)
    moments = (calendar.at(add_months(first, n) + offset, calendar.schedule.send_time) for n in range(calendar.months))
    return [moment for moment in moments if moment < end]


def latest(occurrences: Sequence[datetime], now: datetime) -> int | None:
    """Index of the latest occurrence at or before `now` (the current one), or None."""
    passed = [index for index, moment in enumerate(occurrences) if moment <= now]
    return passed[-1] if passed else None
