"""The program's calendar: when things happen, in the program's time zone (DST-correct)."""

from __future__ import annotations

import calendar as calendar_module
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from ....store.planner_state import PairState
from ...settings import ScheduleSettings, Settings, SurveySettings, TopicSettings

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
        )

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


def round_ends_on(calendar: Calendar, pair: PairState) -> date:
    return add_months(pair.started_on, calendar.months)


def latest(occurrences: Sequence[datetime], now: datetime) -> int | None:
    """Index of the latest occurrence at or before `now` (the current one), or None."""
    passed = [index for index, moment in enumerate(occurrences) if moment <= now]
    return passed[-1] if passed else None
