"""Signed reply addresses: `program+TOKEN@domain`, where TOKEN carries who and what a mail was for.

A token is an HMAC-signed record of a purpose, a person, a reference and an expiry day. The
program puts one in the Reply-To (purpose `reply`) and in the envelope sender (purpose `bounce`,
VERP) of every mail it sends, so that a reply or a bounce names the person and the mail it
answers without any lookup, and a forged or altered one is recognised as such.

Format. Mail servers may lower-case local parts, so a token uses only lower-case base32 letters
and digits (RFC 4648's alphabet, no padding) and is read case-insensitively. It is two parts:

    PAYLOAD (1 to 31 characters) + TAG (16 characters)

PAYLOAD is one number written in base 32 (most significant digit first, no leading zero digits):

    ((reference * 2**30 + person) * 65536 + expiry) * 4 + purpose

where `reference` numbers the strings over [a-z0-9._:-] (bijective base 40: the shorter the
string, the smaller the number), `expiry` is days since 2020-01-01 and `purpose` a fixed code.
The reference is the most significant part, so a short one makes a short token ("pair-17" with
person 17: 33 characters). TAG is HMAC-SHA256, keyed with the program secret, over the PAYLOAD
text, truncated to 80 bits (RFC 2104's lower bound for a truncated MAC).

Packing the fields into one number instead of whole bytes is what keeps the longest token at
47 characters, so that with a program local part of up to 16 characters `program+TOKEN` fits
the 64-character limit on local parts (RFC 5321 section 4.5.3.1.1). The same budget is why a
reference is at most 20 characters and a person id below 2**30: 80 + 106.5 + 30 + 16 + 2 bits
is just under the 235 bits of 47 base32 characters.

Pure: no clock (today is a parameter), no I/O.
"""

from __future__ import annotations

import hmac
import re
from base64 import b32encode
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from hashlib import sha256

from .addresses import normalise

MAX_TOKEN_LENGTH = 47  # 64 - len("+") - 16, the longest program local part we allow
MAX_REFERENCE_LENGTH = 20
MAX_PERSON = 2**30 - 1
_PERSON_RADIX = MAX_PERSON + 1

_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_DIGITS = {char: value for value, char in enumerate(_ALPHABET)}
_TAG_LENGTH = 16  # 80 bits in base32
# Separates these MACs from the other use of the same key (keyed Message-ID hashes), so that a
# value computed for one can never be presented as the other.
_TAG_CONTEXT = b"mentormail reply token\x00"

_REFERENCE_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789._:-"
_REFERENCE = re.compile(rf"[{re.escape(_REFERENCE_ALPHABET)}]{{1,{MAX_REFERENCE_LENGTH}}}")
_BASE = len(_REFERENCE_ALPHABET)
_REFERENCE_LIMIT = sum(_BASE**length for length in range(MAX_REFERENCE_LENGTH + 1))  # strings this short

_EPOCH = date(2020, 1, 1)
_EXPIRY_RADIX = 2**16  # days
_LAST_EXPIRY = _EPOCH + timedelta(days=_EXPIRY_RADIX - 1)  # 2199-06-06
# Room for two more purposes without changing the format of existing tokens.
_PURPOSE_RADIX = 4


class Purpose(StrEnum):
    REPLY = "reply"  # the Reply-To of the program's mail
    BOUNCE = "bounce"  # the envelope sender (VERP) of the program's mail


# Fixed codes, never reordered: a token signed today must decode the same way next year.
_PURPOSE_CODES = {Purpose.REPLY: 0, Purpose.BOUNCE: 1}
_PURPOSES = {code: purpose for purpose, code in _PURPOSE_CODES.items()}


@dataclass(frozen=True)
class Claims:
    """What a token says; invalid values raise ValueError, so a Claims always fits in a token."""

    purpose: Purpose
    person: int  # a person's id; 0 when the mail is not for one person (e.g. to both of a pair)
    reference: str  # what the mail was about: "pair-17", "topic-3", "digest"
    expires_on: date

    def __post_init__(self) -> None:
        if not isinstance(self.purpose, Purpose):
            raise ValueError(f"purpose must be a Purpose (got {self.purpose!r})")
        if isinstance(self.person, bool) or not isinstance(self.person, int) or not 0 <= self.person <= MAX_PERSON:
            raise ValueError(f"person must be an integer from 0 to {MAX_PERSON} (got {self.person!r})")
        if not isinstance(self.reference, str) or not _REFERENCE.fullmatch(self.reference):
            raise ValueError(
                f"reference must be 1 to {MAX_REFERENCE_LENGTH} of a-z 0-9 . _ : - (got {self.reference!r})"
            )
        if isinstance(self.expires_on, datetime) or not isinstance(self.expires_on, date):
            raise ValueError(f"expires_on must be a date (got {self.expires_on!r})")
        if not _EPOCH <= self.expires_on <= _LAST_EXPIRY:
            raise ValueError(f"expires_on must be from {_EPOCH} to {_LAST_EXPIRY} (got {self.expires_on})")


@dataclass(frozen=True)
class Rejected:
    """Why a token was not accepted: "not a token", "malformed", "bad signature", "expired on DAY"."""

    reason: str


def make_token(secret: bytes, claims: Claims) -> str:
    """The token for `claims`: lower-case, at most MAX_TOKEN_LENGTH characters."""
    payload = _to_base32(_pack(claims))
    return payload + _tag(secret, payload)


def verify(secret: bytes, token: str, today: date) -> Claims | Rejected:
    """The claims of a genuine token that has not expired (it is valid through `expires_on`).

    Never raises: the token comes from whoever sent the mail.
    """
    problem = _problem(token)
    if problem is not None:
        return Rejected(problem)
    text = token.lower()
    payload, tag = text[:-_TAG_LENGTH], text[-_TAG_LENGTH:]
    claims = _unpack(_from_base32(payload))
    if claims is None:
        return Rejected("malformed")
    if not hmac.compare_digest(tag, _tag(secret, payload)):
        return Rejected("bad signature")
    if today > claims.expires_on:
        return Rejected(f"expired on {claims.expires_on.isoformat()}")
    return claims


def reply_address(program_address: str, token: str) -> str:
    """`mentoring@example.org` and TOKEN -> `mentoring+TOKEN@example.org`."""
    local, at, domain = program_address.rpartition("@")
    if not at or not local:
        raise ValueError(f"not an address: {program_address!r}")
    return f"{local}+{token}@{domain}"


def token_in(address: str, program_address: str) -> str | None:
    """The TOKEN of `program+TOKEN@domain` (lower case); None for any other address.

    Only the form is checked here (a +tag that could be a token); `verify` says whether it is one.
    """
    found, program = normalise(address), normalise(program_address)
    if found is None or program is None:
        return None
    local, _, domain = found.rpartition("@")
    program_local, _, program_domain = program.rpartition("@")
    base, plus, tag = local.partition("+")
    if not plus or base != program_local or domain != program_domain or _problem(tag) is not None:
        return None
    return tag


def _pack(claims: Claims) -> int:
    number = _reference_number(claims.reference) * _PERSON_RADIX + claims.person
    number = number * _EXPIRY_RADIX + (claims.expires_on - _EPOCH).days
    return number * _PURPOSE_RADIX + _PURPOSE_CODES[claims.purpose]


def _unpack(number: int) -> Claims | None:
    """The claims packed in `number`; None for a number no token of ours carries."""
    number, purpose = divmod(number, _PURPOSE_RADIX)
    number, days = divmod(number, _EXPIRY_RADIX)
    reference, person = divmod(number, _PERSON_RADIX)
    if purpose not in _PURPOSES or not 0 < reference < _REFERENCE_LIMIT:
        return None
    return Claims(_PURPOSES[purpose], person, _reference_text(reference), _EPOCH + timedelta(days=days))


def _reference_number(reference: str) -> int:
    # Bijective numeration (digits 1..40): every string has exactly one number, "" is 0.
    number = 0
    for char in reference:
        number = number * _BASE + _REFERENCE_ALPHABET.index(char) + 1
    return number


def _reference_text(number: int) -> str:
    chars = []
    while number:
        number, digit = divmod(number - 1, _BASE)
        chars.append(_REFERENCE_ALPHABET[digit])
    return "".join(reversed(chars))


def _to_base32(number: int) -> str:
    digits = []
    while True:
        number, digit = divmod(number, 32)
        digits.append(_ALPHABET[digit])
        if not number:
            return "".join(reversed(digits))


def _from_base32(text: str) -> int:
    number = 0
    for char in text:
        number = number * 32 + _DIGITS[char]
    return number


def _tag(secret: bytes, payload: str) -> str:
    # Over the payload's text, not its value: "a" + payload (a leading zero digit) is then a
    # different, unsigned token rather than a second spelling of the same one.
    mac = hmac.new(secret, _TAG_CONTEXT + payload.encode("ascii"), sha256).digest()
    return b32encode(mac[:10]).decode("ascii").lower()


def _problem(token: str) -> str | None:
    """Why `token` cannot be a token by its form alone, or None."""
    # isascii() first: lower() maps some non-ASCII letters to ASCII ones (KELVIN SIGN -> "k").
    if not token or not token.isascii() or not set(token.lower()) <= _DIGITS.keys():
        return "not a token"
    if not _TAG_LENGTH < len(token) <= MAX_TOKEN_LENGTH:
        return "malformed"
    return None
