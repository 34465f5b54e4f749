"""`parse_headers` reads an ASCII header block's fields itself (`headers._ascii_fields`), only to
be faster (issue 8): what it finds must be what the email package's `BytesHeaderParser` with
`compat32` finds, field for field, and the same content type, whatever the block holds."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import compat32

from hypothesis import example, given, settings
from hypothesis import strategies as st
from mentormail.parsers.headers import _ascii_content_type, _ascii_fields, split_header_block

# Pieces header blocks are made of, odd ones over-represented: line ends of every kind, folds,
# mbox From lines, colons where names belong, blanks, content types with and without a subtype.
_PIECES = st.sampled_from(
    [
        "From: ana@example.org", "To: bo@example.org", "Subject: hi", "Content-Type: ",
        "multipart/report; report-type=delivery-status", "text/PLAIN", "a/b/c", "x", "CONTENT-type:",
        "From ", "From nobody Mon Jan  1 00:00:00 2026", ":", " ", "\t", "  ", "\r\n", "\n", "\r",
        "\r\r", "\n\r", "X-Name : v", "Bad header", "é".encode().decode("latin-1"), ";", "/", "=?",
    ]
)  # fmt: skip
_BLOCKS = st.lists(_PIECES, max_size=40).map(lambda pieces: "".join(pieces).encode("latin-1"))


def _email_package(block: bytes) -> tuple[list[tuple[str, str]], str]:
    message = BytesHeaderParser(policy=compat32).parsebytes(block)
    return list(message.raw_items()), message.get_content_type()


@settings(max_examples=1500, deadline=None)
@given(_BLOCKS)
@example(b"From nobody\nFrom: a@b\n\nbody")
@example(b"From: a@b\nFrom x\n")
@example(b"\tfolded first\nTo: a@b\n")
@example(b": no name\nTo: a@b\n")
@example(b"Content-Type: multipart/mixed;\r\n boundary=x\r\nContent-Type: text/html\r\n\r\n")
@example(b"To: a@b\rCc: c@d\r\rbody")
def test_the_fields_are_the_email_packages(raw: bytes) -> None:
    block = split_header_block(raw)
    if not block.isascii():
        return  # such blocks are read by the email package itself
    fields = _ascii_fields(block)
    assert (fields, _ascii_content_type(fields)) == _email_package(block)
