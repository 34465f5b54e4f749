"""The daemon's parts in the test's own process, on a virtual clock.

For what the real daemon cannot show in a test's time: mail due months apart, or a reply that
comes after a survey closed. The clock is the one thing not run for real; the store, the
planner, delivery (to a MemoryBackend) and intake are the daemon's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from conftest import Program
from mentormail.daemon.mail.backends import MemoryBackend
from mentormail.daemon.mail.delivery import Deliverer
from mentormail.store.outcomes import Outcome, Source, Transport
from mentormail.daemon.mail.scheduler import ProgramMail
from mentormail.daemon.service import build_intake, open_store
from mentormail.daemon.settings import Settings, load_settings
from mentormail.store.db import Store


@dataclass
class InProcess:
    settings: Settings
    store: Store
    backend: MemoryBackend
    mail: ProgramMail

    def run_at(self, moment: datetime) -> list[EmailMessage]:
        """Plan and deliver as the daemon would at `moment`; returns all mail delivered so far."""
        self.mail.plan(moment)
        self.mail.deliver(moment)
        return [message_from_bytes(raw, EmailMessage, policy=policy.default) for _, raw in self.backend.outbox]

    def ingest(self, message: EmailMessage, moment: datetime) -> Outcome:
        """`message` arriving over SMTP at `moment`."""
        return self.ingest_bytes(message.as_bytes(), moment)

    def ingest_bytes(self, raw: bytes, moment: datetime) -> Outcome:
        """A message as bytes (as a client or an attacker wrote them) arriving over SMTP at `moment`."""
        intake = build_intake(self.settings, self.store, clock=lambda: moment)
        return intake.ingest(raw, Source(Transport.SMTP))


@contextmanager
def in_process(program: Program) -> Iterator[InProcess]:
    """The program as its config is now: write any config changes before entering."""
    settings = load_settings(program.config)
    store = open_store(settings)
    backend = MemoryBackend()
    mail = ProgramMail(store, settings, Deliverer(store, backend, timedelta(hours=48)))
    try:
        yield InProcess(settings, store, backend, mail)
    finally:
        mail.close()
        store.close()
