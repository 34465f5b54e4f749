"""What one fuzz input goes through, and what counts as a finding.

Each input goes through a real `Intake.ingest` (the daemon's own `build_intake`: router, reply
effects, composer) into a real SQLite store, then through the reply parsers directly. After a
generation of inputs the planner ticks over that store as the daemon's scheduler does
(`ProgramMail.plan`, then delivery to memory), so a stored question or state that breaks
composing is found too; then the next generation starts from a fresh copy of the template store.

Findings:
- an unhandled error: any exception out of `ingest` except the store failing (an
  `OperationalError`: ingest is documented to raise only then), out of a reply parser (they are
  documented never to raise), out of the header parser even when intake catches it (it is
  documented never to raise either; intake logs it as "header parser failed"), or out of a
  planner tick or delivery;
- an input with no outcome: ingest returned something other than an `Outcome` of the closed set;
- the time each input took (`time.process_time`, ingest and parsers), the slowest kept.

Confidentiality: what is kept of an input for the report is its seed's name and its mutations'
names. Tracebacks are shown by exception class and code location only (never the exception's
message, which may quote a header). The bytes of failing inputs go to the findings folder
outside the repository, for minimising, and nowhere else.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import sqlite3
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mentormail.daemon.mail.backends import MemoryBackend
from mentormail.daemon.mail.delivery import Deliverer
from mentormail.daemon.intake.ingest import Intake
from mentormail.daemon.logs import describe_exception
from mentormail.store.outcomes import Outcome, OutcomeKind, Source
from mentormail.daemon.mail.scheduler import ProgramMail
from mentormail.daemon.service import build_intake
from mentormail.parsers.checkin import parse_checkin
from mentormail.parsers.commands import is_letter_request, parse_commands
from mentormail.parsers.reply import body_text, decode_bytes, interleaved, strip_quotes
from mentormail.parsers.self_report import parse_self_report
from mentormail.parsers.survey import parse_answers
from mentormail.store.db import Store
from sqlalchemy import event
from sqlalchemy import exc as sqlalchemy_errors

from .seeds import FUZZ_NOW, TICK_MOMENTS, FuzzProgram

SLOW = 1.0  # seconds of CPU for one input: the bound
_SAVED_PER_KIND = 5  # inputs written out per kind of error: enough to minimise from
_SAVED_SLOW = 20
_EXAMPLES = 3
_FRAMES = 8  # frames of a shortened traceback
# The store failing, as opposed to code handing it something wrong: the one exception ingest
# may raise (the caller then keeps the message and retries).
_STORE_FAILING = (sqlalchemy_errors.OperationalError, sqlite3.OperationalError)
# Warnings the daemon logs when it has caught an exception that is a defect all the same: the
# start of the message template -> (stage, index of the argument that is `describe_exception`).
_CAUGHT = {
    "header parser failed": ("parse_headers (caught by intake)", 0),
    # A mail the program sends that cannot be composed (a stored question, an answer, a summary)
    # is set aside and listed in the digest; it never reaches its recipient.
    "set aside": ("compose (set aside by the outbox)", 1),
}
CURRENT = "current-input"  # in a worker's scratch folder: see `Runner._mark`
STORE = "store.db"  # a worker's scratch store
TICK = "planner tick"


@dataclass(frozen=True)
class Input:
    seed: str
    mutation: str
    raw: bytes
    source: Source
    message: bool  # a whole message; else a bare reply body

    @property
    def label(self) -> str:
        return f"{self.seed} / {self.mutation} via {self.source.transport.value}"


@dataclass
class Failure:
    """One kind of unhandled error: a stage and an exception class at one place in the code."""

    stage: str
    signature: str  # `describe_exception`: class and place, never the message
    frames: list[str]
    count: int = 0
    examples: list[str] = field(default_factory=list)  # input labels
    saved: list[str] = field(default_factory=list)  # files in the findings folder


@dataclass
class Timed:
    seconds: float
    label: str
    detail: str  # where the time went: "ingest 0.91 s, parsers 0.02 s"


@dataclass
class Stats:
    inputs: int = 0
    structured: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: dict[str, Failure] = field(default_factory=dict)
    no_outcome: int = 0
    no_outcome_examples: list[str] = field(default_factory=list)
    store_failures: int = 0
    slowest: Timed | None = None
    over_slow: list[Timed] = field(default_factory=list)
    ticks: int = 0
    slowest_tick: float = 0.0
    slow_ticks: int = 0  # over SLOW: a tick covers a whole generation, but a second is still a lot
    culprits: int = 0  # planner-tick failures traced back to the input that caused them
    logged: Counter[str] = field(default_factory=Counter)  # warnings the daemon logged, by logger and template

    @property
    def errors(self) -> int:
        return sum(f.count for f in self.failures.values())

    def merge(self, other: Stats) -> None:
        self.inputs += other.inputs
        self.structured += other.structured
        self.outcomes.update(other.outcomes)
        for key, failure in other.failures.items():
            mine = self.failures.setdefault(key, Failure(failure.stage, failure.signature, failure.frames))
            mine.count += failure.count
            mine.examples = (mine.examples + failure.examples)[:_EXAMPLES]
            mine.saved += failure.saved
        self.no_outcome += other.no_outcome
        self.no_outcome_examples = (self.no_outcome_examples + other.no_outcome_examples)[:_EXAMPLES]
        self.store_failures += other.store_failures
        if other.slowest and (self.slowest is None or other.slowest.seconds > self.slowest.seconds):
            self.slowest = other.slowest
        self.over_slow += other.over_slow
        self.ticks += other.ticks
        self.slowest_tick = max(self.slowest_tick, other.slowest_tick)
        self.slow_ticks += other.slow_ticks
        self.culprits += other.culprits
        self.logged.update(other.logged)


class Findings:
    """The folder (outside the repository) that failing inputs are written to."""

    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix  # per worker, so that workers never write the same name
        self.written = 0

    def save(self, kind: str, raw: bytes, about: dict[str, Any], detail: str = "") -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.written += 1
        stem = self.folder / f"{self.prefix}{self.written:04d}-{re.sub(r'[^A-Za-z0-9]+', '_', kind)[:60]}"
        stem.with_suffix(".eml").write_bytes(raw)
        stem.with_suffix(".json").write_text(json.dumps({**about, "detail": detail}, indent=2), encoding="utf-8")
        return str(stem.with_suffix(".eml"))


def short_traceback(exc: BaseException) -> list[str]:
    """The innermost frames as `package/file.py:line in function`: where, never what."""
    frames = traceback.extract_tb(exc.__traceback__)[-_FRAMES:]
    return [f"{'/'.join(Path(f.filename).parts[-2:])}:{f.lineno} in {f.name}" for f in frames]


def fast_store(path: Path) -> Store:
    """The scratch store without fsync (`synchronous=OFF`): for the fuzz's throwaway copies only.

    Production's pragmas still apply (WAL, foreign keys, secure delete); this one is set after
    them on every connection.
    """
    store = Store.open(f"sqlite:///{path}", migrate=False)
    event.listen(store.engine, "connect", lambda connection, _record: connection.execute("PRAGMA synchronous=OFF"))
    return store


def copy_store(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)


@dataclass
class Daemon:
    """The daemon's parts over one scratch store."""

    store: Store
    intake: Intake
    mail: ProgramMail

    @classmethod
    def over(cls, program: FuzzProgram, path: Path) -> Daemon:
        copy_store(program.template, path)
        store = fast_store(path)
        intake = build_intake(program.settings, store, clock=lambda: FUZZ_NOW)
        deliverer = Deliverer(store, MemoryBackend(), timedelta(hours=program.settings.schedule.delivery_give_up_hours))
        return cls(store, intake, ProgramMail(store, program.settings, deliverer))

    def tick(self, moment: datetime) -> list[tuple[str, Exception]]:
        """A planner tick and a delivery at `moment`, as the daemon's scheduler runs them."""
        errors = []
        for stage, step in ((TICK, self.mail.plan), ("delivery", self.mail.deliver)):
            try:
                step(moment)
            except Exception as exc:  # noqa: BLE001 - any exception out of a tick is a finding
                errors.append((stage, exc))
        return errors

    def close(self) -> None:
        self.mail.close()
        self.store.close()


class Runner:
    """Feeds inputs to the daemon's parts and the parsers, and keeps the findings in `stats`."""

    def __init__(self, program: FuzzProgram, scratch: Path, findings: Findings, busy: Callable[[float], None]) -> None:
        self.program = program
        self.scratch = scratch
        self.findings = findings
        self.busy = busy  # tells the supervising process when an input started (0: idle)
        self.stats = Stats()
        self.generation: list[Input] = []
        self.current: Input | None = None
        self._parser_times: dict[str, float] = {}  # of the current input
        self.caught: list[tuple[str, str]] = []  # caught exceptions logged during a tick (`_CAUGHT`)
        self.replaying = False  # while looking for the input behind a tick failure: count nothing
        scratch.mkdir(parents=True, exist_ok=True)
        self._current_file = (scratch / CURRENT).open("wb")
        self.daemon: Daemon | None = Daemon.over(program, scratch / STORE)
        self._handler = _Logged(self)
        logging.getLogger("mentormail").addHandler(self._handler)

    # --- one input -------------------------------------------------------------------------------

    def run(self, item: Input) -> None:
        self._mark(item)
        self.generation.append(item)
        self._parser_times = {}
        start = time.process_time()
        self._ingest(item)
        ingested = time.process_time()
        self._parsers(item)
        end = time.process_time()
        self.busy(0.0)
        self.current = None
        self.stats.inputs += 1
        self.stats.structured += item.seed.startswith("structured/")
        detail = f"ingest {ingested - start:.2f} s, parsers {end - ingested:.2f} s"
        if self._parser_times:
            slowest = max(self._parser_times, key=self._parser_times.__getitem__)
            detail += f", most in {slowest} {self._parser_times[slowest]:.2f} s"
        self._timed(item, end - start, detail)

    def _mark(self, item: Input) -> None:
        """Leave the input where the supervisor finds it if this process hangs or dies on it:
        one line of JSON about it, then its bytes (`current_input`). The file stays open, as
        opening one per input cost more than a millisecond."""
        self.current = item
        self._leave(_about(item, ""), item.raw)

    def _leave(self, about: dict[str, Any], raw: bytes) -> None:
        self._current_file.seek(0)
        self._current_file.write(json.dumps(about).encode() + b"\n" + raw)
        self._current_file.truncate()
        self._current_file.flush()
        self.busy(time.monotonic())

    def _ingest(self, item: Input) -> None:
        assert self.daemon is not None, "run after the last generation"
        try:
            outcome = self.daemon.intake.ingest(item.raw, item.source)
        except _STORE_FAILING:
            self.stats.store_failures += 1
            return
        except Exception as exc:  # noqa: BLE001 - any other exception out of ingest is a finding
            self.failed("ingest", exc, item)
            return
        if isinstance(outcome, Outcome) and isinstance(outcome.kind, OutcomeKind) and isinstance(outcome.reason, str):
            self.stats.outcomes[outcome.kind.value] += 1
            return
        self.stats.no_outcome += 1
        if len(self.stats.no_outcome_examples) < _EXAMPLES:
            self.stats.no_outcome_examples.append(item.label)
            self.findings.save(
                "no_outcome", item.raw, _about(item, "no outcome"), f"returned a {type(outcome).__name__}"
            )

    def _parsers(self, item: Input) -> None:
        """The reply parsers on the input's text, as the reply effects call them (`new_text` is
        `strip_quotes(body_text(raw))`, so it is covered by the two)."""
        program = self.program
        text = self._call("reply.body_text", item, body_text, item.raw) if item.message else None
        if text is None:
            text = self._call("reply.decode_bytes", item, decode_bytes, item.raw, None)
        if not isinstance(text, str):
            return
        new = self._call("reply.strip_quotes", item, strip_quotes, text)
        pieces = self._call("reply.interleaved", item, interleaved, text)
        new = new if isinstance(new, str) else ""
        self._call("survey.parse_answers", item, parse_answers, program.questions, new, pieces or ())
        self._call("checkin.parse_checkin", item, parse_checkin, new)
        self._call("self_report.parse_self_report", item, parse_self_report, new, program.today, program.started_on)
        self._call("commands.parse_commands", item, parse_commands, new)
        self._call("commands.is_letter_request", item, is_letter_request, new)

    def _call(self, stage: str, item: Input, function: Callable[..., Any], *args: Any) -> Any:
        start = time.process_time()
        try:
            return function(*args)
        except Exception as exc:  # noqa: BLE001 - the parsers are documented never to raise
            self.failed(stage, exc, item)
            return None
        finally:
            self._parser_times[stage] = time.process_time() - start

    def _timed(self, item: Input, seconds: float, detail: str) -> None:
        timed = Timed(seconds, item.label, detail)
        if self.stats.slowest is None or seconds > self.stats.slowest.seconds:
            self.stats.slowest = timed
        if seconds > SLOW:
            self.stats.over_slow.append(timed)
            if len(self.stats.over_slow) <= _SAVED_SLOW:
                self.findings.save("slow", item.raw, _about(item, "slow"), f"{seconds:.2f} s CPU: {detail}")

    # --- findings ----------------------------------------------------------------------------------

    def failed(self, stage: str, exc: BaseException, item: Input | None, frames: list[str] | None = None) -> None:
        signature = describe_exception(exc)
        self._count(stage, signature, frames or short_traceback(exc), item, "".join(traceback.format_exception(exc)))

    def _count(self, stage: str, signature: str, frames: list[str], item: Input | None, detail: str) -> Failure:
        failure = self.stats.failures.setdefault(f"{stage}: {signature}", Failure(stage, signature, frames))
        failure.count += 1
        if item is not None and len(failure.examples) < _EXAMPLES:
            failure.examples.append(item.label)
        if item is not None and len(failure.saved) < _SAVED_PER_KIND:
            about = _about(item, stage, signature)
            failure.saved.append(self.findings.save(f"{stage}-{signature.split()[0]}", item.raw, about, detail))
        return failure

    def logged(self, record: logging.LogRecord) -> None:
        """A warning the daemon logged: a finding when it reports a caught exception (`_CAUGHT`)."""
        template = str(record.msg)
        caught = next((found for start, found in _CAUGHT.items() if template.startswith(start)), None)
        if caught is None:
            if not self.replaying:
                self.stats.logged[f"{record.name}: {template}"] += 1
            return
        stage, index = caught
        args = record.args if isinstance(record.args, tuple) else ()
        signature = str(args[index]) if len(args) > index else "?"
        if self.replaying or self.current is None:  # in a tick: traced to its input afterwards
            self.caught.append((stage, signature))
        else:
            self._count(stage, signature, [signature], self.current, f"logged by {record.name}: {template}")

    # --- generations and planner ticks ---------------------------------------------------------------

    def end_generation(self, fresh: bool = True) -> None:
        """Tick over the store the generation left, trace any failure to its input, and start
        afresh (unless this was the last generation)."""
        assert self.daemon is not None, "the last generation has ended"
        for moment in TICK_MOMENTS:
            start = time.process_time()
            # A tick that hangs is no input's: the supervisor then keeps the store it ticked over.
            self._leave({"seed": "planner tick", "mutation": moment.isoformat(), "transport": "-", "stage": TICK}, b"")
            self.caught = []
            failed = [(stage, describe_exception(e), short_traceback(e)) for stage, e in self.daemon.tick(moment)]
            failed += [(stage, signature, [signature]) for stage, signature in self.caught]
            self.busy(0.0)
            self.stats.ticks += 1
            took = time.process_time() - start
            self.stats.slowest_tick = max(self.stats.slowest_tick, took)
            self.stats.slow_ticks += took > SLOW
            for stage, signature, frames in failed:
                self._tick_failed(stage, signature, frames, moment)
        self.daemon.close()
        self.generation = []
        self.daemon = Daemon.over(self.program, self.scratch / STORE) if fresh else None

    def _tick_failed(self, stage: str, signature: str, frames: list[str], moment: datetime) -> None:
        new = f"{stage}: {signature}" not in self.stats.failures
        failure = self._count(stage, signature, frames, None, "")
        if new and self.generation:  # once per kind: bisecting costs a few generations' time
            culprits = self._culprits(stage, signature)
            if len(culprits) == 1:
                self.stats.culprits += 1
            detail = f"{stage} at {moment.isoformat()} after ingesting this input (alone, into a fresh store)"
            for item in culprits[:_SAVED_PER_KIND]:
                failure.examples.append(item.label)
                about = _about(item, stage, signature)
                failure.saved.append(self.findings.save(f"{stage}-{signature.split()[0]}", item.raw, about, detail))
            failure.examples = failure.examples[:_EXAMPLES]

    def _culprits(self, stage: str, signature: str) -> list[Input]:
        """The generation's inputs halved while the tick still fails the same way: usually one."""
        candidates = self.generation
        self.replaying = True
        try:
            while len(candidates) > 1:
                half = len(candidates) // 2
                for part in (candidates[:half], candidates[half:]):
                    if self._reproduces(part, stage, signature):
                        candidates = part
                        break
                else:
                    break  # it takes inputs from both halves together
        finally:
            self.replaying = False
        return candidates

    def _reproduces(self, items: list[Input], stage: str, signature: str) -> bool:
        daemon = Daemon.over(self.program, self.scratch / "bisect.db")
        try:
            for item in items:
                try:
                    daemon.intake.ingest(item.raw, item.source)
                except Exception:  # noqa: BLE001, S110 - counted the first time round
                    pass
            self.caught = []
            found = [(s, describe_exception(e)) for moment in TICK_MOMENTS for s, e in daemon.tick(moment)]
            return (stage, signature) in found + self.caught
        finally:
            daemon.close()

    def close(self) -> None:
        if self.daemon is not None:
            self.daemon.close()
        logging.getLogger("mentormail").removeHandler(self._handler)
        self._current_file.close()


class _Logged(logging.Handler):
    """Takes the daemon's log records (so nothing reaches the terminal) and counts the warnings."""

    def __init__(self, runner: Runner) -> None:
        super().__init__(logging.WARNING)
        self.runner = runner

    def emit(self, record: logging.LogRecord) -> None:
        self.runner.logged(record)


def current_input(scratch: Path) -> tuple[dict[str, Any], bytes] | None:
    """What a worker left in `scratch` about the input it was on (see `Runner._mark`)."""
    path = scratch / CURRENT
    if not path.exists():
        return None
    about, _, raw = path.read_bytes().partition(b"\n")
    return (json.loads(about), raw) if about else None


def _about(item: Input, stage: str, signature: str = "") -> dict[str, Any]:
    return {
        "seed": item.seed,
        "mutation": item.mutation,
        "transport": item.source.transport.value,
        "envelope_recipients": list(item.source.envelope_recipients),
        "message": item.message,
        "stage": stage,
        "signature": signature,
    }
