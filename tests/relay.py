"""A relay the tests run: an aiosmtpd server that keeps what the daemon delivers to it."""

from __future__ import annotations

import threading
import time as clock
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from conftest import free_port


class Relay:
    """A relay that keeps what it receives; optionally slow, to land a kill mid-delivery."""

    def __init__(self, delay: float = 0.0) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.delay = delay
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        if self.delay:
            clock.sleep(self.delay)  # blocks the relay's loop on purpose: one message at a time
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [message_from_bytes(raw, policy=policy.default) for _, _, raw in self.received]  # type: ignore[misc]

    def kinds(self) -> Counter[str]:
        return Counter(str(m["X-Mentormail-Kind"]) for m in self.messages())
