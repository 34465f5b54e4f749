"""Scale benchmarks: each figure at 100, 1,000 and 10,000 pairs, beside its ceiling from the same run.

    make bench-scale                                   # = .venv/bin/python -m tests.bench.scale
    .venv/bin/python -m tests.bench.scale --sizes 100,1000 --only status --only export

The stores come from `tests/bench/stores.py` (50 contact events per pair over nine months),
built once and cached under `var/bench-stores/`; `--rebuild` makes them again. Each figure gets
its own copy of the store, so a figure that writes (a planner tick) changes nothing for the next.

A figure is a function `(store, workdir) -> Figure`, listed in `FIGURES`. Other modules add
theirs without editing this one: `tests/bench/scale_planner.py` and `tests/bench/scale_summary.py`,
when they exist, are imported and their own `FIGURES` lists appended. `bare_group_by` is the
issue's ceiling for anything that aggregates events; `best_of` times a callable.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if __package__ in (None, ""):  # run as `python tests/bench/scale.py`: make `tests.` importable
    sys.path.insert(0, str(REPO))

from tests.bench import stores  # noqa: E402
from tests.bench.stores import ScaleStore  # noqa: E402
from tests.conftest import Program, free_port  # noqa: E402

from mentormail.daemon.cli import main as mentormail  # noqa: E402
from mentormail.store.db import Store  # noqa: E402

DEFAULT_SIZES = (100, 1_000, 10_000)
# Figures from other modules, appended when the module exists.
MORE_FIGURES = ("tests.bench.scale_planner", "tests.bench.scale_summary")
BARE_GROUP_BY = "SELECT pair_id, direction, count(*), max(occurred_at) FROM contactevent GROUP BY pair_id, direction"
IMPORT_TARGET_SECONDS_PER_10000 = 30.0
# How many times each side of a figure is timed; the best run counts (the machine is shared).
repeat = 3


@dataclass(frozen=True)
class Figure:
    name: str
    ours: float  # seconds (or `unit`)
    ceiling: float | None  # the same unit; None for a figure with an absolute target (a size)
    ceiling_name: str
    target: str  # as the issue states it: "≤ 3× bare SQL", "≤ 30 s at 10,000 pairs"
    met: bool
    unit: str = "s"

    @property
    def ratio(self) -> float | None:
        return self.ours / self.ceiling if self.ceiling else None

    def shown(self, value: float | None) -> str:
        if value is None:
            return "-"
        if self.unit != "s":
            return f"{value:,.0f} {self.unit}"
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


# None: the figure is not measured at this size (a preview of 10,000 pairs, say).
FigureFunction = Callable[[ScaleStore, Path], Figure | None]


def best_of(run: Callable[[], object], times: int | None = None) -> float:
    """The shortest of `times` runs of `run`, in seconds."""
    best = float("inf")
    for _ in range(times or repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def bare_group_by(database: Path) -> float:
    """The issue's ceiling: plain sqlite3 counting every pair's events by direction, best of runs."""

    def query() -> None:
        connection = sqlite3.connect(database)
        try:
            connection.execute(BARE_GROUP_BY).fetchall()
        finally:
            connection.close()

    return best_of(query)


def run_cli(program: Program, *args: str) -> str:
    """`mentormail -c CONFIG ARGS` in this process (no interpreter start-up); its output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = mentormail(["-c", str(program.config), *args])
    if status != 0:
        raise RuntimeError(f"mentormail {' '.join(args)} exited {status}")
    return out.getvalue()


def within_bare(name: str, store: ScaleStore, *args: str, times: float = 3.0) -> Figure:
    run_cli(store.program, *args)  # warm: imports, the migration check, the page cache
    ours = best_of(lambda: run_cli(store.program, *args))
    ceiling = bare_group_by(store.database)
    return Figure(name, ours, ceiling, "bare GROUP BY", f"≤ {times:g}× bare SQL", ours <= times * ceiling)


# --- the figures -------------------------------------------------------------------------------


def status_json(store: ScaleStore, workdir: Path) -> Figure:
    return within_bare("status --json (in process)", store, "status", "--json")


def export_contacts(store: ScaleStore, workdir: Path) -> Figure:
    return within_bare("export contacts (in process)", store, "export", "contacts")


def import_roster(store: ScaleStore, workdir: Path) -> Figure:
    """`import-roster` of the store's N pairs into a new program, against plain executemany
    INSERTs of the same people and pairs into a freshly migrated database."""
    rows = stores.roster_rows(store.pairs)
    csv_path = workdir / "roster.csv"
    with csv_path.open("w", encoding="utf-8") as out:
        out.write("mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on\n")
        for row in rows:
            out.write(f"{row.mentor_email},{row.mentor_name},{row.mentee_email},{row.mentee_name},{row.pair_id},")
            out.write(f"{row.starts_on}\n")

    def ours() -> None:
        root = Path(tempfile.mkdtemp(dir=workdir))
        run_cli(Program(root, free_port()), "import-roster", str(csv_path))

    def ceiling() -> None:
        database = Path(tempfile.mkdtemp(dir=workdir)) / "bare.db"
        Store.open(f"sqlite:///{database}").close()  # the schema, not timed
        connection = sqlite3.connect(database)
        try:
            start = time.perf_counter()
            people = [(r.mentor_email, r.mentor_name) for r in rows] + [(r.mentee_email, r.mentee_name) for r in rows]
            connection.executemany("INSERT INTO person (email, name, aliases, staff) VALUES (?, ?, '', 0)", people)
            ids = dict(connection.execute("SELECT email, id FROM person"))
            connection.executemany(
                "INSERT INTO pair (id, mentor_id, mentee_id, status, started_on) VALUES (?, ?, ?, 'active', ?)",
                [(r.pair_id, ids[r.mentor_email], ids[r.mentee_email], str(r.starts_on)) for r in rows],
            )
            connection.commit()
            timings.append(time.perf_counter() - start)
        finally:
            connection.close()

    timings: list[float] = []
    ours_seconds = best_of(ours)
    for _ in range(repeat):
        ceiling()
    # The target is for 10,000 pairs; smaller rosters are held to the same 30 s (their growth is
    # what the table shows), larger ones to their share of it.
    budget = IMPORT_TARGET_SECONDS_PER_10000 * max(1.0, store.pairs / 10_000)
    return Figure(
        f"import-roster, {store.pairs:,} pairs (in process)",
        ours_seconds,
        min(timings),
        "bare executemany",
        "≤ 30 s at 10,000 pairs",
        ours_seconds <= budget,
    )


FIGURES: list[FigureFunction] = [status_json, export_contacts, import_roster]


# --- running them --------------------------------------------------------------------------------


def all_figures() -> list[FigureFunction]:
    figures = list(FIGURES)
    for name in MORE_FIGURES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name:  # the module is there but something it imports is not
                raise
            continue
        figures += module.FIGURES
    return figures


def chosen(figures: list[FigureFunction], only: list[str]) -> list[FigureFunction]:
    if not only:
        return figures
    return [f for f in figures if any(word.lower() in f.__name__.lower() for word in only)]


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def ratio(figure: Figure) -> str:
    return "-" if figure.ratio is None else f"{figure.ratio:.1f}×"


def main(argv: list[str] | None = None) -> int:
    global repeat
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="pairs per store, comma separated")
    parser.add_argument("--rebuild", action="store_true", help="build the cached stores again")
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="only the figures whose function name has NAME"
    )
    parser.add_argument("--repeat", type=int, default=repeat, help="runs of each side; the best counts (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    repeat = args.repeat
    sizes = [int(size.replace("_", "")) for size in args.sizes.split(",")]
    figures = chosen(all_figures(), args.only)
    if not figures:
        parser.error(f"no figure matches {args.only}; there are: {', '.join(f.__name__ for f in all_figures())}")
    scratch = Path(tempfile.mkdtemp(prefix="mentormail-scale-"))
    growth: dict[str, dict[int, Figure]] = {}
    try:
        for size in sizes:
            rebuilt = False
            results: list[Figure] = []
            for figure in figures:
                workdir = scratch / f"{size}-{len(results)}"
                workdir.mkdir()
                store = stores.cached(size, rebuild=args.rebuild and not rebuilt, into=workdir)
                rebuilt = True
                result = figure(store, workdir)
                if not args.keep:
                    shutil.rmtree(workdir)
                if result is None:
                    continue
                results.append(result)
                growth.setdefault(result.name.split(",")[0].split(" (")[0], {})[size] = result
            print(f"\n{size:,} pairs, {store.events:,} events\n")
            rows = [["figure", "ours", "ceiling", "ratio", "ceiling is", "target", "met"]]
            for r in results:
                met = "yes" if r.met else "NO"
                rows.append([r.name, r.shown(r.ours), r.shown(r.ceiling), ratio(r), r.ceiling_name, r.target, met])
            print(table(rows), flush=True)
        if len(sizes) > 1:
            print("\ngrowth: ours (ratio to its ceiling)\n")
            rows = [["figure", *(f"{size:,} pairs" for size in sizes)]]
            for name, by_size in growth.items():
                cells = [
                    f"{by_size[s].shown(by_size[s].ours)} ({ratio(by_size[s])})" if s in by_size else "-" for s in sizes
                ]
                rows.append([name, *cells])
            print(table(rows))
    finally:
        if args.keep:
            print(f"\nkept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
