"""`python -m tests.fuzz.minimise FINDING.eml`: the smallest input that still fails the same way.

FINDING.eml is a file the fuzz wrote (its .json beside it says the stage and the seed). The
input is cut down by delta debugging, first by lines, then by bytes, keeping a cut only while the
input still fails in the same stage with the same exception at the same place (or, for a slow
input, still takes over a second); a planner-tick failure is checked by ingesting the input
into a fresh store and ticking. The result goes beside the finding as FINDING.min.eml; check it
in under tests/fixtures/fuzz/ with a name that says what it exercises.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mentormail.store.outcomes import Source, Transport

from .seeds import build
from .target import SLOW, Findings, Input, Runner

_MAX_TRIES = 3000  # checks at most: each one is an ingest into a fresh store


def ddmin(units: list[bytes], fails: Callable[[list[bytes]], bool], budget: list[int]) -> list[bytes]:
    """Zeller's delta debugging: drop chunks of `units` while `fails` holds, finer and finer."""
    chunks = 2
    while len(units) >= 2 and budget[0] > 0:
        size = -(-len(units) // chunks)
        for start in range(0, len(units), size):
            rest = units[:start] + units[start + size :]
            budget[0] -= 1
            if rest and fails(rest):
                units, chunks = rest, max(chunks - 1, 2)
                break
        else:
            if chunks >= len(units):
                break
            chunks = min(len(units), chunks * 2)
    return units


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.minimise", description=__doc__.split("\n\n")[0])
    parser.add_argument("finding", type=Path, help="an .eml the fuzz wrote (with its .json beside it)")
    args = parser.parse_args(argv)
    about = json.loads(args.finding.with_suffix(".json").read_text(encoding="utf-8"))
    raw = args.finding.read_bytes()
    work = Path(tempfile.mkdtemp(prefix="mentormail-minimise-"))
    program = build(work / "program")
    source = Source(Transport(about["transport"]), tuple(about["envelope_recipients"]))
    slow = about["stage"] == "slow"
    tries = [0]

    def fails(data: bytes) -> bool:
        tries[0] += 1
        runner = Runner(program, work / f"try-{tries[0] % 2}", Findings(work / "unused", "m-"), lambda _: None)
        try:
            item = Input(about["seed"], about["mutation"], data, source, about["message"])
            start = time.process_time()
            runner.run(item)
            if slow:
                return time.process_time() - start > SLOW
            if about["stage"] in ("planner tick", "delivery"):
                runner.end_generation(fresh=False)
            return any(
                f.stage == about["stage"] and f.signature == about["signature"] for f in runner.stats.failures.values()
            )
        finally:
            runner.close()

    if not fails(raw):
        print("the finding does not fail the same way on its own; nothing to minimise")
        return 1
    budget = [_MAX_TRIES]
    lines = ddmin(raw.splitlines(keepends=True), lambda units: fails(b"".join(units)), budget)
    data = b"".join(ddmin([bytes([b]) for b in b"".join(lines)], lambda units: fails(b"".join(units)), budget))
    target = args.finding.with_suffix(".min.eml")
    target.write_bytes(data)
    print(f"{len(raw)} -> {len(data)} bytes in {tries[0]} checks: {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
