"""From a `DueMail` to the bytes the outbox keeps: template, headers, signed addresses.

Every message carries what lets recipients and our own intake recognise it: `Auto-Submitted:
auto-generated` and `X-Auto-Response-Suppress: All` (so that well-behaved auto-responders stay
quiet), `X-Mentormail-Kind` (so that a copy coming back is a `loop`, never a contact), a signed
Reply-To (`program+TOKEN@domain`) whose token is also in the Message-ID, and a VERP envelope
sender signed the same way, so that a bounce names the person it was for.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP, EmailPolicy, default
from email.utils import format_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from ...parsers.tokens import MAX_REFERENCE_LENGTH, Claims, Purpose, make_token, reply_address
from ...store.models import OutboxMessage
from ...store.planner_state import Person
from ..settings import Settings
from .attachment import Attachment
from .planner import DueMail
from .render import Renderer

# Folding at 78 columns makes CPython split encoded words between two non-ASCII words and lose
# the space between them ("Zoë Müller" arrives as "ZoëMüller"); RFC 5322 allows lines of 998.
# A forwarded question's headers are written as they arrived (refold_source="none"): refolding
# a long header of encoded words takes CPython seconds (2 s at 124 words, 33 s at 2,000), and
# the coordinators should see the question as it was sent anyway.
HEADER_POLICY = SMTP.clone(max_line_length=998, refold_source="none")


class _RepeatingHeaders(EmailPolicy):
    """HEADER_POLICY for the mail we write, remembering headers it has parsed and folded.

    The program's mail repeats its headers (From, Auto-Submitted, a person's To, a topic's
    Subject, thousands of times a round), and CPython's header registry parses and refolds each
    from scratch: half of composing a mail. A header is a function of its name and text, and the
    parsed header objects are never changed, so one per (name, text) serves every message.
    """

    def header_store_parse(self, name: str, value: object) -> tuple[str, object]:
        if isinstance(value, str) and not hasattr(value, "name") and "\n" not in value and "\r" not in value:
            return name, _parsed(self, name, value)
        return super().header_store_parse(name, value)

    def fold_binary(self, name: str, value: object) -> bytes:
        if hasattr(value, "name") and not isinstance(value, _MadeHere):  # a parsed header, seen before
            return _folded(self, name, value)
        return super().fold_binary(name, value)


class _MadeHere(str):
    """A header whose value this module made, one line of ASCII (the Message-ID, the signed
    Reply-To, the date): written as it is. Parsing such a value with the header registry only to
    write it back unchanged was a third of composing a mail. Names and subjects go the same way
    when the registry would write them unchanged too (`_as_written`); any other (non-ASCII, or
    what looks like an encoded word) still goes through the registry, which encodes it."""

    defects: tuple[object, ...] = ()

    def __new__(cls, name: str, value: str) -> _MadeHere:
        if not value.isascii() or not value.isprintable() or len(name) + 2 + len(value) > 998:
            raise ValueError(f"{name}: not one line of printable ASCII")
        made = super().__new__(cls, value)
        made.name = name
        return made

    def fold(self, *, policy: EmailPolicy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def _as_written(name: str, value: str) -> str:
    """`value` as a header the generator writes as it is, when the header registry would write it
    unchanged: one line of printable ASCII of at most 998 characters, not blank, with no `=?`
    (the registry decodes what looks like an encoded word). A person's To and a mail's Subject differ from one
    mail to the next, so the registry's parse of them was seldom remembered (`_parsed`): two
    parses a mail, a fifth of composing it. tests/test_compose_headers.py checks that both ways
    write the same bytes."""
    if not value.strip() or "=?" in value:
        return value
    try:
        return _MadeHere(name, value)
    except ValueError:
        return value


@lru_cache(maxsize=256)
def _parsed(policy: EmailPolicy, name: str, value: str) -> object:
    return policy.header_factory(name, value)


@lru_cache(maxsize=256)
def _folded(policy: EmailPolicy, name: str, value: object) -> bytes:
    return EmailPolicy.fold_binary(policy, name, value)


COMPOSING_POLICY = _RepeatingHeaders(**{**HEADER_POLICY.__dict__})

# How long a reply or a bounce to the program's mail is taken as genuine, from the day it is sent.
# Participants answer whichever of the round's mail is at hand (the pairing announcement, in the
# round's last month), so their reply addresses outlast the longest round by a season. Committee
# mail is answered with commands, so a reply address of it that leaks soon stops working.
COMMITTEE_REPLY_VALID_DAYS = 30
AFTER_ROUND_GRACE_DAYS = 90
BOUNCE_VALID_DAYS = 60


@dataclass(frozen=True)
class Sender:
    """The program as the sender of mail."""

    name: str
    address: str
    zone: ZoneInfo
    secret: bytes
    round_months: int  # how long a pair's round lasts: participants' reply addresses outlast it

    @property
    def participant_reply_days(self) -> int:
        return self.round_months * 31 + AFTER_ROUND_GRACE_DAYS

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


class Composer:
    def __init__(self, sender: Sender, renderer: Renderer) -> None:
        self.sender = sender
        self.renderer = renderer

    @classmethod
    def for_settings(cls, settings: Settings) -> Composer:
        program = settings.program
        return cls(
            Sender(program.name, program.address, program.zone, settings.secret(), program.months),
            Renderer(settings.templates_dir),
        )

    def compose(
        self,
        mail: DueMail,
        forwarded: Sequence[bytes] = (),
        attachments: Sequence[Attachment] = (),
        now: datetime | None = None,
    ) -> OutboxMessage:
        """The outbox row of `mail`, composed at `now` (by default when it fell due).

        `Date:` and the reply addresses' lifetime count from when the mail is composed, not from
        when it fell due: mail that goes out late (the daemon started weeks into the round, or
        was down) is filed by mail clients among today's mail, and can be answered as long.
        """
        composed_at = max(mail.due_at, now) if now is not None else mail.due_at
        rendered = self.renderer.render(mail.kind, mail.context)
        sent_on = composed_at.astimezone(self.sender.zone).date()
        reply_days = COMMITTEE_REPLY_VALID_DAYS if mail.to_committee else self.sender.participant_reply_days
        # A token names a person only on mail to that person alone: the router obeys a
        # coordinator's commands only with a token made out to them, so a token on mail that
        # others also hold must not name anyone.
        reply_person = mail.reply_person if [p.person_id for p in mail.to] == [mail.reply_person] else 0
        reply_token = self._token(
            Purpose.REPLY, reply_person, _reference(mail.reference, mail.key), sent_on, reply_days
        )
        bounce_person = mail.to[0].person_id if len(mail.to) == 1 else 0
        bounce_token = self._token(
            Purpose.BOUNCE, bounce_person, _reference(mail.kind, mail.key), sent_on, BOUNCE_VALID_DAYS
        )
        # The token makes a reply's In-Reply-To verifiable; the key's hash makes the ID unique
        # even for two mails with the same claims on one day.
        message_id = f"{reply_token}.{hashlib.sha256(mail.key.encode()).hexdigest()[:12]}@{self.sender.domain}"

        message = EmailMessage(policy=COMPOSING_POLICY)
        message["From"] = str(Address(self.sender.name, addr_spec=self.sender.address))
        message["To"] = _as_written("To", ", ".join(str(_address(person)) for person in mail.to))
        message["Subject"] = _as_written("Subject", rendered.subject)
        message["Date"] = _MadeHere("Date", format_datetime(composed_at.astimezone(self.sender.zone)))
        message["Message-ID"] = _MadeHere("Message-ID", f"<{message_id}>")
        message["Reply-To"] = _MadeHere("Reply-To", reply_address(self.sender.address, reply_token))
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        message["X-Mentormail-Kind"] = mail.kind
        thread = [f"<{i}>" for i in mail.thread if _THREAD_ID.fullmatch(i)][-_THREAD_DEPTH:]
        if thread:  # an answer, shown under the mail it answers
            message["In-Reply-To"] = _MadeHere("In-Reply-To", thread[-1])
            message["References"] = _MadeHere("References", " ".join(thread))
        message.set_content(rendered.text, subtype="plain", cte="quoted-printable")
        if rendered.html is not None:
            message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
        for number, raw in enumerate(forwarded, start=1):  # each question as written, to answer
            _attach_forwarded(message, raw, number)
        if not forwarded:
            _set_boundaries(message)
        for attachment in attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            if maintype == "text":  # quoted-printable, not base64: a third smaller, and readable as it is
                text = attachment.data.decode("utf-8")
                message.add_attachment(text, subtype=subtype, filename=attachment.filename, cte="quoted-printable")
            else:
                message.add_attachment(
                    attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
                )

        return OutboxMessage(
            key=mail.key,
            kind=mail.kind,
            pair_id=mail.pair_id,
            recipients=" ".join(person.email for person in mail.to),
            envelope_sender=reply_address(self.sender.address, bounce_token),
            message_id=message_id,
            raw=message.as_bytes(),
            due_at=mail.due_at,
            next_attempt_at=mail.due_at,
            composed_at=composed_at,
        )

    def _token(self, purpose: Purpose, person: int, reference: str, sent_on: date, days: int) -> str:
        claims = Claims(purpose, person, reference, sent_on + timedelta(days=days))
        return make_token(self.sender.secret, claims)


# A Message-ID that may be written back as it is (a person's client wrote it): printable ASCII, no
# space or angle bracket; the last few of a thread keep References within one line.
_THREAD_ID = re.compile(r"[!-;=?-~]{1,250}")
_THREAD_DEPTH = 3


def _attach_forwarded(message: EmailMessage, raw: bytes, number: int) -> None:
    """A question as a `message/rfc822` part when CPython can write it back out, else its bytes.

    Mail as people's clients (and attackers) write it can hold what the parser accepts and the
    generator refuses (a non-ASCII byte in a header name, `boundary=""`). Such a question still
    reaches the coordinators, unchanged, as a file their mail client opens.
    """
    try:
        parsed = BytesParser(policy=default).parsebytes(raw)
        parsed.as_bytes(policy=HEADER_POLICY)  # what the outer message's generator will do
    except Exception:  # noqa: BLE001 - the question is whatever its writer sent
        message.add_attachment(
            raw, maintype="application", subtype="octet-stream", filename=f"question-{number}.eml"
        )
        return
    message.add_attachment(parsed)


def _set_boundaries(message: EmailMessage) -> None:
    """Give each multipart part a boundary of ours, written as it is (`_MadeHere`).

    Left to the generator, each boundary cost a new regular expression searched over the whole
    text (`_make_boundary`) and a parse of the rewritten Content-Type by the header registry
    (`set_boundary`): a sixth of composing a mail. A boundary starting `=_` cannot occur in
    what we put in the parts, quoted-printable or base64 (quoted-printable writes `=` as `=3D`,
    base64 has no `_`), and 128 random bits make it unique; so nothing need be searched.
    Mail that forwards a question (its own lines, written as they came) keeps the generator's
    checked boundaries.
    """
    for part in message.walk():
        content_type = part.get("Content-Type")
        if part.is_multipart() and str(content_type) == part.get_content_type():  # no parameters yet
            boundary = f"=_{secrets.token_hex(16)}"
            part.replace_header("Content-Type", _MadeHere("Content-Type", f'{content_type}; boundary="{boundary}"'))


def _address(person: Person) -> Address:
    return Address(person.name, addr_spec=person.email) if person.name else Address(addr_spec=person.email)


def _reference(text: str, key: str) -> str:
    """A token reference: what the mail is about, and a digest of its key.

    The digest makes every mail's token its own, so that a reply finds the very mail it answers
    (two check-ins to a mentor of two mentees, on the same day, would otherwise share a token).
    Lower case, a-z 0-9 . _ : - only, at most MAX_REFERENCE_LENGTH.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:_KEY_DIGEST_LENGTH]
    about = re.sub(r"[^a-z0-9._:-]", "-", text.lower())[: MAX_REFERENCE_LENGTH - _KEY_DIGEST_LENGTH - 1]
    return f"{about or 'mail'}.{digest}"


_KEY_DIGEST_LENGTH = 8
