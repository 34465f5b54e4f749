"""What mail-parser finds wrong with a message, and where the message travelled (its Received hops).

Used for two things: the reason a message without a readable sender is `malformed`
(`sender_problem`), and the warnings and hops `mentormail explain` prints (`examine`). Neither
changes an outcome otherwise: a participant's mail with a quirk is still their contact.

Confidentiality (DESIGN.md section 3): mail-parser is handed the header block only, cut by
`headers.split_header_block`, unless the caller says the body may be read (`whole=True`).
mail-parser logs what it reads (header names, Received lines, attachment file names at DEBUG),
so its logger is switched off here, in the only module that imports it. It is only ever given a
parsed `Message`: its file and Outlook paths, which write temporary files, are never used.

Cost: mail-parser reads address lists and Received lines slowly (about 0.4 s for one 380 KB
address line, 0.5 s for 1 MB of Received headers), so it is given no header field over
`FIELD_LIMIT` and no more than `HEADER_LIMIT` of header block; what it was not given is reported.

Pure: bytes in, frozen dataclasses out; no clock, no I/O. Never raises: a mail-parser failure
on hostile input is reported as a defect of the message.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser

from mailparser import MailParser

from .headers import split_header_block

# Switched off before mail-parser is first used; nothing it logs may reach a log file.
_LIBRARY_LOG = logging.getLogger("mailparser")
_LIBRARY_LOG.addHandler(logging.NullHandler())
_LIBRARY_LOG.propagate = False
_LIBRARY_LOG.setLevel(logging.CRITICAL + 1)

FIELD_LIMIT = 16 * 1024  # a To line of some 500 addresses; no real header is longer
HEADER_LIMIT = 64 * 1024  # the corpus's largest header block is 15 KB (an Office 365 bounce)
WHOLE_LIMIT = 4 * 1024 * 1024  # larger messages (big attachments) are examined by their header block

# compat32, as parsers/headers.py uses: it keeps odd headers as they are instead of raising.
_HEADER_PARSER = BytesHeaderParser(policy=policy.compat32)
_PARSER = BytesParser(policy=policy.compat32)

_HEADER_NAME = re.compile(rb"^([!-9;-~]{1,76})[ \t]*:")
_TOKEN = re.compile(r"^[a-z0-9-]+$")  # mail-parser's reasons are such tokens; nothing else is shown
_PART = re.compile(r"^(\w+): part (\d+)")
_FIELD_TEXT_LIMIT = 200  # characters of a Received clause explain shows


@dataclass(frozen=True)
class Defect:
    """Something wrong with a message, in words a coordinator can act on. Never quotes it."""

    category: str  # mail-parser's or the email package's name for it: "AddressHeaderDefect"
    where: str  # "From", "Date", "Received, hop 2", "header block", "MIME part 3"
    problem: str


@dataclass(frozen=True)
class Hop:
    """One Received header: a server that took the message in. Hop 1 is the first server."""

    number: int
    sent_from: str  # the from clause as the receiving server wrote it ("" when it has none)
    by: str
    with_: str
    at: datetime | None  # UTC; None when its date cannot be read
    delay: timedelta | None  # since the previous hop; for hop 1, since the Date header


@dataclass(frozen=True)
class Structure:
    whole: bool  # whether the body was examined too, not just the header block
    defects: tuple[Defect, ...]
    hops: tuple[Hop, ...]
    date: datetime | None  # the Date header, UTC, as mail-parser reads it

    @property
    def in_transit(self) -> timedelta | None:
        """From the Date header (else the first dated hop) to the last dated hop."""
        dated = [hop.at for hop in self.hops if hop.at is not None]
        start = self.date or (dated[0] if dated else None)
        return dated[-1] - start if dated and start is not None else None


def examine(raw: bytes, *, whole: bool = False) -> Structure:
    """mail-parser's defects and Received hops of `raw`: its header block only, unless `whole`
    (the caller has established that the body may be read) and the message is small enough."""
    head, limits = _capped(split_header_block(raw))
    failure: tuple[Defect, ...] = ()
    if whole and not limits and len(raw) <= WHOLE_LIMIT:
        try:
            return _structure(_PARSER.parsebytes(raw), whole=True)
        except Exception as exc:  # hostile MIME can crash it; the header block alone still says something
            failure = (_failed(exc, "the whole message; its header block alone was examined"),)
    try:
        found = _structure(_HEADER_PARSER.parsebytes(head), whole=False)
    except Exception as exc:
        unknown = _failed(exc, "the header block; its defects and hops are not known")
        return Structure(False, (*failure, unknown, *limits), (), None)
    return Structure(False, (*failure, *found.defects, *limits), found.hops, found.date)


def sender_problem(raw: bytes) -> str:
    """Why no sender address can be read in From, for a message where none could.

    Words only, never the header's text: this goes into the outcome's reason, which is logged.
    """
    try:
        return _sender_problem(raw)
    except Exception as exc:  # the email package or mail-parser on hostile input: say so, never raise
        return f"the From header could not be examined ({type(exc).__name__})"


def _sender_problem(raw: bytes) -> str:
    if not raw.strip():
        return "the message is empty"
    fields = _fields(split_header_block(raw))
    if not fields:
        return "the message has no header block: it starts with an empty line"
    from_fields = [field for field in fields if _name(field) == b"from"]
    # The email package stops reading headers at the first line that is not one: read as it does,
    # as far as the From header (not past HEADER_LIMIT, which no real header block comes near).
    above = fields[: fields.index(from_fields[0]) + 1] if from_fields else fields[:1]
    msg = _HEADER_PARSER.parsebytes(b"".join(above) + b"\n") if sum(map(len, above)) <= HEADER_LIMIT else None
    if msg is not None and not msg.keys():
        names = ", ".join(sorted({type(defect).__name__ for defect in msg.defects}))
        return "the message has no header block: its first line is not a header" + (f" ({names})" if names else "")
    if not from_fields:
        return "there is no From header"
    if msg is not None and not msg.get_all("From"):
        return (
            "a line above the From header is not a header, so the From header is never read "
            "(MissingHeaderBodySeparatorDefect)"
        )
    if any(len(field) > FIELD_LIMIT for field in from_fields):
        return f"the From header is too long to be an address (over {FIELD_LIMIT // 1024} KB)"
    if not any(field.split(b":", 1)[1].strip() for field in from_fields):
        return "the From header is empty"
    found = MailParser(_HEADER_PARSER.parsebytes(b"".join(from_fields) + b"\n")).address_header_defects
    reasons = [reason for defect in found for reason in _tokens(defect.get("reason"))]
    if reasons:
        words = "; ".join(dict.fromkeys(_ADDRESS_WORDS.get(r, r) for r in reasons))
        return f"the From header is not an address ({words}; mail-parser: {', '.join(dict.fromkeys(reasons))})"
    return "the From header holds no internet address (one needs a single @ and a domain such as example.org)"


# --- reading mail-parser's findings -----------------------------------------------------------


def _structure(msg: Message, *, whole: bool) -> Structure:
    parsed = MailParser(msg)
    received = len(msg.get_all("Received", []))
    defects = [
        *_part_defects(msg),
        *(_address_defect(d) for d in parsed.address_header_defects),
        *(_date_defect(d, received) for d in parsed.date_header_defects),
        *(_received_defect(d, received) for d in parsed.received_header_defects),
        *_listed_defects(parsed.defects),
    ]
    return Structure(whole, tuple(defects), _hops(parsed.received, parsed.date), parsed.date)


def _part_defects(msg: Message) -> list[Defect]:
    """The email package's defects, part by part (mail-parser gathers the same ones, without
    saying which part). From the header block alone only the header-level ones can arise."""
    found = []
    for index, part in enumerate(msg.walk()):
        for defect in part.defects:
            category = type(defect).__name__
            if index == 0 and category in _HEADER_LEVEL:
                where = "header block"
            else:
                where = f"MIME part {index}" if index else "the message's MIME structure"
            words = _PART_WORDS.get(category) or _first_line(type(defect).__doc__)
            found.append(Defect(category, where, words))
    return found


def _address_defect(found: dict[str, object]) -> Defect:
    reasons = _tokens(found.get("reason"))
    words = "; ".join(dict.fromkeys(_ADDRESS_WORDS.get(r, r) for r in reasons)) or "not a valid address list"
    return Defect(
        "AddressHeaderDefect",
        _occurrence(_ADDRESS_HEADERS.get(str(found.get("header")), "an address header"), found.get("occurrence")),
        f"{words} (mail-parser: {', '.join(reasons)})",
    )


def _date_defect(found: dict[str, object], received: int) -> Defect:
    header = str(found.get("header"))
    reasons = _tokens(found.get("reason"))
    words = "; ".join(dict.fromkeys(_DATE_WORDS.get(r, r) for r in reasons)) or "the date cannot be read"
    if header == "received":
        where = _hop_name(found.get("occurrence"), received)
    else:
        where = _occurrence("Resent-Date" if header == "resent-date" else "Date", found.get("occurrence"))
    return Defect("DateHeaderDefect", where, f"{words} (mail-parser: {', '.join(reasons)})")


def _received_defect(found: dict[str, object], received: int) -> Defect:
    reasons = _tokens(found.get("reason"))
    words = "; ".join(dict.fromkeys(_RECEIVED_WORDS.get(r, r) for r in reasons)) or "cannot be read"
    return Defect(
        "ReceivedHeaderDefect",
        _hop_name(found.get("occurrence"), received),
        f"{words} (mail-parser: {', '.join(reasons)})",
    )


def _listed_defects(listed: list[dict[str, list[str]]]) -> list[Defect]:
    """mail-parser's MIME-header and charset findings, known only from its own summary lines
    (whose evidence, which quotes the message, is left out)."""
    found = []
    for entry in listed:
        for line in (line for lines in entry.values() for line in lines):
            match = _PART.match(line)
            if match and match[1] in _LISTED_WORDS:
                found.append(Defect(match[1], f"MIME part {match[2]}", _LISTED_WORDS[match[1]]))
    return found


def _hops(received: list[dict[str, object]], date: datetime | None) -> tuple[Hop, ...]:
    hops = []
    previous = date
    for number, entry in enumerate(received, start=1):
        at = _utc(entry.get("date_utc"))
        hops.append(
            Hop(
                number,
                _clause(entry.get("from")),
                _clause(entry.get("by")),
                _clause(entry.get("with")),
                at,
                at - previous if at is not None and previous is not None else None,
            )
        )
        previous = at
    return tuple(hops)


def _failed(exc: Exception, on_what: str) -> Defect:
    return Defect("MailParserError", "mail-parser", f"failed ({type(exc).__name__}) on {on_what}")


# --- the header block, field by field ----------------------------------------------------------


def _fields(head: bytes) -> list[bytes]:
    """Header fields as bytes, each with its continuation lines (a line starting with a space or tab)."""
    fields: list[bytes] = []
    for line in head.splitlines(keepends=True):
        if not line.strip(b"\r\n"):
            break
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def _capped(head: bytes) -> tuple[bytes, tuple[Defect, ...]]:
    """The header block mail-parser may have: no field over FIELD_LIMIT, no more than HEADER_LIMIT
    in all, whole fields only; and what was left out."""
    kept, limits, size = [], [], 0
    fields = _fields(head)
    for count, field in enumerate(fields):
        if len(field) > FIELD_LIMIT:
            limits.append(
                Defect("OversizedHeader", _field_where(field), f"over {FIELD_LIMIT // 1024} KB long; not examined")
            )
            continue
        size += len(field)
        if size > HEADER_LIMIT:
            left = len(fields) - count
            limits.append(
                Defect(
                    "OversizedHeaderBlock",
                    "header block",
                    f"over {HEADER_LIMIT // 1024} KB; the {left} header line(s) after that were not examined",
                )
            )
            break
        kept.append(field)
    return b"".join(kept) + b"\n", tuple(limits)


def _name(field: bytes) -> bytes | None:
    match = _HEADER_NAME.match(field)
    return match[1].lower() if match else None


def _field_where(field: bytes) -> str:
    name = _name(field)
    return name.decode("ascii").title() if name else "header block"


# --- words ---------------------------------------------------------------------------------------


def _tokens(reason: object) -> list[str]:
    return [token for token in str(reason or "").split(",") if _TOKEN.match(token)]


def _occurrence(name: str, occurrence: object) -> str:
    return f"{name} (#{occurrence + 1})" if isinstance(occurrence, int) and occurrence > 0 else name


def _hop_name(occurrence: object, received: int) -> str:
    """mail-parser counts Received headers from the top (the newest); hops count from the first server."""
    return f"Received, hop {received - occurrence}" if isinstance(occurrence, int) else "Received"


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc and doc.strip() else "a defect the email package found"


def _clause(value: object) -> str:
    """A Received clause fit for a terminal: one line, printable, not too long."""
    text = " ".join(str(value or "").split())
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= _FIELD_TEXT_LIMIT else text[: _FIELD_TEXT_LIMIT - 1] + "…"


def _utc(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


_ADDRESS_HEADERS = {
    "from": "From",
    "to": "To",
    "cc": "Cc",
    "bcc": "Bcc",
    "reply-to": "Reply-To",
    "delivered-to": "Delivered-To",
}
_ADDRESS_WORDS = {
    "invalid-angle-address": "what is between < and > is not an address",
    "invalid-or-ambiguous-address": "no @ sign, or more than one, or spaces in the address",
    "ambiguous-angle-address": "more than one <address>, or text after the >",
    "invalid-display-name": "the name before <address> has characters that need quotes",
    "invalid-utf8": "8-bit bytes that are not UTF-8 (the sender's program did not encode the name)",
    "structural-recovery": "mail-parser and the email package read it differently",
    "unclosed-delimiter": "a quote, parenthesis or < is never closed",
    "unmatched-delimiter": "a closing quote, parenthesis or > without its opening one",
    "unmatched-angle": "a > without its <",
    "nested-angle": "a < inside another <",
    "invalid-group-boundary": "a group (name: ...;) is not closed properly",
    "invalid-group-name": "a group's name is not valid",
    "unmatched-group": "a ; without its group",
    "unclosed-group": "a group (name: ...;) is never closed",
    "overlong-encoded-word": "an encoded word (=?...?=) in the name is too long",
    "invalid-encoded-word": "an encoded word (=?...?=) in the name is broken",
}
_DATE_WORDS = {
    "invalid-date-syntax": "the date cannot be read",
    "date-out-of-range": "the date is out of range",
    "invalid-calendar-date": "no such day in the calendar",
    "invalid-time": "the time of day is impossible",
    "invalid-zone": "the time zone cannot be read",
    "weekday-mismatch": "the weekday does not match the date; the date is used",
    "invalid-utf8": "8-bit bytes that are not UTF-8",
}
_RECEIVED_WORDS = {
    "unexpected-comment-close": "a ) without its (, so this hop's details cannot be read",
    "nested-angle-address": "a < inside another <, so this hop's details cannot be read",
    "unclosed-comment": "a ( is never closed, so this hop's details cannot be read",
    "unclosed-quoted-string": "a quote is never closed, so this hop's details cannot be read",
    "unclosed-domain-literal": "a [ is never closed, so this hop's details cannot be read",
    "unclosed-angle-address": "a < is never closed, so this hop's details cannot be read",
    "ambiguous-date-separators": "more than one ; so its date is uncertain and this hop's details are not read",
    "misplaced-date-separator": "its date comes after an extra ; (read anyway)",
    "invalid-utf8": "8-bit bytes that are not UTF-8",
}
# The email package's defects that the header block alone can show.
_HEADER_LEVEL = frozenset(
    {"MissingHeaderBodySeparatorDefect", "FirstHeaderLineIsContinuationDefect", "MisplacedEnvelopeHeaderDefect"}
)
_PART_WORDS = {
    "MissingHeaderBodySeparatorDefect": "a line among the headers is not a header; the headers below it are not read",
    "FirstHeaderLineIsContinuationDefect": "the first header line starts with a space, as if it continued nothing",
    "MisplacedEnvelopeHeaderDefect": "an mbox 'From ' line stands among the headers",
    "StartBoundaryNotFoundDefect": "the first boundary of the multipart is never found, so its parts cannot be read",
    "CloseBoundaryNotFoundDefect": "the multipart's closing boundary is missing (the message may have been cut off)",
    "MultipartInvariantViolationDefect": "it says it is multipart but has no parts",
    "NoBoundaryInMultipartDefect": "it says it is multipart but names no boundary",
    "InvalidMultipartContentTransferEncodingDefect": "a multipart whose transfer encoding is not 7bit, 8bit or binary",
    "InvalidBase64PaddingDefect": "its base64 text is damaged (padding)",
    "InvalidBase64CharactersDefect": "its base64 text has characters base64 does not use",
    "InvalidBase64LengthDefect": "its base64 text is damaged (length)",
}
_LISTED_WORDS = {
    "MimeHeaderDefect": "its Content-Type or Content-Disposition has 8-bit bytes or a broken encoded word",
    "CharsetDecodeDefect": "its text is not in the charset it declares (read as UTF-8 instead)",
}


__all__ = ["FIELD_LIMIT", "HEADER_LIMIT", "WHOLE_LIMIT", "Defect", "Hop", "Structure", "examine", "sender_problem"]
