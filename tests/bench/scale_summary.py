"""The liaison summary at scale: built and rendered against the bare SQL, and the mail's size.

    make bench-scale                                        # tests/bench/scale.py appends FIGURES
    .venv/bin/python -m tests.bench.scale_summary --pairs 10000 --profile

`FIGURES` are figure functions of `tests/bench/scale.py` (`(store, workdir) -> Figure`); run
alone, this module prints the same figures. Each is measured on a private copy of the cached
store of N pairs with 50 events each (`tests/bench/stores.py`), for the summary of Monday
31 May 2027, the round's last (40 weeks of chart, nearly every event of the round before it):

- **built + rendered ÷ bare SQL** (target <= 3x): the work a tick does for the summary once it
  holds the program-wide state (pairs without contacts): `liaison_summary_due`, the grouped
  query and the chart's query (`store.queries.summary.liaison_activity`), the plan (lists, CSV),
  both parts rendered and the MIME message composed. Its ceiling, in the same run, is the issue's
  bare sqlite3 `SELECT pair_id, direction, count(*), max(occurred_at) FROM contactevent GROUP BY
  pair_id, direction`, fetched (`scale.bare_group_by`). Loading the program-wide state is not
  counted: the tick reads it for the digest and the survey results anyway.
- **the mail's size** (target <= 1 MB): the composed message, CSV attached, in bytes; and the
  size the same program's mail would have if its pairs were spread over every list (a synthetic
  state of the same pairs), since with the bench's data only the never-started list is longer
  than the mail shows.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `tests.` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mentormail.daemon.mail.compose import Composer
from mentormail.daemon.mail.planner.calendar import Calendar
from mentormail.daemon.mail.planner.liaison import (
    LIST_LIMIT,
    activity_from_contacts,
    liaison_activity_options,
    liaison_summary_due,
    plan_liaison_summary,
)
from mentormail.daemon.service import open_store
from mentormail.daemon.settings import load_settings
from mentormail.store import queries
from mentormail.store.db import Store
from mentormail.store.planner_state import Contact, PlannerState
from mentormail.store.queries.replies import MAX_COMMENT
from mentormail.store.queries.summary import liaison_activity
from mentormail.store.summary_state import CheckinNote

from tests.bench.scale import Figure, FigureFunction, bare_group_by, best_of, ratio
from tests.bench.stores import ScaleStore, cached

SUMMARY_DAY = date(2027, 5, 31)  # a Monday, the round's last summary (it started on 1 September 2026)
MAX_RATIO = 3.0
MAX_BYTES = 1_000_000


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


def liaison_summary(store: ScaleStore, workdir: Path) -> Figure:
    summary = _Summary.of(store)
    try:
        state = summary.program_state()
        summary.build(state)  # warm: templates compiled, pages cached, as in a running daemon
        ours = best_of(lambda: summary.build(state))
    finally:
        summary.store.close()
    ceiling = bare_group_by(store.database)
    target = f"≤ {MAX_RATIO:g}× bare SQL"
    return Figure(
        "liaison summary built + rendered", ours, ceiling, "bare GROUP BY", target, ours <= MAX_RATIO * ceiling
    )


def liaison_summary_size(store: ScaleStore, workdir: Path) -> Figure:
    summary = _Summary.of(store)
    try:
        size = len(summary.build(summary.program_state()))
    finally:
        summary.store.close()
    return Figure("liaison summary mail", size, None, "-", "≤ 1 MB", size <= MAX_BYTES, "bytes")


def liaison_summary_size_every_list_full(store: ScaleStore, workdir: Path) -> Figure:
    summary = _Summary.of(store)
    try:
        size = len(_every_list_full(summary, summary.program_state()))
    finally:
        summary.store.close()
    return Figure("liaison summary mail (every list full)", size, None, "-", "≤ 1 MB", size <= MAX_BYTES, "bytes")


def _every_list_full(summary: _Summary, state: PlannerState) -> bytes:
    """The summary of the same pairs if they were spread over every list: a fifth never wrote,
    a fifth silent 45+ days, a fifth 30-44 days, a fifth one-sided, the rest paused, and 50
    check-in comments of the longest kept; composed from their contacts (the planner's own
    derivation), since no store holds them."""
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
    # And more check-in comments than the mail shows, each as long as a check-in keeps (two replies).
    found = liaison_summary_due(summary.calendar, synthetic, summary.now)
    assert found is not None, "no summary due"
    activity = activity_from_contacts(summary.calendar, synthetic, found[1])
    comments = tuple(
        CheckinNote(pair.pair_id, 9, 3, n % 2 == 0, ("Étude de cas, très bien. " * 40)[:MAX_COMMENT], found[1])
        for n, pair in enumerate(pairs[: 2 * LIST_LIMIT])
    )
    synthetic = dataclasses.replace(synthetic, liaison_activity=dataclasses.replace(activity, comments=comments))
    (mail,) = plan_liaison_summary(summary.calendar, synthetic, summary.now)
    raw = summary.composer.compose(mail, (), mail.attachments).raw
    assert raw is not None
    return raw


FIGURES: list[FigureFunction] = [liaison_summary, liaison_summary_size, liaison_summary_size_every_list_full]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--rebuild", action="store_true", help="build the cached stores again")
    parser.add_argument("--profile", action="store_true", help="a cProfile of one summary at each size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for pairs in args.pairs:
            store = cached(pairs, rebuild=args.rebuild, into=Path(tmp) / str(pairs))
            for measure in FIGURES:
                figure = measure(store, Path(tmp))
                beside = (
                    f", {figure.ceiling_name} {figure.shown(figure.ceiling)}, {ratio(figure)}" if figure.ceiling else ""
                )
                verdict = "meets" if figure.met else "MISSES"
                print(
                    f"{figure.name} at {pairs:,} pairs: {figure.shown(figure.ours)}{beside} ({verdict} {figure.target})"
                )
            if args.profile:
                summary = _Summary.of(store)
                state = summary.program_state()
                summary.build(state)
                profiler = cProfile.Profile()
                profiler.runcall(summary.build, state)
                summary.store.close()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
