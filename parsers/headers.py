"""Envelope facts from a message's header block, and nothing else.

Confidentiality starts here: `split_header_block` cuts the raw bytes at the first empty line and
only the part above it is ever handed to a parser. For mail between partners the body is never
decoded by anything in mentormail.

Pure: bytes in, a frozen dataclass out. No clock, no I/O.

Bounded work. Intake has one writer thread, so one message must not hold up everyone else's:
whatever a message within the SMTP size limit (25 MiB, `max_message_bytes` in the settings)
looks like, the work here is linear in what is read, and what is read is bounded:

- The first 2 MiB of the header block (up to the end of its last whole line), and of that the
  first 10,000 headers. Mail systems people write with pass far less: Exim refuses a header
  block over 1 MiB (`header_maxsize`), Postfix keeps 100 KiB of one header (`header_size_limit`),
  Exchange Online takes 256 KB. 2 MiB still holds the 80,000 recipients of issue 7. Whatever
  lies beyond is not read: a From or a partner named only there is not found. The email
  package's header parser costs about 3 microseconds a header, hence the count.
- Addresses: the plain forms (`a@b.example`, `Name <a@b.example>`, `"Last, First" <a@b.example>`,
  `a@b.example (Name)`) are read by regular expressions that give exactly what
  `email.utils.getaddresses` gives for them; everything else goes to getaddresses itself, which
  is pure Python (1 to 3 microseconds a character) and recurses on nested comments and groups.
  It is given at most 16 KiB of a message's address headers (From, To, Cc, ... together, in
  that order): an address list still in odd syntax past that point is not read further. The
  program needs only to find the partner and the program address, which real address lists
  give in the plain forms.
- From, Sender and the like name one mailbox: the first usable address among their first
  1,000 elements counts.
- 2,048 characters of Subject and of a display name are decoded: the subject rules look at how
  a Subject starts, and no person's name is longer.

Measured (CPU time of `parse_headers` on a shared, busy 2-core machine): issue 7's 80,000
recipients 0.2 s (was 42 s), a 25 MB header block 0.2 s (was over 600 s), 380 KB address-like
lines 0.02 s (were up to 10 s, or RecursionError on nested comments); the costliest shape found,
180,000 distinct short addresses filling the 2 MiB, 0.5 s.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime

# normalise and without_subaddress live in parsers/addresses.py; they stay importable from here,
# where callers outside parsers/ (daemon, tests) have always imported them.
from .addresses import _addresses, _Budget, _decoded, _first_address, _return_path, normalise, without_subaddress

# compat32 never raises on odd headers (it keeps the raw string); the modern policies can throw
# on malformed address lists, which real-world mail has plenty of.
_PARSER = BytesHeaderParser(policy=policy.compat32)

# The end of the header block: the first empty line, whatever the line endings are.
_BLANK_LINE = re.compile(rb"\r\n\r\n|\n\n|\r\r|\r\n\n|\n\r\n")
# A line break followed by white space continues a header (RFC 5322 folding).
_FOLD = re.compile(rb"\r?\n(?=[ \t])")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_SURROGATE = re.compile("[\ud800-\udfff]")
# What the email package's feed parser takes as a header line (email.feedparser.headerRE).
_FIELD_LINE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")

# The bounds of the module docstring (those of addresses in parsers/addresses.py).
_MAX_HEADER_BYTES = 2 * 1024 * 1024
_MAX_HEADERS = 10_000


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
    precedence: str | None  # Precedence, else X-Precedence
    list_id: str | None
    list_header: str | None  # the name of another List-* header present (RFC 2369), if any
    autoreply_header: str | None  # the name of an autoresponder's marker header present, if any
    inbox_rules_loop: str | None  # X-MS-Exchange-Inbox-Rules-Loop: the mailbox whose rule wrote this
    # True when the sender asks for no automatic answer: X-Auto-Response-Suppress with All,
    # AutoReply or OOF, or Auto-Submitted other than "no" (RFC 3834 section 2).
    suppresses_auto_responses: bool
    content_type: str  # maintype/subtype, lower case; "text/plain" when absent
    report_type: str | None  # the report-type parameter of multipart/report
    mentormail_kind: str | None  # X-Mentormail-Kind: set on every mail the daemon sends
    authentication_results: tuple[str, ...]  # every Authentication-Results header, unfolded
    # The Subject is kept only as what the machine-mail rules learn from it; its text never leaves
    # this module. auto_reply_subject names the subject rule that matched, never the subject.
    subject_looks_like_bounce: bool
    auto_reply_subject: str | None

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.to + self.cc

    @property
    def x_autoreply(self) -> bool:
        return self.autoreply_header is not None

    @property
    def subject_looks_like_auto_reply(self) -> bool:
        return self.auto_reply_subject is not None


def split_header_block(raw: bytes) -> bytes:
    """The header block as it is read: the bytes above the first empty line (the whole message if
    there is none), cut to the bounds of the module docstring, unfolded, LF- or CRLF-ended."""
    # Looked for only as far as the block is read: beyond that it makes no difference.
    match = _BLANK_LINE.search(raw, 0, _MAX_HEADER_BYTES + 4)
    head = raw if match is None else raw[: match.start()]
    clipped = len(head) > _MAX_HEADER_BYTES
    head = head[:_MAX_HEADER_BYTES]
    # A CR-only message (old Mac mail) is one long line to the email package: make it LF.
    if b"\n" not in head and b"\r" in head:
        head = head.replace(b"\r", b"\n")
    if clipped:
        head = head[: head.rfind(b"\n") + 1]  # the line the cut went through is not read
    # Unfolded, a header is one line however it was folded, so that a folded list of 80,000
    # recipients costs the parser one line, not 80,000.
    head = _first_lines(_FOLD.sub(b"", head), _MAX_HEADERS)
    return head + b"\n\n"


def _first_lines(head: bytes, count: int) -> bytes:
    if head.count(b"\n") < count:
        return head
    end = -1
    for _ in range(count):
        end = head.find(b"\n", end + 1)
    return head[: end + 1]


def names_program(facts: HeaderFacts, program_address: str) -> bool:
    """Whether To or Cc names the program address (or one of its +tag sub-addresses)."""
    return any(without_subaddress(address) == program_address for address in facts.recipients)


def parse_headers(raw: bytes) -> HeaderFacts:
    """Parse only the header block of `raw` (a whole message or just its headers)."""
    block = split_header_block(raw)
    fields = _ascii_fields(block) if block.isascii() else None
    if fields is None:  # 8-bit bytes in the block: the email package's reading of them
        msg = _PARSER.parsebytes(block)
        fields, content_type_found = msg.raw_items(), _content_type(msg)
    else:
        content_type_found = _ascii_content_type(fields)
    headers = _Headers(fields)
    budget = _Budget()  # shared, in the order of importance: From, then the recipients
    from_name, from_address = _first_address(headers.all("From"), budget)
    to, cc = _addresses(headers.all("To"), budget), _addresses(headers.all("Cc"), budget)
    _, sender = _first_address(headers.all("Sender"), budget)
    delivered_to = _addresses(headers.all("Delivered-To"), budget) + _addresses(headers.all("X-Original-To"), budget)
    content_type = (headers.first("Content-Type") or "").lower()
    auto_submitted = _lower(headers.first("Auto-Submitted"))
    subject = _decoded(headers.first("Subject"))
    return HeaderFacts(
        from_address=from_address,
        from_name=from_name,
        sender=sender,
        to=to,
        cc=cc,
        date=_date(headers.first("Date")),
        message_id=_message_id(headers.first("Message-ID")),
        in_reply_to=_message_id(headers.first("In-Reply-To")),
        references=tuple(_MESSAGE_ID.findall(" ".join(headers.all("References")))),
        delivered_to=delivered_to,
        return_path=_return_path(headers.first("Return-Path"), budget),
        auto_submitted=auto_submitted,
        precedence=_lower(headers.first("Precedence") or headers.first("X-Precedence")),
        list_id=_lower(headers.first("List-Id")),
        list_header=next((name for name in _LIST_HEADERS if headers.first(name) is not None), None),
        autoreply_header=_autoreply_header(headers),
        inbox_rules_loop=_first_address(headers.all("X-MS-Exchange-Inbox-Rules-Loop"), budget)[1],
        suppresses_auto_responses=_suppresses_auto_responses(headers.all("X-Auto-Response-Suppress"), auto_submitted),
        content_type=content_type_found,
        report_type=_report_type(content_type),
        mentormail_kind=_lower(headers.first("X-Mentormail-Kind")),
        authentication_results=tuple(headers.all("Authentication-Results")),
        subject_looks_like_bounce=bool(_BOUNCE_SUBJECT.search(subject)),
        auto_reply_subject=next((rule for rule, pattern in _AUTO_REPLY_SUBJECTS if pattern.search(subject)), None),
    )


class _Headers:
    """The header values by name, indexed in one pass: Message.get walks every header for each
    name looked up, which a block of 10,000 headers makes costly. Values are text (see `_text`)."""

    def __init__(self, fields: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in fields:
            self._values.setdefault(name.lower(), []).append(value)

    def all(self, name: str) -> list[str]:
        return [_text(value) for value in self._values.get(name.lower(), [])]

    def first(self, name: str) -> str | None:
        values = self._values.get(name.lower())
        return _text(values[0]) if values else None


# --- Other headers ----------------------------------------------------------------------------


def _text(value: str) -> str:
    """A header value as text. Raw 8-bit bytes (RFC 6532 allows UTF-8 in headers) arrive as
    surrogate escapes: read them as UTF-8, anything undecodable as U+FFFD, so that no lone
    surrogate reaches logging or the database."""
    if value.isascii() or not _SURROGATE.search(value):
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _lower(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    return text or None


def _keyword(value: str | None) -> str:
    """`auto-generated (failure)` -> `auto-generated`; "" for None or blank."""
    return re.split(r"[\s;(]+", (value or "").strip().lower(), maxsplit=1)[0]


def _date(value: str | None) -> datetime | None:
    text = (value or "").strip()
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


def _message_id(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    match = _MESSAGE_ID.search(text)
    return match.group(1) if match else text.split()[0]


def _ascii_fields(block: bytes) -> list[tuple[str, str]]:
    """The (name, value) fields of an ASCII header block, exactly as `BytesHeaderParser` with
    `compat32` finds them (its `raw_items()`), without building a `Message` through the feed
    parser's generic machinery, which was a third of `parse_headers` (issue 8's IMAP profile).
    The same steps as `email.feedparser`: lines end at CR LF, CR or LF; the fields end at the
    first line that is neither a field, a continuation nor a `From ` line; a leading `From ` line
    (mbox) is skipped, one elsewhere too, and one as the last line ends the fields; a line
    starting with `:` and a continuation with no field before it are dropped. The value is what
    follows the first colon, leading blanks removed, continuations joined, the line end
    removed. tests/test_header_fields.py compares the two on generated blocks."""
    lines = io.StringIO(block.decode("ascii"), newline="").readlines()
    taken: list[str] = []
    for line in lines:
        if not _FIELD_LINE.match(line):
            break
        taken.append(line)
    fields: list[tuple[str, str]] = []
    current: list[str] = []  # the lines of the field being read
    for number, line in enumerate(taken):
        if line[0] in " \t":
            if current:
                current.append(line)
            continue
        if current:
            fields.append(_field(current))
            current = []
        if line.startswith("From "):
            if 0 < number == len(taken) - 1:
                break
            continue
        if line.startswith(":"):
            continue
        current = [line]
    if current:
        fields.append(_field(current))
    return fields


def _field(lines: list[str]) -> tuple[str, str]:
    name, value = lines[0].split(":", 1)
    return name, (value.lstrip(" \t") + "".join(lines[1:])).rstrip("\r\n")


def _ascii_content_type(fields: list[tuple[str, str]]) -> str:
    """`Message.get_content_type()` of these fields: the first Content-Type's type/subtype,
    lower case, or text/plain when there is none or it is not one."""
    value = next((value for name, value in fields if name.lower() == "content-type"), None)
    if value is None:
        return "text/plain"
    content_type = value.partition(";")[0].strip().lower()
    return content_type if content_type.count("/") == 1 else "text/plain"


def _content_type(msg: Message) -> str:
    try:
        return msg.get_content_type()
    except Exception:  # a header the email package cannot read: the RFC default applies
        return "text/plain"


def _report_type(content_type: str) -> str | None:
    match = re.search(r"report-type\s*=\s*\"?([\w-]+)", content_type)
    return match.group(1).lower() if match else None


# --- Machine-mail evidence --------------------------------------------------------------------

# RFC 2369 list headers other than List-Id: a list server adds them to every copy it sends out.
_LIST_HEADERS = ("List-Post", "List-Unsubscribe", "List-Help", "List-Subscribe", "List-Owner", "List-Archive")

# Headers autoresponders put on what they send, with the values that count (None: any value).
# X-Loop counts only as yes/true (OTRS, Znuny and Zammad mark their automatic answers so):
# procmail recipes and list servers write an address there, on forwarded human mail too.
_AUTOREPLY_MARKERS: tuple[tuple[str, frozenset[str] | None], ...] = (
    ("X-Autoreply", None),
    ("X-Autorespond", None),
    ("X-Autoresponder", None),
    ("X-Autogenerated", None),
    ("X-Auto-Reply", None),
    ("X-Vacation", None),
    ("X-FC-MachineGenerated", None),  # FirstClass
    ("X-Apple-Action", frozenset({"vacation"})),  # iCloud's vacation replies (as sisimai's RFC 3834 table)
    ("X-Loop", frozenset({"yes", "true"})),
)


def _autoreply_header(headers: _Headers) -> str | None:
    for name, values in _AUTOREPLY_MARKERS:
        value = headers.first(name)
        if value is not None and (values is None or _keyword(value) in values):
            return name
    return None


# X-Auto-Response-Suppress (Exchange, MS-OXCMAIL): the kinds of automatic answer the sender does
# not want; these three cover ours. Outlook and Exchange put it on mail people write too, so it
# says nothing about who wrote the message.
_SUPPRESSED_BY = frozenset({"all", "autoreply", "oof"})


def _suppresses_auto_responses(suppress: list[str], auto_submitted: str | None) -> bool:
    kinds = {kind.strip() for value in suppress for kind in value.lower().split(",")}
    return bool(kinds & _SUPPRESSED_BY) or _keyword(auto_submitted) not in ("", "no")


# Subjects that MTAs put on bounces. Only a yes/no leaves this module.
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery (status notification|failure|has failed|failed)"
    r"|failure notice|mail delivery (failed|failure|subsystem)|non[- ]?delivery"
    r"|could not be delivered|delivery notification|returned to sender|mail system error"
    # Localised NDR subjects: Exchange/Office 365 (de, fr, nl, it, es) and Japanese MTAs.
    r"|unzustellbar|non remis|onbestelbaar|non recapitabile|no se puede entregar"
    r"|配信できません|配信に失敗|不達",
    re.IGNORECASE,
)

# Subjects autoresponders write, as Discourse (lib/email/receiver.rb), sisimai (RFC3834) and the
# vendors themselves write them: a fixed prefix, then a colon and the original subject
# ("Automatic reply: coffee?"), or the prefix alone, or in brackets ("[Auto-Reply] coffee?").
# False positives are what these rules are shaped against:
# - The prefix must start the subject. "Re: Automatic reply: coffee?" is a person answering an
#   auto-reply (no vendor puts Re: or Fwd: before its own prefix), and a phrase mid-subject
#   ("Re: my automatic reply settings") is a person writing about one.
# - The prefix must be followed by a colon, the end, or a closing bracket: "Out of office hours
#   for the reference desk" and "Abwesenheitsnotiz einrichten?" are people's subjects.
# - Only tags that gateways put first ("[EXTERNAL] ") may come before the prefix.
# - No bare words that people use as a subject's first word with a colon ("Vacation: dates?",
#   "Abwesend: Montag", "Read: chapter 3"); read receipts are recognised by their Content-Type.
# What is left is a person writing "Out of office: back Monday" by hand: rare, and taken as
# an auto-reply.
_SUBJECT_TAGS = r"\s*(?:\[[^\]]{0,40}\]\s*)*"
_EXCHANGE_AUTOMATIC_REPLY = (
    # Outlook and Exchange 2010 and later write "Automatic reply:" in the mailbox's language.
    r"automatic reply|automatische antwort|r[ée]ponse automatique|respuesta autom[áa]tica"
    r"|risposta automatica|resposta autom[áà]tica|automatisch antwoord|automatiskt? svar|autosvar"
    r"|automaattinen vastaus|automatyczna odpowied[źz]|odpowied[źz] automatyczna|automatick[áa] odpov[ěe][ďd]"  # Czech and Slovak
    r"|automatikus v[áa]lasz|r[ăa]spuns automat|automatski odgovor|samodejni odgovor"
    r"|automaatvastus|autom[āa]tisk[āa] atbilde|automatinis atsakymas|otomatik (?:yan[ıi]t|cevap)"
    r"|αυτόματη απάντηση|автоматический ответ|автоматична відповідь|автоматичен отговор"
    r"|תשובה אוטומטית|رد تلقائي|ตอบกลับอัตโนมัติ|tr[ảa] l[ờo]i t[ựu] đ[ộo]ng|balasan otomatis"
    r"|自动回复|自动答复|自動回覆|自動回復|自動応答|自動返信|자동 ?회신|자동 ?응답"
)
_OUT_OF_OFFICE = (
    # Exchange 2003/2007 and Outlook rules: "Out of Office AutoReply:", "Out of Office:", and the
    # older localised wordings (German, French, Spanish, Italian, Portuguese, Swedish).
    r"out of (?:the )?office(?: auto[- ]?reply)?|abwesenheitsnotiz|absent(?:e|\(e\))? du bureau"
    r"|absence du bureau|fuera de la oficina|fuori sede|risposta non al computer|fora do escrit[óo]rio"
    r"|fr[åa]nvaro"
)
_AUTORESPONDER = (
    # Webmail and hosting autoresponders (cPanel, Horde, Yahoo's "Auto Response"), and
    # "Vacation reply" rather than "Vacation", which people start subjects with.
    r"auto[- ]?reply|auto[- ]?response|automatic response|auto[- ]?responder|auto[- ]?antwort"
    r"|vacation (?:auto[- ]?)?reply"
)


def _prefix_rule(words: str) -> re.Pattern[str]:
    return re.compile(rf"^{_SUBJECT_TAGS}(?:(?:{words})\s*(?:[:：]|$)|[\[(](?:{words})[\])])", re.IGNORECASE)


_AUTO_REPLY_SUBJECTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Exchange's localised automatic-reply prefix", _prefix_rule(_EXCHANGE_AUTOMATIC_REPLY)),
    ("an out-of-office prefix", _prefix_rule(_OUT_OF_OFFICE)),
    ("an autoresponder's prefix", _prefix_rule(_AUTORESPONDER)),
    # Lotus Notes: "AUTO: Ana Lima is out of the office (returning 02/09/2026)", in capitals in
    # every language. Case matters: "Auto: carpool to the meet-up?" is German for a car.
    ("Lotus Notes' AUTO: prefix", re.compile(rf"^{_SUBJECT_TAGS}AUTO:\s")),
    # Challenge-response systems (TMDA, Spam Arrest, Boxbe, ChoiceMail) hold mail from unknown
    # senders until they answer a fixed request. The whole subject must be the request (an
    # original subject in brackets may follow): a person asks to confirm something in particular.
    (
        "a challenge-response system's verification request",
        re.compile(
            rf"^{_SUBJECT_TAGS}(?:please (?:confirm|verify) your (?:e-?mail|message)(?: address)?"
            r"|(?:sender|e-?mail|message) verification(?: required| request| needed)?"
            r"|your (?:e-?mail|message) (?:requires|needs|is awaiting) (?:your )?(?:verification|confirmation))"
            r"\s*[.!]?\s*(?:[(\[].*)?$",
            re.IGNORECASE,
        ),
    ),
)


__all__ = ["HeaderFacts", "names_program", "normalise", "parse_headers", "split_header_block", "without_subaddress"]
