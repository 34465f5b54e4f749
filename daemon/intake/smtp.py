"""SMTP/LMTP intake: move bytes to `Intake.ingest` and turn the result into a status line.

The handler decides two things only. At RCPT: is the address ours (the program address or one
of its +tag sub-addresses)? At DATA: was the message recorded? `250` is said only after the
transaction has committed (messages of several connections share a commit, and each hears
`250` only once its own batch is on disk); any failure says `451` so that the sending server
keeps the message and tries again, and a batch whose commit fails is `451` for all its
messages. The size limit is aiosmtpd's own (`552` above `max_message_bytes`).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from ...parsers.headers import normalise, without_subaddress
from ...store.outcomes import SMTP_ACCEPTED, Source, Transport
from ..logs import describe_exception
from .ingest import Intake

log = logging.getLogger("mentormail.smtp")

NOT_OURS = "550 5.1.1 No such recipient here"
ONE_RECIPIENT_PER_LMTP_TRANSACTION = "452 4.5.3 One recipient per transaction, please"
TRY_AGAIN_LATER = "451 4.3.0 Temporary failure, please try again later"

# Messages in hand at once (each waits on a thread for its batch's commit): the most one batch
# of SMTP mail can hold. Idle threads cost nothing but a little memory.
INTAKE_THREADS = 32


class IntakeHandler:
    def __init__(self, intake: Intake, program_address: str, *, lmtp: bool) -> None:
        self.intake = intake
        self.program_address = program_address
        self.transport = Transport.LMTP if lmtp else Transport.SMTP
        # A thread per message in hand, so that the event loop never waits on the disk and the
        # messages of several connections reach intake together: intake commits what arrives
        # during one commit in the next (group commit, batches.py), and each thread returns
        # once its message's batch is on disk. More connections than threads wait their turn.
        self.writer = ThreadPoolExecutor(max_workers=INTAKE_THREADS, thread_name_prefix="smtp-intake")

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        normal = normalise(address)
        if normal is None or without_subaddress(normal) != self.program_address:
            return NOT_OURS
        # LMTP owes one reply per recipient after DATA, which aiosmtpd's handler cannot give;
        # one recipient per transaction keeps the single reply honest.
        if self.transport is Transport.LMTP and envelope.rcpt_tos:
            return ONE_RECIPIENT_PER_LMTP_TRANSACTION
        envelope.rcpt_tos.append(normal)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # Like a delivery agent, record the envelope sender as Return-Path: a null sender (<>)
        # is how bounces and auto-replies are told apart from people's mail.
        return_path = f"Return-Path: <{envelope.mail_from or ''}>\r\n".encode("utf-8", "surrogateescape")
        raw = return_path + (envelope.original_content or b"")
        source = Source(self.transport, envelope_recipients=tuple(envelope.rcpt_tos))
        try:
            await asyncio.get_running_loop().run_in_executor(self.writer, self.intake.ingest, raw, source)
        except Exception as exc:
            log.error("could not record a message, answered 451: %s", describe_exception(exc))
            return TRY_AGAIN_LATER
        return SMTP_ACCEPTED

    def close(self) -> None:
        self.writer.shutdown(wait=True)


# RFC 5321 caps lines at 1000 octets, but real mail breaks it (corpus: HTML on one line) and
# Postfix's smtpd accepts such lines. Refusing them would bounce a participant's mail; the size
# limit still bounds what one message may hold.
LINE_LENGTH_LIMIT = 1 << 20


class IntakeSMTP(SMTP):
    line_length_limit = LINE_LENGTH_LIMIT


class IntakeLMTP(LMTP):
    line_length_limit = LINE_LENGTH_LIMIT


def server_class(lmtp: bool) -> type[SMTP]:
    return IntakeLMTP if lmtp else IntakeSMTP
