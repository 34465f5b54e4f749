"""Structured mail from hypothesis: well-formed messages whose every field is drawn.

Byte mutations mostly break a message early (an unreadable header, a missing From); these stay
whole and vary what the router and the reply parsers decide on: who writes, to whom (partners,
the program, signed reply and bounce addresses, forged tokens), what they answer (In-Reply-To a
real mail of the program's), machine-mail markers, the MIME form (plain, HTML, alternative,
attached message), the charset and transfer encoding (true or lying), and a body of lines a
survey, check-in, self-report or command parser must read, mixed with arbitrary text.

Hypothesis runs here as a generator only (phase `generate`, no database, no shrinking): the
harness records every failure itself, writes the input out and goes on, since one run should
count all the defects it meets, not stop at the first.
"""

from __future__ import annotations

import base64
import quopri
from dataclasses import dataclass

from hypothesis import strategies as st
from mentormail.store.outcomes import Source, Transport

from .mutations import CHARSETS, REPLY_LINES
from .seeds import Addresses

STYLES = ("survey", "checkin", "self_report", "commands", "letter", "question", "free")
# fmt: off
_STYLE_WORDS = {
    "survey": ("1.", "2.", "3.", "4.", "Q1:", "Question 2", "1)", "agree", "yes", "no", "n/a", "email", "video call"),
    "checkin": ("1.", "2.", "4/5", "rating:", "please call me", "no need", "very well", "not well", "stars"),
    "self_report": ("phone call", "video call", "met", "yesterday", "today", "last Monday", "on 12 May", "minutes",
                    "1h", "2027-05-19", "19/05", "3 days ago"),
    "commands": ("pause", "resume", "end", "nudge", "pair", "approve letter", "decline letter", "status", "help",
                 "p1", "p2", "p3", "pair-07", "ana@example.org", "start 2027-05-20"),
    "letter": ("letter", "please", "I'd like", "recognition", "my letter", "send me"),
    "question": ("Can I", "change mentor", "?", "Who do I ask", "Hello"),
    "free": ("",),
}
# fmt: on
_MACHINE_MARKS = (
    ("Auto-Submitted", "auto-replied"),
    ("Auto-Submitted", "auto-generated"),
    ("Auto-Submitted", "no"),
    ("Precedence", "bulk"),
    ("Precedence", "list"),
    ("List-Id", "<talk.lists.example.org>"),
    ("X-Autoreply", "yes"),
    ("X-Mentormail-Kind", "survey"),
    ("Return-Path", "<>"),
    ("X-Auto-Response-Suppress", "All"),
)  # fmt: skip
_AUTHENTICATION = (
    "mx.example.org; dmarc=pass header.from=example.org",
    "mx.example.org; dkim=pass header.d=example.org; dmarc=fail",
    "evil.example.com; dmarc=pass header.from=example.org",
    "mx.example.org; none",
    "mx.example.org;",
)
_FORMS = ("plain", "html", "alternative", "attached", "flowed")
_ENCODINGS = ("7bit", "8bit", "quoted-printable", "base64")


@dataclass(frozen=True)
class StructuredMail:
    style: str  # which replies' words the body is made of: the "seed" a report names
    raw: bytes
    source: Source


def _text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(max_size=max_size)


def _line(style: str) -> st.SearchStrategy[str]:
    words = _STYLE_WORDS[style]
    phrase = st.lists(st.one_of(st.sampled_from(words), _text(12)), min_size=1, max_size=6).map(" ".join)
    return st.one_of(st.sampled_from(REPLY_LINES), phrase, _text(80))


def _address(addresses: Addresses) -> st.SearchStrategy[str]:
    plain = st.sampled_from(addresses.all)
    forged = st.text("abcdefghijklmnopqrstuvwxyz234567", min_size=0, max_size=60).map(
        lambda token: f"mentoring+{token}@example.org"
    )
    named = st.tuples(_text(30), plain).map(lambda pair: f'"{pair[0]}" <{pair[1]}>')
    return st.one_of(plain, plain, forged, named, st.sampled_from(("", "<>", "undisclosed-recipients:;")))


@st.composite
def structured_mail(draw: st.DrawFn, addresses: Addresses) -> StructuredMail:
    style = draw(st.sampled_from(STYLES))
    crlf = draw(st.sampled_from(("\r\n", "\n")))
    sender = draw(st.one_of(st.sampled_from((*addresses.participants, *addresses.staff)), _address(addresses)))
    to = draw(st.lists(_address(addresses), min_size=0, max_size=4))
    cc = draw(st.lists(_address(addresses), max_size=3))
    fields = [("From", sender), ("To", ", ".join(to))]
    if cc:
        fields.append(("Cc", ", ".join(cc)))
    fields.append(
        ("Subject", draw(st.one_of(st.sampled_from(("Re: Your survey", "Letter", "Out of office")), _text(60))))
    )
    fields.append(
        ("Date", draw(st.sampled_from(("Thu, 20 May 2027 09:00:00 -0500", "Fri, 21 May 2027 09:00:00 +0000", ""))))
    )
    if draw(st.booleans()):
        fields.append(
            ("Message-ID", draw(st.one_of(st.sampled_from(addresses.message_ids), _text(40).map(lambda t: f"<{t}@x>"))))
        )
    if draw(st.booleans()):
        fields.append(("In-Reply-To", draw(st.sampled_from(addresses.message_ids))))
    if draw(st.integers(0, 3)) == 0:
        fields.append(("References", " ".join(draw(st.lists(st.sampled_from(addresses.message_ids), max_size=5)))))
    fields += draw(st.lists(st.sampled_from(_MACHINE_MARKS), max_size=2))
    if draw(st.booleans()):
        fields.append(("Authentication-Results", draw(st.sampled_from(_AUTHENTICATION))))
    fields += draw(st.lists(st.tuples(_text(20), _text(60)), max_size=3))  # arbitrary fields

    lines = draw(st.lists(_line(style), min_size=0, max_size=25))
    text = crlf.join(lines) + crlf
    charset = draw(st.sampled_from(CHARSETS))
    actual = draw(st.sampled_from(("utf-8", "latin-1", "utf-16", "cp1252", charset)))
    body = _encode(text, actual)
    form = draw(st.sampled_from(_FORMS))
    encoding = draw(st.sampled_from(_ENCODINGS))
    head, body = _mime(form, body, charset, encoding, crlf)

    header = "".join(f"{name}: {value}{crlf}" for name, value in fields)
    raw = header.encode("utf-8", "surrogateescape") + head + crlf.encode() + body
    transport = draw(st.sampled_from(tuple(Transport)))
    envelope = draw(
        st.sampled_from(((), (addresses.program,), addresses.reply_addresses[:1], addresses.verp_addresses[:1]))
    )
    return StructuredMail(style, raw, Source(transport, envelope))


def _encode(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset, "replace")
    except (LookupError, TypeError, ValueError, UnicodeError):  # a "charset" that is no text codec
        return text.encode("utf-8", "surrogateescape")


def _mime(form: str, body: bytes, charset: str, encoding: str, crlf: str) -> tuple[bytes, bytes]:
    """The MIME fields and the body for `form`, the body in `encoding` (declared as such)."""
    nl = crlf.encode()
    declared = charset.encode("utf-8", "replace")
    payload = _transfer(body, encoding, nl)

    def part(subtype: bytes, content: bytes) -> bytes:
        return (
            b"Content-Type: text/" + subtype + b'; charset="' + declared + b'"' + nl
            + b"Content-Transfer-Encoding: " + encoding.encode() + nl + nl + content + nl
        )  # fmt: skip

    if form == "plain":
        return part(b"plain", payload).split(nl + nl, 1)[0] + nl, payload
    if form == "flowed":
        return b'Content-Type: text/plain; format=flowed; delsp=yes; charset="' + declared + b'"' + nl, body
    html = b"<html><body><p>" + payload.replace(nl, b"<br>") + b"</p><blockquote>&gt; 1.</blockquote></body></html>"
    if form == "html":
        return part(b"html", html).split(nl + nl, 1)[0] + nl, html
    boundary = b"fz"
    if form == "alternative":
        parts = [part(b"plain", payload), part(b"html", html)]
        content_type = b"multipart/alternative"
    else:
        parts = [
            part(b"plain", payload),
            b"Content-Type: message/rfc822" + nl + nl + b"Subject: inner" + nl + nl + body,
        ]
        content_type = b"multipart/mixed"
    joined = b"".join(b"--" + boundary + nl + p + nl for p in parts) + b"--" + boundary + b"--" + nl
    return b"MIME-Version: 1.0" + nl + b"Content-Type: " + content_type + b'; boundary="' + boundary + b'"' + nl, joined


def _transfer(body: bytes, encoding: str, nl: bytes) -> bytes:
    if encoding == "base64":
        return base64.encodebytes(body).replace(b"\n", nl)
    if encoding == "quoted-printable":
        return quopri.encodestring(body).replace(b"\n", nl)
    return body
