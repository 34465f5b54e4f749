"""mail-parser-reply's patterns (quote headers, signatures, disclaimers in its languages), and
the probe: the reply's lines as those patterns are shown them.

Some of the library's patterns are quadratic on long runs of newlines or very long lines, so
they only ever see the probe: lines stripped, clipped to `_PROBE_LINE` characters, runs of
spaces squeezed; `_line_of` maps a match in the probe back to its line.
"""

from __future__ import annotations

import bisect
import re

from mailparser_reply import EmailMessage, EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES

# The longest line the quote-header and signature patterns are shown. A quote header is far
# shorter; content lines longer than this still reach the result in full.
_PROBE_LINE = 400

# Every language mail-parser-reply has ("david" is a mail client's header, not a language).
_LANGUAGES = list(MAIL_LANGUAGES)
_LIBRARY = EmailReplyParser(languages=_LANGUAGES)
_PATTERNS = EmailMessage(text="", languages=list(_LIBRARY.languages), keep_hyphen_lists=True)
_LIB_HEADER = _PATTERNS.HEADER_REGEX
_LIB_SIGNATURE = _PATTERNS.SIGNATURE_REGEX
_LIB_DISCLAIMER = _PATTERNS.DISCLAIMERS_REGEX

_SQUEEZE = re.compile(r"[ \t]{4,}")


def _probe_line(line: str) -> str:
    return _SQUEEZE.sub("   ", line.strip()[:_PROBE_LINE])


def _probe(lines: list[str]) -> tuple[str, list[int]]:
    """What the library's patterns see: stripped lines, clipped, spaces squeezed; with each line's
    offset so that a match maps back to a line number."""
    offsets: list[int] = []
    out: list[str] = []
    position = 0
    for line in lines:
        short = _probe_line(line)
        offsets.append(position)
        out.append(short)
        position += len(short) + 1
    return "\n".join(out), offsets


def _line_of(offsets: list[int], position: int) -> int:
    return max(0, bisect.bisect_right(offsets, position) - 1)
