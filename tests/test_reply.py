"""parsers/reply.py: the new text of a reply, from every client style a participant may use.

Each test is one scenario (a mail client's habit, a language, a charset). The corpus figures
(how often the new text comes out clean on other projects' fixtures) are in
tests/test_corpus_replies.py.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentormail.parsers.reply import Reply, body_text, html_to_text, interleaved, new_text, strip_quotes

PROGRAM = "Mentoring Program <program+t0k3n@example.org>"


def message(body: str, subtype: str = "plain", charset: str = "utf-8", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ana Álvarez <ana@example.org>"
    msg["To"] = PROGRAM
    msg["Subject"] = "Re: Your feedback, please"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body, subtype=subtype, charset=charset)
    return msg.as_bytes()


def raw_message(body: bytes, content_type: str, cte: str = "8bit") -> bytes:
    head = (
        "From: Ana <ana@example.org>\r\nTo: program@example.org\r\nSubject: Re: check-in\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
    )
    return head.encode("ascii") + body


# --- Where the new text is -------------------------------------------------------------------


def test_top_posted_reply_above_a_gmail_quote() -> None:
    raw = message(
        "Yes, Thursday works for me.\n\n"
        "On Mon, 2 Nov 2026 at 09:00, Mentoring Program <program+t0k3n@example.org> wrote:\n"
        "> When can you two meet this month?\n"
        ">\n"
        "> Thanks,\n"
        "> The coordinators\n"
    )
    reply = new_text(raw)
    assert reply == Reply(text="Yes, Thursday works for me.")
    assert interleaved(body_text(raw)) == [(None, "Yes, Thursday works for me.")]


def test_answers_typed_inline_under_quoted_questions_are_kept() -> None:
    text = (
        "> 1. How useful were the meetings (1-5)?\n"
        "4\n"
        "> 2. Did you meet at least once a month?\n"
        "yes\n"
        "> 3. Anything else?\n"
        "\n"
        "More structure in the first month.\n"
    )
    assert strip_quotes(text) == "4\n\nyes\n\nMore structure in the first month."
    assert interleaved(text) == [
        ("1. How useful were the meetings (1-5)?", "4"),
        ("2. Did you meet at least once a month?", "yes"),
        ("3. Anything else?", "More structure in the first month."),
    ]


def test_inline_answers_below_an_attribution_line_keep_it_out_of_both() -> None:
    text = (
        "Hi,\n\n"
        "On Mon, 2 Nov 2026 at 09:00, Mentoring Program <program@example.org> wrote:\n"
        "> 1. How useful were the meetings (1-5)?\n"
        "4\n"
        "> 2. Would you recommend the program?\n"
        "Yes!\n"
        "> Thank you for taking part.\n"
        "> The committee\n"
        "\n"
        "Ana\n"
        "-- \n"
        "Ana Álvarez\n"
        "Sent from my iPhone\n"
    )
    assert interleaved(text) == [
        (None, "Hi,"),
        ("1. How useful were the meetings (1-5)?", "4"),
        ("2. Would you recommend the program?", "Yes!"),
        ("Thank you for taking part.\nThe committee", ""),
    ]
    assert strip_quotes(text) == "Hi,\n\n4\n\nYes!"


def test_bottom_posted_reply_under_the_quote() -> None:
    text = "On 04/02/2012 06:26 PM, Program wrote:\n> How did it go?\n\nVery well, we talked about interviews.\n"
    assert strip_quotes(text) == "Very well, we talked about interviews."


def test_a_quote_wrapped_again_by_the_client_is_not_taken_for_an_answer() -> None:
    text = (
        "Fine by me.\n\n"
        "> 1. Please describe the goals you set with your mentee at the first meeting and\n"
        "whether you reached them\n"
        "> 2. Anything else?\n"
        "No.\n"
    )
    assert interleaved(text) == [
        (None, "Fine by me."),
        (
            "1. Please describe the goals you set with your mentee at the first meeting and\n"
            "whether you reached them\n"
            "2. Anything else?",
            "No.",
        ),
    ]


def test_a_forward_with_nothing_written_above_it_is_not_new_text() -> None:
    text = (
        "---------- Forwarded message ---------\nFrom: Mentoring Program <program@example.org>\n"
        "Date: Mon, Nov 2, 2026 at 9:00 AM\nSubject: Feedback\nTo: Ana <ana@example.org>\n\n"
        "Reply with one answer per line, for example:\n1. 4\n2. yes\n"
    )
    assert strip_quotes(text) == ""
    assert strip_quotes("FYI, see below.\n\n" + text) == "FYI, see below."


def test_a_header_pasted_at_the_very_top_is_not_a_cut() -> None:
    text = "Von: Ana <ana@example.org>\nGesendet: Montag, 2. November 2026\nAn: Programm\nBetreff: Anruf\n\nWir haben telefoniert.\n"
    assert strip_quotes(text) == "Wir haben telefoniert."


# --- Quote headers in other languages and from Outlook ---------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Am 02.11.2026 um 09:00 schrieb Mentoring Program <program@example.org>:", id="de"),
        pytest.param("Mentoring Program <program@example.org> schrieb am Mo., 2. Nov. 2026, 09:00:", id="de-gmail"),
        pytest.param("Le lun. 2 nov. 2026 à 09:00, Mentoring Program <program@example.org> a écrit :", id="fr"),
        pytest.param("El lun, 2 nov 2026 a las 9:00, Mentoring Program (<program@example.org>) escribió:", id="es"),
        pytest.param("2026年11月2日(月) 9:00 Mentoring Program <program@example.org>:", id="ja"),
        pytest.param("2026年11月2日 9:00 Mentoring Program <program@example.org>:", id="ja-no-weekday"),
        pytest.param("Op ma 2 nov. 2026 om 09:00 schreef Mentoring Program <program@example.org>:", id="nl"),
        pytest.param("Den mån 2 nov. 2026 kl 09:00 skrev Mentoring Program <program@example.org>:", id="sv"),
        pytest.param("Em seg., 2 de nov. de 2026 às 09:00, Mentoring Program <program@example.org> escreveu:", id="pt"),
        pytest.param(
            "Il giorno lun 2 nov 2026 alle ore 09:00 Mentoring Program <program@example.org> ha scritto:", id="it"
        ),
        pytest.param("W dniu 2.11.2026 o 09:00, Mentoring Program pisze:", id="pl"),
        pytest.param("Mentoring Program <program@example.org> ezt írta (időpont: 2026. nov. 2., H 9:00):", id="hu"),
        pytest.param(
            "On Mon, Nov 2, 2026 at 9:00 AM Mentoring Program <\nprogram@example.org> wrote:", id="en-wrapped"
        ),
    ],
)
def test_quote_header_in_the_participants_language(header: str) -> None:
    text = f"Antwort: 5\n\n{header}\n\n> Wie war das erste Treffen?\n> Bitte antworten Sie.\n"
    assert strip_quotes(text) == "Antwort: 5"


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(
            "-----Original Message-----\nFrom: Program [mailto:program@example.org]\n"
            "Sent: Monday, November 2, 2026 9:00 AM\nTo: Ana\nSubject: Check-in\n",
            id="original-message",
        ),
        pytest.param(
            "________________________________\nFrom: Program <program@example.org>\n"
            "Sent: Monday, November 2, 2026 9:00 AM\nTo: Ana <ana@example.org>\nSubject: Check-in\n",
            id="outlook-rule",
        ),
        pytest.param(
            "Von: Program <program@example.org>\nGesendet: Montag, 2. November 2026 09:00\n"
            "An: Ana <ana@example.org>\nBetreff: Check-in\n",
            id="outlook-de",
        ),
        pytest.param(
            "De : Program <program@example.org>\nEnvoyé le : lundi 2 novembre 2026 09:00\n"
            "À : Ana <ana@example.org>\nObjet : Check-in\n",
            id="outlook-fr",
        ),
        pytest.param(
            "---------- Forwarded message ---------\nFrom: Program <program@example.org>\n"
            "Date: Mon, Nov 2, 2026 at 9:00 AM\nSubject: Check-in\n",
            id="forwarded",
        ),
    ],
)
def test_outlook_header_blocks_end_the_new_text(block: str) -> None:
    text = f"Great session, rating 5.\n\n{block}\nHow is the mentoring going? Please rate it 1-5.\n"
    assert strip_quotes(text) == "Great session, rating 5."


# --- Signatures and footers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param("-- \nAna Álvarez\nMentor, City Library\n+1 555 0100", id="dash-dash-space"),
        pytest.param("Sent from my iPhone", id="iphone"),
        pytest.param("Get Outlook for Android<https://aka.ms/ghei36>", id="outlook-android"),
        pytest.param("Von meinem iPhone gesendet", id="iphone-de"),
        pytest.param("Envoyé de mon iPhone", id="iphone-fr"),
        pytest.param("Enviado desde mi iPhone", id="iphone-es"),
        pytest.param("Sent from Mail for Windows", id="windows-mail"),
        pytest.param("Best regards,\nAna", id="best-regards"),
        pytest.param("Mit freundlichen Grüßen\nAna Álvarez", id="mfg"),
        pytest.param("Cheers,\nAna\n\nAna Álvarez | Mentor\nana@example.org\n+1 555 0100", id="cheers-and-card"),
        pytest.param("Ana Álvarez\nana@example.org\n+1 (555) 010-0100", id="contact-card"),
        pytest.param("-Ana", id="hyphen-name"),
    ],
)
def test_signatures_and_mobile_footers_are_removed(signature: str) -> None:
    assert strip_quotes(f"We met on Tuesday for an hour.\n\n{signature}\n") == "We met on Tuesday for an hour."


def test_a_sentence_that_starts_like_a_sign_off_is_kept() -> None:
    text = "Hi,\nThanks, here are my answers:\n1. 4\n2. yes\n\nBest,\nAna"
    assert strip_quotes(text) == "Hi,\nThanks, here are my answers:\n1. 4\n2. yes"


def test_a_sign_off_above_numbered_answers_is_not_a_signature() -> None:
    assert strip_quotes("Hi,\n\nThanks!\n\n1. 4\n2. yes") == "Hi,\n\nThanks!\n\n1. 4\n2. yes"


def test_a_thank_you_above_more_text_is_not_a_signature() -> None:
    text = "Hi,\n\nThank you!\n\nHere are my answers: the meetings were useful, I rate them 4.\n\nThanks\nAna"
    assert strip_quotes(text) == "Hi,\n\nThank you!\n\nHere are my answers: the meetings were useful, I rate them 4."


def test_sent_from_in_a_sentence_is_kept() -> None:
    text = "Here is my answer.\n\nSent from my desk, which is much easier than my phone."
    assert strip_quotes(text) == text


def test_a_list_answer_is_not_taken_for_a_hyphen_signature() -> None:
    assert (
        strip_quotes("Topics we covered:\n- interviews\n- Networking")
        == "Topics we covered:\n- interviews\n- Networking"
    )


def test_a_yes_above_the_signature_stays() -> None:
    assert strip_quotes("Did we meet?\n\nYes\n-- \nAna") == "Did we meet?\n\nYes"


# --- HTML-only mail --------------------------------------------------------------------------


def test_html_only_reply_from_gmail() -> None:
    html = (
        '<div dir="ltr">Thanks, it went well.<br><br>We meet again on the 12th.</div><br>'
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Nov 2, 2026 at 9:00 AM '
        'Mentoring Program &lt;<a href="mailto:program@example.org">program@example.org</a>&gt; wrote:<br></div>'
        '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">'
        '<div dir="ltr">How did the first meeting go?<br></div></blockquote></div>'
    )
    assert new_text(message(html, "html")).text == "Thanks, it went well.\n\nWe meet again on the 12th."


def test_html_only_reply_from_outlook() -> None:
    html = (
        "<html><head><style>p.MsoNormal {margin:0}</style></head><body>"
        "<p class=MsoNormal>Rating: 5<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
        '<div id="divRplyFwdMsg"><hr style="display:inline-block;width:98%">'
        "<b>From:</b> Mentoring Program &lt;program@example.org&gt;<br><b>Sent:</b> Monday, November 2, 2026 9:00 AM<br>"
        "<b>To:</b> Ana<br><b>Subject:</b> Check-in</div><div><p>How would you rate this month?</p></div>"
        "</body></html>"
    )
    assert new_text(message(html, "html")).text == "Rating: 5"


def test_html_inline_answers_come_out_as_quoted_lines() -> None:
    html = (
        "<div>On Mon, Nov 2, 2026 at 9:00 AM Program &lt;program@example.org&gt; wrote:</div>"
        "<blockquote><p>1. How useful were the meetings (1-5)?</p></blockquote><div>4</div>"
        "<blockquote><p>2. Did you meet at least once a month?</p></blockquote><div>yes</div>"
    )
    raw = message(html, "html")
    assert interleaved(body_text(raw)) == [
        ("1. How useful were the meetings (1-5)?", "4"),
        ("2. Did you meet at least once a month?", "yes"),
    ]
    assert new_text(raw).text == "4\n\nyes"


def test_html_to_text_keeps_the_line_structure() -> None:
    html = (
        "<p>One<br>Two</p><div>Three</div><ul><li>a</li><li>b</li></ul><ol><li>x</li><li>y</li></ol>"
        "<blockquote>Quoted<blockquote>Deeper</blockquote></blockquote><p>After &amp; done</p>"
        "<script>alert(1)</script><style>p {}</style>"
    )
    assert html_to_text(html) == "One\nTwo\n\nThree\n- a\n- b\n1. x\n2. y\n> Quoted\n> > Deeper\n\nAfter & done"


def test_text_plain_wins_over_html() -> None:
    msg = EmailMessage()
    msg["From"] = "ana@example.org"
    msg.set_content("the plain text")
    msg.add_alternative("<p>the html</p>", subtype="html")
    assert body_text(msg.as_bytes()) == "the plain text"


# --- Charsets --------------------------------------------------------------------------------


def test_iso_8859_1() -> None:
    raw = raw_message("Grüße aus Köln, café at 5.\n".encode("iso-8859-1"), "text/plain; charset=iso-8859-1")
    assert new_text(raw).text == "Grüße aus Köln, café at 5."


def test_windows_1252() -> None:
    raw = raw_message("“Great” session – 5 €\n".encode("cp1252"), "text/plain; charset=windows-1252")
    assert new_text(raw).text == "“Great” session – 5 €"


def test_iso_8859_1_label_on_windows_1252_bytes() -> None:
    raw = raw_message("“Great” session – 5 €\n".encode("cp1252"), "text/plain; charset=iso-8859-1")
    assert new_text(raw).text == "“Great” session – 5 €"


def test_iso_2022_jp() -> None:
    body = "先週お会いしました。\n\n2026年11月2日(月) 9:00 Mentoring Program <program@example.org>:\n> お元気ですか\n"
    raw = raw_message(body.encode("iso2022_jp"), 'text/plain; charset="ISO-2022-JP"', "7bit")
    assert new_text(raw).text == "先週お会いしました。"


def test_iso_2022_jp_in_base64_html() -> None:
    msg = EmailMessage()
    msg["From"] = "ana@example.org"
    msg.set_content("<p>はい、参加します。</p>", subtype="html", charset="iso-2022-jp")
    assert new_text(msg.as_bytes()).text == "はい、参加します。"


@pytest.mark.parametrize(
    "content_type, body, expected",
    [
        pytest.param("text/plain; charset=x-no-such-charset", "Grüße".encode("utf-8"), "Grüße", id="unknown-label"),
        pytest.param("text/plain; charset=utf-8", "Grüße".encode("latin-1"), "Grüße", id="latin-1-labelled-utf-8"),
        pytest.param("text/plain; charset=us-ascii", "Grüße".encode("utf-8"), "Grüße", id="utf-8-labelled-ascii"),
        pytest.param("text/plain", b"caf\xe9 \x81\x8d\x90", "café", id="undefined-cp1252-bytes"),
    ],
)
def test_broken_charsets_fall_back_without_raising(content_type: str, body: bytes, expected: str) -> None:
    assert new_text(raw_message(body, content_type)).text.startswith(expected)


def test_broken_base64_does_not_raise() -> None:
    raw = raw_message(b"SGVsbG8gd29ybGQ=!!!not base64 at all===", "text/plain; charset=utf-8", "base64")
    assert isinstance(new_text(raw).text, str)


def test_format_flowed_lines_are_joined() -> None:
    body = b"This is one long line that the client \r\nwrapped for sending.\r\n\r\n> A quoted line that \r\n> was wrapped too.\r\n"
    raw = raw_message(body, 'text/plain; charset="utf-8"; format=flowed', "7bit")
    assert (
        body_text(raw)
        == "This is one long line that the client wrapped for sending.\n\n> A quoted line that was wrapped too."
    )
    assert new_text(raw).text == "This is one long line that the client wrapped for sending."


# --- No text, attachments --------------------------------------------------------------------


def test_a_message_with_no_text_part() -> None:
    msg = EmailMessage()
    msg["From"] = "ana@example.org"
    msg.add_attachment(b"\x89PNG\r\n\x1a\n", maintype="image", subtype="png", filename="photo.png")
    assert body_text(msg.as_bytes()) == ""
    assert new_text(msg.as_bytes()) == Reply(text="")


def test_attachments_are_ignored_even_text_ones() -> None:
    msg = EmailMessage()
    msg["From"] = "ana@example.org"
    msg.set_content("We met, see the notes.")
    msg.add_attachment("SECRET NOTES", filename="notes.txt")
    assert body_text(msg.as_bytes()) == "We met, see the notes."


def test_an_attached_message_is_not_read_as_the_reply() -> None:
    inner = EmailMessage()
    inner["From"] = "someone@example.com"
    inner.set_content("the forwarded mail")
    outer = EmailMessage()
    outer["From"] = "ana@example.org"
    outer.set_content("See the mail below.")
    outer.add_attachment(inner)
    assert body_text(outer.as_bytes()) == "See the mail below."


def test_empty_and_garbage_input() -> None:
    assert new_text(b"") == Reply(text="")
    assert strip_quotes("") == ""
    assert interleaved("") == []
    assert isinstance(new_text(b"\x00\xff" * 1000).text, str)


# --- Hostile input: every call returns (time is not asserted; the caps keep it short) -------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\n" * 300_000 + "x", id="blank-lines"),
        pytest.param(" " * 300_000 + "x", id="spaces"),
        pytest.param("On " * 100_000 + "\n", id="one-long-on-line"),
        pytest.param("On 1 Jan 2020 X <x@y.z> wrote:\n" * 10_000, id="many-headers"),
        pytest.param("- a\n" * 60_000, id="many-hyphens"),
        pytest.param("> q\nanswer\n" * 30_000, id="many-inline-answers"),
        pytest.param("-John Smith\n\n" * 20_000, id="many-names"),
        pytest.param(">" * 300_000, id="one-quote-line"),
    ],
)
def test_hostile_text_returns(text: str) -> None:
    assert isinstance(strip_quotes(text), str)
    assert isinstance(interleaved(text), list)


def test_hostile_messages_return() -> None:
    nested = (
        b"Content-Type: multipart/mixed; boundary=a\r\n\r\n"
        + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 5000
    )
    assert new_text(nested) == Reply(text="")
    deep_html = raw_message(b"<blockquote>" * 20_000 + b"x" + b"<div>" * 20_000, "text/html")
    assert isinstance(new_text(deep_html).text, str)
    big_html = raw_message(b"<p>hi</p>" * 200_000, "text/html")
    assert new_text(big_html).text.startswith("hi")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("> -_:\n\tOnwrote@<>1Am schrieb—ÄaZ.,")) | st.characters(), max_size=400))
def test_strip_quotes_never_raises(text: str) -> None:
    result = strip_quotes(text)
    assert isinstance(result, str)
    for quote, new in interleaved(text):
        assert quote is None or isinstance(quote, str)
        assert isinstance(new, str)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), st.sampled_from(["text/plain", "text/html", "multipart/alternative; boundary=b"]))
def test_new_text_never_raises(body: bytes, content_type: str) -> None:
    raw = raw_message(body, content_type + "; charset=" + "utf-8")
    assert isinstance(new_text(raw).text, str)
    assert isinstance(new_text(body).text, str)
