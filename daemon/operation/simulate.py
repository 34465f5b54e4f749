"""`mentormail simulate`: a whole round in virtual time, on a scratch copy of the store.

The same planner, composer and outbox as `run`, driven by a virtual clock that advances an hour
at a time; the mail goes to a Maildir instead of a relay, and the real store is never opened
for writing. Optional synthetic traffic (contact events) shows how the calendar reacts to pairs
that write and pairs that do not.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from ...store import queries
from ...store.db import Store
from ...store.planner_state import PairState
from ..mail.delivery import Deliverer
from ..mail.planner import add_months
from ..mail.scheduler import ProgramMail
from ..service import build_intake, open_store
from ..settings import Settings
from .synthetic import RecordingMaildir, SyntheticPeople

TRAFFIC_KINDS = ("none", "steady", "quiet-pairs")
STEP = timedelta(hours=1)
STEADY_EVERY = timedelta(days=14)  # the rhythm the program asks for: 1-2 contacts a month
QUIET_AFTER = timedelta(days=21)  # in "quiet-pairs", every other pair stops writing after this


class SimulationError(Exception):
    """A reason the simulation cannot run; one line."""


@dataclass
class Timeline:
    """What was sent: per week (its Monday) and kind, and per kind and recipient."""

    weeks: dict[date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    per_recipient: Counter[tuple[str, str]] = field(default_factory=Counter)
    outbox: Path | None = None

    def totals(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for counts in self.weeks.values():
            total.update(counts)
        return total

    def table(self) -> str:
        kinds = sorted(self.totals())
        header = ["week of", *kinds, "total"]
        rows = [header]
        for week in sorted(self.weeks):
            counts = self.weeks[week]
            rows.append([week.isoformat(), *(str(counts[k] or "") for k in kinds), str(sum(counts.values()))])
        totals = self.totals()
        rows.append(["total", *(str(totals[k]) for k in kinds), str(sum(totals.values()))])
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def simulate(settings: Settings, until: date, traffic: str, outbox: Path, replies: bool = False) -> Timeline:
    if traffic not in TRAFFIC_KINDS:
        raise SimulationError(f"--traffic: must be one of {', '.join(TRAFFIC_KINDS)} (got {traffic!r})")
    with tempfile.TemporaryDirectory(prefix="mentormail-simulate-") as scratch_dir:
        scratch_settings = _with_store(settings, f"sqlite:///{Path(scratch_dir) / 'scratch.db'}")
        scratch = _scratch_copy(settings, scratch_settings)
        try:
            return _run(scratch_settings, scratch, until, traffic, outbox, replies)
        finally:
            scratch.close()


def _scratch_copy(settings: Settings, scratch: Settings) -> Store:
    """A copy of the real store (SQLite's online backup: consistent even while the daemon writes)."""
    url = make_url(settings.store.url)
    if url.get_backend_name() != "sqlite":
        raise SimulationError(
            "simulate copies a SQLite store; with another database, point a copy of the config at SQLite"
        )
    source = Path(url.database or "")
    if source.exists():
        target = make_url(scratch.store.url).database or ""
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as real, sqlite3.connect(target) as copy:
            real.backup(copy)
        real.close()
        copy.close()
    return open_store(scratch)


def _with_store(settings: Settings, url: str) -> Settings:
    return replace(settings, store=replace(settings.store, url=url))


def _run(settings: Settings, store: Store, until: date, traffic: str, outbox: Path, replies: bool) -> Timeline:
    with store.session() as session:
        pairs = queries.planner_state(session).pairs
    if not pairs:
        raise SimulationError("the roster is empty: import one with `mentormail import-roster` first")
    zone = settings.program.zone
    start = datetime.combine(min(p.started_on for p in pairs), time(0), tzinfo=zone).astimezone(timezone.utc)
    end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone).astimezone(timezone.utc)
    if end <= start:
        raise SimulationError(f"--until: {until} is before the round starts ({start.astimezone(zone).date()})")

    backend = RecordingMaildir(outbox)
    give_up = timedelta(hours=settings.schedule.delivery_give_up_hours)
    program_mail = ProgramMail(store, settings, Deliverer(store, backend, give_up))
    clock = _VirtualClock(start)
    people = SyntheticPeople(settings, build_intake(settings, store, clock)) if replies else None
    months = settings.program.months
    contacts = sorted(_traffic(traffic, pairs, months, zone, calls=replies), key=lambda c: c.when)
    timeline = Timeline(outbox=outbox)
    # Mail the real store had already sent is not part of the preview.
    with store.session() as session:
        already_sent = queries.last_outbox_id(session)
    now, next_contact, last_noted = start, 0, already_sent
    state = None  # the planner's view of the store, re-read only after the store changed
    while now < end:
        clock.now = now
        while next_contact < len(contacts) and contacts[next_contact].when <= now:
            contact = contacts[next_contact]
            if contact.channel == "email":
                _record_contact(store, contact)
            elif people is not None:
                people.report_call(contact.writer, now)
            next_contact, state = next_contact + 1, None
        if state is None:
            with store.session() as session:
                state = queries.planner_state(session)
        if program_mail.plan(now, state) or people is not None:
            program_mail.deliver(now)
            # Answers to what just went out arrive within the hour; ours to them go next tick.
            if people is not None and people.answer(backend.take(), now):
                state = None
            last_noted = _note_sent(store, timeline, last_noted, zone)
            state = None
        now += STEP
    backend.close()
    return timeline


@dataclass(frozen=True)
class _Contact:
    pair_id: str
    when: datetime
    direction: str
    n: int
    channel: str  # "email": logged directly; "phone": reported by mail through intake
    writer: str


def _traffic(
    kind: str, pairs: tuple[PairState, ...], months: int, zone: ZoneInfo, *, calls: bool
) -> Iterator[_Contact]:
    """A contact every two weeks, alternating who writes. In "quiet-pairs", every other pair
    stops emailing after three weeks; with `calls`, its mentee reports a call every three weeks
    instead (which keeps it off the inactivity lists)."""
    if kind == "none":
        return
    for index, pair in enumerate(pairs):
        first = datetime.combine(pair.started_on + timedelta(days=2), time(18), tzinfo=zone).astimezone(timezone.utc)
        last = datetime.combine(add_months(pair.started_on, months), time(0), tzinfo=zone)
        quiet = kind == "quiet-pairs" and index % 2 == 1
        moment, n = first, 0
        while moment < last:
            emailing = not (quiet and moment - first >= QUIET_AFTER)
            if emailing:
                direction = ("mentor_to_mentee", "mentee_to_mentor")[n % 2]
                writer = (pair.mentor if n % 2 == 0 else pair.mentee).email
                yield _Contact(pair.pair_id, moment, direction, n, "email", writer)
            elif calls:
                yield _Contact(pair.pair_id, moment, "mentee_to_mentor", n, "phone", pair.mentee.email)
            else:
                break
            moment, n = moment + (STEADY_EVERY if emailing else QUIET_AFTER), n + 1


def _record_contact(store: Store, contact: _Contact) -> None:
    with store.session() as session:
        key = f"simulated:{contact.pair_id}:{contact.n}"
        queries.record_simulated_contact(session, contact.pair_id, contact.when, contact.direction, key)


class _VirtualClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _note_sent(store: Store, timeline: Timeline, after_id: int, zone: ZoneInfo) -> int:
    """Add the mail sent since outbox row `after_id` to the timeline; returns the last row's id."""
    with store.session() as session:
        rows = queries.sent_after(session, after_id)
    for row in rows:
        local = queries.as_utc(row.due_at).astimezone(zone).date()
        timeline.weeks[local - timedelta(days=local.weekday())][row.kind] += 1
        for recipient in row.recipients.split():
            timeline.per_recipient[(row.kind, recipient)] += 1
    return max((row.id or 0 for row in rows), default=after_id)
