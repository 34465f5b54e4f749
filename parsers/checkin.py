"""A mentor's reply to the monthly check-in: a 1-5 rating, whether they want the liaison, and a note.

The check-in mail (templates/checkin.txt.j2) asks two numbered questions: "1." how it is going
from 1 to 5, "2." whether the liaison should get in touch (yes or no), and invites a line or two
more. Mentors answer as asked ("1. 4" / "2. no"), or briefly ("4/5"), or in words ("please ask
the liaison to call me"); all of these are read. Whatever is not a rating or a yes/no is the note.

Pure: text in, a frozen dataclass out; never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .survey import fold, split_number, yes_or_no

MAX_NOTE = 500
_MAX_INPUT = 20_000  # a check-in reply is a few lines; this bounds the work on anything else

# "4", "4/5", "4 out of 5", "rating: 4", "Score - 4 stars", "4 - going well": a digit at the start of a
# line, then the end of the line or punctuation, so that "2 of our meetings were cancelled" is no rating.
_RATING = re.compile(
    r"""^(?:(?:my\s+)?(?:rating|score|note|grade)\s*[:=\-–—]?\s*)?
    (?P<n>\d{1,3})(?:\s*(?:/|out\s+of|of)\s*(?P<of>\d{1,3}))?(?:\s*stars?)?
    (?P<rest>\s*[-–—,.:;!)]+.*|\s*)$""",
    re.IGNORECASE | re.VERBOSE,
)
# The words the check-in mail gives for the ends of its scale, as a whole answer to question 1.
_RATING_WORDS = {"not well": 1, "very well": 5}

# A yes or no on a line of its own, perhaps followed by punctuation and more ("yes, please call me") or
# by "please"/"thanks"; not "No problems so far", which is a note and not an answer.
_ANSWER_WORD = re.compile(
    r"^(?P<word>[\w']+(?:\s+(?:really|at\s+all))?)"
    r"(?:\s*[,.!;:)\-–—]+\s*|\s+(?=(?:please|thanks|thank\s+you)\b)|\s*$)(?P<rest>.*)$",
    re.IGNORECASE,
)
# Wanting or not wanting to hear from the liaison, in words. The refusals are tried first: "no need to
# contact me" contains "contact me".
_NO_CONTACT = re.compile(
    r"\b(?:no need|not necessary|unnecessary|no thanks|no, thanks|no contact"
    r"|(?:don't|do not) (?:need|want|have to|contact|call)"
    r"|not (?:now|needed|at the moment|for now))\b"
)
_CONTACT = re.compile(
    r"\b(?:get in touch|be in touch|contact me|call me|ring me|phone me|email me|reach out|reach me"
    r"|give me a (?:call|ring)|(?:talk|speak|chat) (?:to|with) (?:the |a |our |my )?(?:liaison|coordinators?|someone)"
    r"|(?:like|want|love) to (?:talk|chat|speak)|(?:need|could use|would like) (?:some )?(?:help|advice|support))\b"
)
_POLITE = re.compile(r"(?:please|thanks|thank you|thx)?[\s.!]*")
_GREETING = re.compile(r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|bonjour|hallo|hola)\b.{0,60}$")
_SIGN_OFF = re.compile(
    r"^(?:thanks|thank you|many thanks|cheers|best|best wishes|best regards|kind regards|regards|warm regards"
    r"|warmly|sincerely|all the best)(?:\s+(?:again|so much|very much|a lot|in advance))?"
    r"\s*(?:[,!.]+(?:\s*[\w'-]+(?:\s+[\w'-]+)?)?)?\s*$|^--\s*$"
)


@dataclass(frozen=True)
class CheckinReply:
    rating: int | None  # 1-5; None when the reply gives none (or one outside 1-5)
    wants_contact: bool | None  # whether the liaison should get in touch; None when the reply does not say
    note: str  # everything else the mentor wrote, trimmed, at most MAX_NOTE characters


def parse_checkin(new_text: str) -> CheckinReply:
    rating: int | None = None
    wants_contact: bool | None = None
    note: list[str] = []
    pending: int | None = None  # "1." alone on a line: the answer is on the next one
    for line in _lines(new_text):
        numbered = split_number(line)
        number, rest = numbered if numbered and numbered[0] in (1, 2) else (pending, line)
        pending = None
        if number == 1 and rating is None:
            rating, rest = _rating(rest, words=True)
            pending = 1 if rating is None and not rest else None
        elif number == 2 and wants_contact is None:
            wants_contact, rest = _contact(rest)
            pending = 2 if wants_contact is None and not rest else None
        elif rating is None and (found := _rating(rest, words=False))[0] is not None:
            rating, rest = found
        # What follows a rating may still ask for the liaison: "4, all fine, but please call me".
        if wants_contact is None and rest and number != 2 and (said := _contact(rest))[0] is not None:
            wants_contact, rest = said
        if rest:
            note.append(rest)
    return CheckinReply(rating=rating, wants_contact=wants_contact, note=_note(note))


def _rating(text: str, *, words: bool) -> tuple[int | None, str]:
    """(rating, what is left of the line); a number outside 1-5 is no rating and stays in the note."""
    bare = text.strip().strip("*_[]()\"'")
    if words and fold(bare).rstrip(" .!") in _RATING_WORDS:
        return _RATING_WORDS[fold(bare).rstrip(" .!")], ""
    match = _RATING.match(bare)
    if match is None or (match["of"] is not None and match["of"] != "5") or not 1 <= int(match["n"]) <= 5:
        return None, text.strip()
    return int(match["n"]), match["rest"].strip(" \t-–—,.:;!)")


def _contact(text: str) -> tuple[bool | None, str]:
    """(wants the liaison, what is left): a phrase decides over a leading yes/no; the yes/no is not kept."""
    folded = fold(text).replace("’", "'")
    said = False if _NO_CONTACT.search(folded) else True if _CONTACT.search(folded) else None
    match = _ANSWER_WORD.match(text.strip())
    answer = yes_or_no(match["word"]) if match else None
    if match is None or answer is None:
        return said, text.strip()
    rest = match["rest"].strip()
    return (answer if said is None else said), ("" if _POLITE.fullmatch(fold(rest)) else rest)


def _lines(text: str) -> list[str]:
    """The reply's lines without blanks, stray quotes and a greeting, up to the sign-off."""
    if not isinstance(text, str):
        return []
    lines: list[str] = []
    for raw in text[:_MAX_INPUT].replace("\r\n", "\n").replace("\r", "\n").splitlines():
        line = " ".join(raw.replace("\u200b", "").split())
        folded = fold(line)
        if not line or line.startswith(">"):
            continue
        if _SIGN_OFF.match(folded):
            break
        if not lines and _GREETING.match(folded):
            continue
        lines.append(line)
    return lines


def _note(lines: list[str]) -> str:
    note = "\n".join(lines).strip()
    return note if len(note) <= MAX_NOTE else note[: MAX_NOTE - 1].rstrip() + "…"
