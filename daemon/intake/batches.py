"""Group commit: the messages that arrive while one commit is in progress share the next one.

An SMTP `250` promises the message is on disk, so every commit waits for an fsync (SQLite
`synchronous=FULL`), a few milliseconds that the message's own work does not come near. One
commit per message made the fsync the ceiling of intake; one commit per batch spreads it.

There is no committer thread. Whoever hands messages in (`GroupCommit.run`) puts them in the
queue; if no commit is in progress, that caller becomes the *leader*: it takes what is queued
(at most `MAX_BATCH`), runs the batch on its own thread and commits it, then steps down and
wakes the others. A caller whose messages came in while a batch was running waits; when the
leader steps down, one of the waiting callers leads the next batch with everything queued by
then. So one caller alone (the `mentormail ingest` command, a test) commits each message as it
comes, exactly as before, and N callers at once (SMTP connections) share commits, each
returning as soon as the batch holding its messages has committed. The queue is first in,
first out, so a caller's messages are never overtaken by later ones.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

# Bounds a batch's transaction, and so how long the store's write lock is held at a time:
# a few hundred messages of header parsing and routing, a fraction of a second.
MAX_BATCH = 500

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(eq=False)
class Pending(Generic[Item, Result]):
    """One item in the queue, and once its batch is done, its result or its failure."""

    item: Item
    result: Result | None = None
    error: BaseException | None = None
    done: bool = False

    def succeed(self, result: Result) -> None:
        self.result, self.error, self.done = result, None, True

    def fail(self, error: BaseException) -> None:
        self.result, self.error, self.done = None, error, True


class GroupCommit(Generic[Item, Result]):
    """Runs `commit_batch` over batches of queued items, one batch at a time.

    `commit_batch` settles every `Pending` it is given (`succeed` or `fail`) once its batch has
    committed or failed; an exception out of it fails the items it left unsettled.
    """

    def __init__(self, commit_batch: Callable[[list[Pending[Item, Result]]], None], max_batch: int = MAX_BATCH) -> None:
        self._commit_batch = commit_batch
        self._max_batch = max_batch
        self._changed = threading.Condition()
        self._queue: deque[Pending[Item, Result]] = deque()
        self._committing = False
        self._in_hand = 0

    @property
    def in_hand(self) -> int:
        """Items handed in and not yet settled: queued, or in the batch being committed."""
        with self._changed:
            return self._in_hand

    def run(self, items: Sequence[Item]) -> list[Pending[Item, Result]]:
        """Every item settled, in order; returns once the batches holding them are done."""
        mine = [Pending[Item, Result](item) for item in items]
        if not mine:
            return mine
        with self._changed:
            self._queue.extend(mine)
            self._in_hand += len(mine)
            try:
                # Batches are taken in queue order and each settles all it holds, so the last
                # of ours being done means all of ours are.
                while not mine[-1].done:
                    if self._committing:
                        self._changed.wait()
                        continue
                    self._committing = True
                    batch = [self._queue.popleft() for _ in range(min(len(self._queue), self._max_batch))]
                    self._changed.release()
                    try:
                        self._lead(batch)
                    finally:
                        self._changed.acquire()
                        self._committing = False
                        self._changed.notify_all()
            finally:
                self._in_hand -= len(mine)
        return mine

    def _lead(self, batch: list[Pending[Item, Result]]) -> None:
        try:
            self._commit_batch(batch)
        except Exception as exc:
            self._fail_unsettled(batch, exc)
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: the waiting callers still hear
            self._fail_unsettled(batch, exc)
            raise
        # A caller waits until its items are settled: none may be left unsettled.
        self._fail_unsettled(batch, RuntimeError("the batch left this item unsettled"))

    @staticmethod
    def _fail_unsettled(batch: list[Pending[Item, Result]], error: BaseException) -> None:
        for pending in batch:
            if not pending.done:
                pending.fail(error)
