"""Where the signature of the new text starts: "-- ", sign-offs (the library's and the ones it
lacks, each checked so that "Thanks, ..." starting a sentence survives), mobile and webmail
footers, "-Name", a closing block of contact details, legal disclaimers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailparser_reply.constants import MAIL_LANGUAGES

from .library import _LIB_DISCLAIMER, _LIB_SIGNATURE, _line_of, _probe, _probe_line
from .quote_headers import _LONG_SEPARATOR, _SEPARATOR, _TITLED_RULE

# Mobile and webmail footers the library misses ("Sent from my" and a few others it has).
_EXTRA_FOOTER = re.compile(
    r"^\s*[(<\[]*\s*(?:"
    r"Sent (?:from|via|with|using) [^,;!?.<]{1,50}(?:\s*<[^<>]{1,100}>)?\.?|Sent on the go\b.{0,30}|(?:Sent )?via mobile|"
    r"(?:Get|Download) Outlook for .{1,40}|Télécharger Outlook pour .{1,40}|Outlook für .{1,30}herunterladen|"
    r"Descargar Outlook para .{1,40}|Scarica Outlook per .{1,40}|Outlook voor .{1,30}downloaden|"
    r"Von meinem .{1,40} gesendet.*|Gesendet (?:von|mit) .{1,50}|Diese Nachricht wurde von meinem .{1,80}gesendet\.?|"
    r"Envoy[ée] (?:de|depuis|à partir de) (?:mon|ma|mon|Outlook|Yahoo|Mail) .{1,40}|Obtenir Outlook pour .{1,30}|"
    r"Enviado (?:desde|de|a partir do) (?:mi|meu|o meu|Outlook|Yahoo) .{1,40}|Obtener Outlook para .{1,30}|"
    r"Inviato da .{1,40}|Verzonden (?:vanaf|met) (?:mijn )?.{1,40}|Verstuurd (?:vanaf|met) (?:mijn )?.{1,40}|"
    r"Sendt fra min .{1,40}|Skickat från min .{1,40}|Wysłano z .{1,40}|Odesláno z .{1,40}|"
    r"Отправлено с .{1,40}|从我的.{1,30}发送|從我的.{1,30}傳送|.{1,30}から送信|"
    r"From my (?:iPhone|iPad|Android|mobile|phone|smartphone|BlackBerry).{0,30}|Someone from mobile"
    r")\s*[)>\]]*\s*$",
    re.IGNORECASE,
)
# A signature delimiter: "-- " (the standard), "--", "__" on a line of their own.
_SIG_DELIMITER = re.compile(r"^\s*(?:--|__|—|–)\s*$")
# "-Abhishek Kona": a hyphen glued to a name.
_NAME = r"[A-Z\u00c0-\u024f][\w.'’-]*(?:\s+(?:[A-Z\u00c0-\u024f][\w.'’-]*|de|van|der|den|von|da|di|du|le|la|del|dos|bin)){0,4}"
_GLUED_NAME = re.compile(rf"^\s*-{_NAME}\s*$")
_SPACED_NAME = re.compile(rf"^\s*-\s{_NAME}\s*$")
_NAME_WORD = re.compile(r"^[A-Z\u00c0-\u024f\u0400-\u042f][\w.'’-]*,?$|^[A-Z]\.?$")
# A line with only a name on it, perhaps with a title after a bar or comma ("Jim Smith | Manager").
_NAME_LINE = re.compile(
    r"^\s*[A-Z\u00c0-\u024f\u0400-\u042f][\w.'’-]*(?:\s+[A-Z\u00c0-\u024f\u0400-\u042f][\w.'’-]*){0,3}"
    r"(?:\s*[|,–—-]\s*.{1,60})?\s*$"
)
# An e-mail address, a phone number or a web address on a signature line.
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|\+?\(?\d[\d ().-]{6,}\d|https?://\S+|www\.\S+", re.IGNORECASE)
# Sign-offs the library lacks (it has en, de, cs, da, es, fr, it, ko, nl, pl, sv, zh).
_EXTRA_SIGNOFF = re.compile(
    r"^\s*(?:Cheers|Regards|Best wishes|Warm(?:est)? regards|Warmly|Sincerely|Yours(?: sincerely| truly)?|"
    r"Many thanks|Thanks(?: so much| again| a lot)?|Thank you(?: so much| again)?|Take care|"
    r"Liebe Grüße|Schöne Grüße|Herzliche Grüße|LG|VG|MfG|Danke(?: schön)?|"
    r"Bien à (?:vous|toi)|Bien cordialement|Merci(?: beaucoup)?|Amitiés|Bises|"
    r"Un saludo|Saludos|Atentamente|Atenciosamente|Cumprimentos|Abraços?|Obrigad[oa]|"
    r"Saluti|Grazie(?: mille)?|Groeten|Mvg|Hartelijke groet|"
    r"С уважением|Спасибо|Üdvözlettel|Udvozlettel|Köszönöm|Ystävällisin terveisin|Terveisin|"
    r"Med vennlig hilsen|Vennlig hilsen)\b",
    re.IGNORECASE,
)
# Legal footers that mark the end of what the person wrote.
_DISCLAIMER_HEAD = re.compile(
    r"^\s*\**\s*(?:Disclaimer\b|Confidentiality (?:notice|note|statement)\b|CONFIDENTIAL(?:ITY)?\b\s*:?\s*$|"
    r"(?:This|The) (?:e-?mail|message|communication|information)(?: and any (?:files|attachments)[^.]{0,60})?"
    r"\s+(?:\(.{0,40}\)\s+)?(?:is|are|may be|contained|transmitted)\b.{0,80}\b(?:confidential|privileged|intended)|"
    r"The information (?:contained )?in this (?:e-?mail|message|communication)|"
    r"Diese (?:E-Mail|Nachricht) (?:enthält|ist) vertraulich|Ce (?:message|courriel)\b.{0,40}\bconfidentiel)",
    re.IGNORECASE,
)
# Lines that look like numbered answers: a sign-off is not followed by them.
_NUMBERED = re.compile(r"^\s*(?:Q\s*)?\d{1,2}\s*[.):]\s*\S", re.IGNORECASE)


_SIGNOFF_KEYWORD = re.compile(
    r"^(?:> ?)*(?:"
    + "|".join(f"(?:{pattern})" for lang in MAIL_LANGUAGES.values() for pattern in lang.get("signatures", []))
    + ")",
    re.IGNORECASE,
)


def _signature_like(line: str) -> bool:
    """What follows a sign-off: a name, a rule, a footer, contact details, a logo."""
    stripped = line.strip()
    return (
        _looks_like_name(stripped.strip("*_ "))
        or bool(_SEPARATOR.match(stripped) or _TITLED_RULE.match(stripped) or _SIG_DELIMITER.match(stripped))
        or bool(_EXTRA_FOOTER.match(stripped) or _EXTRA_SIGNOFF.match(stripped) or _SIGNOFF_KEYWORD.match(stripped))
        or (len(stripped) <= 80 and bool(_CONTACT.search(stripped)))
        or stripped.startswith(("![", "<", "[", "(", "/"))
    )


def _signoff_ok(line: str, keyword_end: int, numbered_below: bool, next_line: str | None) -> bool:
    """A word sign-off ("Thanks,", "Best regards", "Pozdrawiam") starts a signature only on a short
    line (the keyword and at most a name), with nothing or a signature below it (a name, a rule,
    contact details), and not above numbered answers: "Thanks!\n\nHere are my answers" goes on."""
    line = line.strip()
    if len(line) > 60 or numbered_below:
        return False
    if next_line is not None and not _signature_like(next_line):
        return False
    rest = line[keyword_end:].strip(" ,.!-–—:;")
    words = [w for w in rest.split() if any(ch.isalpha() for ch in w)]
    if len(words) > 3 or not all(_NAME_WORD.match(w) for w in words):
        return False
    return not any(ch.isdigit() for ch in rest)


@dataclass
class _Below:
    """Facts about the lines below each line (suffix tables), so that every rule is O(1) a line."""

    nonblank: list[int]  # non-blank lines from i to the end
    numbered: list[bool]  # a numbered answer ("2. yes") from i to the end
    hyphen: list[bool]  # a line starting with "-" from i to the end
    long: list[bool]  # a line longer than 100 characters from i to the end
    next_line: list[int]  # the first non-blank line from i on (len(lines) if none)
    last_paragraph: int  # where the last run of non-blank lines begins

    def line_after(self, lines: list[str], i: int) -> str | None:
        following = self.next_line[i + 1]
        return lines[following] if following < len(lines) else None

    @classmethod
    def of(cls, lines: list[str]) -> _Below:
        n = len(lines)
        nonblank, numbered, hyphen, long = [0] * (n + 1), [False] * (n + 1), [False] * (n + 1), [False] * (n + 1)
        next_line = [n] * (n + 2)
        for i in range(n - 1, -1, -1):
            stripped = lines[i].strip()
            next_line[i] = i if stripped else next_line[i + 1]
            nonblank[i] = nonblank[i + 1] + (1 if stripped else 0)
            numbered[i] = numbered[i + 1] or bool(_NUMBERED.match(stripped))
            hyphen[i] = hyphen[i + 1] or stripped.startswith("-")
            long[i] = long[i + 1] or len(stripped) > 100
        last = n
        while last > 0 and lines[last - 1].strip():
            last -= 1
        return cls(nonblank, numbered, hyphen, long, next_line, last)


def _own_signature_start(lines: list[str], text_start: bool, below: _Below) -> int | None:
    """Our rules, line by line: "-- ", mobile footers, "-Name", a long rule above a short block,
    a legal disclaimer, sign-offs the library lacks, a closing block of contact details."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if _SIG_DELIMITER.match(line):
            # "Ana\n-- \nAna Alvarez": the name right above the delimiter goes with it.
            if i > 0 and _looks_like_name(lines[i - 1]) and (not text_start if i == 1 else not lines[i - 2].strip()):
                return i - 1
            return i
        if i == 0 and text_start:
            continue  # the first line of a reply is what the person wrote, whatever it looks like
        previous_blank = i == 0 or not lines[i - 1].strip()
        if len(stripped) <= 90 and _EXTRA_FOOTER.match(stripped):
            # "Stavros X.\nvia mobile": the name right above the footer goes with it.
            if i > 0 and _looks_like_name(lines[i - 1]) and (i > 1 or not text_start):
                return i - 1
            return i
        if _GLUED_NAME.match(line) and (previous_blank or below.nonblank[i] == 1) and not below.hyphen[i + 1]:
            return i
        if _SPACED_NAME.match(line) and previous_blank and below.nonblank[i] == 1:
            return i
        if _LONG_SEPARATOR.match(line) and 0 < below.nonblank[i] - 1 <= 10 and not below.long[i + 1]:
            return i
        if _DISCLAIMER_HEAD.match(stripped):
            return i
        match = _EXTRA_SIGNOFF.match(stripped)
        if match and _signoff_ok(stripped, match.end(), below.numbered[i + 1], below.line_after(lines, i)):
            return i
        if i == below.last_paragraph and i > 0 and _contact_block(lines[i:]):
            return i
    return None


_ANSWER_WORDS = frozenset(
    "yes no maybe ok okay none n/a ja nein vielleicht oui non peut-être sí si no quizás sim não "
    "nee misschien tak nie ano ne igen nem kyllä ei да нет".split()
)


def _looks_like_name(line: str) -> bool:
    """A line with only a name on it (not an answer such as "Yes")."""
    stripped = line.strip().rstrip(".,!")
    return bool(stripped) and stripped.lower() not in _ANSWER_WORDS and bool(_NAME_LINE.match(line))


def _contact_block(lines: list[str]) -> bool:
    """A closing block that is a signature without a delimiter: a name line, then a few short
    lines with an address, a phone number or a web site ("Gina X\ngina@example.com\n(555) ...")."""
    rest = [line.strip() for line in lines if line.strip()]
    if len(rest) != len(lines) or not 2 <= len(rest) <= 8 or any(len(line) > 80 for line in rest):
        return False
    if not _looks_like_name(rest[0]):
        return False
    # "Jim Smith | Enrollment Manager": a business card even without an address or number.
    return any(_CONTACT.search(line) for line in rest[1:]) or (" | " in rest[0] and len(rest) <= 4)


def _library_signature_start(lines: list[str], text_start: bool, below: _Below) -> int | None:
    """The library's signature pattern (sign-offs in its languages, Outlook separators, "Sent
    from my ..."), each hit checked so that a sentence starting "Thanks, ..." survives."""
    n = len(lines)
    probe, offsets = _probe(lines)
    position = 0
    for _ in range(50):
        match = _LIB_SIGNATURE.search(probe, position)
        if not match:
            return None
        start = match.start()
        while start < len(probe) and probe[start] in " \t\n":
            start += 1
        index = _line_of(offsets, start)
        if index >= n:
            return None
        line = _probe_line(lines[index])
        keyword = _SIGNOFF_KEYWORD.match(line)
        if (index > 0 or not text_start) and (
            keyword is None
            or _signoff_ok(line, keyword.end(), below.numbered[index + 1], below.line_after(lines, index))
        ):
            return index
        if index + 1 >= n:
            return None
        position = offsets[index + 1]
    return None


def _signature_start(lines: list[str], text_start: bool = True) -> int | None:
    """Where the signature of these lines (new text, unquoted) begins, or None. `text_start`: the
    lines begin the reply (its first line is never taken for a sign-off)."""
    below = _Below.of(lines)
    found = [
        start
        for start in (
            _own_signature_start(lines, text_start, below),
            _library_signature_start(lines, text_start, below),
        )
        if start is not None
    ]
    return min(found) if found else None


def _drop_disclaimers(text: str) -> str:
    if len(text) > 20_000:
        return text
    try:
        for disclaimer in _LIB_DISCLAIMER.findall(text):
            if disclaimer.strip():
                text = text.replace(disclaimer.strip(), "")
    except Exception:
        return text
    return text
