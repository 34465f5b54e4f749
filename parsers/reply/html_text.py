"""An HTML mail body as text: line structure kept, a blockquote quoted with "> "; never raises."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# HTML is markup-heavy: this much of it is read (a megabyte of markup is far more than a reply).
MAX_HTML = 1_000_000

_BLOCK = frozenset(
    "address article aside center dd details dialog dir div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header legend main menu nav ol section summary table tbody thead tfoot "
    "tr ul caption".split()
)
_PARAGRAPH = frozenset({"p", "pre"})
_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "object", "svg", "xml"})
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_SPACES = re.compile(r"[ \t\n\r\f\v\u00a0\u200b\u2028\u2029]+")


class _TextMaker(HTMLParser):
    """HTML to lines of text. Block elements break lines, <p> separates paragraphs, <br> breaks,
    <li> gets "- " (or "N. " in an <ol>), <hr> becomes a separator line, blockquote lines get "> "."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []  # (quote depth, text)
        self.current: list[str] = []
        self.current_depth = 0
        self.depth = 0
        self.skip = 0
        self.pre = 0
        self.lists: list[list[int]] = []  # per open list: [is_ordered, counter]
        self.has_text = False  # whether the current line has more than whitespace

    def newline(self, force: bool = False) -> None:
        if self.has_text or force:
            self.lines.append((self.current_depth, "".join(self.current)))
        self.current = []
        self.has_text = False
        self.current_depth = self.depth

    def blank(self) -> None:
        self.newline()
        # A blank line between paragraphs, and after a quote; none where a quote begins.
        if self.lines and self.lines[-1][1].strip() and self.lines[-1][0] >= self.depth:
            self.lines.append((self.depth, ""))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        if tag == "br":
            self.newline(force=True)
        elif tag == "hr":
            self.newline()
            self.lines.append((self.depth, "_" * 32))
        elif tag == "blockquote":
            self.newline()
            self.depth += 1
            self.current_depth = self.depth
        elif tag in _PARAGRAPH:
            self.blank()
            if tag == "pre":
                self.pre += 1
        elif tag == "li":
            self.newline()
            if self.lists and self.lists[-1][0]:
                self.lists[-1][1] += 1
                self.current.append(f"{self.lists[-1][1]}. ")
            else:
                self.current.append("- ")
            self.has_text = True
        elif tag in ("ul", "ol", "menu", "dir"):
            self.newline()
            self.lists.append([1 if tag == "ol" else 0, 0])
        elif tag in ("td", "th"):
            if self.has_text:
                self.current.append(" ")
        elif tag in _BLOCK:
            self.newline()
        if not self.current:
            self.current_depth = self.depth

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "blockquote":
            self.newline()
            self.depth = max(0, self.depth - 1)
            self.current_depth = self.depth
        elif tag in _PARAGRAPH:
            self.blank()
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
        elif tag in ("ul", "ol", "menu", "dir"):
            self.newline()
            if self.lists:
                self.lists.pop()
        elif tag in _BLOCK or tag == "li":
            self.newline()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.current:
            self.current_depth = self.depth
        if self.pre:
            parts = data.replace("\r\n", "\n").split("\n")
            for i, part in enumerate(parts):
                if i:
                    self.newline(force=True)
                self.current.append(part.replace("\u00a0", " "))
                self.has_text = self.has_text or bool(part.strip())
            return
        text = _SPACES.sub(" ", data)
        if not self.has_text:
            text = text.lstrip(" ")
        if text:
            self.current.append(text)
            self.has_text = self.has_text or bool(text.strip())

    def result(self) -> str:
        self.newline()
        out: list[str] = []
        lines = self.lines
        for n, (depth, text) in enumerate(lines):
            text = text.strip()
            if not text and depth:
                # A blank line inside a quote stays quoted; at a quote's edge it is just blank.
                above = lines[n - 1][0] if n else 0
                below = lines[n + 1][0] if n + 1 < len(lines) else 0
                depth = depth if above == depth == below else 0
            out.append(("> " * min(depth, 20) + text).rstrip() if depth else text)
        joined = "\n".join(out)
        return re.sub(r"\n{3,}", "\n\n", joined).strip("\n")


def html_to_text(html: str) -> str:
    """Readable text from an HTML mail body; never raises."""
    maker = _TextMaker()
    try:
        maker.feed(html[:MAX_HTML])
        maker.close()
    except Exception:  # html.parser is lenient; keep what was read
        pass
    try:
        return maker.result()
    except Exception:
        return ""
