"""Where a tick's mail is composed: in this process, or in worker processes.

Composing is the CPU-bound part of a tick (templates, MIME, folding: 3-6 ms a mail, 30,000
mails for the first tick of a 10,000-pair program). In one process it holds the interpreter's
lock for seconds at a time, and SMTP intake, whose every message needs the lock many times
over, waits for it. With `[schedule] compose_in_worker = true`, `mentormail run` composes in a
worker process, and the tick only waits for the result (releasing the lock); the price is a
second Python process, which is why it is not the default.

The workers are given the mail as plain values (`DueMail`, question texts, attachments) and
give back the outbox row's values; they touch no database and write no file, so nothing of a
participant's ends up anywhere but in the pipe between the two processes. A worker that dies
(killed, out of memory) costs the batch it held nothing: that batch is composed here, and the
next one gets a new worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from ...store.models import OutboxMessage
from ..logs import describe_exception
from ..settings import Settings
from .attachment import Attachment
from .compose import Composer
from .planner import DueMail
from .render import TemplateError

log = logging.getLogger("mentormail.composing")

Work = tuple[DueMail, Sequence[bytes], Sequence[Attachment]]
CHUNK = 20  # mails per round trip to a worker: enough that the pipe costs little beside composing


class Composing:
    """Composes in this process; `Composing.in_workers` for the same in worker processes."""

    def __init__(self, composer: Composer) -> None:
        self.composer = composer

    @classmethod
    def in_workers(cls, settings: Settings, workers: int) -> Composing:
        return (
            _InWorkers(Composer.for_settings(settings), settings, workers)
            if workers > 0
            else cls(Composer.for_settings(settings))
        )

    def compose_all(self, work: Sequence[Work], now: datetime) -> list[OutboxMessage]:
        """The outbox row of each mail, in order; a mail that cannot be composed is set aside."""
        return [
            compose_or_set_aside(self.composer, mail, texts, attachments, now=now) for mail, texts, attachments in work
        ]

    def close(self) -> None:
        """Nothing to release."""


class _InWorkers(Composing):
    def __init__(self, composer: Composer, settings: Settings, workers: int) -> None:
        super().__init__(composer)
        self.settings = settings
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def compose_all(self, work: Sequence[Work], now: datetime) -> list[OutboxMessage]:
        if not work:
            return []
        try:
            pool = self._pool()
            values = list(pool.map(_compose_in_worker, work, [now] * len(work), chunksize=CHUNK))
        except BrokenProcessPool:
            log.warning("a composing worker died; composing its batch here, a new worker for the next")
            self.close()
            return super().compose_all(work, now)
        return [OutboxMessage(**row) for row in values]

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            # spawn, not fork: the daemon has threads (intake, timers) that a fork would copy mid-step.
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_start_worker, initargs=(self.settings,)
            )
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def compose_or_set_aside(
    composer: Composer,
    mail: DueMail,
    forwarded: Sequence[bytes] = (),
    attachments: Sequence[Attachment] = (),
    *,
    now: datetime,
) -> OutboxMessage:
    """The composed mail, or, when it cannot be composed, a `failed` row under its key saying why.

    Never raises for the mail's own data: every mail the program sends goes through here, so one
    person's or one question's data can stop only their own mail.
    """
    try:
        return composer.compose(mail, forwarded, attachments, now)
    except Exception as error:  # noqa: BLE001 - whatever one mail's data does, the others go on
        where = describe_exception(error)  # type and place only: the data may be a participant's
        log.warning("set aside %s: it could not be composed (%s)", mail.key, where)
        reason = (
            f"could not be composed: {_readable(error)}"
            if isinstance(error, TemplateError)
            else f"could not be composed ({where})"
        )
        return OutboxMessage(
            key=mail.key,
            kind=mail.kind,
            pair_id=mail.pair_id,
            recipients=" ".join(_printable(person.email) for person in mail.to),
            envelope_sender="",
            message_id="",
            raw=None,
            due_at=mail.due_at,
            status="failed",
            next_attempt_at=now,
            last_error=reason,
            sent_at=now,
            composed_at=now,
        )


def _readable(error: Exception) -> str:
    """A template's error names the template and line; keep it to one printable line."""
    return _printable(str(error))[:300]


def _printable(text: str) -> str:
    return "".join(char if char.isprintable() else " " for char in text)


# --- in the worker process -----------------------------------------------------------------------

_composer: Composer | None = None


def _start_worker(settings: Settings) -> None:
    global _composer
    # Ctrl-C reaches the whole process group; the daemon decides when its workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _composer = Composer.for_settings(settings)


def _compose_in_worker(work: Work, now: datetime) -> dict[str, object]:
    assert _composer is not None
    mail, texts, attachments = work
    return compose_or_set_aside(_composer, mail, texts, attachments, now=now).model_dump(exclude={"id"})
