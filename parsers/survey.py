"""Answers to a feedback survey, read from the new text of a reply.

The survey mail (templates/survey.txt.j2) numbers its questions and asks for one numbered answer a
line ("1. 4", "2. yes"), so numbered lines are the main form. People also answer in their own
ways: "Q3: ...", "1 - agree", typing each answer under the quoted question, or (for a short
survey) unnumbered lines in order. What cannot be read is reported per question with a reason the
confirmation mail can show, rather than guessed.

Pure: text in, frozen dataclasses out. No clock, no I/O, and no exception on any input: a reply is
written by a person, and whatever they typed must end in a confirmation mail, not a traceback.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

Value = int | bool | str

# A free-text answer is kept, so it is bounded: the summary mail lists these to the committee.
MAX_TEXT_ANSWER = 2000
# Past this, a "reply" is not someone answering a few questions; the bound keeps parsing linear and quick.
_MAX_INPUT = 100_000
_MAX_SHOWN = 40  # how much of an unreadable answer a reason quotes back

# A numbered answer: "1. 4", "1) 4", "1: 4", "1 - agree", "1 = 4", "Q3: ...", "Question 3 ...", with an
# optional bullet. "." and ")" must be followed by a space so that "1.5 hours" in a text answer is
# not answer 1; "-" must not be followed by a digit so that a range like "1-2" is not one either.
NUMBERED = re.compile(
    r"""^\s*(?:[-*•]\s+)?
    (?:
        (?:q|question|frage)\s*\#?(?P<q>\d{1,3})(?:\s*[.):=\-–—]|\s|$)
      | \#?(?P<n>\d{1,3})(?:[.)](?=\s|$)|\s*:(?!\d)|\s*=|\s*[-–—](?!\s*\d)|\s+[-–—](?=\s))
    )
    \s*(?P<rest>.*)$""",
    re.IGNORECASE | re.VERBOSE,
)
# Numbering of a question inside a quoted block: "1. text", "1) text", "Q1 text". Not "1 = label":
# that is how the survey mail lists a question's labels.
_QUOTED_NUMBER = re.compile(r"^\s*(?:(?:q|question)\s*)?(?P<n>\d{1,3})\s*[.):]\s+\S", re.IGNORECASE)

# What people wrap an answer in: markdown bold from HTML mail, brackets, quotes.
_WRAPPING = " \t*_[](){}\"'`«»“”‘’"
_TRAILING = " \t.,;:!"

# Scale values given as a number: "4", "4/5", "4 out of 5", "4 of 5", "3.5" (unclear, but read as such).
_SCALE_NUMBER = re.compile(r"^(?P<n>\d{1,6}(?:[.,]\d{1,3})?)(?:\s*(?:/|out of|of|sur|von)\s*(?P<of>\d{1,6}))?(?!\d)")
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
# The labels the daemon's settings give a scale question that names none; only for that scale are
# the everyday agreement words below understood (on another scale "agree" may mean nothing).
DEFAULT_SCALE = ("strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree")
_AGREEMENT_WORDS = {
    "strongly disagree": 1, "totally disagree": 1, "completely disagree": 1, "fully disagree": 1,
    "disagree": 2, "somewhat disagree": 2, "mostly disagree": 2,
    "neither agree nor disagree": 3, "neither": 3, "neutral": 3, "undecided": 3,
    "agree": 4, "somewhat agree": 4, "mostly agree": 4,
    "strongly agree": 5, "totally agree": 5, "completely agree": 5, "fully agree": 5,
}  # fmt: skip
# "I agree", "I strongly agree": the pronoun carries nothing.
_PRONOUN = re.compile(r"^i\s+")

# Yes and no, in the languages of the corpus, folded (no accents, lower case): "sí" is "si".
_YES = ("yes", "y", "yeah", "yep", "yup", "sure", "definitely", "absolutely", "of course", "oui", "ja", "si")
_NO = ("no", "n", "nope", "nah", "not really", "not at all", "non", "nein")
# A yes/no word ends the answer or is followed by punctuation or a space; not "/" ("n/a", "yes/no").
_WORD_END = r"(?=$|[^\w/'])"
_YES_NO = re.compile(
    rf"^(?:(?P<yes>{'|'.join(sorted(map(re.escape, _YES), key=len, reverse=True))})"
    rf"|(?P<no>{'|'.join(sorted(map(re.escape, _NO), key=len, reverse=True))})){_WORD_END}"
)

# Said instead of an answer: the survey mail says to leave out what one would rather not answer, and
# these do just that. Checked first: "no answer" is not "no".
_SKIPPED = re.compile(r"^(?:n/?a|n\.a|-+|\?+|skip(?:ped)?|pass|no answer|no comment|no opinion|prefer not to say)$")

# Lines that carry no answer. A sign-off is the closing words, then only punctuation and perhaps a name
# ("Thanks!", "Best, Ann", "Thank you so much!"), so that "Best mentor ever" or "Thanks to the coordinators
# for ..." going on a text answer is not taken for one.
_GREETING = re.compile(r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|bonjour|hallo|hola)\b.{0,60}$")
_SIGN_OFF = re.compile(
    r"^(?:thanks|thank you|many thanks|cheers|best|best wishes|best regards|kind regards|regards|warm regards"
    r"|warmly|sincerely|all the best|merci|danke|gracias)(?:\s+(?:again|so much|very much|a lot|in advance))?"
    r"\s*(?:[,!.]+(?:\s*[\w'-]+(?:\s+[\w'-]+)?)?)?\s*$"
    r"|^--\s*$"  # the signature delimiter
)


@dataclass(frozen=True)
class Question:
    id: str
    number: int  # 1-based, as the survey mail shows it
    text: str
    kind: str  # "scale" | "yesno" | "choice" | "text"
    labels: tuple[str, ...] = ()  # scale: the words for 1..5; choice: the choices, numbered from 1 in the mail


class SurveyQuestionLike(Protocol):
    """What `questions_of` reads of one configured question (the daemon's SurveyQuestion has it):
    parsers/ imports nothing outside parsers/, so the type is described here, not imported."""

    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def kind(self) -> str: ...  # "scale" | "yesno" | "choice" | "text"
    @property
    def labels(self) -> Iterable[str]: ...


class SurveyLike(Protocol):
    """What `questions_of` reads of a configured survey (the daemon's SurveySettings has it)."""

    @property
    def questions(self) -> Iterable[SurveyQuestionLike]: ...


@dataclass(frozen=True)
class Answers:
    """What one reply says. Plain dicts (not read-only views) so that the caller can store them as JSON."""

    # question id -> scale 1..5 (int) | yesno (bool) | choice (the label, as configured) | text (str)
    values: Mapping[str, Value]
    # question id -> why the answer given could not be read, e.g. "'7' is not 1-5"
    unclear: Mapping[str, str]


def questions_of(survey: SurveyLike) -> tuple[Question, ...]:
    """The survey's questions, numbered as the survey mail numbers them."""
    return tuple(
        Question(id=q.id, number=number, text=q.text, kind=q.kind, labels=tuple(q.labels))
        for number, q in enumerate(survey.questions, start=1)
    )


def missing(questions: Sequence[Question], answers: Answers) -> list[Question]:
    """Questions with no answer at all; an unclear answer is not missing (it has its own reason)."""
    return [q for q in questions if q.id not in answers.values and q.id not in answers.unclear]


def parse_answers(
    questions: Sequence[Question],
    new_text: str,
    interleaved: Iterable[tuple[str | None, str]] = (),
) -> Answers:
    """What this reply answers; a later reply's answers replace these for the same ids (the caller merges).

    `new_text` is everything the person wrote; `interleaved` optionally splits the reply at its quotes:
    (quoted block the text was typed under, with '>' removed, or None; the new text typed after it).
    """
    questions = tuple(questions)
    chunks = [(block, _clean(text)) for block, text in interleaved]
    text = _clean(new_text) or "\n".join(chunk for _, chunk in chunks)
    given: list[tuple[Question, str]] = _numbered(questions, text)
    for _, chunk in chunks:
        if chunk.strip() not in text:  # the caller may give the new text only in pieces
            given += _numbered(questions, chunk)
    for block, chunk in chunks:
        if block is not None and not _numbered(questions, chunk):
            given += _under_quote(questions, block, chunk)
    if not given:
        given = _in_order(questions, text)
    return _collect(given)


def fold(text: str) -> str:
    """Lower case without accents, for comparing what people type with labels: "Sí" == "si"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def yes_or_no(text: str) -> bool | None:
    """True for "yes", "Oui!", "yes please"; False for "no", "Nein."; None when it is neither."""
    match = _YES_NO.match(_bare(fold(text)))
    if match is None:
        return None
    return match["yes"] is not None


def split_number(line: str) -> tuple[int, str] | None:
    """(number, the rest) of a numbered answer line like "2) yes" or "Q3: fine"; None for any other line."""
    match = NUMBERED.match(line)
    if match is None:
        return None
    return int(match["q"] or match["n"]), match["rest"].strip()


def read_answer(question: Question, raw: str) -> tuple[Value | None, str | None]:
    """(value, None) when `raw` answers the question, (None, why) when it cannot be read, (None, None) if empty."""
    if question.kind == "text":
        text = raw.strip()
        return (text[:MAX_TEXT_ANSWER].rstrip(), None) if text else (None, None)
    line = _first_line(_without_question_text(question, raw))
    if not _bare(line) or _SKIPPED.match(_bare(fold(line))):
        return None, None
    if question.kind == "scale":
        return _scale(question.labels, line)
    if question.kind == "yesno":
        answer = yes_or_no(line)
        return (answer, None) if answer is not None else (None, f"{_show(line)} is not yes or no")
    if question.kind == "choice":
        return _choice(question.labels, line)
    return None, f"this question's kind ({question.kind!r}) cannot be answered by mail"


# --- where the answers are --------------------------------------------------------------------


def _numbered(questions: tuple[Question, ...], text: str) -> list[tuple[Question, str]]:
    """Numbered answers; an answer runs until the next numbered line, so text answers may span lines."""
    by_number = {q.number: q for q in questions}
    found: list[tuple[Question, list[str]]] = []
    for line in text.splitlines():
        if line.lstrip().startswith(">"):  # a quote that reached us anyway is never an answer
            continue
        if found and _SIGN_OFF.match(_words(line)):  # the last answer ends at "Thanks, Ann"
            break
        numbered = split_number(line)
        question = by_number.get(numbered[0]) if numbered else None
        if question is not None and numbered and _starts_answer(found[-1][0] if found else None, question, numbered[1]):
            found.append((question, [numbered[1]]))
        elif found:
            found[-1][1].append(line)
    return [(question, "\n".join(lines).strip()) for question, lines in found]


def _starts_answer(current: Question | None, question: Question, rest: str) -> bool:
    """Whether a numbered line starts an answer, rather than going on with the text answer before it.

    Inside a text answer, a number going back ("1) more topics" under question 4) is usually the
    person's own list; it is taken as an answer only when it reads as one ("2. yes" added at the end).
    """
    if current is None or current.kind != "text" or question.number > current.number:
        return True
    return question.kind != "text" and read_answer(question, rest)[0] is not None


def _under_quote(questions: tuple[Question, ...], block: str, chunk: str) -> list[tuple[Question, str]]:
    """The answer typed under a quoted question: the question is the last one the block shows."""
    shown = _questions_shown(questions, block)
    if not shown or not chunk.strip():
        return []
    # A block showing several questions' texts is the whole survey quoted: several unnumbered lines
    # after it are answers in order (see `_in_order`), not one answer to its last question.
    if sum(1 for _, by_text in shown.values() if by_text) > 1 and len(_lines(chunk)) > 1:
        return []
    last = max(shown, key=lambda q: shown[q])
    return [(last, chunk)]


def _questions_shown(questions: tuple[Question, ...], block: str) -> dict[Question, tuple[int, bool]]:
    """Question -> (line of the block where it last appears, whether by its text); text beats number."""
    # The block's words on one line, so that a question wrapped differently by the quoting client is
    # still found; `starts` maps a position there back to the line it came from.
    lines = _clean(block).splitlines()
    starts: list[int] = []
    pieces: list[str] = []
    length = 0
    for line in lines:
        starts.append(length)
        piece = " ".join(fold(line).split())
        pieces.append(piece)
        length += len(piece) + 1 if piece else 0
    flat = " ".join(piece for piece in pieces if piece)
    shown: dict[Question, tuple[int, bool]] = {}
    by_number = {q.number: q for q in questions}
    for index, line in enumerate(lines):
        match = _QUOTED_NUMBER.match(line)
        question = by_number.get(int(match["n"])) if match else None
        if question is not None:
            shown[question] = (index, False)
    for question in questions:
        needle = " ".join(fold(question.text).split())
        at = flat.rfind(needle) if needle else -1
        if at >= 0:
            shown[question] = max(shown.get(question, (-1, False)), (bisect_right(starts, at) - 1, True))
    return shown


def _in_order(questions: tuple[Question, ...], text: str) -> list[tuple[Question, str]]:
    """Unnumbered answers: the whole reply for a one-question survey, else one clean line per question."""
    lines = _lines(text)
    if not lines or not questions:
        return []
    if len(questions) == 1:
        return [(questions[0], "\n".join(lines))]
    if len(lines) != len(questions):
        return []
    pairs = list(zip(questions, lines, strict=True))
    # Lines in order are a guess, taken only when every line reads as an answer to its question.
    if all(read_answer(q, line)[0] is not None for q, line in pairs):
        return pairs
    return []


def _lines(text: str) -> list[str]:
    """The reply's lines that could be answers: no blanks, quotes or greeting; up to a sign-off."""
    lines: list[str] = []
    for line in text.splitlines():
        folded = _words(line)
        if not folded or folded.startswith(">"):
            continue
        if _SIGN_OFF.match(folded):
            break
        if not lines and _GREETING.match(folded):
            continue
        lines.append(line.strip())
    return lines


def _collect(given: list[tuple[Question, str]]) -> Answers:
    values: dict[str, Value] = {}
    unclear: dict[str, str] = {}
    for question, raw in given:  # later answers to the same question win: people correct themselves
        value, why = read_answer(question, raw)
        if value is not None:
            values[question.id] = value
            unclear.pop(question.id, None)
        elif why is not None:
            unclear[question.id] = why
            values.pop(question.id, None)
    return Answers(values=values, unclear=unclear)


# --- reading one answer ---------------------------------------------------------------------------


def _scale(labels: tuple[str, ...], line: str) -> tuple[int | None, str | None]:
    bare = _bare(fold(line))
    high = len(labels) or 5
    match = _SCALE_NUMBER.match(bare)
    if match:
        shown = match.group(0).strip()
        number, out_of = match["n"], match["of"]
        if "." in number or "," in number or (out_of is not None and int(out_of) != high):
            return None, f"'{shown}' is not 1-{high}"
        value = int(number)
        return (value, None) if 1 <= value <= high else (None, f"'{shown}' is not 1-{high}")
    words = dict(_NUMBER_WORDS)
    if tuple(fold(label) for label in labels) in ((), DEFAULT_SCALE):
        words.update(_AGREEMENT_WORDS)
    words.update({fold(label).strip(): index for index, label in enumerate(labels, start=1)})
    phrase = _leading_phrase(_PRONOUN.sub("", bare), words)
    if phrase is not None and 1 <= words[phrase] <= high:
        return words[phrase], None
    return None, f"{_show(line)} is not 1-{high}"


def _choice(labels: tuple[str, ...], line: str) -> tuple[str | None, str | None]:
    bare = _bare(fold(line))
    folded = {fold(label).strip(): label for label in labels}
    # A label first: labels may themselves start with a number ("2-3 times a month").
    phrase = _leading_phrase(bare, folded)
    if phrase is not None:
        return folded[phrase], None
    number = re.match(r"^(\d{1,6})(?![\w.,/-])", bare)
    if number:
        index = int(number[1])
        if 1 <= index <= len(labels):
            return labels[index - 1], None
    elif len(bare) >= 2:
        starting = [label for key, label in folded.items() if key.startswith(bare)]
        if len(starting) == 1:
            return starting[0], None
    return None, f"{_show(line)} is not one of: {', '.join(labels)}"


def _leading_phrase(text: str, phrases: Iterable[str]) -> str | None:
    """The longest of `phrases` that `text` is, or starts with followed by a non-letter ("agree, mostly")."""
    for phrase in sorted((p for p in phrases if p), key=len, reverse=True):
        if text == phrase or (text.startswith(phrase) and not text[len(phrase)].isalnum()):
            return phrase
    return None


def _without_question_text(question: Question, raw: str) -> str:
    """The answer without a copy of the question before it: "The program met my expectations: 4" -> "4"."""
    text = fold(raw.strip())  # the caller folds anyway; slicing the folded text keeps positions right
    folded_question = fold(question.text).strip()
    if folded_question and text.startswith(folded_question):
        return text[len(folded_question) :].lstrip(" \t:-–—?=")
    return raw.strip()


def _words(line: str) -> str:
    """A line folded, its whitespace runs made one space: what the line patterns are written for."""
    return " ".join(fold(line).split())


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if _bare(line)), "")


def _bare(text: str) -> str:
    return text.strip(_WRAPPING).rstrip(_TRAILING).strip(_WRAPPING)


def _show(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "...")


def _clean(text: str | None) -> str:
    """Line ends made "\\n", no-break and zero-width spaces made plain; bounded in length."""
    if not isinstance(text, str):
        return ""
    text = text[:_MAX_INPUT].replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\u00a0\u2007\u202f]", " ", re.sub(r"[\u200b-\u200d\u2060\ufeff]", "", text))
