"""Reading a reply: the new text a person wrote, without what they quoted.

- `body_text(raw)`: the message's text. The text/plain part, else the text/html part turned into
  text (line structure kept; a blockquote comes out quoted with "> "). Any charset; a broken or
  unknown one falls back (UTF-8, then Windows-1252) instead of raising. Attachments are ignored.
- `strip_quotes(text)`: only the new text. The quoted original goes, with its "On ... wrote:"
  header (in every language mail-parser-reply knows, and the few more listed below), Outlook's
  "-----Original Message-----" and "From: ... Sent: ..." blocks, the signature ("-- " block,
  sign-offs such as "Best regards,") and mobile footers ("Sent from my iPhone", "Von meinem
  iPhone gesendet", "Get Outlook for Android").
- `interleaved(text)`: the reply as (quoted block or None, new text) pairs, in order, so that a
  caller can match answers typed under each quoted question of a survey.
- `new_text(raw)`: `body_text` then `strip_quotes`, as a `Reply`.

The language knowledge (quote headers, sign-offs, disclaimers) is mail-parser-reply's: its
regular expressions find the candidates, and this module adds what it misses (see `_EXTRA_*`)
and the decisions it does not make: text typed *under* a quote is kept (an inline answer), a
header at the very top is not a cut, a word sign-off only counts as one when the line is short.

Pure: no I/O, no clock. Nothing here raises on any input, and the work is bounded: the text is
clipped (`MAX_TEXT` characters, `MAX_LINES` lines), and the library's regular expressions only
ever see lines clipped to `_PROBE_LINE` characters with runs of blank lines and spaces squeezed
(some of its patterns are quadratic on long runs of newlines or very long lines).
"""

from __future__ import annotations

import bisect
import codecs
import quopri
import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser
from html.parser import HTMLParser

from mailparser_reply import EmailMessage, EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES

# Nobody answers a survey with more than this; what lies beyond is a quoted thread or an attack.
MAX_TEXT = 200_000
# Nor with more lines than this (non-blank, or one blank between): MAX_TEXT's worth of lines of
# ordinary length. The work is per line, and 200,000 characters of short lines took seconds (a
# fuzz finding).
MAX_LINES = 5_000
# Raw messages larger than this are clipped before MIME parsing (attachments live at the end).
MAX_RAW = 5_000_000
# And at their this-many-th MIME boundary: the standard parser's work grows with the square of the
# nesting (a thousand levels took 0.6 s, a fuzz finding), and `_text_parts` reads 20 levels and
# 500 parts at most anyway. A reply to the program has a handful.
MAX_BOUNDARIES = 200
# A part's Content-Type or Content-Disposition is read up to this length (see `_clip_parameters`).
MAX_PARAMETERS = 2_000
_BOUNDARY_PARAMETER = re.compile(rb"boundary\s*=", re.IGNORECASE)
# HTML is markup-heavy: this much of it is read (a megabyte of markup is far more than a reply).
MAX_HTML = 1_000_000
# The longest line the quote-header and signature patterns are shown. A quote header is far
# shorter; content lines longer than this still reach the result in full.
_PROBE_LINE = 400


@dataclass(frozen=True)
class Reply:
    """What a person wrote in a reply, and nothing they quoted."""

    text: str


# --------------------------------------------------------------------------------------------
# body_text: the message's text
# --------------------------------------------------------------------------------------------

_BYTES_PARSER = BytesParser(policy=policy.compat32)

# Declared charsets that mean something else in practice (what mail clients and browsers do).
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "big5": "big5hkscs",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
}
# Japanese mail labelled iso-2022-jp often carries the Microsoft/NEC extensions.
_CHARSET_FALLBACKS = {
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_3", "iso2022_jp_2004"),
}


def _codec(name: str | None) -> str | None:
    """A Python codec for a declared charset, or None when there is no such codec."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes in a declared charset; a wrong or unknown charset falls back, never raises."""
    declared = (charset or "").strip().strip("\"'").lower()
    tries: list[str] = []
    codec = _codec(charset)
    if codec in (None, "cp1252", "ascii", "latin-1", "iso8859-1"):
        # Mislabelled UTF-8 is far more common than Latin-1 that happens to be valid UTF-8.
        tries.append("utf-8")
    tries.extend(_CHARSET_FALLBACKS.get(declared, ()))
    if codec:
        tries.append(codec)
    tries += ["utf-8", "cp1252"]
    for name in tries:
        try:
            return data.decode(name)
        except (UnicodeError, LookupError, ValueError):
            continue
    # cp1252 leaves five bytes undefined; latin-1 takes any byte.
    try:
        return data.decode(codec, errors="replace") if codec else data.decode("latin-1")
    except Exception:  # a bytes-to-bytes "charset" such as base64_codec
        return data.decode("latin-1")


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: take the raw payload
        payload = part.get_payload()
    if payload is None:
        return ""
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogateescape")
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_param("charset")
    except Exception:
        charset = None
    if isinstance(charset, tuple):  # an RFC 2231 parameter
        charset = charset[2] if len(charset) == 3 else None
    text = decode_bytes(payload, charset if isinstance(charset, str) else None)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if part.get_content_subtype() == "plain" and _param(part, "format") == "flowed":
        text = unflow(text, delsp=_param(part, "delsp") == "yes")
    return text


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:
        return ""
    return value.strip().lower() if isinstance(value, str) else ""


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
    except Exception:
        return True
    return disposition == "attachment" or (bool(filename) and disposition != "inline")


def _text_parts(msg: Message, into_messages: bool = False) -> tuple[list[Message], list[Message]]:
    """The body's text/plain and text/html leaves, in order; attachments and attached messages
    (message/rfc822, unless `into_messages`) left out. In multipart/alternative, each kind is
    taken from its best alternative only."""
    plain: list[Message] = []
    html: list[Message] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > 500 or depth > 20:  # a MIME bomb: what was found so far will do
            break
        _clip_parameters(part)
        ctype = part.get_content_type()
        if part.is_multipart():
            if _is_attachment(part) or (ctype == "message/rfc822" and not into_messages):
                continue
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if ctype == "multipart/alternative":
                # The last alternative is the richest; a text/plain one is what we want most.
                plains = [c for c in children if c.get_content_type() == "text/plain" and not _is_attachment(c)]
                htmls = [c for c in children if c.get_content_type() == "text/html" and not _is_attachment(c)]
                nested = [c for c in children if c.is_multipart()]
                if plains:
                    plain.append(plains[0])
                if htmls:
                    html.append(htmls[-1])
                if not plains and not htmls:
                    stack.extend((c, depth + 1) for c in reversed(nested))
                continue
            stack.extend((c, depth + 1) for c in reversed(children))
            continue
        if _is_attachment(part):
            continue
        if ctype == "text/plain":
            plain.append(part)
        elif ctype == "text/html":
            html.append(part)
    return plain, html


def _clip_parameters(part: Message) -> None:
    """Content-Type and Content-Disposition clipped to MAX_PARAMETERS characters: the standard
    library reads their parameters in time that grows with the square of their length (143 KB of
    "charset=x; " took 2 s, a fuzz finding); real ones are a line or two."""
    for name in ("Content-Type", "Content-Disposition"):
        value = part.get(name)
        if isinstance(value, str) and len(value) > MAX_PARAMETERS:
            part.replace_header(name, value[:MAX_PARAMETERS])


def body_text(raw: bytes) -> str:
    """The message's text: its text/plain part(s), else its text/html part(s) as text; "" if none."""
    try:
        msg = _BYTES_PARSER.parsebytes(_clip_mime(raw[:MAX_RAW]))
        plain, html = _text_parts(msg)
        if not plain and not html:
            # Nothing but a message inside (a forward as message/rfc822, a digest): read that.
            plain, html = _text_parts(msg, into_messages=True)
        if plain:
            text = "\n".join(_part_text(p) for p in plain)
        elif html:
            text = "\n".join(html_to_text(_part_text(p)) for p in html)
        else:
            return ""
        return text.strip("\n")
    except Exception:  # the stdlib parser is lenient; this is a last line of defence
        return ""


def _clip_mime(raw: bytes) -> bytes:
    """`raw` up to its MAX_BOUNDARIES-th boundary parameter (all of it, when it has fewer)."""
    for count, match in enumerate(_BOUNDARY_PARAMETER.finditer(raw), start=1):
        if count == MAX_BOUNDARIES:
            return raw[: match.start()]
    return raw


def unflow(text: str, delsp: bool = False) -> str:
    """RFC 3676 format=flowed: join soft-broken lines (ending in a space) of the same quote depth."""
    out: list[str] = []
    current: str | None = None
    current_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        body = line[depth:]
        if body.startswith(" "):
            body = body[1:]  # space-stuffing
        if current is not None and depth == current_depth:
            current += body
        else:
            if current is not None:
                out.append("> " * current_depth + current if current_depth else current)
            current, current_depth = body, depth
        if body.endswith(" ") and body.rstrip(" ") != "--":
            if delsp:
                current = current[:-1]
            continue
        out.append("> " * current_depth + current if current_depth else current)
        current = None
    if current is not None:
        out.append("> " * current_depth + current if current_depth else current)
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# HTML to text
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# strip_quotes: the new text only
# --------------------------------------------------------------------------------------------

# Every language mail-parser-reply has ("david" is a mail client's header, not a language).
_LANGUAGES = list(MAIL_LANGUAGES)
_LIBRARY = EmailReplyParser(languages=_LANGUAGES)
_PATTERNS = EmailMessage(text="", languages=list(_LIBRARY.languages), keep_hyphen_lists=True)
_LIB_HEADER = _PATTERNS.HEADER_REGEX
_LIB_SIGNATURE = _PATTERNS.SIGNATURE_REGEX
_LIB_DISCLAIMER = _PATTERNS.DISCLAIMERS_REGEX

_QUOTED = re.compile(r"^\s*>")
_QUOTE_MARKS = re.compile(r"^(?:\s*>)+ ?")

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


_SQUEEZE = re.compile(r"[ \t]{4,}")


def _probe_line(line: str) -> str:
    return _SQUEEZE.sub("   ", line.strip()[:_PROBE_LINE])


def _probe(lines: list[str]) -> tuple[str, list[int]]:
    """What the library's patterns see: stripped lines, clipped, spaces squeezed; with each line's
    offset so that a match maps back to a line number."""
    offsets: list[int] = []
    out: list[str] = []
    position = 0
    for line in lines:
        short = _probe_line(line)
        offsets.append(position)
        out.append(short)
        position += len(short) + 1
    return "\n".join(out), offsets


def _line_of(offsets: list[int], position: int) -> int:
    return max(0, bisect.bisect_right(offsets, position) - 1)


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


def _is_quoted(line: str) -> bool:
    return bool(_QUOTED.match(line))


def _unquote(line: str) -> str:
    return _QUOTE_MARKS.sub("", line, count=1)


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


def _trim_tail(lines: list[str]) -> list[str]:
    """Drop trailing blank and separator lines."""
    while lines and (not lines[-1].strip() or _SEPARATOR.match(lines[-1]) or _TITLED_RULE.match(lines[-1])):
        lines.pop()
    return lines


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


def new_text(raw: bytes) -> Reply:
    """What the person wrote in this message: `strip_quotes(body_text(raw))`."""
    return Reply(text=strip_quotes(body_text(raw)))
