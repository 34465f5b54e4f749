"""Composing writes a person's To and a mail's Subject as they are when that is what the header
registry would write (`compose._as_written`), and gives multipart mail boundaries of its own
(`compose._set_boundaries`): both only to compose faster (issue 8), so the mail must not change."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage

from hypothesis import example, given, settings
from hypothesis import strategies as st
from mentormail.daemon.mail.compose import HEADER_POLICY, _as_written, _set_boundaries

# Printable ASCII, with what quoting and encoded words are made of over-represented, and a few
# letters the registry must encode.
_TEXT = st.lists(
    st.sampled_from([*map(chr, range(0x20, 0x7F)), "=?", "?=", '"', "\\", "é", "ß", "Ž", "  "]), max_size=60
).map("".join)


def _written(name: str, value: str) -> bytes:
    message = EmailMessage(policy=HEADER_POLICY)
    message[name] = value
    return message.as_bytes()


@settings(max_examples=400, deadline=None)
@given(_TEXT)
@example("=?utf-8?q?caf=C3=A9?=")
@example("x" * 1000)
@example(" Re:  a  subject ")
def test_a_subject_written_as_it_is_is_what_the_registry_writes(subject: str) -> None:
    assert _written("Subject", _as_written("Subject", subject)) == _written("Subject", subject)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=3))
@example(["Siobhán O'Connor", "Ana M. Lima"])
@example(['"Lima, Ana"', "=?utf-8?q?x?="])
def test_a_to_header_written_as_it_is_is_what_the_registry_writes(names: list[str]) -> None:
    to = ", ".join(str(Address(name, addr_spec=f"person{i}@example.org")) for i, name in enumerate(names))
    assert _written("To", _as_written("To", to)) == _written("To", to)


def test_multipart_mail_with_our_boundaries_reads_back_part_for_part() -> None:
    # A text part that holds what a boundary line looks like, an HTML part and a binary file.
    text = "Hello,\n--=_0123 is not a boundary\n\nThe program\n"
    message = EmailMessage(policy=HEADER_POLICY)
    message["Subject"] = "Topic"
    message.set_content(text, subtype="plain", cte="quoted-printable")
    message.add_alternative("<p>Hello</p>\n", subtype="html", cte="quoted-printable")
    message.add_attachment(b"%PDF-1.4\n--=_\x00\xff", maintype="application", subtype="pdf", filename="letter.pdf")

    _set_boundaries(message)
    back = message_from_bytes(message.as_bytes(), policy=policy.default)

    assert [part.get_content_type() for part in back.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
    ]
    boundaries = [part.get_boundary() for part in back.walk() if part.is_multipart()]
    assert len(set(boundaries)) == 2 and all(b.startswith("=_") for b in boundaries)
    assert back.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert back.get_body(("html",)).get_content().replace("\r\n", "\n") == "<p>Hello</p>\n"
    (attachment,) = back.iter_attachments()
    assert attachment.get_content() == b"%PDF-1.4\n--=_\x00\xff"
