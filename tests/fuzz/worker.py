"""One fuzz worker: a process with its own scratch store, feeding inputs until its time or quota ends.

The inputs come in blocks: four blocks of mutated seeds, then one of hypothesis's structured
mail, and so on. Before any mutation, each worker's share of the seeds goes through once as
it is. Every `generation` inputs the planner ticks and the store starts afresh (target.py).
The worker reports its figures to the supervisor after every block, so a worker that hangs
or dies on an input loses nothing of what it had found.
"""

from __future__ import annotations

import logging
import random
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from mentormail.store.outcomes import ImapCheckpoint, Source, Transport

from .mutations import Pool, mutate
from .seeds import FuzzProgram, Seed
from .structured import StructuredMail, structured_mail
from .target import Findings, Input, Runner

BLOCK = 100  # inputs between two reports to the supervisor
STRUCTURED_EVERY = 5  # every fifth block is hypothesis's
SYNTHETIC_SHARE = 0.3  # of mutated inputs, how many start from synthetic mail (the rest: the corpus)


@dataclass(frozen=True)
class Assignment:
    worker: int
    run_seed: int
    deadline: float | None  # time.monotonic() after which no input starts
    quota: int | None  # inputs at most
    scratch: Path
    findings: Path
    first_pass: tuple[Seed, ...]  # this worker's share of the seeds, unmutated
    generation: int


def work(program: FuzzProgram, job: Assignment, queue: Queue, busy: Synchronized) -> None:  # type: ignore[type-arg]
    # Library warnings can quote what they were parsing; the fuzz counts errors, not warnings.
    warnings.simplefilter("ignore")
    logger = logging.getLogger("mentormail")
    logger.setLevel(logging.WARNING)
    logger.propagate = False

    def mark(started: float) -> None:
        busy.value = started

    runner = Runner(program, job.scratch, Findings(job.findings, f"w{job.worker}-"), mark)
    stats = runner.stats
    rng = random.Random(f"{job.run_seed}:{job.worker}")
    pool = Pool(program.addresses, [s.raw for s in program.seeds])
    corpus = [s for s in program.seeds if not s.name.startswith("synthetic/")]
    synthetic = [s for s in program.seeds if s.name.startswith("synthetic/")]
    uid = 0

    def more() -> bool:
        in_time = job.deadline is None or time.monotonic() < job.deadline
        return in_time and (job.quota is None or stats.inputs < job.quota)

    def source(chosen: Seed) -> Source:
        nonlocal uid
        envelope = chosen.envelope
        if rng.random() < 0.2:
            found = program.addresses
            envelope = rng.choice(((), (found.program,), found.reply_addresses[:1], found.verp_addresses[:1]))
        transport = Transport.SMTP if rng.random() < 0.7 else rng.choice(tuple(Transport))
        uid += 1
        checkpoint = ImapCheckpoint("fuzz@example.org/INBOX", 1, uid) if transport is Transport.IMAP else None
        return Source(transport, envelope, checkpoint)

    def mutated() -> None:
        pick = synthetic if synthetic and (not corpus or rng.random() < SYNTHETIC_SHARE) else corpus
        chosen = rng.choice(pick)
        raw, names = mutate(rng, chosen.raw, pool)
        runner.run(Input(chosen.name, names, raw, source(chosen), chosen.message))

    def block_done() -> None:
        if len(runner.generation) >= job.generation:
            runner.end_generation()
        queue.put(("progress", job.worker, stats))

    for number, chosen in enumerate(job.first_pass, start=1):
        if not more():
            break
        runner.run(Input(chosen.name, "none", chosen.raw, Source(Transport.SMTP, chosen.envelope), chosen.message))
        if number % BLOCK == 0:
            block_done()
    block = 0
    while more():
        if block % STRUCTURED_EVERY == STRUCTURED_EVERY - 1:
            _structured_block(runner, program, rng.randrange(2**32), more)
        else:
            for _ in range(BLOCK):
                if not more():
                    break
                mutated()
        block += 1
        block_done()
    runner.end_generation(fresh=False)
    runner.close()
    queue.put(("done", job.worker, stats))


def _structured_block(runner: Runner, program: FuzzProgram, batch_seed: int, more: Callable[[], bool]) -> None:
    """BLOCK examples of hypothesis's structured mail, reproducible from `batch_seed`."""

    @seed(batch_seed)
    @settings(
        max_examples=BLOCK,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @given(structured_mail(program.addresses))
    def one(mail: StructuredMail) -> None:
        if more():  # past the deadline the rest of the block is drawn but not run
            runner.run(Input("structured/" + mail.style, "hypothesis", mail.raw, mail.source, True))

    one()
