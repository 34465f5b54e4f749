"""Coordinators' commands, one a line, from a reply to the digest; mentors asking for their letter;
and participants asking what the program holds about them (`my data`).

A coordinator runs the round from their inbox by replying with lines like `pause pair-07` or
`approve letter 3`. Each line becomes a `Command` or a `BadCommand` whose reason is sent back as is,
so every reason says what is wrong and how to write it. Nothing here checks that a pair or a letter
exists, or that the sender may give commands: that is the router's, with the store and the tokens.

Pure: text in, frozen dataclasses out; never raises.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from .addresses import normalise
from .survey import fold

VERBS = ("pause", "resume", "end", "nudge", "pair", "address", "forget", "approve", "decline", "status", "help")
# How each verb is written, for the reasons of a BadCommand.
USAGE = {
    "pause": "pause PAIR",
    "resume": "resume PAIR",
    "end": "end PAIR [reason]",
    "nudge": "nudge PAIR",
    "pair": 'pair ["Mentor Name"] <MENTOR_EMAIL> ["Mentee Name"] <MENTEE_EMAIL> [start YYYY-MM-DD]',
    "address": "address OLD_EMAIL NEW_EMAIL",
    "forget": "forget EMAIL",
    "approve": "approve letter N",
    "decline": "decline letter N [reason]",
    "status": "status PAIR",
    "help": "help",
}
Parsed = tuple[str | None, tuple[str, ...]] | str  # (pair, args), or why the line is wrong
_PAIR_VERBS = ("pause", "resume", "nudge", "status")
_MAX_INPUT = 50_000  # a reply holds a few commands; this bounds the work on anything else
_MAX_SHOWN = 40  # how much of a wrong word a reason quotes back

# The pair ids the roster accepts (parsers/roster_csv.py).
# A roster's pair_id, or one of an earlier round's as `ROUND/PAIR_ID` (README, "Rounds").
_PAIR_ID = re.compile(r"(?:[A-Za-z0-9._-]{1,16}/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_LETTER_NUMBER = re.compile(r"#?(?P<n>\d{1,9})")
_BULLET = re.compile(r"^(?:[-*•+]\s+|\d{1,2}[.)]\s+)")
_TRAILING = " \t.,;:!?"
_COURTESY = re.compile(r"^please\s+", re.IGNORECASE)  # "please pause p1" is "pause p1"

# Where the commands end: a signature, a sign-off, the start of a quoted message.
_SIGNATURE = re.compile(r"^--\s*$")
_SIGN_OFF = re.compile(
    r"^(?:thanks|thank you|many thanks|cheers|best|best wishes|best regards|kind regards|regards|warm regards"
    r"|warmly|sincerely|all the best|thx)(?:\s+(?:again|so much|very much|a lot|in advance))?"
    r"\s*(?:[,!.]+(?:\s*[\w'-]+(?:\s+[\w'-]+)?)?)?\s*$"
)
_QUOTE_HEADER = re.compile(
    r"^(?:on .{0,200}\bwrote:?|le .{0,200}a ecrit\s*:?|am .{0,200}schrieb.{0,80}|el .{0,200}escribio:?"
    r"|-{2,}\s*(?:original message|forwarded message|urspr\w* nachricht|message d'origine)\s*-{2,}"
    r"|from:\s.*@.*)$"
)
# Lines around the commands that are not commands.
_GREETING = re.compile(r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|bonjour|hallo)\b.{0,60}$")
_MOBILE_FOOTER = re.compile(r"^(?:sent from my|sent from mail for|get outlook for|envoye de mon|von meinem)\b")

# A mentor asking for the letter recognising their service: "letter", "Letter please", "I'd like a letter of
# recognition", "please send me the letter". Not "newsletter", not thanks for a letter already received.
_LETTER = re.compile(r"\bletters?\b")
_ASKING = re.compile(
    r"\b(?:like|want|wish|request|requesting|send|have|get|receive|please|could|can|may|need|would|ask|asking)\b"
)
_NOT_ASKING = re.compile(
    r"n't\b|\b(?:not|no|never|without)\b"
    r"|\b(?:thanks?|thank you) (?:you )?(?:so much |very much )?for (?:the|my|your|this|that) letter"
    r"|\b(?:got|received|receiving|printed|framed|love|loved) (?:the|my|your|this|that) letter"
)
_SHORT_REQUEST = 4  # "letter", "letter please", "my letter, please": a bare request is a few words

# A participant asking what is held about them: `my data`, as the subject or the first line, in any
# case, with punctuation, a "please" or a "thanks", under "Re:"/"Fwd:" (a reply to the program's mail).
_MY_DATA = ("my", "data")
_MAX_DATA_LINE = 80
_DATA_COURTESY = frozenset({"please", "pls", "thanks", "thank", "you", "send", "me"})
_SUBJECT_PREFIX = re.compile(r"^(?:(?:re|fwd?|aw|wg|sv|tr|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    verb: str  # one of VERBS
    pair: str | None = None  # the pair id, as written, for the verbs that take one
    # pair: (mentor, mentee[, YYYY-MM-DD]) normalised addresses; address: (old, new) normalised addresses;
    # forget: (address,) normalised;
    # approve/decline: ("letter", N[, reason]);
    # end: (reason,) when one is given
    args: tuple[str, ...] = ()
    line: str = ""  # the line as written, for the result line of the reply
    number: int = 0  # 1-based, among the lines read as commands (good or bad)
    names: tuple[str, ...] = ()  # pair: (mentor's name, mentee's name) as written ("" for none); () if neither


@dataclass(frozen=True)
class BadCommand:
    line: str
    reason: str  # sent back as is: "unknown command 'pasue' (did you mean 'pause'?)"
    number: int = 0  # as Command.number


def parse_commands(text: str) -> list[Command | BadCommand]:
    """One result per command line, in order."""
    results: list[Command | BadCommand] = []
    for line in _command_lines(text):
        results.append(_parse_line(line, len(results) + 1))
    return results


def is_letter_request(text: str) -> bool:
    """Whether the first lines of a mentor's mail ask for their letter of recognition."""
    for line in _command_lines(text)[:2]:
        folded = fold(line).replace("’", "'").strip(_TRAILING)
        if not _LETTER.search(folded) or _NOT_ASKING.search(folded):
            continue
        if len(folded.split()) <= _SHORT_REQUEST or _ASKING.search(folded):
            return True
    return False


def is_data_request(text: str | None, subject: str | None) -> bool:
    """Whether a mail to the program asks for `my data`: its subject, or the first line of its new
    text (quoted text, greetings and footers skipped as for commands), says that and nothing else
    but courtesy ("My data, please!", "Re: my data", "please send me my data")."""
    if subject is not None and _says_my_data(_SUBJECT_PREFIX.sub("", subject.strip())):
        return True
    lines = _command_lines(text) if text is not None else []
    return bool(lines) and _says_my_data(lines[0])


def _says_my_data(line: str) -> bool:
    if len(line) > _MAX_DATA_LINE:  # a sentence that mentions "my data" is not the request
        return False
    words = re.findall(r"[a-z]+", fold(line))
    # "my data" must be there, in order; around it, courtesy words only.
    for at in range(len(words) - 1):
        if tuple(words[at : at + 2]) == _MY_DATA:
            return all(word in _DATA_COURTESY for word in (*words[:at], *words[at + 2 :]))
    return False


# --- lines -------------------------------------------------------------------------------------


def _command_lines(text: str) -> list[str]:
    """The lines that may be commands: not blank, quoted, a greeting or a footer; up to a signature."""
    if not isinstance(text, str):
        return []
    lines: list[str] = []
    raws = text[:_MAX_INPUT].replace("\r\n", "\n").replace("\r", "\n").splitlines()
    for index, raw in enumerate(raws):
        line = raw.replace("\u200b", "").replace("\ufeff", "").strip()  # kept as written for the result line
        folded = " ".join(fold(line).split())
        if _SIGNATURE.match(raw.strip()) or _QUOTE_HEADER.match(folded):
            break
        # A sign-off ends the commands (the name below it is none), unless it is a "Thanks!" above them.
        if _SIGN_OFF.match(folded):
            if lines or not _verb_of(next((r for r in raws[index + 1 :] if r.strip()), "")):
                break
            continue
        if not line or line.startswith(">") or _MOBILE_FOOTER.match(folded):
            continue
        if _GREETING.match(folded) and not _verb_of(folded):
            continue
        lines.append(line)
    return lines


def _verb_of(line: str) -> str | None:
    words = _words(line)
    return words[0].casefold() if words and words[0].casefold() in VERBS else None


def _words(line: str) -> list[str]:
    return _body(line).split()


def _body(line: str) -> str:
    """The command as written, without a bullet, a "please" or trailing punctuation."""
    return _COURTESY.sub("", _BULLET.sub("", line.strip())).rstrip(_TRAILING)


# --- one command -------------------------------------------------------------------------------


def _parse_line(line: str, number: int) -> Command | BadCommand:
    words = _words(line)
    if not words:
        return BadCommand(line=line, reason="an empty command", number=number)
    verb = words[0].casefold()
    if verb not in VERBS:
        return BadCommand(line=line, reason=_unknown(words[0]), number=number)
    if verb == "pair":  # names have spaces and quotes: the pair's words are read as mailboxes
        made_pair = _pair(_body(line).split(None, 1)[1] if len(words) > 1 else "")
        if isinstance(made_pair, str):
            return BadCommand(line=line, reason=made_pair, number=number)
        args, names = made_pair
        return Command(verb=verb, args=args, line=line, number=number, names=names)
    made = _PARSERS[verb](words[1:])
    if isinstance(made, str):
        return BadCommand(line=line, reason=made, number=number)
    pair, args = made
    return Command(verb=verb, pair=pair, args=args, line=line, number=number)


def _pair_only(verb: str) -> Callable[[list[str]], Parsed]:
    def parse(words: list[str]) -> Parsed:
        if not words:
            return f"{verb} needs a pair id ({USAGE[verb]})"
        if len(words) > 1:
            return f"{verb} takes one pair id, not {_show(' '.join(words))} ({USAGE[verb]})"
        return _pair_id(words[0]) or (words[0], ())

    return parse


def _end(words: list[str]) -> Parsed:
    if not words:
        return f"end needs a pair id ({USAGE['end']})"
    if problem := _pair_id(words[0]):
        return problem
    reason = " ".join(words[1:]).lstrip(" -–—:;,")
    return words[0], ((reason,) if reason else ())


# One mailbox of a `pair` line: `"Ana Álvarez" <ana@x.org>`, `Ana Álvarez <ana@x.org>`, `<ana@x.org>`
# or a bare `ana@x.org`, perhaps followed by a comma. Names cannot hold <, >, @ or an unescaped ".
_MAILBOX = re.compile(
    r"""\s*(?:(?:"(?P<quoted>(?:[^"\\]|\\.){0,200})"|(?P<name>[^<>"@,]{0,200}?))\s*<(?P<angle>[^<>\s]{1,254})>
    |(?P<bare>[^\s<>",;]{1,254}@[^\s<>",;]{1,254}))\s*[,;]?""",
    re.VERBOSE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _pair(text: str) -> tuple[tuple[str, ...], tuple[str, ...]] | str:
    """((mentor, mentee[, start]), (mentor's name, mentee's name)) or why the line is wrong.

    The people are RFC 5322 mailboxes, with or without a name: names are what the program's mail
    greets them by, so a pair made without them has mail that says "Dear and ,".
    """
    mailboxes: list[tuple[str, str]] = []
    at = 0
    while len(mailboxes) < 2 and (match := _MAILBOX.match(text, at)) and match.end() > at:
        address = match["angle"] or match["bare"]
        name = match["quoted"] if match["quoted"] is not None else (match["name"] or "")
        name = " ".join(re.sub(r"\\(.)", r"\1", name).split())
        normalised = normalise(address)
        if normalised is None:
            return f"{_show(address)} is not an email address ({USAGE['pair']})"
        if _CONTROL.search(name):
            return f"the name before {normalised} has a control character in it"
        mailboxes.append((name, normalised))
        at = match.end()
    if len(mailboxes) < 2:
        word = text[at:].split()[:1]
        if word and "@" not in word[0] and mailboxes and not text[at:].lstrip().startswith(("start", "from", "on")):
            return f"{_show(word[0])} is not an email address ({USAGE['pair']})"
        return f"pair needs two addresses ({USAGE['pair']})"
    (mentor_name, mentor), (mentee_name, mentee) = mailboxes
    if mentor == mentee:
        return f"pair needs two different addresses, not {mentor} twice"
    start, problem = _start(text[at:].split())
    if problem:
        return problem
    names = (mentor_name, mentee_name) if mentor_name or mentee_name else ()
    return (mentor, mentee) + ((start,) if start else ()), names


def _start(words: list[str]) -> tuple[str | None, str | None]:
    """(the start date as YYYY-MM-DD or None, why the words after the addresses are wrong or None)."""
    if words and words[0].casefold() in ("start", "starts", "starting", "from", "on"):
        if len(words) == 1:
            return None, f"start needs a date ({USAGE['pair']})"
        words = words[1:]
    if not words:
        return None, None
    if len(words) > 1:
        return None, f"pair takes two addresses and a start date, not {_show(' '.join(words))} ({USAGE['pair']})"
    try:
        if _ISO_DAY.fullmatch(words[0]):
            return date.fromisoformat(words[0]).isoformat(), None
    except ValueError:  # 2026-02-30: the right shape, not a day
        pass
    return None, f"{_show(words[0])} is not a date (write it as YYYY-MM-DD)"


def _forget(words: list[str]) -> Parsed:
    """(None, (address,)) normalised: a person to forget (asked to confirm by the router's effects)."""
    if len(words) != 1:
        return f"forget takes one email address ({USAGE['forget']})"
    normalised = normalise(words[0].strip(",;<>"))
    if normalised is None:
        return f"{_show(words[0])} is not an email address ({USAGE['forget']})"
    return None, (normalised,)


def _address(words: list[str]) -> Parsed:
    """(None, (old, new)) normalised: a person moving to a new address (checked against the roster
    by the store). "address OLD to NEW" reads the same."""
    words = [word for word in words if word.casefold() not in ("to", "->", "→")]
    if len(words) != 2:
        return f"address takes the old and the new email address ({USAGE['address']})"
    addresses = []
    for word in words:
        normalised = normalise(word.strip(",;"))
        if normalised is None:
            return f"{_show(word)} is not an email address ({USAGE['address']})"
        addresses.append(normalised)
    if addresses[0] == addresses[1]:
        return f"address needs two different addresses, not {addresses[0]} twice"
    return None, tuple(addresses)


def _letter(verb: str) -> Callable[[list[str]], Parsed]:
    def parse(words: list[str]) -> Parsed:
        if words and words[0].casefold().rstrip(":") in ("letter", "letters", "request"):
            words = words[1:]
        if words and words[0].casefold() in ("no", "no.", "number", "nr", "nr."):
            words = words[1:]
        if not words:
            return f"{verb} needs a letter number ({USAGE[verb]})"
        match = _LETTER_NUMBER.fullmatch(words[0].rstrip(_TRAILING))
        if match is None:
            return f"{_show(words[0])} is not a letter number ({USAGE[verb]})"
        reason = " ".join(words[1:]).lstrip(" -–—:;,")
        if reason and verb == "approve":
            return f"approve takes only a letter number, not {_show(reason)} ({USAGE[verb]})"
        return None, ("letter", str(int(match["n"]))) + ((reason,) if reason else ())

    return parse


def _help(words: list[str]) -> Parsed:
    return None, ()  # "help me", "help?": the answer is the same


def _pair_id(word: str) -> str | None:
    """Why `word` cannot be a pair id, or None when it can."""
    return None if _PAIR_ID.fullmatch(word) else f"{_show(word)} is not a pair id"


def _unknown(word: str) -> str:
    close = difflib.get_close_matches(word.casefold(), VERBS, n=1, cutoff=0.6)
    if close:
        return f"unknown command {_show(word)} (did you mean '{close[0]}'?)"
    return f"unknown command {_show(word)} (the commands are: {', '.join(VERBS)})"


def _show(text: str) -> str:
    return repr(text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "...")


_PARSERS = {
    **{verb: _pair_only(verb) for verb in _PAIR_VERBS},
    "end": _end,
    "address": _address,
    "forget": _forget,
    "approve": _letter("approve"),
    "decline": _letter("decline"),
    "help": _help,
}
