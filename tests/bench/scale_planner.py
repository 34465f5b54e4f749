"""The planner and the running daemon at scale: `make bench-scale` figures (see scale.py).

- **planner tick, nothing changed**: a tick in this process right after a tick that planned
  every pair (the first, mid-round, which is timed too), best of five. Target <= 50 ms at 10,000
  pairs; its ceiling is the issue's bare GROUP BY, for scale only.
- **first planner tick**: the tick that plans every pair of a store no daemon has run on,
  mid-round (2 December: pairings, reminders, topics, check-ins and nudges are all due). Its
  ceiling is composing the same number of mails and nothing else (the per-mail time of
  composing a sample of them, times their number): what a tick cannot avoid.
- **`mentormail run`**, a subprocess on a copy no daemon has run on, while its first tick
  plans every pair: SMTP intake meanwhile (one client sending a CC copy every 100 ms, each
  transaction timed; target: no 451 and p99 <= 1 s; ceiling: the same client against a bare
  aiosmtpd server), the process's peak RSS when that tick is done (target <= 200 MB; ceiling:
  the RSS of a Python that has imported the daemon and done nothing), and, on a second copy,
  how long SIGTERM takes while the first tick runs (target: seconds; ceiling: SIGTERM to an idle
  daemon).
- **simulate a whole round, steady traffic**: `mentormail simulate` as a user runs it, on a
  store of N pairs (without events), at 100 and 1,000 pairs, and 4 pairs at the smallest size.
  Target <= 60 s at 1,000 pairs, <= 5 s at 4; ceiling: composing the mails it wrote, alone.
"""

from __future__ import annotations

import logging
import re
import signal
import smtplib
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from mentormail.daemon.mail.compose import Composer
from mentormail.daemon.mail.planner import Calendar, due_mail_for_pairs
from mentormail.daemon.mail.scheduler import ProgramMail
from mentormail.daemon.service import open_store
from mentormail.daemon.settings import load_settings
from mentormail.store import queries

from tests.bench import stores
from tests.bench.scale import Figure, bare_group_by, best_of
from tests.bench.stores import ScaleStore
from tests.conftest import MENTORMAIL, PROGRAM_ADDRESS, free_port, message, wait_for_port

HERE = Path(__file__).resolve().parent
MID_ROUND = datetime(2026, 12, 2, 15, tzinfo=timezone.utc)  # 09:00 in Chicago, three months in
IDLE_TICK_TARGET = 0.050
RSS_TARGET_MB = 200
P99_TARGET = 1.0
SEND_EVERY = 0.1  # seconds between the intake client's messages
SIMULATE_UNTIL = "2027-06-30"  # the bench round starts on 1 September 2026 and lasts nine months
SIMULATE_TARGETS = {4: 5.0, 1_000: 60.0}


# --- the planner in process ----------------------------------------------------------------------


@dataclass
class _Ticks:
    first: float
    mails: int
    idle: float
    compose_each: float


_ticks: dict[int, _Ticks] = {}


def _measure_ticks(store: ScaleStore) -> _Ticks:
    # A daemon at its default level logs every key it enqueues; the in-process CLI figures left
    # the root logger at that level, and writing 30,000 lines would be timed too.
    logging.getLogger("mentormail").setLevel(logging.WARNING)
    if store.pairs not in _ticks:
        settings = load_settings(store.program.config)
        db = open_store(settings)
        mail = ProgramMail(db, settings)
        try:
            compose_each = _compose_seconds_each(settings, db)
            start = time.perf_counter()
            added = mail.plan(MID_ROUND)
            first = time.perf_counter() - start
            later = iter(MID_ROUND + timedelta(minutes=n) for n in range(1, 100))
            idle = best_of(lambda: mail.plan(next(later)), 5)
        finally:
            mail.close()
            db.close()
        _ticks[store.pairs] = _Ticks(first, len(added), idle, compose_each)
    return _ticks[store.pairs]


def _compose_seconds_each(settings, db, sample: int = 200) -> float:  # type: ignore[no-untyped-def]
    """Composing alone: the first tick's own mails for a sample of pairs, planned and composed
    with no store work, seconds per mail."""
    calendar, composer = Calendar.from_settings(settings), Composer.for_settings(settings)
    with db.session() as session:
        ids = {f"b{i}" for i in range(sample // 3)}
        state = queries.pair_planner_state(session, ids, MID_ROUND)
    due = due_mail_for_pairs(calendar, state, MID_ROUND, ids)
    composer.compose(due[0])  # warm: templates compiled
    start = time.perf_counter()
    for mail in due:
        composer.compose(mail)
    return (time.perf_counter() - start) / len(due)


def planner_idle_tick(store: ScaleStore, workdir: Path) -> Figure:
    ticks = _measure_ticks(store)
    ceiling = bare_group_by(store.database)
    met = ticks.idle <= IDLE_TICK_TARGET
    return Figure("planner tick, nothing changed", ticks.idle, ceiling, "bare GROUP BY", "≤ 50 ms", met)


def planner_first_tick(store: ScaleStore, workdir: Path) -> Figure:
    ticks = _measure_ticks(store)
    ceiling = ticks.compose_each * ticks.mails
    name = f"first planner tick, {ticks.mails:,} mails"
    return Figure(name, ticks.first, ceiling, "composing them alone", "none (bounded batches)", True)


# --- mentormail run ------------------------------------------------------------------------------


@dataclass
class _Client:
    """One SMTP connection sending a CC copy every SEND_EVERY seconds until stopped."""

    port: int
    pairs: int
    latencies: list[float] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=120) as client:
            n = 0
            while not self.stop.is_set():
                i = n % self.pairs
                sender = f"mentor{i}@example.org"
                mail = message(
                    sender,
                    [f"mentee{i}@example.net"],
                    [PROGRAM_ADDRESS],
                    message_id=f"<scale-{time.time_ns()}-{n}@bench.example.net>",
                )
                start = time.perf_counter()
                try:
                    client.sendmail(sender, [PROGRAM_ADDRESS], mail.as_bytes())
                    self.latencies.append(time.perf_counter() - start)
                except smtplib.SMTPResponseException as refused:
                    self.refused.append(f"{refused.smtp_code}")
                except smtplib.SMTPRecipientsRefused as refused:
                    self.refused.append(str(next(iter(refused.recipients.values()))[0]))
                n += 1
                self.stop.wait(SEND_EVERY)

    def p99(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98] if len(self.latencies) >= 2 else float("nan")


@dataclass
class _Run:
    p99: float
    sent: int
    refused: list[str]
    peak_mb: float
    tick_seconds: float


_runs: dict[int, _Run] = {}


def _peak_mb(pid: int) -> float:
    """The daemon's peak resident memory and its composing worker's, added up."""
    # A child is listed under the thread that started it (the worker: the planner's thread).
    children = [c for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
    total = 0
    for process in (pid, *map(int, children)):
        status = Path(f"/proc/{process}/status").read_text()
        total += int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    return total / 1024


def _start(store: ScaleStore, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        process = subprocess.Popen(
            [*MENTORMAIL, "-c", str(store.program.config), "run"],
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=store.program.root,
        )
    wait_for_port(store.program.smtp_port, process, timeout=300)
    return process


def _first_tick_done(log: Path) -> bool:
    return "planner tick" in log.read_text(errors="replace")


def _measure_run(store: ScaleStore) -> _Run:
    if store.pairs in _runs:
        return _runs[store.pairs]
    log = store.program.root / "daemon.log"
    started = time.perf_counter()
    process = _start(store, log)
    client = _Client(store.program.smtp_port, store.pairs)
    sender = threading.Thread(target=client.run)
    sender.start()
    try:
        while not _first_tick_done(log) and process.poll() is None:
            time.sleep(0.5)
        tick_seconds = time.perf_counter() - started
        peak = _peak_mb(process.pid)
    finally:
        client.stop.set()
        sender.join()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=600)
    _runs[store.pairs] = _Run(client.p99(), len(client.latencies), client.refused, peak, tick_seconds)
    return _runs[store.pairs]


def run_intake_during_first_tick(store: ScaleStore, workdir: Path) -> Figure:
    run = _measure_run(store)
    bare = _bare_p99(workdir, store.pairs)
    refused = f", {len(run.refused)} refused ({', '.join(sorted(set(run.refused)))})" if run.refused else ""
    name = f"SMTP intake p99 during the first tick ({run.sent} messages in {run.tick_seconds:.0f} s{refused})"
    met = not run.refused and run.p99 <= P99_TARGET
    return Figure(name, run.p99, bare, "bare aiosmtpd p99", "no 451, p99 ≤ 1 s", met)


def _bare_p99(workdir: Path, pairs: int, seconds: float = 10.0) -> float:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(HERE / "bare_smtp.py"), str(port)], cwd=workdir)
    try:
        wait_for_port(port, process)
        client = _Client(port, pairs)
        sender = threading.Thread(target=client.run)
        sender.start()
        time.sleep(seconds)
        client.stop.set()
        sender.join()
    finally:
        process.terminate()
        process.wait(timeout=60)
    return client.p99()


def run_peak_rss(store: ScaleStore, workdir: Path) -> Figure:
    run = _measure_run(store)
    # VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts at its parent's (this bench's).
    floor = subprocess.run(
        [sys.executable, "-c", "import re, mentormail.daemon.cli; print(re.search(r'VmHWM:\\s+(\\d+)', "
         "open('/proc/self/status').read()).group(1))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    ceiling = int(floor.stdout) / 1024
    met = run.peak_mb <= RSS_TARGET_MB
    name = "peak RSS of run and its composing worker, first tick done"
    floor_name = "one Python + the daemon's imports"
    return Figure(name, run.peak_mb, ceiling, floor_name, f"≤ {RSS_TARGET_MB} MB", met, unit="MB")


def run_sigterm_during_first_tick(store: ScaleStore, workdir: Path) -> Figure:
    """SIGTERM 5 s after the daemon listens, its first tick under way; against an idle daemon (of
    100 pairs, its first tick done)."""
    ours = _sigterm_seconds(store, workdir / "busy.log", busy=True)
    idle_store = stores.cached(100, into=workdir / "idle")
    ceiling = _sigterm_seconds(idle_store, workdir / "idle.log", busy=False)
    name = "SIGTERM to exit, first tick running"
    return Figure(name, ours, ceiling, "SIGTERM to an idle daemon", "≤ 10 s", ours <= 10)


def _sigterm_seconds(store: ScaleStore, log: Path, *, busy: bool) -> float:
    process = _start(store, log)
    if busy:
        time.sleep(5)
    else:
        while not _first_tick_done(log) and process.poll() is None:
            time.sleep(0.5)
        time.sleep(2)
    start = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=600)
    return time.perf_counter() - start


# --- simulate ------------------------------------------------------------------------------------


def _simulate(pairs: int, workdir: Path) -> Figure:
    fresh = stores.cached(pairs, events_per_pair=0, into=workdir / f"simulate-{pairs}")
    outbox = fresh.program.root / "preview"
    start = time.perf_counter()
    fresh.program.cli("simulate", "--until", SIMULATE_UNTIL, "--traffic", "steady", "--outbox", str(outbox))
    ours = time.perf_counter() - start
    written = len(list((outbox / "new").iterdir()))
    settings = load_settings(fresh.program.config)
    db = open_store(settings)
    try:
        ceiling = _compose_seconds_each(settings, db, sample=min(200, 3 * pairs)) * written
    finally:
        db.close()
    target = SIMULATE_TARGETS.get(pairs, 60.0)
    name = f"simulate a round, steady, {pairs:,} pairs ({written:,} mails)"
    return Figure(name, ours, ceiling, "composing them alone", f"≤ {target:g} s", ours <= target)


def simulate_round(store: ScaleStore, workdir: Path) -> Figure | None:
    if store.pairs > 1_000:
        return None  # the sizes for a preview: 4 and 1,000 pairs (10,000 takes ten times 1,000)
    return _simulate(store.pairs, workdir)


def simulate_four_pairs(store: ScaleStore, workdir: Path) -> Figure | None:
    return _simulate(4, workdir) if store.pairs == 100 else None


FIGURES = [
    planner_idle_tick,
    planner_first_tick,
    run_intake_during_first_tick,
    run_peak_rss,
    run_sigterm_during_first_tick,
    simulate_round,
    simulate_four_pairs,
]
