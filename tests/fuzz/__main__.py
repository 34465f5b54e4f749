"""`python -m tests.fuzz`: run the fuzz for a bounded time or number of inputs, then report.

Exit status: 0 when there were no unhandled errors and no inputs without an outcome, 1 when there
were (the findings folder then holds the inputs), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue as queues
import random
import shutil
import sys
import tempfile
import time
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

from corpus_labels import CORPUS

from . import TESTS
from .seeds import FuzzProgram, build, copy_sqlite
from .target import SLOW, STORE, TICK, Failure, Findings, Stats, current_input
from .worker import Assignment, work

REPO = TESTS.parent
_SHOWN_FAILURES = 5  # kinds of error shown with their traceback
_HANG_SECONDS = 120.0  # one input this long is a hang: the worker is stopped and the input kept
_PROGRESS_SECONDS = 60.0  # a line of figures this often, for a long run watched from its log


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz",
        description=(
            "Feed mutated corpus mail and synthetic mail through Intake.ingest (a real SQLite store) "
            "and the reply parsers, tick the planner over the result, and report: inputs tried, "
            "unhandled errors, inputs with no outcome, the slowest input. Only seed file names and "
            "mutation names are printed, never message content."
        ),
        epilog=(
            "Stops at --seconds or --inputs, whichever comes first (0 = no bound; give at least one). "
            "Setting up (about 10 s) and the last planner tick come on top of --seconds. Failing inputs "
            "are written to a folder outside the repository, printed at the end."
        ),
    )
    parser.add_argument("--seconds", type=float, default=600, help="time for feeding inputs (default 600)")
    parser.add_argument("--inputs", type=int, default=0, help="stop after this many inputs (default: no bound)")
    parser.add_argument("--workers", type=int, default=1, help="processes, each with its own store (default 1)")
    parser.add_argument("--seed", type=int, default=None, help="the run's random seed (default: a new one)")
    parser.add_argument("--generation", type=int, default=500, help="inputs per store before a planner tick (500)")
    parser.add_argument(
        "--corpus", type=Path, default=CORPUS, help=f"the shared corpus (default {CORPUS}, or $MENTORMAIL_CORPUS)"
    )
    parser.add_argument("--out", type=Path, default=None, help="where the findings folder goes (outside the repo)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch program and stores too")
    args = parser.parse_args(argv)
    if args.seconds <= 0 and args.inputs <= 0:
        parser.error("give --seconds or --inputs (or both)")
    if args.workers < 1 or args.generation < 1:
        parser.error("--workers and --generation must be at least 1")
    out = (args.out or Path(tempfile.gettempdir())).resolve()
    if out == REPO or REPO in out.parents:
        parser.error(f"{out} is inside the repository; findings hold message bytes and must be written elsewhere")
    args.out = out
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    run_seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    folder = Path(tempfile.mkdtemp(prefix="mentormail-fuzz-", dir=args.out))
    bounds = " and ".join(
        b
        for b in (f"{args.seconds:g} s" if args.seconds > 0 else "", f"{args.inputs} inputs" if args.inputs else "")
        if b
    )
    print(
        f"mentormail fuzz: seed {run_seed}, {args.workers} worker(s), up to {bounds}; working in {folder}", flush=True
    )
    if not args.corpus.is_dir():
        print(f"corpus: not found at {args.corpus}; skipping its seeds (synthetic and structured mail only)")
    started = time.monotonic()
    program = build(folder / "program", args.corpus if args.corpus.is_dir() else None)
    synthetic = len(program.seeds) - program.corpus_files
    print(
        f"seeds: {program.corpus_files} corpus files, {synthetic} synthetic messages "
        f"(program set up in {time.monotonic() - started:.1f} s)",
        flush=True,
    )
    findings = folder / "findings"
    total, elapsed = _supervise(program, args, run_seed, folder, findings)
    _report(total, elapsed, args.workers, findings)
    _tidy(folder, findings, args.keep)
    return 1 if total.errors or total.no_outcome else 0


def _supervise(
    program: FuzzProgram, args: argparse.Namespace, run_seed: int, folder: Path, findings: Path
) -> tuple[Stats, float]:
    """Run the workers; stop one that hangs on an input or dies, keep that input, start another."""
    context = multiprocessing.get_context("fork")  # the workers inherit the built program as is
    reports: queues.Queue = context.Queue()  # type: ignore[type-arg]
    start = time.monotonic()
    deadline = start + args.seconds if args.seconds > 0 else None
    quotas = [args.inputs // args.workers + (i < args.inputs % args.workers) for i in range(args.workers)]
    running: dict[int, tuple[BaseProcess, Synchronized, Assignment]] = {}  # type: ignore[type-arg]
    latest: dict[int, Stats] = {}
    lost = Stats()  # hangs and deaths, found by the supervisor
    done: set[int] = set()
    next_id = args.workers

    def launch(worker: int, quota: int | None, first_pass: tuple) -> None:  # type: ignore[type-arg]
        job = Assignment(
            worker, run_seed, deadline, quota, folder / f"worker-{worker}", findings, first_pass, args.generation
        )
        busy = context.Value("d", 0.0, lock=False)
        process = context.Process(target=work, args=(program, job, reports, busy), daemon=True)
        process.start()
        running[worker] = (process, busy, job)

    for worker in range(args.workers):
        launch(worker, quotas[worker] or None, tuple(program.seeds[worker :: args.workers]))
    shown = start
    while running:
        if time.monotonic() - shown >= _PROGRESS_SECONDS:
            shown = time.monotonic()
            _progress(lost, latest, shown - start)
        try:
            kind, worker, stats = reports.get(timeout=1)
            latest[worker] = stats
            if kind == "done":
                done.add(worker)
        except queues.Empty:
            pass
        for worker, (process, busy, job) in list(running.items()):
            if worker in done:
                process.join()
                del running[worker]
                continue
            hung = busy.value and time.monotonic() - busy.value > _HANG_SECONDS
            if not hung and process.is_alive():
                continue
            if hung:
                process.kill()
            process.join()
            try:  # its last report may still be in the queue
                while True:
                    kind, reporter, stats = reports.get(timeout=0.5)
                    latest[reporter] = stats
                    done.update([reporter] if kind == "done" else [])
            except queues.Empty:
                pass
            if worker in done:
                del running[worker]
                continue
            what = f"Hang: one input over {_HANG_SECONDS:g} s" if hung else f"Died with exit code {process.exitcode}"
            _lost_input(lost, job, what, Findings(findings, f"w{worker}-lost-"))
            del running[worker]
            tried = latest[worker].inputs if worker in latest else 0
            left = None if job.quota is None else job.quota - tried
            if (deadline is None or time.monotonic() < deadline) and (left is None or left > 0):
                launch(next_id, left, ())
                next_id += 1
    elapsed = time.monotonic() - start
    total = lost
    for stats in latest.values():
        total.merge(stats)
    return total, elapsed


def _progress(lost: Stats, latest: dict[int, Stats], elapsed: float) -> None:
    so_far = Stats()
    for stats in (lost, *latest.values()):
        so_far.merge(stats)
    print(
        f"  {elapsed:.0f} s: {so_far.inputs} inputs, {so_far.errors} unhandled errors, "
        f"{so_far.no_outcome} with no outcome, {len(so_far.over_slow)} over {SLOW:g} s",
        flush=True,
    )


def _lost_input(lost: Stats, job: Assignment, what: str, findings: Findings) -> None:
    """The input a worker was on when it hung or died, from the files it leaves before each input."""
    left = current_input(job.scratch)
    about = left[0] if left else {}
    if about.get("stage") == TICK:
        # No input of its own: what it ticked over is the store, whose questions and answers are
        # the generation's inputs (questions are kept whole), kept for finding the culprit.
        what = what.replace("one input", "a planner tick")
        failure = lost.failures.setdefault(what, Failure("worker", what, []))
        failure.examples.append(f"planner tick at {about.get('mutation')}, over the store of a generation")
        findings.folder.mkdir(parents=True, exist_ok=True)
        store = findings.folder / f"{findings.prefix}{len(failure.saved) + 1:04d}-planner_tick_store.db"
        copy_sqlite(job.scratch / STORE, store)
        failure.saved.append(str(store))
    else:
        label = f"{about.get('seed', '?')} / {about.get('mutation', '?')} via {about.get('transport', '?')}"
        failure = lost.failures.setdefault(what, Failure("worker", what, []))
        failure.examples.append(label)
        if left is not None:
            failure.saved.append(findings.save(what.split(":")[0], left[1], about, what))
        lost.inputs += 1
    failure.count += 1
    failure.examples = failure.examples[:3]


def _report(total: Stats, elapsed: float, workers: int, findings: Path) -> None:
    rate = total.inputs / elapsed if elapsed else 0.0
    print()
    print(f"inputs tried: {total.inputs} in {elapsed:.0f} s ({rate:.0f} inputs/s, {workers} worker(s));"
          f" {total.structured} of them structured mail from hypothesis")  # fmt: skip
    print("outcomes: " + ", ".join(f"{kind} {n}" for kind, n in total.outcomes.most_common()))
    print(
        f"planner ticks: {total.ticks} (slowest {total.slowest_tick:.2f} s, {total.slow_ticks} over {SLOW:g} s;"
        f" {total.culprits} tick failure(s) traced to a single input)"
    )
    print(f"unhandled errors: {total.errors}" + (f" ({len(total.failures)} kinds)" if total.failures else ""))
    for number, failure in enumerate(sorted(total.failures.values(), key=lambda f: -f.count), start=1):
        print(f"  [{number}] {failure.stage}: {failure.signature} -- {failure.count} time(s)")
        for example in failure.examples:
            print(f"      input: {example}")
        if number <= _SHOWN_FAILURES:
            for frame in failure.frames:
                print(f"      at {frame}")
        for path in failure.saved[:2]:
            print(f"      saved: {path}")
    print(f"inputs with no outcome: {total.no_outcome}")
    for example in total.no_outcome_examples:
        print(f"      input: {example}")
    if total.slowest is not None:
        slowest = total.slowest
        print(f"slowest input: {slowest.seconds:.3f} s CPU ({slowest.detail}): {slowest.label}")
    print(f"inputs over {SLOW:g} s: {len(total.over_slow)}")
    for timed in sorted(total.over_slow, key=lambda t: -t.seconds)[:5]:
        print(f"      {timed.seconds:.2f} s ({timed.detail}): {timed.label}")
    if total.store_failures:
        print(f"store failures (OperationalError; ingest raises these by design): {total.store_failures}")
    if total.logged:
        print("warnings logged by the daemon: " + ", ".join(f"{n} x {t!r}" for t, n in total.logged.most_common(5)))
    if findings.is_dir():
        print(f"failing and slow inputs written to: {findings}")


def _tidy(folder: Path, findings: Path, keep: bool) -> None:
    """Scratch stores go; the findings stay (and the folder with them, when there are any)."""
    if keep:
        return
    for path in folder.iterdir():
        if path != findings:
            shutil.rmtree(path, ignore_errors=True)
    if not findings.is_dir():
        os.rmdir(folder)


if __name__ == "__main__":
    sys.exit(main())
