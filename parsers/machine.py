"""Machine mail: bounces, auto-replies, list mail and the daemon's own mail coming back.

Machine mail is never answered and never counted as contact (DESIGN.md section 4). This module
says *which kind* of machine mail a message is, and why, in one short sentence built from
constants: a verdict's reason never quotes the message's subject or body, so it is safe to log.

- `classify_headers` looks at header facts only: all the daemon may use for mail between
  partners, whose bodies are never read (DESIGN.md section 3).
- `classify_message` adds body evidence (a DSN part, flufl.bounce recognising the bounce, or
  the wording of a bounce notice). Callers use it only for mail NOT sent by a participant.
- `bounced_addresses` lists the permanently failed recipients of a bounce with flufl.bounce,
  the detector GNU Mailman uses.

Pure: bytes in, frozen dataclasses out. No clock, no I/O. Every body scan works on a clipped
copy of the message, so hostile input finishes in bounded time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser
from enum import StrEnum
from functools import lru_cache

from flufl.bounce import BounceDetector, all_failures

from .addresses import normalise, without_subaddress
from .headers import HeaderFacts, parse_headers


class MachineKind(StrEnum):
    BOUNCE = "bounce"  # a delivery status notification (DSN/NDR), almost always a failure
    # vacation replies and other automatic answers, read receipts (MDN), abuse (ARF) reports,
    # challenge-response requests
    AUTO_REPLY = "auto_reply"
    LIST = "list"  # mailing-list mail
    OWN = "own"  # the daemon's own mail coming back (a loop)


@dataclass(frozen=True)
class MachineVerdict:
    kind: MachineKind
    reason: str  # names the header or evidence; never the subject or body text


# --- Evidence vocabulary --------------------------------------------------------------------

# Local parts mail systems send bounces from. Case and separators vary between MTAs
# (MAILER-DAEMON, Mailer_Daemon, post_master); Exchange sends NDRs as "MicrosoftExchange<hex>".
_DAEMON_LOCAL_PART = re.compile(
    r"^(mailer[-_.]?daemon|mail[-_.]?daemon|mdaemon|post[-_.]?master"
    r"|mail[-_.]?delivery[-_.]?(sub)?system|microsoftexchange[0-9a-f]*)$",
    re.IGNORECASE,
)
# Display names MTAs put on bounces ("Mail Delivery System", "MAILER-DAEMON <>").
_DAEMON_DISPLAY_NAME = re.compile(
    r"mailer[-_ ]?daemon|mail delivery (sub)?system|mail delivery service|mail administrator"
    r"|postmaster",
    re.IGNORECASE,
)
# Envelope senders that stand for the null path <>: sendmail writes MAILER-DAEMON@host into
# Return-Path, Postfix sends its postmaster notices from double-bounce@host.
_NULL_SENDER_LOCAL_PART = re.compile(r"^(mailer[-_.]?daemon|double-bounce)$", re.IGNORECASE)
# Notification senders nobody reads; with body evidence they can be bounce notices (Amazon SES
# delivers bounce notifications from no-reply@sns.amazonaws.com, KDDI from no-reply@...).
_NO_REPLY_LOCAL_PART = re.compile(r"^(no|do[-_.]?not)[-_.]?reply\b", re.IGNORECASE)

# RFC 3464 DSNs and their RFC 6533 internationalised form.
_DSN_REPORT_TYPES = frozenset({"delivery-status", "global-delivery-status"})
_DSN_PART_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
# RFC 5965 ARF abuse reports (a recipient pressed "this is spam"): machine mail, but not a
# delivery failure, so they are auto-replies rather than bounces: the address still works.
_FEEDBACK_REPORT_TYPE = "feedback-report"
_FEEDBACK_PART_TYPE = "message/feedback-report"
# Every multipart/report is a mail system's report (RFC 6522); those that are not DSNs are
# automatic answers that say nothing of the address: read receipts (RFC 8098), abuse reports,
# TLS reports (RFC 8460). The reason is a constant for each known type, never the header's text.
_REPORT_REASONS = {
    _FEEDBACK_REPORT_TYPE: "Content-Type: multipart/report; report-type=feedback-report (ARF abuse report)",
    "disposition-notification": "Content-Type: multipart/report; report-type=disposition-notification (read receipt)",
}
_OTHER_REPORT_REASON = "Content-Type: multipart/report (a mail system's report, RFC 6522)"

# RFC 3834 keywords; any value except "no" means "not written by a person".
_AUTO_SUBMITTED_KEYWORDS = frozenset({"auto-generated", "auto-replied", "auto-notified"})
_AUTO_REPLY_PRECEDENCE = frozenset({"bulk", "junk", "auto_reply"})
_LIST_PRECEDENCE = "list"

# Challenge-response systems send their "please confirm" requests from addresses of their own:
# TMDA from user-confirm-COOKIE@, others from confirm@, verify@ or the service's domain. No
# person writes from such an address. (TMDA's requests also carry Auto-Submitted and Precedence.)
_CHALLENGE_LOCAL_PART = re.compile(r"(?:^|[-_.+])(?:confirm|verify|verification|challenge)(?:[-_.+]|$)", re.IGNORECASE)
_CHALLENGE_DOMAINS = ("spamarrest.com", "boxbe.com", "mailblocks.com")

# Wording of the notice part of bounces whose MTA sends neither a DSN nor a format flufl.bounce
# knows (KDDI, Verizon, X6, Amazon SES notifications as JSON). Looked for only in mail from a
# mail system and never inside a returned message: a person quoting a bounce is not a bounce.
_BOUNCE_NOTICE = re.compile(
    r"could(n't| not) be delivered|could not deliver|was not delivered|undeliverable"
    r"|delivery (to the following recipients? )?(has )?failed|permanent (fatal )?errors?"
    r"|trouble delivering|no such user|user unknown|mailbox (is )?(full|unavailable)"
    r"|\b5\d\d[ -]5\.\d{1,3}\.\d{1,3}\b"  # an SMTP reply with a permanent enhanced status code
    r'|\\?"notificationType\\?"\s*:\s*\\?"Bounce\\?"',  # Amazon SES, also as escaped JSON
    re.IGNORECASE,
)

# What a bounced address must look like as reported: a dot-atom-ish local part and a domain.
_PLAIN_ADDRESS = re.compile(r"^[^\s\"<>()\[\]{},;:@]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)+$")

# Body scans see at most this much of a message, with lines clipped to the RFC 5322 limit.
# The evidence of a bounce (its notice and DSN part) comes before the returned message, so a
# clipped copy loses nothing we need, and the clipping bounds the work that the email parser
# and the regular expressions here and in flufl.bounce can be made to do.
_MAX_SCAN_BYTES = 256 * 1024
_MAX_LINE_BYTES = 998
# flufl.bounce's detectors try a dozen patterns on every body line, so lines cost more than
# bytes: 256 KiB of near-empty lines took them 1.4 s (a fuzz finding). A real DSN says what it
# has to say in its first few hundred lines.
_MAX_SCAN_LINES = 5_000
_MAX_PARTS = 100  # MIME parts looked at; more and flufl.bounce is not asked at all
_MAX_NOTICE_PARTS = 4  # text parts searched for _BOUNCE_NOTICE
_MAX_NOTICE_BYTES = 32 * 1024  # of each

_BODY_PARSER = BytesParser(policy=policy.compat32)  # compat32: what flufl.bounce expects

# flufl.bounce's scan_message()/all_failures() run an ordered list of detectors and stop at the
# first that recognises the bounce, but they also stop, log a traceback and re-raise when any
# detector raises, and real mail makes some raise: Yale's detector raises IndexError on any
# message without a From header, and several call str methods on headers that compat32 returns
# as Header objects (8-bit bytes). One broken detector would hide every detector after it, so we
# walk the same list ourselves and skip a detector that fails. The list is private to
# flufl.bounce (pinned <7 in pyproject.toml); should it move, all_failures() is the fallback.
try:
    from flufl.bounce._scan import _DETECTORS as _FLUFL_DETECTOR_LIST
except ImportError:  # pragma: no cover - a future flufl.bounce layout
    _FLUFL_DETECTOR_LIST = []
_FLUFL_DETECTORS: tuple[type[BounceDetector], ...] = tuple(_FLUFL_DETECTOR_LIST)


# --- Headers only -------------------------------------------------------------------------


def classify_headers(facts: HeaderFacts, program_address: str) -> MachineVerdict | None:
    """The kind of machine mail the header block shows, or None for mail that looks human.

    Precedence: own > bounce > auto_reply > list; the first rule that matches decides.
    """
    own = _own_reason(facts, program_address)
    if own:
        return MachineVerdict(MachineKind.OWN, own)
    for kind, rule in _HEADER_RULES:
        reason = rule(facts)
        if reason:
            return MachineVerdict(kind, reason)
    return None


def _own_reason(facts: HeaderFacts, program_address: str) -> str | None:
    if facts.mentormail_kind is not None:
        return "X-Mentormail-Kind header present: the program's own mail"
    program = normalise(program_address)
    if program is None or facts.from_address is None:
        return None
    if facts.from_address == program:
        return "From is the program address"
    if without_subaddress(facts.from_address) == without_subaddress(program):
        return "From is a +tag sub-address of the program address"
    return None


def _bounce_reason(facts: HeaderFacts) -> str | None:
    if facts.content_type == "multipart/report" and facts.report_type in _DSN_REPORT_TYPES:
        return "Content-Type: multipart/report; report-type=delivery-status (RFC 3464 DSN)"
    daemon = _daemon_sender(facts)
    if daemon and facts.return_path is None:
        return f"{daemon} names a mail system, and there is no Return-Path"
    if daemon and _null_return_path(facts):
        return f"{daemon} names a mail system, and the Return-Path is null"
    if facts.subject_looks_like_bounce and _null_return_path(facts):
        return "bounce-like Subject with a null Return-Path"
    if facts.subject_looks_like_bounce and daemon:
        return f"bounce-like Subject, and {daemon} names a mail system"
    return None


def _auto_reply_reason(facts: HeaderFacts) -> str | None:
    auto_submitted = _first_word(facts.auto_submitted)
    if auto_submitted and auto_submitted != "no":
        shown = auto_submitted if auto_submitted in _AUTO_SUBMITTED_KEYWORDS else "(not no)"
        return f"Auto-Submitted: {shown} (RFC 3834)"
    if facts.content_type == "multipart/report":  # a DSN is a bounce, and was looked at first
        return _REPORT_REASONS.get(facts.report_type or "", _OTHER_REPORT_REASON)
    if facts.autoreply_header:
        return f"{facts.autoreply_header} header present (an autoresponder's marker)"
    if facts.inbox_rules_loop is not None and facts.inbox_rules_loop == facts.from_address:
        # Exchange stamps the mailbox whose inbox rule wrote a message (an automatic answer or
        # forward) on it. When it is the sender's own, a rule wrote this. Another mailbox's (the
        # program's, redirecting its mail to us by a rule) says nothing of who wrote it.
        return "X-MS-Exchange-Inbox-Rules-Loop names the sender: an Exchange inbox rule wrote it"
    precedence = _first_word(facts.precedence)
    if precedence in _AUTO_REPLY_PRECEDENCE:
        return f"Precedence: {precedence}"
    if _null_return_path(facts):
        return "null Return-Path <> (RFC 3834: automatic mail)"
    if facts.auto_reply_subject:
        return f"subject has {facts.auto_reply_subject}"
    challenge = _challenge_sender(facts)
    if challenge:
        return f"{challenge} is a challenge-response system's address"
    return None


def _list_reason(facts: HeaderFacts) -> str | None:
    if facts.list_id:
        return "List-Id header present (mailing-list mail)"
    if _first_word(facts.precedence) == _LIST_PRECEDENCE:
        return "Precedence: list"
    if facts.list_header:
        return f"{facts.list_header} header present (mailing-list mail, RFC 2369)"
    return None


_HEADER_RULES: tuple[tuple[MachineKind, Callable[[HeaderFacts], str | None]], ...] = (
    (MachineKind.BOUNCE, _bounce_reason),
    (MachineKind.AUTO_REPLY, _auto_reply_reason),
    (MachineKind.LIST, _list_reason),
)


def _daemon_sender(facts: HeaderFacts) -> str | None:
    """The header that names a mail system as the sender ("From", "Sender", ...), or None."""
    for header, address in (("From", facts.from_address), ("Sender", facts.sender)):
        if address and _DAEMON_LOCAL_PART.match(_local_part(address)):
            return header
    if _DAEMON_DISPLAY_NAME.search(facts.from_name):
        return "the From display name"
    return None


def _challenge_sender(facts: HeaderFacts) -> str | None:
    """The header whose address is a challenge-response system's ("From", ...), or None."""
    for header, address in (("From", facts.from_address), ("Sender", facts.sender), ("Return-Path", facts.return_path)):
        if not address or "@" not in address:
            continue
        local, _, domain = address.partition("@")
        if _CHALLENGE_LOCAL_PART.search(local) or any(
            domain == known or domain.endswith("." + known) for known in _CHALLENGE_DOMAINS
        ):
            return header
    return None


def _null_return_path(facts: HeaderFacts) -> bool:
    """Return-Path <>, or one of the addresses MTAs write in its place."""
    if facts.return_path == "":
        return True
    return bool(facts.return_path and _NULL_SENDER_LOCAL_PART.match(_local_part(facts.return_path)))


def _local_part(address: str) -> str:
    return address.partition("@")[0]


def _first_word(value: str | None) -> str:
    """`auto-generated (failure)` -> `auto-generated`; "" for None or blank."""
    return re.split(r"[\s;(]+", (value or "").strip().lower(), maxsplit=1)[0]


# --- Whole message --------------------------------------------------------------------------


def bounced_addresses(raw: bytes) -> frozenset[str]:
    """The permanently failed recipients a bounce names (normalised); empty when none or unsure.

    Never raises: a message flufl.bounce cannot read simply names nobody.
    """
    try:
        return _failures_in(raw)[1]
    except Exception:  # hostile MIME (e.g. absurd nesting): nobody
        return frozenset()


def classify_message(raw: bytes, program_address: str, facts: HeaderFacts | None = None) -> MachineVerdict | None:
    """`classify_headers`, plus body evidence of bounces and abuse reports.

    Reads the body: call it only for mail NOT sent by a participant. Body evidence of a bounce
    also overrides an auto-reply or list verdict (many MTAs mark bounces Auto-Submitted or send
    them with a null Return-Path), in keeping with own > bounce > auto_reply > list. `facts` are
    `parse_headers(raw)` where the caller has them: on a huge header block, parsing it again is
    most of the work.
    """
    if facts is None:
        facts = parse_headers(raw)
    verdict = classify_headers(facts, program_address)
    if verdict is not None and verdict.kind in (MachineKind.OWN, MachineKind.BOUNCE):
        return verdict
    if facts.content_type == "multipart/report" and facts.report_type is not None:
        # A report that is no DSN (an abuse report, a read receipt) quotes the reported mail or
        # names the recipient in DSN-like fields; flufl.bounce would misread it as a bounce.
        return verdict
    try:
        return _body_verdict(_parse_clipped(raw), facts, raw) or verdict
    except Exception:  # hostile MIME (e.g. absurd nesting): the headers' word stands
        return verdict


def _body_verdict(msg: Message, facts: HeaderFacts, raw: bytes) -> MachineVerdict | None:
    parts = list(_own_parts(msg))
    part_types = {part.get_content_type() for part in parts}
    if part_types & _DSN_PART_TYPES:
        return MachineVerdict(MachineKind.BOUNCE, "a message/delivery-status part (RFC 3464 DSN)")
    if _FEEDBACK_PART_TYPE in part_types:
        return MachineVerdict(MachineKind.AUTO_REPLY, "a message/feedback-report part (ARF abuse report)")
    if not _looks_like_mail_system(facts):
        return None  # flufl.bounce and _BOUNCE_NOTICE would misread a person quoting a bounce
    if any(_failures_in(raw)):
        return MachineVerdict(MachineKind.BOUNCE, "flufl.bounce recognised a bounce from a mail system")
    if any(_BOUNCE_NOTICE.search(text) for text in _notice_texts(parts)):
        return MachineVerdict(MachineKind.BOUNCE, "bounce-notice wording in mail from a mail system")
    return None


def _looks_like_mail_system(facts: HeaderFacts) -> bool:
    """Whether the sender is a mail system or a notifier rather than a person."""
    no_reply = facts.from_address is not None and _NO_REPLY_LOCAL_PART.match(facts.from_address)
    return bool(
        _daemon_sender(facts)
        or _null_return_path(facts)
        or no_reply
        or _first_word(facts.auto_submitted) not in ("", "no")
    )


def _parse_clipped(raw: bytes) -> Message:
    return _BODY_PARSER.parsebytes(_clip(raw))


def _clip(raw: bytes) -> bytes:
    """The first _MAX_SCAN_BYTES (and _MAX_SCAN_LINES) of `raw`, lines cut to _MAX_LINE_BYTES
    and ended with LF.

    LF because flufl.bounce's detectors split decoded payloads on LF only: a CR-only message
    (old Mac mail) would otherwise be one long line to them.
    """
    lines = raw[:_MAX_SCAN_BYTES].splitlines()[:_MAX_SCAN_LINES]
    return b"".join(line[:_MAX_LINE_BYTES] + b"\n" for line in lines)


def _own_parts(msg: Message) -> Iterator[Message]:
    """The message's MIME parts, not descending into attached messages (message/rfc822).

    A returned or forwarded message is someone else's mail: a person's mail with a bounce
    attached is not a bounce.
    """
    return _walk(msg, into_messages=False)


def _walk(msg: Message, *, into_messages: bool) -> Iterator[Message]:
    """msg and its parts, depth first; iterative and capped, so absurd nesting costs nothing."""
    stack = [msg]
    for _ in range(_MAX_PARTS + 1):
        if not stack:
            return
        part = stack.pop()
        yield part
        descend = part.get_content_maintype() == "multipart" or into_messages
        if descend and part.is_multipart():
            stack.extend(reversed(part.get_payload()))


def _too_many_parts(msg: Message) -> bool:
    """No bounce has hundreds of parts; flufl.bounce's cost grows with parts times patterns."""
    return sum(1 for _ in _walk(msg, into_messages=True)) > _MAX_PARTS


def _notice_texts(parts: list[Message]) -> Iterator[str]:
    """The first few text parts, decoded leniently (the bounce notice is plain ASCII wording)."""
    texts = (part for part in parts if part.get_content_maintype() == "text")
    for part in list(texts)[:_MAX_NOTICE_PARTS]:
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            yield payload[:_MAX_NOTICE_BYTES].decode("utf-8", "replace")


@lru_cache(maxsize=2)
def _failures_in(raw: bytes) -> tuple[frozenset[str], frozenset[str]]:
    """`_flufl_failures` of a message, remembered for the last two: intake asks `classify_message`
    and then `bounced_addresses` about the same bytes, and flufl.bounce reads every body line (on
    a large bounce, most of a second each time). Pure: the same bytes, the same answer."""
    return _flufl_failures(_parse_clipped(raw))


def _flufl_failures(msg: Message) -> tuple[frozenset[str], frozenset[str]]:
    """(temporary, permanent) failures from the first flufl.bounce detector that names someone.

    Addresses are normalised; what is not a plain address is dropped, because flufl.bounce's
    loosest detector (LLNL) reports any text between commas that contains an @.
    """
    if _too_many_parts(msg):
        return frozenset(), frozenset()
    if not _FLUFL_DETECTORS:  # pragma: no cover - see _FLUFL_DETECTORS
        try:
            temporary, permanent = all_failures(msg)
        except Exception:
            return frozenset(), frozenset()
        return _plain_addresses(temporary), _plain_addresses(permanent)
    for detector in _FLUFL_DETECTORS:
        try:
            found = detector().process(msg)
        except Exception:  # this detector cannot read this message; the next one may
            continue
        temporary, permanent = _plain_addresses(found[0]), _plain_addresses(found[1])
        if temporary or permanent:
            return temporary, permanent
    return frozenset(), frozenset()


def _plain_addresses(found: frozenset[bytes]) -> frozenset[str]:
    texts = (address.decode("ascii", "replace").strip().strip("<>").lower() for address in found)
    addresses = (normalise(text) for text in texts if _PLAIN_ADDRESS.match(text))
    return frozenset(address for address in addresses if address is not None)


__all__ = [
    "MachineKind",
    "MachineVerdict",
    "bounced_addresses",
    "classify_headers",
    "classify_message",
]
