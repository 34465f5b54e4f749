"""The mutation engine: named, seeded changes to a message's bytes.

Each mutation takes the random generator, the bytes and what it may borrow (the program's
addresses, other seeds), and returns new bytes. They are of two sorts. Blind ones (bit flips,
insertions, deletions, truncation) find what nobody thought of. Mail-aware ones aim at what
mail parsers get wrong and what intake's paths depend on: a header field is found, duplicated,
renamed with bytes a name may not hold, made 400 KB long or given tens of thousands of
recipients; the MIME structure gets an empty or lying boundary, deep nesting, a charset or
transfer encoding that is not what the bytes are; and addresses are rewritten to the roster's,
the program's and the program's signed reply and bounce addresses, so that corpus mail also
reaches the paths for participants' mail, replies and commands.

Only the mutation names ever leave the harness (reports show "seed + mutation names"), never
the bytes.
"""

from __future__ import annotations

import base64
import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .seeds import Addresses

# Inputs are clipped to this after mutating: far above a normal message, yet quick to go through.
MAX_INPUT = 2_000_000
# A mutated header value reaches this length at most ("huge header lines").
MAX_HEADER = 400_000
# "Tens of thousands of recipients".
MAX_RECIPIENTS = 50_000


@dataclass(frozen=True)
class Pool:
    """What a mutation may borrow: the program's addresses, and the other seeds' bytes."""

    addresses: Addresses
    seeds: Sequence[bytes]


Mutation = Callable[[random.Random, bytes, Pool], bytes]

_BLANK = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_CONTENT_TYPE = re.compile(rb"^content-type[ \t]*:", re.IGNORECASE | re.MULTILINE)
_BOUNDARY = re.compile(rb'boundary[ \t]*=[ \t]*(?:"[^"\r\n]*"|[^;\s]*)', re.IGNORECASE)
_CHARSET = re.compile(rb'charset[ \t]*=[ \t]*(?:"[^"\r\n]*"|[^;\s]*)', re.IGNORECASE)
_CTE = re.compile(rb"^content-transfer-encoding[ \t]*:[^\r\n]*", re.IGNORECASE | re.MULTILINE)

# Bytes that mean something to a mail parser, a MIME parser or a regular expression.
INTERESTING = (
    b"\r", b"\n", b"\r\n", b"\x00", b":", b";", b"=", b'"', b"<", b">", b"@", b",", b"(", b")", b"\\",
    b"\x80", b"\xff", b"\xc3", b"\xc3\xa9", b"\xe2\x80\xae", b"\xef\xbb\xbf", b"\x1b$B", b" ", b"\t",
    b"--", b"=?", b"?=", b"=?utf-8?b?", b"=?utf-8?q?", b"\r\n\r\n", b"\r\n ", b"\r\n\t", b"%", b"+",
    b"> ", b"1. ", b"\xf0\x9f\x98\x80", b"\xed\xa0\x80", b"\x7f", b"\x0b", b"\x0c", b"\x1a",
)  # fmt: skip
# Declared charsets: real ones that disagree with the bytes, aliases, Python codecs that are not
# text encodings at all, and names no codec has.
CHARSETS = (
    "utf-8", "us-ascii", "iso-8859-1", "windows-1252", "utf-7", "utf-16", "utf-16le", "utf-32", "iso-2022-jp",
    "shift_jis", "euc-kr", "gb2312", "big5", "koi8-r", "cp1255", "tis-620", "unknown-8bit", "x-unknown", "",
    "utf8mb4", "base64", "zlib", "rot13", "hex", "uu", "bz2", "quopri", "idna", "punycode", "unicode_escape",
    "raw_unicode_escape", "utf-8\x00", "utf-8'en'", "\"utf-8", "=?utf-8?", "x" * 300,
)  # fmt: skip
TRANSFER_ENCODINGS = ("base64", "quoted-printable", "x-uuencode", "uuencode", "8bit", "7bit", "binary", "bogus", "")
_DATES = (
    "", "0", "Thu, 01 Jan 1970 00:00:00 +0000", "Mon, 31 Feb 2027 25:61:61 +9999", "Fri, 31 Dec 9999 23:59:59 -2359",
    "Sat, 01 Jan 0001 00:00:00 +0000", "20 May 2027 15:00 GMT", "yesterday", "Wed, 20 May 2027 15:00:00 +0000 (UTC)",
    "Thu, 20 May 3027 15:00:00 +0000", "Tue, 99 May 2027 15:00:00 +0000", "\x00", "=?utf-8?q?Mon?=",
)  # fmt: skip
_ADDRESS_JUNK = (
    "<>", "@", "a@b@c", "undisclosed-recipients:;", "\"\x00\"@example.org", "ana@example.org.",
    "<@route.example:ana@example.org>", "ANA@EXAMPLE.ORG", "ana@exämple.org", "=?utf-8?q?ana=40example.org?=",
    "ana@[127.0.0.1]", "ana@example.org (a (nested) comment)", "team: ana@example.org, ben@example.net;",
    "\"Ana, Álvarez\" <ana@example.org>", "ana", "<ana@example.org", "ana@example.org>", "\"unterminated <x@y>",
    "=?utf-8?b?QW5h?= <ana@example.org>", "ana+tag@example.org", "mentoring+@example.org", "mentoring+x@example.org",
)  # fmt: skip
_FIELDS = (
    "From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Content-Type",
    "Content-Transfer-Encoding", "MIME-Version", "Return-Path", "Reply-To", "Sender", "Delivered-To",
    "Auto-Submitted", "Precedence", "List-Id", "X-Mentormail-Kind", "Authentication-Results", "Received",
)  # fmt: skip


# --- the header block, as fields ------------------------------------------------------------------


def split(data: bytes) -> tuple[list[bytes], bytes]:
    """The header fields (each with its continuation lines and line end), and the rest from the blank line."""
    match = _BLANK.search(data)
    head, rest = (data[: match.start()], data[match.start() :]) if match else (data, b"")
    fields: list[bytes] = []
    for line in head.splitlines(keepends=True):
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += line
        else:
            fields.append(line)
    if fields and not fields[-1].endswith((b"\n", b"\r")) and rest:
        # The blank line's first line end belongs to the last field.
        ending = b"\r\n" if rest.startswith(b"\r\n") else rest[:1]
        fields[-1] += ending
        rest = rest[len(ending) :]
    return fields, rest


def join(fields: list[bytes], rest: bytes) -> bytes:
    return b"".join(fields) + rest


def newline(data: bytes) -> bytes:
    return b"\r\n" if b"\r\n" in data[:2000] else b"\n"


def field_name(field: bytes) -> bytes:
    return field.split(b":", 1)[0].strip().lower()


def _pick_field(rng: random.Random, fields: list[bytes], names: Sequence[str] = ()) -> int | None:
    """A field's index: one of `names` when the message has one (usually), else any."""
    wanted = {n.lower().encode() for n in names}
    chosen = [i for i, f in enumerate(fields) if field_name(f) in wanted]
    if chosen and rng.random() < 0.8:
        return rng.choice(chosen)
    return rng.randrange(len(fields)) if fields else None


def _set_field(data: bytes, name: str, value: bytes, rng: random.Random) -> bytes:
    """`name: value`, in place of the field of that name (or added at a random place)."""
    fields, rest = split(data)
    line = name.encode() + b": " + value + newline(data)
    index = next((i for i, f in enumerate(fields) if field_name(f) == name.lower().encode()), None)
    if index is None:
        fields.insert(rng.randint(0, len(fields)), line)
    else:
        fields[index] = line
    return join(fields, rest if rest else newline(data))


def _position(rng: random.Random, data: bytes) -> int:
    """Half the time in the header block, where most of intake's parsing happens."""
    head = _BLANK.search(data)
    if head and rng.random() < 0.5:
        return rng.randint(0, head.start())
    return rng.randint(0, len(data))


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def _address(rng: random.Random, pool: Pool) -> str:
    found = pool.addresses
    choice = rng.random()
    if choice < 0.3:
        return rng.choice(found.participants)
    if choice < 0.45:
        return found.program
    if choice < 0.6:
        return rng.choice(found.reply_addresses)
    if choice < 0.7:
        return rng.choice(found.staff)
    if choice < 0.8:
        return rng.choice(found.verp_addresses)
    if choice < 0.9:
        return rng.choice(found.strangers)
    return rng.choice(_ADDRESS_JUNK)


# --- blind mutations -------------------------------------------------------------------------------


def flip_bits(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        buffer[min(_position(rng, data), len(buffer) - 1)] ^= 1 << rng.randrange(8)
    return bytes(buffer)


def insert_bytes(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    if rng.random() < 0.7:
        chunk = b"".join(rng.choice(INTERESTING) for _ in range(rng.randint(1, 8)))
    else:
        chunk = rng.randbytes(rng.randint(1, 64))
    at = _position(rng, data)
    return data[:at] + chunk + data[at:]


def delete_bytes(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    if not data:
        return data
    at = _position(rng, data)
    length = _log_uniform(rng, 1, max(2, len(data) // 4))
    return data[:at] + data[at + length :]


def repeat_bytes(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    """A span repeated many times: long runs are what makes a regular expression slow."""
    if not data:
        return data
    at = _position(rng, data)
    span = data[at : at + rng.randint(1, 16)] or data[-1:]
    times = _log_uniform(rng, 2, max(3, 200_000 // len(span)))
    return data[:at] + span * times + data[at:]


def truncate(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    head = _BLANK.search(data)
    if head and rng.random() < 0.3:  # at the end of the header block, give or take a byte
        return data[: max(0, head.start() + rng.randint(-2, 3))]
    return data[: rng.randint(0, len(data))]


def line_endings(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    lines = re.split(rb"\r\n|\r|\n", data)
    style = rng.choice(("lf", "cr", "crlf", "mixed", "no_blank_line", "leading"))
    if style == "mixed":
        return b"".join(line + rng.choice((b"\r\n", b"\n", b"\r", b"\n\r")) for line in lines)
    if style == "no_blank_line":
        return _BLANK.sub(newline(data), data, count=1)
    if style == "leading":
        return (
            rng.choice((b"\r\n", b"\n", b" ", b"From MAILER-DAEMON Thu May 20 15:00:00 2027\n", b"\xef\xbb\xbf")) + data
        )
    return {"lf": b"\n", "cr": b"\r", "crlf": b"\r\n"}[style].join(lines)


def splice(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    """This message's header block over another seed's body, or another's fields among these."""
    other = rng.choice(pool.seeds)
    fields, rest = split(data)
    other_fields, other_rest = split(other)
    if rng.random() < 0.5:
        return join(fields, other_rest)
    at = rng.randint(0, len(fields))
    return join(fields[:at] + rng.sample(other_fields, min(len(other_fields), rng.randint(1, 5))) + fields[at:], rest)


# --- header fields -----------------------------------------------------------------------------------


def duplicate_header(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    fields, rest = split(data)
    index = _pick_field(rng, fields, ("From", "To", "Content-Type", "Message-ID", "In-Reply-To", "Auto-Submitted"))
    if index is None:
        return data
    copies = [fields[index]] * _log_uniform(rng, 2, 200)
    return join(fields[: index + 1] + copies + fields[index + 1 :], rest)


def drop_header(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    fields, rest = split(data)
    index = _pick_field(rng, fields, ("From", "Message-ID", "Date", "Content-Type", "MIME-Version", "To"))
    if index is None:
        return data
    del fields[index]
    return join(fields, rest)


def huge_header(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    """One header value up to ~400 KB: one token, encoded words, message IDs, commas, folded or not."""
    size = _log_uniform(rng, 1000, MAX_HEADER)
    style = rng.choice(("token", "encoded_words", "message_ids", "commas", "addresses", "spaces", "folded"))
    unit = {
        "token": b"x",
        "encoded_words": b"=?utf-8?q?=C3=A9t=C3=A9?= ",
        "message_ids": b"<id.1234@mail.example.net> ",
        "commas": b",",
        "addresses": b"ana@example.org, ",
        "spaces": b" ",
        "folded": b"word word word word word word word word word word word word word word\r\n ",
    }[style]
    value = unit * (size // len(unit))
    name = rng.choice(("Subject", "To", "Cc", "From", "References", "In-Reply-To", "Content-Type", "Received",
                       "Message-ID", "Authentication-Results", "X-Long"))  # fmt: skip
    return _set_field(data, name, value, rng)


def many_recipients(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    count = _log_uniform(rng, 100, MAX_RECIPIENTS)
    known = (*pool.addresses.participants, pool.addresses.program, *pool.addresses.staff)
    addresses = [rng.choice(known) if rng.random() < 0.01 else f"person{n}@example{n % 7}.net" for n in range(count)]
    return _set_field(data, rng.choice(("To", "Cc")), ", ".join(addresses).encode(), rng)


def header_name_non_ascii(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    fields, rest = split(data)
    byte = rng.choice((b"\x80", b"\xff", b"\xe9", b"\xc3\xa9", b"\xe2\x80\x8b", bytes([rng.randrange(0x80, 0x100)])))
    index = _pick_field(rng, fields, ("Content-Type", "From", "To", "Subject", "MIME-Version"))
    if index is None or rng.random() < 0.3:
        fields.insert(rng.randint(0, len(fields)), b"X-T" + byte + b"st: value" + newline(data))
    else:
        name_end = max(1, fields[index].find(b":"))
        at = rng.randint(0, name_end)
        fields[index] = fields[index][:at] + byte + fields[index][at:]
    return join(fields, rest)


def header_name_control(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    """CR, LF, NUL and friends inside a header name, or a name that is empty or blank."""
    fields, rest = split(data)
    index = _pick_field(rng, fields, ("Content-Type", "From", "To", "Subject", "Message-ID"))
    if index is None:
        return data
    field = fields[index]
    name_end = max(0, field.find(b":"))
    choice = rng.random()
    if choice < 0.15:
        fields[index] = field[name_end:]  # ": value"
    elif choice < 0.25:
        fields[index] = b"   " + field[name_end:]
    else:
        at = rng.randint(0, name_end)
        fields[index] = (
            field[:at] + rng.choice((b"\r", b"\n", b"\x00", b" ", b"\t", b"\x7f", b"\x0b", b"\r\n")) + field[at:]
        )
    return join(fields, rest)


def encoded_word_junk(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    charset = rng.choice(CHARSETS).encode("utf-8", "replace")
    payload = base64.b64encode(rng.randbytes(rng.randint(0, 40)))
    junk = rng.choice((
        b"=?" + charset + b"?b?" + payload + b"?=",
        b"=?" + charset + b"?q?=FF=FE=00?=",
        b"=?utf-8?b?????=", b"=?=?", b"=?utf-8*en?q?x?=", b"=?utf-8?q?unterminated", b"=?utf-8?x?abc?=",
        b"=?utf-8?b?" + payload[:-1] + b"?=",
    ))  # fmt: skip
    fields, rest = split(data)
    index = _pick_field(rng, fields, ("Subject", "From", "To", "Cc"))
    if index is None:
        return data
    field = fields[index]
    end = len(field.rstrip(b"\r\n"))
    fields[index] = field[:end] + b" " + junk + field[end:]
    return join(fields, rest)


def address_junk(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    name = rng.choice(("From", "To", "Cc", "Reply-To", "Return-Path", "Sender", "Delivered-To"))
    if rng.random() < 0.15:  # deeply nested comments: recursive-descent parsers' weak spot
        depth = _log_uniform(rng, 10, 20_000)
        value = b"(" * depth + b"x" + b")" * rng.choice((depth, 0)) + b" ana@example.org"
    else:
        value = rng.choice(_ADDRESS_JUNK).encode()
    return _set_field(data, name, value, rng)


def date_junk(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    return _set_field(data, "Date", rng.choice(_DATES).encode(), rng)


def readdress(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    """From, To, Cc (and perhaps In-Reply-To or Message-ID) as the program's own people and addresses."""
    found = pool.addresses
    sender = rng.choice((*found.participants, *found.staff, *found.strangers))
    data = _set_field(data, "From", sender.encode(), rng)
    data = _set_field(data, "To", ", ".join(_address(rng, pool) for _ in range(rng.randint(1, 3))).encode(), rng)
    if rng.random() < 0.4:
        data = _set_field(data, "Cc", _address(rng, pool).encode(), rng)
    if rng.random() < 0.3:
        data = _set_field(data, "In-Reply-To", rng.choice(found.message_ids).encode(), rng)
    if rng.random() < 0.1:
        data = _set_field(data, "Message-ID", rng.choice(found.message_ids).encode(), rng)
    return data


# --- MIME structure --------------------------------------------------------------------------------------


def _content_type(data: bytes) -> tuple[int, int] | None:
    """The span of the first Content-Type field (with its continuation lines)."""
    match = _CONTENT_TYPE.search(data)
    if match is None:
        return None
    end = match.end()
    while True:
        line_end = data.find(b"\n", end)
        if line_end < 0:
            return match.start(), len(data)
        end = line_end + 1
        if data[end : end + 1] not in (b" ", b"\t"):
            return match.start(), end


def empty_boundary(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    """`boundary=""` in place of the boundary (or on a multipart type put in place of the type)."""
    span = _content_type(data)
    if span is not None and _BOUNDARY.search(data, span[0], span[1]):
        start, end = span
        return data[:start] + _BOUNDARY.sub(b'boundary=""', data[start:end], count=1) + data[end:]
    kind = rng.choice((b"multipart/mixed", b"multipart/alternative", b"multipart/report; report-type=delivery-status"))
    return _set_field(data, "Content-Type", kind + b'; boundary=""', rng)


def boundary_tricks(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    """A boundary that is missing, unquoted-empty, blank, long, doubled, 8-bit, or never closed."""
    span = _content_type(data)
    if span is None or not _BOUNDARY.search(data, span[0], span[1]):
        return empty_boundary(rng, data, pool)
    start, end = span
    field = data[start:end]
    trick = rng.choice(("missing", "unquoted_empty", "blank", "long", "twice", "eight_bit", "unclosed", "dashes"))
    if trick == "unclosed":
        return re.sub(rb"\r?\n--[^\r\n]*--[ \t]*(?=\r?\n|$)", b"", data)
    replacement = {
        "missing": b"",
        "unquoted_empty": b"boundary=",
        "blank": b'boundary="   "',
        "long": b'boundary="' + b"b" * _log_uniform(rng, 71, 100_000) + b'"',
        "twice": b'boundary="one"; boundary="two"',
        "eight_bit": b'boundary="\xe9\x00\xff"',
        "dashes": b'boundary="--"',
    }[trick]
    return data[:start] + _BOUNDARY.sub(replacement, field, count=1) + data[end:]


def nested_multipart(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    """The body inside multiparts (or attached messages) nested a few or hundreds deep."""
    fields, rest = split(data)
    crlf = newline(data)
    depth = rng.choice((rng.randint(2, 10), _log_uniform(rng, 10, 1000)))
    part = b"Content-Type: text/plain" + crlf + crlf + rest.lstrip(b"\r\n")
    attached = rng.random() < 0.3
    same = rng.random() < 0.3  # one boundary for every level
    for level in range(depth):
        if attached:
            part = b"Content-Type: message/rfc822" + crlf + crlf + b"Subject: inner" + crlf + part
            continue
        boundary = b"n" if same else b"n%d" % level
        part = (
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"' + crlf + crlf
            + b"--" + boundary + crlf + part + crlf + b"--" + boundary + b"--" + crlf
        )  # fmt: skip
    outer, _, inner = part.partition(crlf + crlf)
    fields = [f for f in fields if field_name(f) not in (b"content-type", b"content-transfer-encoding")]
    return join([*fields, outer + crlf], crlf + inner)


def charset_lie(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    """A charset that is not what the bytes are, or 8-bit bytes under a 7-bit charset."""
    charset = rng.choice(CHARSETS).encode("utf-8", "replace")
    found = list(_CHARSET.finditer(data))
    if found and rng.random() < 0.7:
        match = rng.choice(found)
        return data[: match.start()] + b'charset="' + charset + b'"' + data[match.end() :]
    if rng.random() < 0.5:
        return _set_field(data, "Content-Type", b'text/plain; charset="' + charset + b'"', rng)
    at = rng.randint(len(data) // 2, len(data))  # in the body, most likely
    return (
        data[:at]
        + rng.choice((b"\xe9\xe8", b"\xff\xfe", b"\x1b$B%F%9%H\x1b(B", b"\xc3\x28", b"+AGEAYgBj-"))
        + data[at:]
    )


def transfer_encoding_lie(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    encoding = rng.choice(TRANSFER_ENCODINGS).encode()
    found = list(_CTE.finditer(data))
    if found and rng.random() < 0.7:
        match = rng.choice(found)
        return data[: match.start()] + b"Content-Transfer-Encoding: " + encoding + data[match.end() :]
    return _set_field(data, "Content-Transfer-Encoding", encoding, rng)


def replace_body(rng: random.Random, data: bytes, pool: Pool) -> bytes:
    """Another seed's body, or lines a reply parser must read: answers, commands, quotes, sign-offs."""
    fields, _ = split(data)
    crlf = newline(data)
    lines = [rng.choice(REPLY_LINES) for _ in range(rng.randint(1, 30))]
    body = crlf.join(line.encode("utf-8") for line in lines)
    return join(fields, crlf + body + crlf)


# Lines of the replies the program reads: survey answers, check-ins, reported calls, commands,
# letter requests, and what surrounds them (greetings, quotes, quote headers, signatures).
REPLY_LINES = (
    "1. 4", "2. yes", "3. More evening events", "4. video call", "1) strongly agree", "Q2: no", "Question 3 - n/a",
    "1 - agree", "2 = Oui!", "#4 phone", "5/5", "4 out of 5", "3.5", "7", "1.", "", "yes please", "nope",
    "We had a phone call yesterday.", "Video call on 12 May, 45 minutes", "Met for coffee last Tuesday",
    "phone 2027-05-19 30 min", "call on 31/02", "Talked on the phone 3 days ago for 1h", "phoned 12.05.",
    "pause p1", "resume p2", "end p3 moved away", "nudge p1", "status p2", "help", "pasue p1",
    "pair ana@example.org eve@example.com start 2027-05-20", "approve letter 1", "decline letter 2 too early",
    "approve letter 999999999", "please pause p1.", "- status p3", "Letter please", "I'd like my letter of recognition",
    "Not well, please call me", "no need to contact me", "very well", "Rating: 2", "Hi all,", "Thanks!", "Best, Ann",
    "-- ", "Sent from my iPhone", "> 1. The program was useful to me.", "> quoted text", ">> deeper",
    "On Tue, 11 May 2027 at 09:00, Test mentoring round <mentoring@example.org> wrote:",
    "-----Original Message-----", "From: Test mentoring round <mentoring@example.org>", "Sent: Tuesday",
    "Le mar. 11 mai 2027 à 09:00, Test a écrit :", "\u202eright to left\u202c", "\u05e9\u05dc\u05d5\u05dd",
    "\u65e5\u672c\u8a9e\u306e\u8fd4\u4fe1", "\x00", "\t\t", " " * 500, "x" * 5000, "=" * 80,
)  # fmt: skip


# Name -> (weight, mutation). Slow ones (huge inputs) weigh less so that throughput stays high;
# they still come up thousands of times in a long run.
MUTATIONS: dict[str, tuple[float, Mutation]] = {
    "flip_bits": (1.0, flip_bits),
    "insert_bytes": (1.0, insert_bytes),
    "delete_bytes": (1.0, delete_bytes),
    "repeat_bytes": (0.3, repeat_bytes),
    "truncate": (0.7, truncate),
    "line_endings": (0.5, line_endings),
    "splice": (0.7, splice),
    "duplicate_header": (0.7, duplicate_header),
    "drop_header": (0.5, drop_header),
    "huge_header": (0.3, huge_header),
    "many_recipients": (0.01, many_recipients),
    "header_name_non_ascii": (0.7, header_name_non_ascii),
    "header_name_control": (0.7, header_name_control),
    "encoded_word_junk": (0.5, encoded_word_junk),
    "address_junk": (0.7, address_junk),
    "date_junk": (0.3, date_junk),
    "readdress": (1.5, readdress),
    "empty_boundary": (0.7, empty_boundary),
    "boundary_tricks": (0.7, boundary_tricks),
    "nested_multipart": (0.4, nested_multipart),
    "charset_lie": (0.7, charset_lie),
    "transfer_encoding_lie": (0.5, transfer_encoding_lie),
    "replace_body": (0.7, replace_body),
}
_NAMES = tuple(MUTATIONS)
_WEIGHTS = tuple(weight for weight, _ in MUTATIONS.values())


def mutate(rng: random.Random, data: bytes, pool: Pool) -> tuple[bytes, str]:
    """One to four mutations in a row; returns the bytes and the names ("readdress+empty_boundary")."""
    names = rng.choices(_NAMES, _WEIGHTS, k=rng.choice((1, 1, 1, 1, 2, 2, 2, 3, 3, 4)))
    for name in names:
        data = MUTATIONS[name][1](rng, data, pool)[:MAX_INPUT]
    return data, "+".join(names)
