"""The letter of recognition a mentor may ask for (at the end of a round, or during it), as a one-page A4 PDF.

What the letter can say is decided by its input: `LetterFacts` holds the program's name and
address, the mentor's name, the round's dates, the date of issue and who signs it. It says what
is true on the day it is issued: service from the round's start to its end once the round has
ended, or since the start (in a round that runs until its end) while it is still going. Nothing from
the pair's mail can reach the letter, because there is no field to carry it (no subject, no
message text, no free-text note), and the mentee is not named either: the relationship is
confidential, and the letter is meant to be shown to employers.

The wording comes from the template `_letter.txt.j2`, rendered by `Renderer` (so a program's
`templates_dir` can replace it): its `Subject:` line is the letter's title, then come paragraphs
separated by blank lines, whose lines are joined and re-wrapped here. The leading `_` keeps it out
of `Renderer.kinds()`: it is not a mail. The letterhead (program name and address), the date of
issue and the signature block (signatory and program) are laid out here from the same facts.

Text is set in DejaVu Sans (Debian: fonts-dejavu-core), which has Latin with every accent, Greek,
Cyrillic, Hebrew and Arabic. A character the font does not have is an error (`LetterError`), never
a blank box in place of a mentor's name.

Right-to-left names. fpdf2 shapes and orders right-to-left text only with the optional uharfbuzz
package, which mentormail does not depend on. Without it, Arabic letters would come out unjoined
and in reverse order, so this module does the minimum itself: Arabic letters are given their
joining forms (initial, medial, final, isolated, and the lam-alef ligature) from Unicode's
presentation-form characters, and each line, after fpdf2 has broken the paragraph into lines, is
put into display order by fpdf2's own Unicode bidirectional algorithm (`fpdf.bidi`). That renders
names and short phrases correctly in Arabic, Persian and Hebrew; vowel marks are placed without
the font's fine positioning, and scripts needing complex shaping (Indic, for example) are not in
the font anyway. A letter whose text is mostly right-to-left (a program's own wording in Arabic or
Hebrew) is laid out right-aligned.

The output is deterministic: the same facts and template give the same bytes (the PDF's creation
date is the date of issue, at noon UTC).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timezone
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.bidi import BidiParagraph
from fpdf.enums import TextDirection, XPos, YPos

from .render import Renderer

TEMPLATE = "_letter"  # templates/_letter.txt.j2
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT_PACKAGE = "fonts-dejavu-core"
FAMILY = "DejaVuSans"

# A4 in millimetres, and the page's furniture.
MARGIN = 27.0
TOP = 24.0
INK = (34, 34, 34)
ACCENT = (31, 78, 95)  # the colour of the HTML mails' header band
MUTED = (102, 102, 102)
RULE = (200, 195, 185)
BODY_SIZE = 11.5
LINE_HEIGHT = 6.5  # millimetres, for BODY_SIZE
PARAGRAPH_GAP = 4.0
NO_BREAK_SPACE = "\u00a0"


class LetterError(Exception):
    """One line: what is wrong with the facts or the machine, and what to do about it."""


@dataclass(frozen=True)
class LetterFacts:
    """Everything a letter may say. Names, dates and the program's address: nothing else, by design."""

    program_name: str
    mentor_name: str
    round_starts_on: date
    round_ends_on: date
    issued_on: date
    signatory: str  # e.g. "The mentoring coordinators"
    program_address: str

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.type == "date":
                if not isinstance(value, date) or isinstance(value, datetime):
                    raise LetterError(f"{field.name}: must be a date, not {type(value).__name__}")
                continue
            if not isinstance(value, str) or not value.strip():
                raise LetterError(f"{field.name}: must be a non-empty string, not {value!r}")
            if any(unicodedata.category(char) == "Cc" for char in value):
                raise LetterError(f"{field.name}: must be one line without control characters: {value!r}")
        if self.round_ends_on <= self.round_starts_on:
            raise LetterError(
                f"round_ends_on ({self.round_ends_on}) must be after round_starts_on ({self.round_starts_on})"
            )


def letter_pdf(facts: LetterFacts, renderer: Renderer | None = None) -> bytes:
    """The letter recognising `facts.mentor_name`, as the bytes of a one-page A4 PDF.

    It can say only what `facts` holds: this function is given no mail, no mentee and no free
    text, so nothing a pair wrote to each other can appear in it. `renderer` (by default the
    built-in templates) supplies the wording from `_letter.txt.j2`; raises `TemplateError` for a
    broken template and `LetterError` for a missing font or a character the font cannot show.
    """
    renderer = renderer or Renderer()
    context: dict[str, object] = {field.name: getattr(facts, field.name) for field in fields(facts)}
    # A person's name is not broken across two lines (no-break spaces; a copied name has them too).
    context["mentor_name"] = _unbroken(facts.mentor_name)
    # What is true on the day of issue: approved in month 2, the letter says "since", not "to the
    # end of the round" (issue 10).
    context["completed"] = facts.issued_on >= facts.round_ends_on
    context["served_until"] = min(facts.issued_on, facts.round_ends_on)
    rendered = renderer.render(TEMPLATE, context)
    paragraphs = _paragraphs(rendered.text)
    if not paragraphs:
        raise LetterError(f"{TEMPLATE}.txt.j2: the letter has no text after its Subject line")
    rtl = _mostly_right_to_left(" ".join([rendered.subject, *paragraphs]))

    fonts = _fonts()
    for field in fields(facts):
        value = getattr(facts, field.name)
        if isinstance(value, str) and (missing := _missing(value, fonts.values())):
            raise LetterError(
                f"{field.name}: the font ({FONT_PACKAGE}) cannot show {missing} in {value!r}; it has Latin, "
                "Greek, Cyrillic, Arabic and Hebrew letters"
            )

    pdf = _Letter(rtl, fonts)
    try:
        _lay_out(pdf, facts, rendered.subject, paragraphs)
        return bytes(pdf.output())
    finally:
        pdf.close_fonts()  # output() closes them too, but not when a template's text could not be set


def _lay_out(pdf: _Letter, facts: LetterFacts, title: str, paragraphs: list[str]) -> None:
    pdf.set_title(f"{title}: {facts.mentor_name}")
    pdf.set_author(facts.signatory)
    pdf.set_creator(facts.program_name)
    pdf.set_creation_date(datetime.combine(facts.issued_on, time(12), tzinfo=timezone.utc))
    pdf.add_page()

    # Letterhead: the program, its address, a rule.
    pdf.write_lines(facts.program_name, size=15, style="B", color=ACCENT, line_height=7.5)
    pdf.write_lines(facts.program_address, size=9.5, color=MUTED, line_height=5)
    pdf.ln(3)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    pdf.ln(14)

    # The date, on the side opposite the text's start, as in a printed letter.
    pdf.write_lines(_long_date(facts.issued_on), size=BODY_SIZE, color=INK, line_height=LINE_HEIGHT, far=True)
    pdf.ln(14)
    pdf.write_lines(title, size=18, style="B", color=ACCENT, line_height=9)
    pdf.ln(8)

    for paragraph in paragraphs:
        pdf.write_lines(paragraph, size=BODY_SIZE, color=INK, line_height=LINE_HEIGHT)
        pdf.ln(PARAGRAPH_GAP)

    # The signature block: room for a pen, then who signs, for which program.
    pdf.ln(16)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.3)
    pen_line = 70.0
    x = pdf.w - MARGIN - pen_line if pdf.rtl else MARGIN
    pdf.line(x, pdf.get_y(), x + pen_line, pdf.get_y())
    pdf.ln(2.5)
    pdf.write_lines(facts.signatory, size=BODY_SIZE, style="B", color=INK, line_height=LINE_HEIGHT)
    pdf.write_lines(facts.program_name, size=BODY_SIZE, color=INK, line_height=LINE_HEIGHT)


# Fonts, and setting text on the page.


@dataclass(frozen=True)
class _Font:
    style: str  # "" regular, "B" bold
    path: Path
    characters: frozenset[int]


def _fonts() -> dict[str, _Font]:
    fonts: dict[str, _Font] = {}
    for style, filename in FONT_FILES.items():
        path = FONT_DIR / filename
        if not path.is_file():
            raise LetterError(
                f"the font {path} is missing: install the Debian package {FONT_PACKAGE} "
                f"(apt-get install {FONT_PACKAGE})"
            )
        fonts[style] = _Font(style, path, _characters(path))
    return fonts


def _missing(text: str, fonts: Iterable[_Font]) -> str:
    """The characters of `text` that any of `fonts` lacks, as "'王' (U+738B), ..."; empty if none."""
    lacking = sorted(
        {char for char in text if not char.isspace() and any(ord(char) not in font.characters for font in fonts)}
    )
    return ", ".join(f"{char!r} (U+{ord(char):04X})" for char in lacking)


class _Letter(FPDF):
    def __init__(self, rtl: bool, fonts: dict[str, _Font]) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.rtl = rtl
        self.letter_fonts = fonts
        for font in fonts.values():
            self.add_font(FAMILY, font.style, str(font.path))
        self.set_margins(MARGIN, TOP, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        if not rtl:
            self.set_lang("en")  # the built-in wording's language; a right-to-left one is the program's own
        self.set_display_mode("fullwidth")
        self.c_margin = 0

    def close_fonts(self) -> None:
        for font in self.fonts.values():
            close = getattr(font, "close", None)  # TrueType fonts hold their file open until output
            if close is not None:
                close()

    def write_lines(
        self,
        text: str,
        *,
        size: float,
        color: tuple[int, int, int],
        line_height: float,
        style: str = "",
        far: bool = False,
    ) -> None:
        """A paragraph, wrapped to the text width and aligned to the letter's start (or `far` end)."""
        font = self.letter_fonts[style]
        if missing := _missing(text, [font]):
            raise LetterError(f"{TEMPLATE}.txt.j2: the font ({FONT_PACKAGE}) cannot show {missing} in {text!r}")
        shaped = _shape_arabic(text, font.characters)
        self.set_font(FAMILY, style, size)
        self.set_text_color(*color)
        width = self.w - 2 * MARGIN
        lines = self.multi_cell(width, line_height, shaped, align="L", dry_run=True, output="LINES")
        align = "R" if self.rtl != far else "L"
        direction = TextDirection.RTL if self.rtl else TextDirection.LTR
        for line in lines:
            self.cell(
                width, line_height, _display_order(line, direction), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )


def _paragraphs(text: str) -> list[str]:
    """Blocks separated by blank lines, each one paragraph with its lines joined by spaces."""
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    return [" ".join(block) for block in blocks if block]


def _unbroken(name: str) -> str:
    return " ".join(name.split()).replace(" ", NO_BREAK_SPACE)


def _long_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}".replace(" ", NO_BREAK_SPACE)


@cache
def _characters(path: Path) -> frozenset[int]:
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


# Right-to-left text without a shaping engine.

_STRONG_RTL = {"R", "AL"}
_JOIN_CAUSING = {"\u0640", "\u200d"}  # tatweel, zero width joiner
_ALEFS = {"\u0622", "\u0623", "\u0625", "\u0627"}
_LAM = "\u0644"


@cache
def _arabic_forms() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """From Unicode's presentation-form characters: each letter's forms, and the lam-alef ligatures.

    A letter with an initial form joins on both sides; one with only final and isolated forms
    joins only to the letter before it (alef, dal, reh, waw, ...). Read from `unicodedata`, not
    typed in, so that Persian and Urdu letters come with the same rules.
    """
    forms: dict[str, dict[str, str]] = {}
    ligatures: dict[str, dict[str, str]] = {}  # keyed by the alef that follows lam
    for code in [*range(0xFB50, 0xFE00), *range(0xFE70, 0xFF00)]:
        tag, _, decomposition = unicodedata.decomposition(chr(code)).partition(" ")
        form = tag.strip("<>")
        if form not in ("isolated", "final", "initial", "medial"):
            continue
        letters = "".join(chr(int(part, 16)) for part in decomposition.split())
        if len(letters) == 1 and unicodedata.category(letters) == "Lo":
            forms.setdefault(letters, {}).setdefault(form, chr(code))
        elif len(letters) == 2 and letters[0] == _LAM and letters[1] in _ALEFS:
            ligatures.setdefault(letters[1], {}).setdefault(form, chr(code))
    return forms, ligatures


def _shape_arabic(text: str, available: frozenset[int]) -> str:
    """Arabic letters replaced by the presentation form their neighbours call for, in logical order.

    A form the font lacks is left as the plain letter. Text without Arabic comes back unchanged.
    """
    forms, ligatures = _arabic_forms()
    if not any(char in forms for char in text):
        return text

    def joining(char: str | None) -> str:
        """'D' joins on both sides, 'R' only to the letter before it, 'C' causes joining, 'U' none."""
        if char is None:
            return "U"
        if char in _JOIN_CAUSING:
            return "C"
        letter_forms = forms.get(char, {})
        if "initial" in letter_forms or "medial" in letter_forms:
            return "D"
        return "R" if "final" in letter_forms else "U"

    def neighbour(index: int, step: int) -> str | None:
        """The nearest character that is not a combining mark, before (-1) or after (+1) `index`."""
        index += step
        while 0 <= index < len(text) and unicodedata.category(text[index]) in ("Mn", "Me"):
            index += step
        return text[index] if 0 <= index < len(text) else None

    def pick(char: str, form: str, table: dict[str, dict[str, str]]) -> str:
        chosen = table.get(char, {}).get(form)
        return chosen if chosen is not None and ord(chosen) in available else char

    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        kind = joining(char)
        if kind not in ("D", "R"):
            out.append(char)
            index += 1
            continue
        after_joining = joining(neighbour(index, -1)) in ("D", "C")
        following = neighbour(index, +1)
        if char == _LAM and following in _ALEFS and following == text[index + 1 : index + 2]:
            ligature = pick(following, "final" if after_joining else "isolated", ligatures)
            if ligature != following:
                out.append(ligature)
                index += 2
                continue
        before_joining = kind == "D" and joining(following) in ("D", "R", "C")
        form = {
            (False, False): "isolated",
            (True, False): "final",
            (False, True): "initial",
            (True, True): "medial",
        }[(after_joining, before_joining)]
        out.append(pick(char, form, forms))
        index += 1
    return "".join(out)


def _mostly_right_to_left(text: str) -> bool:
    strong = [unicodedata.bidirectional(char) for char in text]
    return sum(kind in _STRONG_RTL for kind in strong) > sum(kind == "L" for kind in strong)


def _display_order(line: str, direction: TextDirection) -> str:
    """One line in the order its characters are drawn, left to right (Unicode's bidi algorithm).

    A text without right-to-left characters is already in that order. In a reversed run a combining
    mark comes before its letter, which is where DejaVu's Hebrew and Arabic marks expect to be drawn:
    their outlines lie to the right of the pen, over the letter that follows.
    """
    if not any(unicodedata.bidirectional(char) in _STRONG_RTL for char in line):
        return line
    return BidiParagraph(line, base_direction=direction).get_reordered_string()
