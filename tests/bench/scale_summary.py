"""The liaison summary at scale: built and rendered against the bare SQL, and the mail's size.

    .venv/bin/python -m tests.bench.scale_summary                 # 100, 1,000 and 10,000 pairs
    .venv/bin/python -m tests.bench.scale_summary --pairs 10000 --profile

`FIGURES` is what `tests/bench/scale.py` (`make bench-scale`) prints at each size; run alone,
this module prints the same lines. Each figure is measured on a private copy of the cached
store of N pairs with 50 events each (`tests/bench/stores.py`), for the summary of Monday
31 May 2027, the round's last (40 weeks of chart, nearly every event of the round before it):

- **built + rendered ÷ bare SQL** (target <= 3x): the work a tick does for the summary once it
  holds the program-wide state (pairs without contacts): `liaison_summary_due`, the grouped
  query and the chart's query (`store.queries.summary.liaison_activity`), the plan (lists, CSV),
  both parts rendered and the MIME message composed. Its ceiling, in the same run, is the issue's
  bare sqlite3 `SELECT pair_id, direction, count(*), max(occurred_at) FROM contactevent GROUP BY
  pair_id, direction`, fetched. Loading the program-wide state is timed too, as a note: the tick
  reads it for the digest and survey results anyway.
- **the mail's size** (target <= 1 MB): the composed message, CSV attached, in bytes. With the
  bench's data only the never-started list is longer than the mail shows; the size of a mail
  whose every list is full at that size (a synthetic state of the same pairs) is a note.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `tests.` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mentormail.daemon.mail.compose import Composer
from mentormail.daemon.mail.planner.calendar import Calendar
from mentormail.daemon.mail.planner.liaison import liaison_activity_options, liaison_summary_due, plan_liaison_summary
from mentormail.daemon.service import open_store
from mentormail.daemon.settings import load_settings
from mentormail.store import queries
from mentormail.store.db import Store
from mentormail.store.planner_state import Contact, PlannerState
from mentormail.store.queries.summary import liaison_activity

from tests.bench.stores import ScaleStore, cached

SUMMARY_DAY = date(2027, 5, 31)  # a Monday, the round's last summary (it started on 1 September 2026)
BARE_SQL = "SELECT pair_id, direction, count(*), max(occurred_at) FROM contactevent GROUP BY pair_id, direction"
MAX_RATIO = 3.0
MAX_BYTES = 1_000_000
REPEATS = 3


@dataclass(frozen=True)
class Reading:
    ours: float
    ceiling: float | None  # measured in the same run; None for a figure with an absolute target
    unit: str  # "s" or "bytes"
    met: bool
    note: str = ""


@dataclass(frozen=True)
class Figure:
    name: str  # "... at N pairs" is added by the printer
    target: str  # as the issue states it
    measure: Callable[[ScaleStore], Reading]


def _best(work: Callable[[], object], repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def bare_sql_seconds(database: Path) -> float:
    def run() -> None:
        with sqlite3.connect(database) as connection:
            connection.execute(BARE_SQL).fetchall()
        connection.close()

    return _best(run)


@dataclass
class _Summary:
    """The program's parts, opened once per store, as a running daemon holds them."""

    calendar: Calendar
    composer: Composer
    store: Store
    now: datetime

    @classmethod
    def of(cls, scale: ScaleStore) -> _Summary:
        settings = load_settings(scale.program.config)
        calendar = Calendar.from_settings(settings)
        now = calendar.at(SUMMARY_DAY, settings.schedule.liaison_summary_time) + timedelta(hours=1)
        return cls(calendar, Composer.for_settings(settings), open_store(settings), now)

    def program_state(self) -> PlannerState:
        with self.store.session() as session:
            return queries.program_planner_state(session)

    def build(self, state: PlannerState) -> bytes:
        """The summary as a tick makes it, from the program-wide state to the composed message."""
        with self.store.session() as session:
            found = liaison_summary_due(self.calendar, state, self.now)
            assert found is not None, "no summary due"
            _, at = found
            options = liaison_activity_options(self.calendar, state, at)
            state = dataclasses.replace(state, liaison_activity=liaison_activity(session, at, **options))
        (mail,) = plan_liaison_summary(self.calendar, state, self.now)
        raw = self.composer.compose(mail, (), mail.attachments).raw
        assert raw is not None
        return raw


def measure_time(scale: ScaleStore) -> Reading:
    summary = _Summary.of(scale)
    try:
        state = summary.program_state()
        load = _best(summary.program_state)
        summary.build(state)  # warm: templates compiled, pages cached, as in a running daemon
        ours = _best(lambda: summary.build(state))
    finally:
        summary.store.close()
    ceiling = bare_sql_seconds(scale.database)
    note = f"program-wide state load {load:.2f} s (read by the tick for all committee mail)"
    return Reading(ours, ceiling, "s", ours <= MAX_RATIO * ceiling, note)


def measure_size(scale: ScaleStore) -> Reading:
    summary = _Summary.of(scale)
    try:
        state = summary.program_state()
        size = len(summary.build(state))
        worst = len(_every_list_full(summary, state))
    finally:
        summary.store.close()
    return Reading(size, None, "bytes", size <= MAX_BYTES and worst <= MAX_BYTES, f"every list full: {worst:,} bytes")


def _every_list_full(summary: _Summary, state: PlannerState) -> bytes:
    """The summary of the same pairs if they were spread over every list: a fifth never wrote,
    a fifth silent 45+ days, a fifth 30-44 days, a fifth one-sided, the rest paused; composed
    from their contacts (the planner's own derivation), since no store holds them."""
    at = summary.calendar.at(SUMMARY_DAY, summary.calendar.schedule.liaison_summary_time)
    pairs = []
    for n, pair in enumerate(state.pairs):
        kind = n % 5
        last = at - timedelta(days=(0, 50, 35, 5, 20)[kind] + n % 7)
        both = tuple(
            Contact(last - timedelta(days=9 * k), ("mentor_to_mentee", "mentee_to_mentor")[k % 2]) for k in range(30)
        )
        one_way = tuple(Contact(last - timedelta(days=9 * k), "mentor_to_mentee") for k in range(30))
        contacts = {0: (), 1: both, 2: both, 3: one_way, 4: both}[kind]
        pairs.append(dataclasses.replace(pair, contacts=contacts, status="paused" if kind == 4 else pair.status))
    synthetic = dataclasses.replace(state, pairs=tuple(pairs), liaison_activity=None)
    (mail,) = plan_liaison_summary(summary.calendar, synthetic, summary.now)
    raw = summary.composer.compose(mail, (), mail.attachments).raw
    assert raw is not None
    return raw


FIGURES: list[Figure] = [
    Figure("liaison summary built + rendered / bare SQL", f"<= {MAX_RATIO:g}x", measure_time),
    Figure("liaison summary mail size", f"<= {MAX_BYTES:,} bytes", measure_size),
]


def line(figure: Figure, pairs: int, reading: Reading) -> str:
    if reading.ceiling is not None:
        ours = f"{reading.ours:.3f} {reading.unit}, bare SQL {reading.ceiling:.3f} {reading.unit}"
        value = f"{reading.ours / reading.ceiling:.1f}x"
    else:
        ours, value = f"{reading.ours:,.0f} {reading.unit}", ""
    verdict = "meets" if reading.met else "MISSES"
    note = f"; {reading.note}" if reading.note else ""
    return f"{figure.name} at {pairs:,} pairs: {ours} {value} ({verdict} target {figure.target}{note})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--rebuild", action="store_true", help="build the cached stores again")
    parser.add_argument("--profile", action="store_true", help="a cProfile of one summary at each size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for pairs in args.pairs:
            scale = cached(pairs, rebuild=args.rebuild, into=Path(tmp) / str(pairs))
            for figure in FIGURES:
                print(line(figure, pairs, figure.measure(scale)), flush=True)
            if args.profile:
                summary = _Summary.of(scale)
                state = summary.program_state()
                summary.build(state)
                profiler = cProfile.Profile()
                profiler.runcall(summary.build, state)
                summary.store.close()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
