"""Envelope facts from a message's header block, and nothing else.

Confidentiality starts here: `split_header_block` cuts the raw bytes at the first empty line and
only the part above it is ever handed to a parser. For mail between partners the body is never
decoded by anything in mentormail.

Pure: bytes in, a frozen dataclass out. No clock, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.message import Message
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

# compat32 never raises on odd headers (it keeps the raw string); the modern policies can throw
# on malformed address lists, which real-world mail has plenty of.
_PARSER = BytesHeaderParser(policy=policy.compat32)

# The end of the header block: the first empty line, whatever the line endings are.
_BLANK_LINE = re.compile(rb"\r\n\r\n|\n\n|\r\r|\r\n\n|\n\r\n")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True)
class HeaderFacts:
    """What the header block says about a message; addresses are normalised (see `normalise`)."""

    from_address: str | None
    from_name: str
    sender: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime | None
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    delivered_to: tuple[str, ...]  # Delivered-To and X-Original-To, in order
    return_path: str | None  # "" for the null return path <>
    auto_submitted: str | None
    precedence: str | None
    list_id: str | None
    x_autoreply: bool  # X-Autoreply / X-Autorespond / X-Auto-Response-Suppress-style markers
    content_type: str  # maintype/subtype, lower case; "text/plain" when absent
    report_type: str | None  # the report-type parameter of multipart/report
    mentormail_kind: str | None  # X-Mentormail-Kind: set on every mail the daemon sends
    authentication_results: tuple[str, ...]  # every Authentication-Results header, unfolded
    # Subject is kept only as a flag for machine-mail heuristics; its text never leaves here.
    subject_looks_like_bounce: bool
    subject_looks_like_auto_reply: bool

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.to + self.cc


def split_header_block(raw: bytes) -> bytes:
    """The bytes above the first empty line (the whole message if there is none)."""
    match = _BLANK_LINE.search(raw)
    head = raw if match is None else raw[: match.start()]
    # A CR-only message (old Mac mail) is one long line to the email package: make it LF.
    if b"\n" not in head and b"\r" in head:
        head = head.replace(b"\r", b"\n")
    return head + b"\n\n"


def normalise(address: str) -> str | None:
    """`Name <Local@Example.ORG>` -> `local@example.org`; None when it is not an address.

    Local parts are compared case-insensitively: that is what every mailbox provider our
    participants use does, and it is what people expect when they type an address.
    """
    _, addr = parseaddr(address)
    addr = addr.strip().strip("<>").strip()
    if addr.count("@") != 1:
        return None
    local, domain = addr.rsplit("@", 1)
    if not local or not domain or " " in addr or "." not in domain:
        return None
    return f"{local.lower()}@{domain.lower().rstrip('.')}"


def without_subaddress(address: str) -> str:
    """`program+tag@x` -> `program@x`."""
    local, _, domain = address.partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def names_program(facts: HeaderFacts, program_address: str) -> bool:
    """Whether To or Cc names the program address (or one of its +tag sub-addresses)."""
    return any(without_subaddress(address) == program_address for address in facts.recipients)


def parse_headers(raw: bytes) -> HeaderFacts:
    """Parse only the header block of `raw` (a whole message or just its headers)."""
    msg = _PARSER.parsebytes(split_header_block(raw))
    from_name, from_address = _first_address(msg.get_all("From", []))
    _, sender = _first_address(msg.get_all("Sender", []))
    content_type = _text(msg.get("Content-Type")).lower()
    return HeaderFacts(
        from_address=from_address,
        from_name=from_name,
        sender=sender,
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        date=_date(msg.get("Date")),
        message_id=_message_id(msg.get("Message-ID")),
        in_reply_to=_message_id(msg.get("In-Reply-To")),
        references=tuple(_MESSAGE_ID.findall(" ".join(_text(v) for v in msg.get_all("References", [])))),
        delivered_to=_addresses(msg, "Delivered-To") + _addresses(msg, "X-Original-To"),
        return_path=_return_path(msg),
        auto_submitted=_lower(msg.get("Auto-Submitted")),
        precedence=_lower(msg.get("Precedence")),
        list_id=_lower(msg.get("List-Id")),
        x_autoreply=_has_autoreply_marker(msg),
        content_type=_content_type(msg),
        report_type=_report_type(content_type),
        mentormail_kind=_lower(msg.get("X-Mentormail-Kind")),
        authentication_results=tuple(_unfold(_text(v)) for v in msg.get_all("Authentication-Results", [])),
        subject_looks_like_bounce=bool(_BOUNCE_SUBJECT.search(_decoded(msg.get("Subject")))),
        subject_looks_like_auto_reply=bool(_AUTO_REPLY_SUBJECT.search(_decoded(msg.get("Subject")))),
    )


# Subjects that MTAs put on bounces and clients on auto-replies. Only a yes/no leaves this module.
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery (status notification|failure|has failed|failed)"
    r"|failure notice|mail delivery (failed|failure|subsystem)|non[- ]?delivery"
    r"|could not be delivered|delivery notification|returned to sender|mail system error"
    # Localised NDR subjects: Exchange/Office 365 (de, fr, nl, it, es) and Japanese MTAs.
    r"|unzustellbar|non remis|onbestelbaar|non recapitabile|no se puede entregar"
    r"|配信できません|配信に失敗|不達",
    re.IGNORECASE,
)
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheit"
    r"|absence|vacation|r[ée]ponse automatique|respuesta autom[áa]tica)",
    re.IGNORECASE,
)
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated", "X-Vacation")


def _text(value: object) -> str:
    """A header value as text; undecodable bytes (8-bit headers) arrive as surrogates, keep them out."""
    if value is None:
        return ""
    text = str(value)
    return text.encode("utf-8", "replace").decode("utf-8", "replace") if _has_surrogates(text) else text


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _decoded(value: object) -> str:
    """Decode RFC 2047 encoded words; never raises."""
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(_text(value))))
    except Exception:  # an unknown charset or a broken encoded word: the raw text will do
        return _text(value)


def _lower(value: object) -> str | None:
    text = _text(value).strip().lower()
    return text or None


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]+", " ", value)


def _addresses(msg: Message, name: str) -> tuple[str, ...]:
    values = [_unfold(_text(v)) for v in msg.get_all(name, [])]
    found: list[str] = []
    for _, addr in getaddresses(values):
        normal = normalise(addr)
        if normal and normal not in found:
            found.append(normal)
    return tuple(found)


def _first_address(values: list[object]) -> tuple[str, str | None]:
    """(display name, address) of the first usable address.

    With no usable address the first display name is still returned: bounces from some MTAs
    carry `From: MAILER-DAEMON <>` (DragonFly Mail Agent), and the name is the only evidence.
    """
    first_name = ""
    for value in values:
        pairs = getaddresses([_unfold(_text(value))])
        for name, addr in pairs:
            normal = normalise(addr)
            if normal:
                return _decoded(name).strip(), normal
            first_name = first_name or _decoded(name).strip()
    return first_name, None


def _date(value: object) -> datetime | None:
    text = _text(value).strip()
    if not text:
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    # A date without a zone ("-0000" or none) is taken as UTC rather than dropped.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _message_id(value: object) -> str | None:
    text = _unfold(_text(value)).strip()
    if not text:
        return None
    match = _MESSAGE_ID.search(text)
    return match.group(1) if match else text.split()[0]


def _return_path(msg: Message) -> str | None:
    values = msg.get_all("Return-Path", [])
    if not values:
        return None
    text = _text(values[0]).strip()  # the topmost: the last delivery agent wrote it
    if text in ("<>", "", "<<>>"):
        return ""
    return normalise(text) or text.strip("<>").lower()


def _has_autoreply_marker(msg: Message) -> bool:
    return any(msg.get(name) is not None for name in _AUTOREPLY_HEADERS)


def _content_type(msg: Message) -> str:
    try:
        return msg.get_content_type()
    except Exception:  # a header the email package cannot read: the RFC default applies
        return "text/plain"


def _report_type(content_type: str) -> str | None:
    match = re.search(r"report-type\s*=\s*\"?([\w-]+)", content_type)
    return match.group(1).lower() if match else None


__all__ = ["HeaderFacts", "names_program", "normalise", "parse_headers", "split_header_block", "without_subaddress"]
