"""Addresses: reading address headers (From, To, Cc, ...) and normalising what they name.

`normalise` and `without_subaddress` are the program's idea of an address (every caller compares
addresses in this form); the rest reads the address lists of a header block for `parse_headers`
(parsers/headers.py), in bounded work: the plain forms by regular expressions that give exactly
what `email.utils.getaddresses` gives for them, anything else by getaddresses itself within a
budget of characters per message, and From-like headers up to their first usable address. The
bounds and the measurements behind them are in the docstring of parsers/headers.py.

Pure: strings in, strings out. No clock, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from email.header import decode_header, make_header
from email.utils import getaddresses
from itertools import islice

# The bounds of parsers/headers.py's docstring that concern addresses.
_MAX_SLOW_ADDRESS_CHARS = 16 * 1024
_MAX_DECODED_CHARS = 2048
_MAX_SENDER_ELEMENTS = 1000


def normalise(address: str) -> str | None:
    """`Name <Local@Example.ORG>` -> `local@example.org`; None when it is not an address.

    The first address of `address` counts, as with `email.utils.parseaddr`. Local parts are
    compared case-insensitively: that is what every mailbox provider our participants use does,
    and it is what people expect when they type an address.
    """
    _, addr = next(_address_pairs([address], _Budget(), reparse=False), ("", ""))
    return _normal_addr_spec(addr)


def _normal_addr_spec(addr: str) -> str | None:
    addr = addr.strip().strip("<>").strip()
    local, _, domain = addr.partition("@")
    if not local or not domain or "@" in domain or " " in addr or "." not in domain:
        return None
    return f"{local.lower()}@{domain.lower().rstrip('.')}"


def without_subaddress(address: str) -> str:
    """`program+tag@x` -> `program@x`."""
    local, _, domain = address.partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


# The plain forms of one address-list element, read as email._parseaddr (behind getaddresses)
# reads them, so that a long list of them costs a regular expression, not the pure-Python parser.
# Characters of an atom (dots allowed, as in its phrases and dot-atoms), less the control
# characters and the backslash that the fast path leaves to getaddresses; non-ASCII is an atom
# character to both. Possessive quantifiers: no backtracking, so hostile input stays linear.
_ATOM = r'[^\x00-\x20()<>@,:;"\[\]\\\x7f]++'
_QUOTED = r'"[^"\\\r]*+"'  # a quoted string without escapes (getquote ends one at " or CR)
_FWS = r"[ \t\r\n]*+"
_COMMENT = r"\([^()\\\r]*+\)"  # a comment without nested comments or escapes (getcomment ends one at CR)
_BLANKS = rf"(?:[ \t\r\n]++|{_COMMENT})*+"


def _element(group: str) -> str:
    """The pattern of one plain element; `group` opens its four groups ("(" or "(?:")."""
    return (
        rf"{_FWS}(?:"
        # a@b.example, or a@b.example (Name): getdomain skips blanks (not line ends) before a
        # comment and keeps it as the display name
        rf"{group}{_ATOM}@{_ATOM})(?:[ \t]*+{group}{_COMMENT}))?"
        # Name <a@b.example>, "Last, First" <a@b.example>, <a@b.example>: getrouteaddr skips
        # blanks (not line ends) before the >
        rf"|{group}(?:(?:{_ATOM}|{_QUOTED}){_FWS})*+)<{_FWS}{group}{_ATOM}@{_ATOM})[ \t]*+>"
        rf"){_FWS}(?:,|\Z)"
        # Empty elements, which getaddresses gives as ("", "") each (here one for a run of them):
        # it skips blanks and comments up to the comma and after it, then one more comma. Where
        # a comment it would skip is one that _COMMENT does not match, getaddresses reads on from
        # the element's start.
        rf"|(?:{_BLANKS},{_BLANKS}(?:,|(?!\()))++|{_BLANKS}\Z"
    )


# Groups: (bare address, its comment, phrase, <address>); all "" for an empty element. The run
# has no groups: Python 3.11's re fails on groups inside a possessive repeat.
_PLAIN_ELEMENT = re.compile(_element("("))
_PLAIN_RUN = re.compile(rf"(?:{_element('(?:')})*+")
_PHRASE_WORD = re.compile(rf'"([^"\\\r]*)"|({_ATOM})')
# What reaches from an element's start to its end without any construct getaddresses reads across
# a comma: plain characters, and closed quoted strings, comments and <addresses> without escapes,
# groups (:) or domain literals ([). A comma after it is the element's end for getaddresses too.
_FLAT_ELEMENT = re.compile(r'(?:[^",(<\[:\\]++|"[^"\\\r]*+"|\([^()\\\r]*+\)|<[^<>,"()\[\]:\\]*+>)*+')
_BLANK_ELEMENT = re.compile(_BLANKS)


class _Budget:
    """What getaddresses may still read of one message's address headers, in characters."""

    def __init__(self) -> None:
        self.left = _MAX_SLOW_ADDRESS_CHARS


def _address_pairs(
    values: Iterable[str], budget: _Budget, *, names: bool = True, reparse: bool = True
) -> Iterator[tuple[str, str]]:
    """(display name, address) of each element of each value, as `getaddresses([value])` gives
    them, lazily; what getaddresses itself reads is taken from `budget`, and once that is spent
    nothing more is read. With `names` false, plain elements' display names are left empty.

    With `reparse`, each address is as parseaddr reads it once more, as mentormail has always
    read the addresses of address lists: from odd input (an unclosed quote, `"Ana <a@b.example>`)
    getaddresses gives text that holds an address of its own. A plain address reads as itself."""
    for text in values:
        pos, end = 0, len(text)
        while pos < end:
            # A run of plain elements is found by one match and split by finditer: the same
            # elements one match at a time would give, with less of the interpreter's work.
            run_end = _PLAIN_RUN.match(text, pos).end()
            if run_end > pos:
                for element in _PLAIN_ELEMENT.finditer(text, pos, run_end):
                    bare, comment, phrase, angle = element.groups("")
                    if bare:
                        yield comment[1:-1] if names else "", bare
                    elif angle:
                        yield (_phrase(phrase) if names else ""), angle
                    else:
                        yield "", ""  # an empty element, which getaddresses gives as ("", "")
                pos = run_end
                continue
            stop = _FLAT_ELEMENT.match(text, pos).end()  # matches, if only the empty string
            # An element with no address ends at its comma only as getaddresses reads a whole
            # empty element (above), so from an empty one it reads the rest.
            if stop < end and text[stop] == "," and not _BLANK_ELEMENT.fullmatch(text, pos, stop):
                segment, pos = text[pos:stop], stop + 1
            else:  # getaddresses may read across a comma from here on: it reads the rest
                segment, pos = text[pos:], end
            pairs = _stdlib_pairs(segment[: max(budget.left, 0)])
            if reparse:
                pairs = [(name, _reparsed(addr)) for name, addr in pairs]
            budget.left -= len(segment)
            if budget.left < 0:
                yield from pairs[:-1]  # the last was cut through
                return
            yield from pairs


def _phrase(text: str) -> str:
    """A display name as getaddresses joins it: its words and quoted strings, space separated."""
    return " ".join(quoted or atom for quoted, atom in _PHRASE_WORD.findall(text))


def _reparsed(addr: str) -> str:
    pairs = _stdlib_pairs(addr)
    return pairs[0][1] if pairs else ""


def _stdlib_pairs(text: str) -> list[tuple[str, str]]:
    try:
        return getaddresses([text])
    except Exception:  # noqa: BLE001 - it recurses on nested comments and groups (RecursionError): no address
        return []


def _addresses(values: list[str], budget: _Budget) -> tuple[str, ...]:
    """The normalised addresses of an address header (all its copies), each once, in order."""
    found: dict[str, None] = {}
    spellings: set[str] = set()  # most repeats are written alike: normalise each spelling once
    for _, addr in _address_pairs([", ".join(values)], budget, names=False):
        if addr not in spellings:
            spellings.add(addr)
            normal = _normal_addr_spec(addr)
            if normal:
                found[normal] = None
    return tuple(found)


def _first_address(values: list[str], budget: _Budget) -> tuple[str, str | None]:
    """(display name, address) of the first usable address.

    With no usable address the first display name is still returned: bounces from some MTAs
    carry `From: MAILER-DAEMON <>` (DragonFly Mail Agent), and the name is the only evidence.
    """
    first_name = ""
    for name, addr in islice(_address_pairs(values, budget), _MAX_SENDER_ELEMENTS):
        normal = _normal_addr_spec(addr)
        if normal:
            return _decoded(name).strip(), normal
        if name and not first_name:
            first_name = _decoded(name).strip()
    return first_name, None


def _return_path(value: str | None, budget: _Budget) -> str | None:
    if value is None:
        return None
    text = value.strip()  # the topmost: the last delivery agent wrote it
    if text in ("<>", "", "<<>>"):
        return ""
    _, addr = next(_address_pairs([text], budget, reparse=False), ("", ""))
    return _normal_addr_spec(addr) or text.strip("<>").lower()


# Display names are decoded here; parse_headers decodes the Subject with the same function.
def _decoded(value: str | None) -> str:
    """Decode RFC 2047 encoded words in the first _MAX_DECODED_CHARS characters; never raises."""
    if value is None:
        return ""
    text = value[:_MAX_DECODED_CHARS]
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # an unknown charset or a broken encoded word: the raw text will do
        return text


__all__ = ["normalise", "without_subaddress"]
