"""Imagined people answering the program's mail, for `mentormail simulate --replies`.

They write real mail, which goes through the real intake (router, parsers, effects) with the
simulation's clock, so a preview shows the whole round: survey answers and the results summary,
check-ins (one mentor asks for the liaison), a letter requested at the end and approved by a
coordinator replying to the digest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from ...store.outcomes import Source, Transport
from ..intake.ingest import Intake
from ..mail.backends import Envelope, MaildirBackend
from ..settings import Settings

_APPROVE = re.compile(r"approve letter (\d+)")
SURVEY_ANSWERS = {"scale": "4", "yesno": "yes", "text": "More time for the monthly topics, please."}


class RecordingMaildir(MaildirBackend):
    """The simulation's outbox: a Maildir, and a list of what was sent since it was last read."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, durable=False)  # a preview: no fsync per mail
        self.sent: list[bytes] = []

    def send(self, raw: bytes, envelope: Envelope) -> None:
        super().send(raw, envelope)
        self.sent.append(raw)

    def take(self) -> list[bytes]:
        sent, self.sent = self.sent, []
        return sent


class SyntheticPeople:
    def __init__(self, settings: Settings, intake: Intake) -> None:
        self.settings = settings
        self.intake = intake
        self.asked_for_liaison = False
        self.asked_for_letter = False
        # What each kind of mail gets in answer, and from whom (None: no answer).
        self.answers: dict[str, Callable[[EmailMessage], str | None]] = {
            "survey": self._survey,
            "checkin": self._checkin,
            "round_end": self._letter,
            "digest": self._approve_letters,
        }

    def answer(self, sent: list[bytes], now: datetime) -> int:
        """Reply to what was just sent; returns how many replies were written."""
        written = 0
        for raw in sent:
            mail = message_from_bytes(raw, policy=policy.default)
            answer = self.answers.get(str(mail["X-Mentormail-Kind"] or ""))
            text = answer(mail) if answer else None
            if text is not None:
                writer = mail["To"].addresses[0].addr_spec
                self._write(writer, text, now, original=mail)
                written += 1
        return written

    def report_call(self, writer: str, now: datetime) -> None:
        self._write(writer, "call 30 min", now)

    def _survey(self, mail: EmailMessage) -> str | None:
        subject = str(mail["Subject"] or "")
        survey = next((s for s in self.settings.surveys if s.title in subject), None)
        if survey is None:
            return None
        lines = []
        for number, question in enumerate(survey.questions, start=1):
            value = question.labels[0] if question.kind == "choice" else SURVEY_ANSWERS[question.kind]
            lines.append(f"{number}. {value}")
        return "\n".join(lines)

    def _checkin(self, mail: EmailMessage) -> str:
        if not self.asked_for_liaison:
            self.asked_for_liaison = True
            return "1. 2\n2. yes, please ask the liaison to get in touch"
        return "1. 4\n2. no"

    def _letter(self, mail: EmailMessage) -> str | None:
        body = mail.get_body(("plain",))
        if self.asked_for_letter or body is None or "letter" not in body.get_content():
            return None  # the closing note invites mentors only
        self.asked_for_letter = True
        return "letter"

    def _approve_letters(self, mail: EmailMessage) -> str | None:
        body = mail.get_body(("plain",))
        numbers = _APPROVE.findall(body.get_content()) if body is not None else []
        return "\n".join(f"approve letter {n}" for n in dict.fromkeys(numbers)) or None

    def _write(self, writer: str, text: str, now: datetime, original: EmailMessage | None = None) -> None:
        message = EmailMessage()
        message["From"] = writer
        message["To"] = str(original["Reply-To"]) if original is not None else self.settings.program.address
        message["Subject"] = "Re: " + str(original["Subject"]) if original is not None else text
        message["Date"] = format_datetime(now)
        # hashlib, not hash(): a preview run twice should write the same mail.
        digest = hashlib.sha256(f"{writer}\n{text}".encode()).hexdigest()[:12]
        message["Message-ID"] = f"<synthetic.{now:%Y%m%d%H%M}.{digest}@simulate.invalid>"
        if original is not None:
            message["In-Reply-To"] = str(original["Message-ID"])
        if writer in self.settings.people.coordinators:
            domain = writer.rpartition("@")[2]
            authserv = self.settings.security.trusted_authserv_id or "simulate.invalid"
            message["Authentication-Results"] = f"{authserv}; dmarc=pass header.from={domain}"
        message.set_content(text + "\n")
        self.intake.ingest(message.as_bytes(), Source(Transport.PIPE))
