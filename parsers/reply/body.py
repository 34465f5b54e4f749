"""MIME to the text of a reply: `body_text`, and the charset and format=flowed decoding it needs.

The text/plain part(s), else the text/html part(s) as text (`html_text`); attachments and attached
messages are left out. Never raises; the raw message is clipped (`MAX_RAW` bytes, `MAX_BOUNDARIES`
boundaries) before the standard parser sees it.
"""

from __future__ import annotations

import codecs
import re
from email import policy
from email.message import Message
from email.parser import BytesParser

from .html_text import html_to_text

# Raw messages larger than this are clipped before MIME parsing (attachments live at the end).
MAX_RAW = 5_000_000
# And at their this-many-th MIME boundary: the standard parser's work grows with the square of the
# nesting (a thousand levels took 0.6 s, a fuzz finding), and `_text_parts` reads 20 levels and
# 500 parts at most anyway. A reply to the program has a handful.
MAX_BOUNDARIES = 200
# A part's Content-Type or Content-Disposition is read up to this length (see `_clip_parameters`).
MAX_PARAMETERS = 2_000
_BOUNDARY_PARAMETER = re.compile(rb"boundary\s*=", re.IGNORECASE)

_BYTES_PARSER = BytesParser(policy=policy.compat32)

# Declared charsets that mean something else in practice (what mail clients and browsers do).
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "big5": "big5hkscs",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
}
# Japanese mail labelled iso-2022-jp often carries the Microsoft/NEC extensions.
_CHARSET_FALLBACKS = {
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_3", "iso2022_jp_2004"),
}


def _codec(name: str | None) -> str | None:
    """A Python codec for a declared charset, or None when there is no such codec."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes in a declared charset; a wrong or unknown charset falls back, never raises."""
    declared = (charset or "").strip().strip("\"'").lower()
    tries: list[str] = []
    codec = _codec(charset)
    if codec in (None, "cp1252", "ascii", "latin-1", "iso8859-1"):
        # Mislabelled UTF-8 is far more common than Latin-1 that happens to be valid UTF-8.
        tries.append("utf-8")
    tries.extend(_CHARSET_FALLBACKS.get(declared, ()))
    if codec:
        tries.append(codec)
    tries += ["utf-8", "cp1252"]
    for name in tries:
        try:
            return data.decode(name)
        except (UnicodeError, LookupError, ValueError):
            continue
    # cp1252 leaves five bytes undefined; latin-1 takes any byte.
    try:
        return data.decode(codec, errors="replace") if codec else data.decode("latin-1")
    except Exception:  # a bytes-to-bytes "charset" such as base64_codec
        return data.decode("latin-1")


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: take the raw payload
        payload = part.get_payload()
    if payload is None:
        return ""
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogateescape")
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_param("charset")
    except Exception:
        charset = None
    if isinstance(charset, tuple):  # an RFC 2231 parameter
        charset = charset[2] if len(charset) == 3 else None
    text = decode_bytes(payload, charset if isinstance(charset, str) else None)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if part.get_content_subtype() == "plain" and _param(part, "format") == "flowed":
        text = unflow(text, delsp=_param(part, "delsp") == "yes")
    return text


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:
        return ""
    return value.strip().lower() if isinstance(value, str) else ""


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
    except Exception:
        return True
    return disposition == "attachment" or (bool(filename) and disposition != "inline")


def _text_parts(msg: Message, into_messages: bool = False) -> tuple[list[Message], list[Message]]:
    """The body's text/plain and text/html leaves, in order; attachments and attached messages
    (message/rfc822, unless `into_messages`) left out. In multipart/alternative, each kind is
    taken from its best alternative only."""
    plain: list[Message] = []
    html: list[Message] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > 500 or depth > 20:  # a MIME bomb: what was found so far will do
            break
        _clip_parameters(part)
        ctype = part.get_content_type()
        if part.is_multipart():
            if _is_attachment(part) or (ctype == "message/rfc822" and not into_messages):
                continue
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if ctype == "multipart/alternative":
                # The last alternative is the richest; a text/plain one is what we want most.
                plains = [c for c in children if c.get_content_type() == "text/plain" and not _is_attachment(c)]
                htmls = [c for c in children if c.get_content_type() == "text/html" and not _is_attachment(c)]
                nested = [c for c in children if c.is_multipart()]
                if plains:
                    plain.append(plains[0])
                if htmls:
                    html.append(htmls[-1])
                if not plains and not htmls:
                    stack.extend((c, depth + 1) for c in reversed(nested))
                continue
            stack.extend((c, depth + 1) for c in reversed(children))
            continue
        if _is_attachment(part):
            continue
        if ctype == "text/plain":
            plain.append(part)
        elif ctype == "text/html":
            html.append(part)
    return plain, html


def _clip_parameters(part: Message) -> None:
    """Content-Type and Content-Disposition clipped to MAX_PARAMETERS characters: the standard
    library reads their parameters in time that grows with the square of their length (143 KB of
    "charset=x; " took 2 s, a fuzz finding); real ones are a line or two."""
    for name in ("Content-Type", "Content-Disposition"):
        value = part.get(name)
        if isinstance(value, str) and len(value) > MAX_PARAMETERS:
            part.replace_header(name, value[:MAX_PARAMETERS])


def body_text(raw: bytes) -> str:
    """The message's text: its text/plain part(s), else its text/html part(s) as text; "" if none."""
    try:
        msg = _BYTES_PARSER.parsebytes(_clip_mime(raw[:MAX_RAW]))
        plain, html = _text_parts(msg)
        if not plain and not html:
            # Nothing but a message inside (a forward as message/rfc822, a digest): read that.
            plain, html = _text_parts(msg, into_messages=True)
        if plain:
            text = "\n".join(_part_text(p) for p in plain)
        elif html:
            text = "\n".join(html_to_text(_part_text(p)) for p in html)
        else:
            return ""
        return text.strip("\n")
    except Exception:  # the stdlib parser is lenient; this is a last line of defence
        return ""


def _clip_mime(raw: bytes) -> bytes:
    """`raw` up to its MAX_BOUNDARIES-th boundary parameter (all of it, when it has fewer)."""
    for count, match in enumerate(_BOUNDARY_PARAMETER.finditer(raw), start=1):
        if count == MAX_BOUNDARIES:
            return raw[: match.start()]
    return raw


def unflow(text: str, delsp: bool = False) -> str:
    """RFC 3676 format=flowed: join soft-broken lines (ending in a space) of the same quote depth."""
    out: list[str] = []
    current: str | None = None
    current_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        body = line[depth:]
        if body.startswith(" "):
            body = body[1:]  # space-stuffing
        if current is not None and depth == current_depth:
            current += body
        else:
            if current is not None:
                out.append("> " * current_depth + current if current_depth else current)
            current, current_depth = body, depth
        if body.endswith(" ") and body.rstrip(" ") != "--":
            if delsp:
                current = current[:-1]
            continue
        out.append("> " * current_depth + current if current_depth else current)
        current = None
    if current is not None:
        out.append("> " * current_depth + current if current_depth else current)
    return "\n".join(out)
