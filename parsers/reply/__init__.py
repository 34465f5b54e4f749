"""Reading a reply: the new text a person wrote, without what they quoted.

- `body_text(raw)`: the message's text. The text/plain part, else the text/html part turned into
  text (line structure kept; a blockquote comes out quoted with "> "). Any charset; a broken or
  unknown one falls back (UTF-8, then Windows-1252) instead of raising. Attachments are ignored.
- `strip_quotes(text)`: only the new text. The quoted original goes, with its "On ... wrote:"
  header (in every language mail-parser-reply knows, and the few more `quote_headers` adds),
  Outlook's "-----Original Message-----" and "From: ... Sent: ..." blocks, the signature ("-- "
  block, sign-offs such as "Best regards,") and mobile footers ("Sent from my iPhone", "Von
  meinem iPhone gesendet", "Get Outlook for Android").
- `interleaved(text)`: the reply as (quoted block or None, new text) pairs, in order, so that a
  caller can match answers typed under each quoted question of a survey.
- `new_text(raw)`: `body_text` then `strip_quotes`, as a `Reply`.

The language knowledge (quote headers, sign-offs, disclaimers) is mail-parser-reply's: its
regular expressions find the candidates (`library`), and this package adds what it misses (the
`_EXTRA_*` patterns) and the decisions it does not make: text typed *under* a quote is kept (an
inline answer), a header at the very top is not a cut, a word sign-off only counts as one when
the line is short.

Pure: no I/O, no clock. Nothing here raises on any input, and the work is bounded: the text is
clipped (`MAX_TEXT` characters, `MAX_LINES` lines), and the library's regular expressions only
ever see lines clipped to `_PROBE_LINE` characters with runs of blank lines and spaces squeezed
(some of its patterns are quadratic on long runs of newlines or very long lines).

The modules, in the order a reply is read:

- `body`: MIME to text (`body_text`, `decode_bytes`, `unflow`; raw bounds `MAX_RAW`, `MAX_BOUNDARIES`).
- `html_text`: an HTML body as text (`html_to_text`, `MAX_HTML`).
- `library`: mail-parser-reply's patterns, and the probe: the lines as those patterns are shown them.
- `quote_headers`: where a quoted original starts ("On ... wrote:", "From: ... Sent: ...", rules).
- `signatures`: where a signature, a sign-off, a mobile footer or a legal disclaimer starts.
- `quotes`: the reply cut into new text and quotes (`interleaved`, `strip_quotes`; `MAX_TEXT`, `MAX_LINES`).

`new_text` is here: it is where the two halves, the body and the quotes, meet.
"""

from __future__ import annotations

from dataclasses import dataclass

from .body import MAX_BOUNDARIES, MAX_RAW, body_text, decode_bytes, unflow
from .html_text import MAX_HTML, html_to_text
from .quotes import MAX_LINES, MAX_TEXT, interleaved, strip_quotes


@dataclass(frozen=True)
class Reply:
    """What a person wrote in a reply, and nothing they quoted."""

    text: str


def new_text(raw: bytes) -> Reply:
    """What the person wrote in this message: `strip_quotes(body_text(raw))`."""
    return Reply(text=strip_quotes(body_text(raw)))


__all__ = [
    "MAX_BOUNDARIES",
    "MAX_HTML",
    "MAX_LINES",
    "MAX_RAW",
    "MAX_TEXT",
    "Reply",
    "body_text",
    "decode_bytes",
    "html_to_text",
    "interleaved",
    "new_text",
    "strip_quotes",
    "unflow",
]
