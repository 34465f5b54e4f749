"""The program's calendar: when things happen, in the program's time zone (DST-correct)."""

from __future__ import annotations

import calendar as calendar_module
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from ....store.planner_state import FIRST_ROUND, PairState
from ...settings import RoundSettings, ScheduleSettings, Settings, SurveySettings, TopicSettings

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
    # The round: it starts on its starts_on and has one end for every pair (`ends_on`, or
    # starts_on + months), so a pair added in week 3 ends with everyone else.
    starts_on: date
    ends_on: date
    # (address, name) of the staff the config names ("Full Name <address>"): for signatures.
    staff_names: tuple[tuple[str, str], ...] = ()
    round_id: str = FIRST_ROUND
    # Every round's calendar by id (`for_round`); empty: this calendar's round is the only one.
    rounds: Mapping[str, Calendar] = field(default_factory=dict, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Calendar:
        """The first round's calendar, holding every round's (`for_round`)."""
        first = cls._of_round(settings, settings.rounds[0])
        others = {known.id: cls._of_round(settings, known) for known in settings.rounds[1:]}
        everyone = {first.round_id: first, **others}
        return replace(first, rounds=everyone)

    @classmethod
    def _of_round(cls, settings: Settings, known: RoundSettings) -> Calendar:
        return cls(
            program_name=settings.program.name,
            program_address=settings.program.address,
            zone=settings.program.zone,
            months=known.months,
            schedule=settings.schedule,
            topics=settings.topics,
            surveys=settings.surveys,
            coordinators=settings.people.coordinators,
            liaison=settings.people.liaison,
            starts_on=known.starts_on,
            ends_on=known.last_day,
            staff_names=settings.people.names,
            round_id=known.id,
        )

    def for_round(self, round_id: str) -> Calendar:
        """The calendar of a pair's round: its own dates, the program's everything else (a dict
        lookup, so planning 10,000 pairs costs nothing more). This calendar for its own round, so
        that one changed with `replace` (another zone, in tests) stays as changed."""
        return self if round_id == self.round_id else self.rounds.get(round_id, self)

    @property
    def key_suffix(self) -> str:
        """What keys of mail that names no pair carry for this round (a person's survey, the
        results): nothing in round "1", whose keys are as they were before rounds."""
        return round_key_suffix(self.round_id)

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


def pair_ends_on(round_ends: date, months: int, started_on: date) -> date:
    """When a pair's round ends: with the round, or sooner for a pair that started before the
    round's first day (carried over from an earlier round) once its `months` are up."""
    return min(round_ends, add_months(started_on, months))


def round_key_suffix(round_id: str) -> str:
    """`:round-ID` at the end of a key that names no pair, nothing in round "1"."""
    return "" if round_id == FIRST_ROUND else f":round-{round_id}"


def round_of_key(key: str) -> str:
    """The round a key made with `round_key_suffix` belongs to."""
    last = key.rsplit(":", 1)[-1]
    return last.removeprefix("round-") if last.startswith("round-") else FIRST_ROUND


def pair_ends_on_for(known: RoundSettings, started_on: date) -> date:
    """`pair_ends_on` from the pair's round in the config, for code that has the settings rather
    than a `Calendar`."""
    return pair_ends_on(known.last_day, known.months, started_on)


def round_ends_on(calendar: Calendar, pair: PairState) -> date:
    """When the pair's round ends for it: by its own round's dates, whichever calendar is given
    (the program-wide mail, the liaison summary, plans a pair from the program's calendar)."""
    own = calendar.for_round(pair.round_id)
    return pair_ends_on(own.ends_on, own.months, pair.started_on)


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
    months = calendar.for_round(pair.round_id).months
    moments = (calendar.at(add_months(first, n) + offset, calendar.schedule.send_time) for n in range(months))
    return [moment for moment in moments if moment < end]


def latest(occurrences: Sequence[datetime], now: datetime) -> int | None:
    """Index of the latest occurrence at or before `now` (the current one), or None."""
    passed = [index for index, moment in enumerate(occurrences) if moment <= now]
    return passed[-1] if passed else None
