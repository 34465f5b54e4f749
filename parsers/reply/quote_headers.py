"""Where a quoted original starts: quote headers ("On <date>, <name> wrote:" in many languages
and word orders, Outlook's "From: ... Sent: ..." block, "-----Original Message-----"), from the
library's patterns and the ones it misses; and the separator rules that go with them.
"""

from __future__ import annotations

import re

from .library import _LIB_HEADER, _line_of, _probe

# Quote headers mail-parser-reply misses (each found in the shared corpus or a common client).
# The verbs of "<someone> wrote:" in the languages our participants write in, and some more.
_WROTE = (
    r"wrote|writes|schrieb|a\s+[ée]crit|escribi[óo]|escreveu|schreef|ha\s+scritto|scrisse|skrev|"
    r"kirjoitti|napsal(?:\(a\))?|napisa[łl](?:\(a\))?|nadesłał|írta|написал(?:\(а\))?|пишет|"
    r"yazdı|pisze|έγραψε|כתב|كتب"
)
_EXTRA_HEADER_LINE = re.compile(
    # "On <date>, <name> wrote:" in any language and word order ("In data ... ha scritto:",
    # "tir. 18. apr. 2017 kl. 13:09 skrev ...:", "Em ... escreveu:", "<name> schrieb am <date>:"),
    # also after Zoho's dashes ("---- On ... wrote ----"). A real one always has a date or an address.
    rf"^(?=[^\n]*[\d@])[-\s]*.{{0,300}}?\b(?:{_WROTE})"
    rf"(?:\s+(?:am|on|le|el|em|op|il|den)\b.{{0,200}}|\s+[^<>\n]{{0,100}}<\s*[^<>\s]+@[^<>\s]+>|\s*\([^()]{{0,80}}\))?"
    r"\s*[:：]\s*$"
    rf"|^(?=[^\n]*[\d@])\s*-{{2,}}\s*(?:On|Am|Le|El|Em|Op|Il)\b.{{0,300}}?\b(?:{_WROTE})\s*:?\s*-{{2,}}\s*$"
    # ... and without the colon, when the address is there: "On <date> John <j@example.com> wrote"
    rf"|^(?=[^\n]*\d)(?:On|Am|Le|El|Em|Op|Il)\b.{{0,300}}@.{{0,100}}\b(?:{_WROTE})\s*$"
    # Date first, no verb: "ср, 30 апр. 2025 г. в 15:19, John Doe <doe@example.com>:",
    # "30.09.2017, 18.30, "John - Doe" <j@example.com>:", "2017-12-22 10:35 GMT-02:00 Abhishek <a@b.c>:"
    r"|^(?=[^\n]*\d).{0,250}<[^<>\s@]+@[^<>\s]+>\)?\s*[:：]\s*$"
    # Gmail's old date-first header, without the colon: "2013/7/20 sam via Discourse <info@discourse.org>"
    r"|^\d{4}[/.-]\d{1,2}[/.-]\d{1,2}\s+.{0,200}<[^<>@\s]+@[^<>\s]+>\s*$"
    # Japanese: "2012年4月3日 16:23 bob <bob@example.com>:", with or without the weekday
    r"|^\d{4}年\d{1,2}月\d{1,2}日.{0,200}(?:<[^<>]+>|のメッセージ|書きました)\s*[:：]?\s*$"
    # Chinese: "... 在 2026年2月29日 ... 写道：" (the library wants the date first)
    r"|^.{0,200}(?:写道|寫道)\s*[:：]\s*$"
    # Outlook/Yahoo/Gmail separators in many languages
    r"|^\s*[-_=*]{2,}\s*(?:Original Message|Originalnachricht|Ursprüngliche Nachricht|"
    r"Message d'origine|Mensaje original|Mensagem original|Messaggio originale|Oorspronkelijk bericht|"
    r"Oprindelig meddelelse|Opprinnelig melding|Ursprungligt meddelande|Alkuperäinen viesti|"
    r"Wiadomość oryginalna|Původní zpráva|Eredeti üzenet|Исходное сообщение|Forwarded message|"
    r"Weitergeleitete Nachricht|Message transféré|Mensaje reenviado|Mensagem encaminhada|Reply message)"
    r"\s*[-_=*]{2,}\s*$"
    r"|^\s*(?:Begin forwarded message|Anfang der weitergeleiteten Nachricht|Début du message réexpédié)\s*:\s*$",
    re.IGNORECASE,
)
# How the first line of a wrapped quote header begins: an intro word, a date, a weekday and a
# date, a name with its address.
_HEADER_START = re.compile(
    r"^[-\s]*(?:(?:On|Am|Le|El|Em|Op|Il|In data|Den|Dne|Dnia|W dniu|Kl\.?|Klo)\b|\d|[^\W\d]{2,4}\.?,?\s+\d)"
    r"|<[^<>\s]*@|\($",
    re.IGNORECASE,
)
# One field of a quoted message's header block ("From: ...", "Envoyé le : ..."), many languages.
_HEADER_FIELD = re.compile(
    r"^\s*\**\s*(?:From|Sent|To|Cc|Bcc|Date|Subject|Reply-To|"
    r"Von|Gesendet|An|Betreff|Datum|Antwort an|"
    r"De|Envoy[ée](?: le| par)?|[ÀA]|Objet|Date d'envoi|Répondre à|Message du|Copie à|Sujet|"
    r"Para|Enviado(?: el| em)?|Enviada em|Asunto|Fecha|Assunto|Data|Responder a|"
    r"Da|Inviato|Oggetto|Van|Verzonden|Aan|Onderwerp|"
    r"Fra|Sendt|Til|Emne|Från|Skickat|Till|Ämne|Od|Wysłano|Do|Temat|DW|Odesláno|Komu|Předmět|Kopie|"
    r"Feladó|Elküldve|Címzett|Tárgy|Dátum|Lähettäjä|Lähetetty|Vastaanottaja|Aihe|"
    r"От|Отправлено|Кому|Тема|Дата|Копия|"
    r"差出人|送信日時|宛先|件名|发件人|发送时间|收件人|主题|抄送|寄件者|傳送時間|收件者|主旨)\s*\**\s*[:：]",
    re.IGNORECASE,
)
_FROM_FIELD = re.compile(
    r"^\s*\**\s*(?:From|Von|De|Van|Fra|Från|Od|Feladó|Lähettäjä|От|差出人|发件人|寄件者|Da)\s*\**\s*[:：]",
    re.IGNORECASE,
)
# The first line of a forwarded or "original" message: what follows was not written by the sender.
_FORWARD_MARK = re.compile(
    r"^\s*(?:[-_=*]{2,}\s*(?:Original Message|Originalnachricht|Ursprüngliche Nachricht|Message d'origine|"
    r"Mensaje original|Mensagem original|Messaggio originale|Oorspronkelijk bericht|Oprindelig meddelelse|"
    r"Forwarded message|Weitergeleitete Nachricht|Message transféré|Mensaje reenviado|Mensagem encaminhada)"
    r"|Begin forwarded message|Anfang der weitergeleiteten Nachricht|Début du message réexpédié|"
    r"(?:[-_=*~—–─━＿]\s*){5,}$)",
    re.IGNORECASE,
)
# A line that continues a header field: "<address>", "[mailto:...]".
_FIELD_CONTINUATION = re.compile(r"^\s*[<(\[].{0,150}$|^\S{1,100}@\S{1,100}$")
_SEPARATOR = re.compile(r"^\s*(?:[-_=*~—–─━＿]\s*){5,}$")
# A rule with a title in it ("-------- Oprindelig besked --------"), or a short rule ("====").
_TITLED_RULE = re.compile(r"^\s*[-_=*]{3,}\s*[^-_=*\s][^-_=*]{0,40}?\s*[-_=*]{3,}\s*$|^\s*[-_=*~—–]{3,}\s*$")
_LONG_SEPARATOR = re.compile(r"^\s*(?:[-_=*~—–─━＿]\s*){10,}$")


def _field_block(probe_lines: list[str], i: int) -> int | None:
    """The last line of a header block ("From: ...", "Sent: ...", ...) starting at line i, or None."""
    n = len(probe_lines)
    fields = 1
    has_from = bool(_FROM_FIELD.match(probe_lines[i]))
    j = i
    while j + 1 < n:
        nxt = probe_lines[j + 1]
        if _HEADER_FIELD.match(nxt):
            fields += 1
            has_from = has_from or bool(_FROM_FIELD.match(nxt))
            j += 1
        elif j + 2 < n and _HEADER_FIELD.match(probe_lines[j + 2]) and (not nxt or _FIELD_CONTINUATION.match(nxt)):
            j += 1  # a blank line or a wrapped address between two fields
        else:
            break
    after_separator = i > 0 and bool(_SEPARATOR.match(probe_lines[i - 1]))
    starts_with_from = bool(_FROM_FIELD.match(probe_lines[i]))
    if fields >= 2 and (starts_with_from or after_separator or (fields >= 3 and has_from)):
        return j
    return None


def _header_spans(lines: list[str]) -> dict[int, int]:
    """Quote headers: {first line: last line}, from the library's patterns and ours."""
    probe, offsets = _probe(lines)
    spans: dict[int, int] = {}
    for match in _LIB_HEADER.finditer(probe):
        start = match.start()
        # The library's patterns may begin with the newline before the header.
        while start < match.end() and probe[start] == "\n":
            start += 1
        end = match.end()
        while end > start and probe[end - 1] == "\n":
            end -= 1
        if end <= start:
            continue
        first, last = _line_of(offsets, start), _line_of(offsets, end - 1)
        spans[first] = max(last, spans.get(first, first))
    probe_lines = probe.split("\n")
    n = len(probe_lines)
    i = 0
    while i < n:
        line = probe_lines[i]
        if not line or line.startswith(">"):
            i += 1
            continue
        if _EXTRA_HEADER_LINE.match(line):
            spans[i] = max(i, spans.get(i, i))
            i += 1
            continue
        # A header wrapped over two or three lines ("On Nov 21, 2014,\nat 10:18,\nJohn <j@x> wrote:").
        # Only from a line that can begin one, so that the reply's last line is not taken into it.
        for k in (1, 2) if _HEADER_START.search(line) else ():
            if i + k >= n or not probe_lines[i + k] or probe_lines[i + k].startswith(">"):
                break
            if _EXTRA_HEADER_LINE.match(" ".join(probe_lines[i : i + k + 1])):
                spans[i] = max(i + k, spans.get(i, i))
                break
        if i in spans:
            i = spans[i] + 1
            continue
        if _HEADER_FIELD.match(line):
            last = _field_block(probe_lines, i)
            if last is not None:
                spans[i] = max(last, spans.get(i, i))
                i = last + 1
                continue
        i += 1
    # A separator line right above a header (or a blank line above) belongs to it.
    for first in sorted(spans):
        for above in (first - 1, first - 2):
            if above < 0 or above in spans or (above == first - 2 and probe_lines[first - 1]):
                continue
            if _SEPARATOR.match(probe_lines[above]) or _TITLED_RULE.match(probe_lines[above]):
                spans[above] = spans.pop(first)
                break
    return spans
