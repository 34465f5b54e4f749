"""Renders the program's own mail from jinja2 templates: a subject, a plain-text part and an HTML part.

Each kind of mail is `templates/{kind}.txt.j2` (required; its first line is `Subject: ...`, then a
blank line, then the body) and optionally `templates/{kind}.html.j2`, which is rendered with the
same context plus `subject`. Names starting with `_` are layouts and partials, not kinds.

A program can point `templates_dir` at a folder of its own: any template found there (a kind, a
layout or a partial) replaces the built-in one of the same name, and the rest still come from here.

Undefined variables are errors (StrictUndefined), never silent blanks: a mail that says "Dear ,"
to a mentor is worse than a mail that is not sent and a `TemplateError` in the digest.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import jinja2

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "templates"
TEXT_SUFFIX = ".txt.j2"
HTML_SUFFIX = ".html.j2"
SUBJECT_PREFIX = "Subject:"
WRAP_WIDTH = 72


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None


class TemplateError(Exception):
    """One line: which template, and what is wrong with it."""


class Renderer:
    def __init__(self, overrides_dir: Path | None = None) -> None:
        search_path = [BUILTIN_DIR] if overrides_dir is None else [Path(overrides_dir), BUILTIN_DIR]
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(search_path),
            undefined=jinja2.StrictUndefined,
            # Escaping plain text would put "&#39;" into "O'Connor"; escaping HTML is not optional.
            autoescape=lambda name: name is not None and name.endswith(HTML_SUFFIX),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self._env.filters.update(
            wrap=wrap,
            day=day,
            short_day=short_day,
            when=when,
            plural=plural,
            heat=heat,
            direction=direction,
            week_ruler=week_ruler,
            month_ruler=month_ruler,
            month_runs=month_runs,
        )

    def kinds(self) -> list[str]:
        return sorted(
            name.removesuffix(TEXT_SUFFIX)
            for name in self._env.list_templates()
            if name.endswith(TEXT_SUFFIX) and "/" not in name and not name.startswith("_")
        )

    def render(self, kind: str, context: Mapping[str, object]) -> RenderedMail:
        text_name = kind + TEXT_SUFFIX
        first, _, rest = self._render(text_name, context).partition("\n")
        if not first.startswith(SUBJECT_PREFIX):
            raise TemplateError(f"{text_name}: the first line must be 'Subject: ...', not {first[:40]!r}")
        subject = first.removeprefix(SUBJECT_PREFIX).strip()
        if not subject:
            raise TemplateError(f"{text_name}: the subject is empty")
        if rest and not rest.startswith("\n"):
            raise TemplateError(f"{text_name}: the subject line must be followed by a blank line")
        text = rest.lstrip("\n")
        html_name = kind + HTML_SUFFIX
        try:
            self._env.get_template(html_name)
        except jinja2.TemplateNotFound:
            return RenderedMail(subject, text, None)
        return RenderedMail(subject, text, self._render(html_name, {**context, "subject": subject}))

    def _render(self, name: str, context: Mapping[str, object]) -> str:
        try:
            output = self._env.get_template(name).render(context)
        except jinja2.TemplateNotFound as exc:
            # The missing one may be an included partial rather than `name` itself.
            raise TemplateError(f"{name}: template {exc.name!r} not found") from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{exc.name or name} line {exc.lineno}: {exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"{_where(exc, name)}: {exc.message}") from None
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            # Wrong types in the context (a string where a date was expected, ...) end up here.
            raise TemplateError(f"{_where(exc, name)}: {type(exc).__name__}: {exc}") from None
        return _tidy(output)


def _where(exc: BaseException, name: str) -> str:
    """`name`, and the template file and line the error was raised from if that is more precise.

    Jinja rewrites tracebacks so that their frames point at template lines; the last such frame is
    where the error happened, which may be a partial that `name` includes or imports.
    """
    location: tuple[str, int] | None = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            location = (Path(filename).name, tb.tb_lineno)
        tb = tb.tb_next
    if location is None:
        return name
    file, line = location
    return f"{name} line {line}" if file == name else f"{name}, in {file} line {line}"


def _tidy(output: str) -> str:
    """Trailing spaces off every line and exactly one newline at the end: what mail tools expect."""
    return "\n".join(line.rstrip() for line in output.rstrip().split("\n")) + "\n"


# Filters, available to every template (and to a program's overrides).


def wrap(text: str, width: int = WRAP_WIDTH) -> str:
    """Reflow prose for an 80-column terminal, so that names of any length cannot make long lines.

    Lines of a paragraph are joined and re-wrapped; blank lines separate paragraphs. A line that
    starts with "- " or "N. " starts a list item, wrapped with a hanging indent; an indented line
    continues the item above it. Words longer than `width` (URLs, addresses) are never broken.
    A final newline is kept, so that `{% filter wrap %}...{% endfilter %}` behaves like plain text.
    """
    blocks: list[tuple[str, str, list[str]]] = []  # (first-line prefix, hanging indent, words)
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            blocks.append(("", "", []))
            continue
        indent = line[: len(line) - len(line.lstrip())]
        marker = _list_marker(stripped)
        if marker:
            blocks.append((indent + marker, indent + " " * len(marker), stripped[len(marker) :].split()))
        elif blocks and blocks[-1][2] and (indent or not blocks[-1][0].strip()):
            blocks[-1][2].extend(stripped.split())
        else:
            blocks.append((indent, indent, stripped.split()))
    lines: list[str] = []
    for first, hanging, words in blocks:
        if not words:
            if lines and lines[-1]:
                lines.append("")
            continue
        lines.extend(
            textwrap.wrap(
                " ".join(words),
                width=width,
                initial_indent=first,
                subsequent_indent=hanging,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines).strip("\n") + ("\n" if text.endswith("\n") else "")


def _list_marker(stripped: str) -> str:
    if stripped.startswith("- "):
        return "- "
    number, dot, rest = stripped.partition(". ")
    return number + dot if dot and number.isdigit() and rest else ""


def day(value: date) -> str:
    """Tuesday 1 September 2026: unambiguous to readers on either side of the Atlantic."""
    return f"{value:%A} {value.day} {value:%B %Y}"


def short_day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def when(value: datetime) -> str:
    zone = f" {value:%Z}" if value.tzinfo is not None else ""
    return f"{value.day} {value:%b %Y}, {value:%H:%M}{zone}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def direction(text: str) -> str:
    """ "rtl" or "ltr", from the first letter with a strong direction, as `dir="auto"` decides.

    For the styles `dir` cannot turn: a rule drawn at the start of a paragraph has to be told
    which side that is, because few mail clients know `border-inline-start`.
    """
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def heat(count: int) -> str:
    """One character per week in the text chart: "." none, "1".."9", "+" for ten or more."""
    if count <= 0:
        return "."
    return str(count) if count <= 9 else "+"


def week_ruler(weeks: int) -> str:
    """Week numbers over a one-character-per-week chart: 1, 5, 10, 15... each over its column."""
    ruler = ""
    for number in [1, *range(5, weeks + 1, 5)]:
        if number <= weeks and len(ruler) < number:
            ruler = ruler.ljust(number - 1) + str(number)
    return ruler


def month_ruler(weeks: Sequence[date]) -> str:
    """Month names over a one-character-per-week chart, each over the first week that starts in it."""
    placed: list[tuple[int, int, str]] = []  # (column, weeks in the month, name)
    column = 0
    for first, count in month_runs(weeks):
        name = f"{first:%b}"
        if placed and placed[-1][0] + len(placed[-1][2]) >= column:
            # Two names would touch: a round that starts in a month's last week or two should not
            # hide the first full month behind it, so the shorter run gives way.
            if placed[-1][1] >= count:
                column += count
                continue
            placed.pop()
        placed.append((column, count, name))
        column += count
    ruler = ""
    for start, _, name in placed:
        ruler = ruler.ljust(start) + name
    return ruler


def month_runs(weeks: Sequence[date]) -> list[tuple[date, int]]:
    """(first week, how many weeks) per calendar month the weeks start in: the chart's month header."""
    runs: list[tuple[date, int]] = []
    for week in weeks:
        if runs and (runs[-1][0].year, runs[-1][0].month) == (week.year, week.month):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((week, 1))
    return runs
