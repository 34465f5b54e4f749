"""Large programs on disk, built fast, for the scale benchmarks (`make bench-scale`).

A store of N pairs (2N people) with `events_per_pair` contact events each, spread over the
round, plus the test suite's config (`tests.conftest.Program`), so that every CLI command and
`mentormail run` can be pointed at it. The people and pairs go in through the store's own
import (`queries.apply_roster`, the code `import-roster` runs); the events, which intake would
take hours to write one message at a time, go in as bulk INSERTs into the same table intake
writes, with the same columns.

Built stores are cached under `var/bench-stores/` by size (a 10,000-pair store takes a while
to build); `--rebuild` in the runners, or deleting the folder, makes them again.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from tests.conftest import Program, free_port

from mentormail.daemon.service import open_store
from mentormail.daemon.settings import load_settings
from mentormail.parsers.roster_csv import RosterRow
from mentormail.store import queries
from mentormail.store.models import ContactEvent

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "var" / "bench-stores"
STARTS_ON = date(2026, 9, 1)  # the date the tests' Program config gives the program
ROUND_DAYS = 270  # nine months
INSERT_CHUNK = 20_000


@dataclass(frozen=True)
class ScaleStore:
    program: Program
    pairs: int
    events: int

    @property
    def database(self) -> Path:
        return self.program.database


def roster_rows(pairs: int) -> list[RosterRow]:
    return [
        RosterRow(
            line=i + 2,
            mentor_email=f"mentor{i}@example.org",
            mentor_name=f"Mentor {i}",
            mentee_email=f"mentee{i}@example.net",
            mentee_name=f"Mentee {i}",
            pair_id=f"b{i}",
            starts_on=STARTS_ON,
            mentor_aliases=(),
            mentee_aliases=(),
        )
        for i in range(pairs)
    ]


def contact_rows(pairs: int, events_per_pair: int, seed: int = 1) -> list[dict[str, object]]:
    """`events_per_pair` contacts for each pair, at random moments of the round, alternating
    direction; a tenth of the pairs never write (so the summary has pairs that need attention)."""
    rng = random.Random(seed)
    start = datetime.combine(STARTS_ON, time(0), tzinfo=timezone.utc)
    rows: list[dict[str, object]] = []
    for i in range(pairs):
        if i % 10 == 9:
            continue
        for n in range(events_per_pair):
            rows.append(
                dict(
                    pair_id=f"b{i}",
                    direction=("mentor_to_mentee", "mentee_to_mentor")[n % 2],
                    channel="email",
                    occurred_at=start + timedelta(seconds=rng.randrange(ROUND_DAYS * 86400)),
                    source="smtp",
                    message_hash=f"bench-{i}-{n}",
                )
            )
    return rows


def build(root: Path, pairs: int, events_per_pair: int = 50) -> ScaleStore:
    """A program under `root` (made fresh) with `pairs` pairs and their events."""
    root.mkdir(parents=True)
    program = Program(root, free_port())
    store = open_store(load_settings(program.config))  # migrated, the program row and staff in step
    try:
        with store.session() as session:
            queries.apply_roster(session, roster_rows(pairs), STARTS_ON, "bench-roster.csv", queries.FIRST_ROUND)
        rows = contact_rows(pairs, events_per_pair)
        for start in range(0, len(rows), INSERT_CHUNK):
            with store.session() as session:
                session.execute(ContactEvent.__table__.insert(), rows[start : start + INSERT_CHUNK])  # type: ignore[attr-defined]
    finally:
        store.close()
    with sqlite3.connect(program.database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("ANALYZE")
    connection.close()
    return ScaleStore(program, pairs, len(rows))


def cached(pairs: int, events_per_pair: int = 50, *, rebuild: bool = False, into: Path) -> ScaleStore:
    """A copy under `into` of the cached store of this size (built first when missing), so that a
    benchmark that writes (a planner tick) never changes the cached one."""
    source = CACHE / f"{pairs}-pairs-{events_per_pair}-events"
    if rebuild and source.exists():
        shutil.rmtree(source)
    if not (source / "var" / "mentormail.db").exists():
        if source.exists():
            shutil.rmtree(source)
        build(source, pairs, events_per_pair)
    target = into / source.name
    shutil.copytree(source, target)
    program = Program(target, free_port())  # rewrites the config with a port of its own
    with sqlite3.connect(program.database) as connection:
        events = connection.execute("SELECT count(*) FROM contactevent").fetchone()[0]
    connection.close()
    return ScaleStore(program, pairs, events)
