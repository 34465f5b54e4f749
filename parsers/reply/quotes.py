"""The reply cut into what the person wrote and what they quoted: `interleaved` (each quoted
block with the new text typed under it, as a survey answered inline needs) and `strip_quotes`
(the new text only).

The text is cut where the quoted original starts (`quote_headers`), unless a quote is answered
inline below it; the signature goes from the last run of new text (`signatures`). The text is
clipped first (`MAX_TEXT` characters, `MAX_LINES` lines).
"""

from __future__ import annotations

import quopri
import re

from .quote_headers import _FORWARD_MARK, _SEPARATOR, _TITLED_RULE, _header_spans
from .signatures import _drop_disclaimers, _signature_start

# Nobody answers a survey with more than this; what lies beyond is a quoted thread or an attack.
MAX_TEXT = 200_000
# Nor with more lines than this (non-blank, or one blank between): MAX_TEXT's worth of lines of
# ordinary length. The work is per line, and 200,000 characters of short lines took seconds (a
# fuzz finding).
MAX_LINES = 5_000

_QUOTED = re.compile(r"^\s*>")
_QUOTE_MARKS = re.compile(r"^(?:\s*>)+ ?")
# Quoted-printable left undecoded in a body: soft line breaks or UTF-8 escapes.
_QP_SOFT_BREAK = re.compile(r"=\r?\n")
_QP_ESCAPE = re.compile(r"=[0-9A-F]{2}")
_QP_UTF8 = re.compile(r"=(?:C[2-9A-F]|D[0-9A-F]|E[0-9A-F]|F[0-4])=[89AB][0-9A-F]")


def _undo_quoted_printable(text: str) -> str:
    """A body handed over still quoted-printable encoded ("a =C3=A9crit", "w=\nrote:"): decode it."""
    utf8 = len(_QP_UTF8.findall(text[:20_000]))
    soft = len(_QP_SOFT_BREAK.findall(text[:20_000]))
    if utf8 < 2 and not (soft >= 1 and len(_QP_ESCAPE.findall(text[:20_000])) >= 2):
        return text
    try:
        return quopri.decodestring(text.encode("utf-8", "surrogatepass")).decode("utf-8", "replace")
    except Exception:
        return text


def _prepare(text: str) -> list[str]:
    """The text as lines: clipped, line endings normalised, trailing blanks gone, blank runs squeezed."""
    text = text[:MAX_TEXT].replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = _undo_quoted_printable(text)
    text = text.replace("\u200b", "").replace("\ufeff", "").replace("\u00a0", " ")
    lines: list[str] = []
    blank = 0
    for line in text.split("\n"):
        line = line.rstrip()
        if line.strip() in (">:", ">):") and lines and "<" in lines[-1] and not lines[-1].rstrip().endswith(">"):
            lines[-1] += line.strip()  # Gmail wrapped "<address\n>:" of a quote header
            continue
        if not line.strip():
            blank += 1
            if blank > 1:
                continue
            line = ""
        else:
            blank = 0
        lines.append(line)
        if len(lines) == MAX_LINES:
            break
    return lines


def _is_quoted(line: str) -> bool:
    return bool(_QUOTED.match(line))


def _unquote(line: str) -> str:
    return _QUOTE_MARKS.sub("", line, count=1)


def _trim_tail(lines: list[str]) -> list[str]:
    """Drop trailing blank and separator lines."""
    while lines and (not lines[-1].strip() or _SEPARATOR.match(lines[-1]) or _TITLED_RULE.match(lines[-1])):
        lines.pop()
    return lines


def _has_content(lines: list[str], text_start: bool) -> bool:
    """Whether lines hold text a person wrote (not only blanks, quotes, a signature or a footer)."""
    unquoted = [line for line in lines if not _is_quoted(line)]
    if not any(line.strip() for line in unquoted):
        return False
    start = _signature_start(unquoted, text_start)
    kept = unquoted[: start if start is not None else None]
    return any(line.strip() and not _SEPARATOR.match(line) for line in kept)


def _rejoin_wrapped_quotes(lines: list[str]) -> list[str]:
    """A quoted line the client wrapped a second time leaves its tail unquoted ("> ... Nullam
    pharetra d" / "ignissim odio?"): mark such a tail quoted, so it is not taken for an answer."""
    out = list(lines)
    for i in range(1, len(out)):
        line, above = out[i], out[i - 1]
        if not line.strip() or _is_quoted(line) or not _is_quoted(above):
            continue
        above_text = _unquote(above).rstrip()
        words = line.split()
        wrapped = len(above_text) >= 50 and (above_text[-1:].isalnum() or above_text.endswith(","))
        if wrapped and line.lstrip()[:1].islower() and len(words) >= 2:
            following = out[i + 1] if i + 1 < len(out) else ""
            if not following.strip() or _is_quoted(following):
                depth = len(above) - len(above.lstrip(" >"))
                out[i] = above[:depth].rstrip() + " " + line.strip()
    return out


def _segments(text: str) -> list[tuple[str, list[str]]]:
    """The reply cut where the quoted original starts, as (kind, lines) with kind "new" or
    "quote", attribution lines ("On ... wrote:" above a quote that is answered inline) dropped."""
    lines = _rejoin_wrapped_quotes(_prepare(text))
    spans = _header_spans(lines)
    keep = [True] * len(lines)
    cut = len(lines)
    content_above = False  # once the person has written something, it stays written
    checked = 0  # lines above this one have been looked at for content
    i = 0
    while i < len(lines):
        if i in spans and not _is_quoted(lines[i]):
            last = spans[i]
            if not content_above:
                content_above = _has_content(
                    [x for x, k in zip(lines[checked:i], keep[checked:i]) if k], text_start=checked == 0
                )
                checked = i
            if not content_above and _FORWARD_MARK.match(lines[i]):
                # A forward with nothing written above it: all below is someone else's text.
                cut = i
                break
            if not content_above:
                # Nothing new above it: a message's own header block pasted at the top, or the
                # attribution above a bottom-posted or inline reply. Drop it and read on.
                for j in range(i, last + 1):
                    keep[j] = False
                i = last + 1
                continue
            # Text above: the original starts here unless it is a quote answered inline.
            j = last + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and _is_quoted(lines[j]):
                k = j
                while k < len(lines) and (_is_quoted(lines[k]) or not lines[k].strip()):
                    k += 1
                rest_end = k
                while rest_end < len(lines) and rest_end not in spans:
                    rest_end += 1
                if k < len(lines) and k not in spans and _has_content(lines[k:rest_end], text_start=False):
                    for m in range(i, last + 1):
                        keep[m] = False
                    i = k
                    continue
            cut = i
            break
        i += 1
    kept = [line for line, k in zip(lines[:cut], keep[:cut]) if k]
    segments: list[tuple[str, list[str]]] = []
    for line in kept:
        kind = "quote" if _is_quoted(line) else "new"
        if not line.strip() and segments:
            segments[-1][1].append(line)  # a blank line belongs to the run it is in
            continue
        if segments and segments[-1][0] == kind:
            segments[-1][1].append(line)
        else:
            segments.append((kind, [line]))
    # Blank lines that ended a quote run belong to neither; tidy every run.
    return [(kind, _trim_tail(list(run))) for kind, run in segments if any(x.strip() for x in run)]


def _finish(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in _trim_tail(lines))
    text = _drop_disclaimers(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def interleaved(text: str) -> list[tuple[str | None, str]]:
    """The reply as (quoted block, new text typed under it) pairs, in order.

    The first pair's quote is None when the person wrote above any quote (a top-posted reply:
    then it is usually the only pair). Quote markers ("> ") are removed from the quoted block.
    The quoted original below the reply (after "On ... wrote:" or an Outlook header) is not
    included; the signature is removed from the last new text. Never raises.
    """
    try:
        return _interleaved(text)
    except Exception:  # bounded, pure code; this only guards against the unforeseen
        return []


def _interleaved(text: str) -> list[tuple[str | None, str]]:
    segments = _segments(text)
    # The signature goes from the last run of new text.
    last_new = max((n for n, (kind, _) in enumerate(segments) if kind == "new"), default=None)
    if last_new is not None:
        run = segments[last_new][1]
        start = _signature_start(run, text_start=last_new == 0)
        if start is not None:
            segments[last_new] = ("new", run[:start])
    pairs: list[tuple[str | None, str]] = []
    quote: str | None = None
    for kind, run in segments:
        if kind == "quote":
            if quote is not None:
                pairs.append((quote, ""))
            quote = "\n".join(_unquote(line) if line.strip() else "" for line in run).strip()
        else:
            new = _finish(run)
            if new or quote is not None:
                pairs.append((quote, new))
            quote = None
    if quote is not None:
        pairs.append((quote, ""))
    return pairs


def strip_quotes(text: str) -> str:
    """The new text of a reply body: no quoted original, quote header, signature or footer."""
    try:
        pairs = interleaved(text)
        return "\n\n".join(new for _, new in pairs if new).strip()
    except Exception:
        return ""
