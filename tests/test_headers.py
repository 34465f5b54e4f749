"""parsers/headers.py: envelope facts from the header block, and nothing else (pure).

Real mail has encoded words, raw 8-bit bytes, folded and repeated headers and all three line
endings; `parse_headers` must read them all the same way and never raise. The body is never
parsed: that is the confidentiality invariant (DESIGN.md section 3) at its first step.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import getaddresses, parseaddr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentormail.parsers.headers import HeaderFacts, normalise, parse_headers, split_header_block

CANARY = "CANARY-body-5e1d9c"


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


def no_surrogates(text: str) -> bool:
    return not any("\ud800" <= ch <= "\udfff" for ch in text)


# --- encoded words and 8-bit bytes -------------------------------------------------------------


def test_encoded_words_in_the_from_name_are_decoded() -> None:
    raw = crlf(
        "From: =?UTF-8?Q?Ana_=C3=81lvarez?= <Ana@Example.ORG>\nTo: =?iso-8859-1?q?Cl=E9o?= <cleo@example.net>\n\n"
    )

    facts = parse_headers(raw)

    assert facts.from_name == "Ana Álvarez"
    assert facts.from_address == "ana@example.org"
    assert facts.to == ("cleo@example.net",)


def test_base64_encoded_word_split_over_a_folded_from() -> None:
    raw = crlf("From: =?UTF-8?B?U2lvYmjDoW4=?=\n =?UTF-8?B?IE8nQ29ubm9y?= <siobhan@example.org>\n\n")

    facts = parse_headers(raw)

    assert facts.from_name == "Siobhán O'Connor"
    assert facts.from_address == "siobhan@example.org"


def test_raw_8bit_latin1_bytes_in_headers_do_not_break_parsing() -> None:
    raw = (
        b"From: Jos\xe9 N\xfa\xf1ez <jose@example.org>\r\n"
        b"To: Zo\xeb <zoe@example.net>\r\n"
        b"Cc: mentoring@example.org\r\n"
        b"Subject: Caf\xe9 \xe0 10h\r\n"
        b"Message-ID: <8bit@example.org>\r\n\r\n"
    )

    facts = parse_headers(raw)

    assert facts.from_address == "jose@example.org"
    assert facts.to == ("zoe@example.net",)
    assert facts.cc == ("mentoring@example.org",)
    assert facts.message_id == "8bit@example.org"
    # the name is readable text: no lone surrogates that would break logging or the database
    assert no_surrogates(facts.from_name)
    facts.from_name.encode("utf-8")


def test_raw_utf8_bytes_in_headers_are_read_as_utf8() -> None:
    raw = "From: Zoë Müller <zoe@example.net>\r\nTo: ana@example.org\r\n\r\n".encode()

    facts = parse_headers(raw)

    assert facts.from_address == "zoe@example.net"
    assert facts.from_name == "Zoë Müller"


def test_a_broken_encoded_word_and_an_unknown_charset_do_not_raise() -> None:
    raw = crlf(
        "From: =?x-no-such-charset?q?Ana?= <ana@example.org>\n"
        "To: =?utf-8?b?!!!not-base64?= <ben@example.net>\n"
        "Subject: =?utf-8?q?unterminated\n\n"
    )

    facts = parse_headers(raw)

    assert facts.from_address == "ana@example.org"
    assert facts.to == ("ben@example.net",)


# --- folding, repetition, address lists --------------------------------------------------------


def test_folded_to_and_cc_give_every_address() -> None:
    raw = crlf(
        "From: ana@example.org\n"
        "To: Ben O'Brien <ben@example.net>,\n"
        '\t"Cléo, Martin" <cleo@example.net>\n'
        "Cc:\n"
        "   mentoring@example.org,\n"
        "   Eve <EVE@example.com>\n"
        "\n"
    )

    facts = parse_headers(raw)

    assert facts.to == ("ben@example.net", "cleo@example.net")
    assert facts.cc == ("mentoring@example.org", "eve@example.com")
    assert facts.recipients == facts.to + facts.cc


def test_two_cc_headers_are_both_read() -> None:
    raw = crlf("From: ana@example.org\nTo: ben@example.net\nCc: mentoring@example.org\nCc: cleo@example.net\n\n")

    facts = parse_headers(raw)

    assert facts.cc == ("mentoring@example.org", "cleo@example.net")


def test_two_to_headers_are_both_read_and_repeats_listed_once() -> None:
    raw = crlf("From: ana@example.org\nTo: ben@example.net\nTO: cleo@example.net, Ben <BEN@example.net>\n\n")

    assert parse_headers(raw).to == ("ben@example.net", "cleo@example.net")


def test_two_from_headers_take_the_first_address() -> None:
    raw = crlf("From: Ana <ana@example.org>\nFrom: Dev <dev@example.org>\nTo: ben@example.net\n\n")

    assert parse_headers(raw).from_address == "ana@example.org"


def test_junk_in_an_address_list_keeps_the_good_addresses() -> None:
    raw = crlf("From: ana@example.org\nTo: undisclosed-recipients:;, , ben@example.net, not an address\n\n")

    facts = parse_headers(raw)

    assert "ben@example.net" in facts.to
    assert all(normalise(a) == a for a in facts.to)


# --- line endings ------------------------------------------------------------------------------

HEADERS = [
    "From: =?UTF-8?Q?Ana_=C3=81lvarez?= <ana@example.org>",
    "To: Ben <ben@example.net>,",
    " cleo@example.net",
    "Cc: mentoring@example.org",
    "Cc: eve@example.com",
    "Date: Tue, 01 Sep 2026 09:30:00 -0500",
    "Message-ID: <endings-1@example.org>",
    "In-Reply-To: <earlier@example.net>",
    "References: <first@example.net>",
    " <earlier@example.net>",
    "Return-Path: <ana@example.org>",
    "Subject: Coffee",
]
BODY = ["Hello,", "From: intruder@x.example", "", "bye"]


def with_endings(ending: str) -> bytes:
    return (ending.join(HEADERS) + ending + ending + ending.join(BODY) + ending).encode()


def test_cr_lf_and_crlf_line_endings_give_the_same_facts() -> None:
    crlf_facts = parse_headers(with_endings("\r\n"))

    assert parse_headers(with_endings("\n")) == crlf_facts
    assert parse_headers(with_endings("\r")) == crlf_facts
    assert crlf_facts.from_address == "ana@example.org"
    assert crlf_facts.to == ("ben@example.net", "cleo@example.net")
    assert crlf_facts.cc == ("mentoring@example.org", "eve@example.com")
    assert crlf_facts.references == ("first@example.net", "earlier@example.net")
    assert crlf_facts.date == datetime(2026, 9, 1, 14, 30, tzinfo=timezone.utc)


def test_a_header_block_without_a_body_reads_like_the_whole_message() -> None:
    whole = with_endings("\r\n")
    only_headers = ("\r\n".join(HEADERS) + "\r\n").encode()

    assert parse_headers(only_headers) == parse_headers(whole)


# --- missing and odd values ------------------------------------------------------------------


def test_an_empty_message_gives_empty_facts() -> None:
    facts = parse_headers(b"")

    assert facts.from_address is None
    assert facts.from_name == ""
    assert facts.sender is None
    assert facts.to == () and facts.cc == () and facts.recipients == ()
    assert facts.date is None
    assert facts.message_id is None
    assert facts.in_reply_to is None
    assert facts.references == ()
    assert facts.delivered_to == ()
    assert facts.return_path is None
    assert facts.auto_submitted is None
    assert facts.precedence is None
    assert facts.list_id is None
    assert facts.x_autoreply is False
    assert facts.content_type == "text/plain"
    assert facts.report_type is None
    assert facts.mentormail_kind is None


def test_headers_with_empty_values_give_empty_facts() -> None:
    raw = crlf("From:\nTo:\nCc:\nDate:\nMessage-ID:\nReturn-Path:\nContent-Type:\n\nbody\n")

    facts = parse_headers(raw)

    assert facts.from_address is None
    assert facts.to == () and facts.cc == ()
    assert facts.date is None
    assert facts.message_id is None
    assert facts.content_type == "text/plain"


def test_an_unreadable_date_is_none_and_a_date_without_zone_is_utc() -> None:
    assert parse_headers(crlf("From: a@example.org\nDate: the day after tomorrow\n\n")).date is None
    assert parse_headers(crlf("From: a@example.org\nDate: Tue, 99 Foo 2026 99:99:99\n\n")).date is None
    naive = parse_headers(crlf("From: a@example.org\nDate: Tue, 01 Sep 2026 09:30:00 -0000\n\n")).date
    assert naive == datetime(2026, 9, 1, 9, 30, tzinfo=timezone.utc)


def test_message_id_without_angle_brackets_is_still_an_id() -> None:
    assert parse_headers(crlf("Message-ID: bare-id@example.org\n\n")).message_id == "bare-id@example.org"
    assert parse_headers(crlf("Message-ID:\n  <folded@example.org>\n\n")).message_id == "folded@example.org"


def test_null_return_path_is_the_empty_string() -> None:
    facts = parse_headers(crlf("Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.com\n\n"))

    assert facts.return_path == ""


def test_a_return_path_is_normalised_and_the_topmost_counts() -> None:
    """The last delivery agent writes its Return-Path on top of any older one."""
    raw = crlf("Return-Path: <Ana@Example.org>\nReturn-Path: <older@relay.example>\nFrom: ana@example.org\n\n")

    assert parse_headers(raw).return_path == "ana@example.org"


def test_a_report_type_is_found_in_a_multipart_report() -> None:
    raw = crlf('Content-Type: multipart/report; report-type="delivery-status";\n boundary="b"\n\n')

    facts = parse_headers(raw)

    assert facts.content_type == "multipart/report"
    assert facts.report_type == "delivery-status"


def test_machine_mail_markers_are_read() -> None:
    raw = crlf(
        "From: ana@example.org\n"
        "Auto-Submitted: Auto-Replied (vacation)\n"
        "Precedence: BULK\n"
        "List-Id: Librarians <lib.lists.example.org>\n"
        "X-Autoreply: yes\n"
        "X-Mentormail-Kind: Topic\n"
        "\n"
    )

    facts = parse_headers(raw)

    assert facts.auto_submitted == "auto-replied (vacation)"
    assert facts.precedence == "bulk"
    assert facts.list_id == "librarians <lib.lists.example.org>"
    assert facts.x_autoreply is True
    assert facts.mentormail_kind == "topic"


# --- the body is never parsed ----------------------------------------------------------------


BODY_WITH_HEADERS = (
    "From: intruder@x.example\n"
    "To: eve@example.com\n"
    "Cc: intruder@x.example\n"
    "Message-ID: <from-the-body@x.example>\n"
    "Auto-Submitted: auto-replied\n"
    "List-Id: <x.example>\n"
    "X-Mentormail-Kind: topic\n"
    "Content-Type: multipart/report; report-type=delivery-status\n"
    "Return-Path: <>\n"
    f"Subject: {CANARY}\n"
    "\n"
    f"{CANARY}\n"
)


def head() -> str:
    return (
        "From: Ana <ana@example.org>\n"
        "To: ben@example.net\n"
        "Cc: mentoring@example.org\n"
        "Subject: Coffee\n"
        "Message-ID: <real@example.org>\n"
    )


def test_a_body_full_of_header_lines_is_parsed_like_an_empty_body() -> None:
    with_body = crlf(head() + "\n" + BODY_WITH_HEADERS)
    empty_body = crlf(head() + "\n")

    facts = parse_headers(with_body)

    assert facts == parse_headers(empty_body)
    assert facts.from_address == "ana@example.org"
    assert "intruder@x.example" not in facts.recipients
    assert facts.message_id == "real@example.org"
    assert facts.auto_submitted is None and facts.list_id is None and facts.mentormail_kind is None
    assert facts.return_path is None
    assert CANARY not in repr(facts)


def test_the_body_is_cut_off_before_parsing_whatever_the_line_endings() -> None:
    for ending in ("\r\n", "\n", "\r"):
        raw = (head() + "\n" + BODY_WITH_HEADERS).replace("\n", ending).encode()
        block = split_header_block(raw)
        assert CANARY.encode() not in block
        assert b"intruder" not in block
        assert parse_headers(raw) == parse_headers(crlf(head() + "\n")), repr(ending)


def test_a_body_that_starts_like_a_folded_header_is_not_read() -> None:
    """A blank line ends the headers even if the body's first line starts with white space."""
    raw = crlf(head() + "\n" + "  Cc: intruder@x.example\n" + BODY_WITH_HEADERS)

    assert parse_headers(raw) == parse_headers(crlf(head() + "\n"))


def test_subject_text_never_appears_in_the_facts() -> None:
    raw = crlf(f"From: ana@example.org\nTo: ben@example.net\nSubject: {CANARY} undeliverable out of office\n\n")

    facts = parse_headers(raw)

    assert CANARY not in repr(facts)


# --- never raises --------------------------------------------------------------------------------

HEADER_NAMES = st.sampled_from(
    [
        "From", "To", "Cc", "Sender", "Date", "Message-ID", "In-Reply-To", "References", "Delivered-To",
        "X-Original-To", "Return-Path", "Auto-Submitted", "Precedence", "List-Id", "X-Autoreply",
        "Content-Type", "X-Mentormail-Kind", "Subject", "X-Anything", "from", "CC",
    ]
)  # fmt: skip
# Values built from the pieces that trip address and date parsers, plus arbitrary text.
VALUE_PIECES = st.sampled_from(
    [
        "<", ">", "<>", "@", "@@", ",", ";", ":", "\"", "\\", "(", ")", "=?", "?=", "=?utf-8?q?", "=?utf-8?b?",
        "=?x-unknown?q?", "a@b.c", "Ana <ana@example.org>", "\r\n ", "\n\t", " ", "report-type=", "multipart/report",
        "Tue, 01 Sep 2026 09:30:00 +9999", "99 Foo", "\x00", "\udcff", "é", "💌", "\u2028",
    ]
)  # fmt: skip
VALUES = st.lists(st.one_of(VALUE_PIECES, st.text(max_size=20)), max_size=12).map("".join)
ENDINGS = st.sampled_from(["\r\n", "\n", "\r"])


def header_text(draw_headers: list[tuple[str, str]], ending: str) -> bytes:
    text = ending.join(f"{name}: {value}" for name, value in draw_headers) + ending + ending + "body"
    return text.encode("utf-8", "surrogateescape")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_parse_headers_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    facts = parse_headers(raw)

    assert isinstance(facts, HeaderFacts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(HEADER_NAMES, VALUES), max_size=15), ENDINGS)
def test_parse_headers_never_raises_on_header_like_text(headers: list[tuple[str, str]], ending: str) -> None:
    facts = parse_headers(header_text(headers, ending))

    # Whatever comes in, the addresses that come out look like addresses (one @, lower case, no
    # spaces), and every text is storable as UTF-8 (no lone surrogates): an unknown sender's
    # address is written to the store.
    for address in (facts.from_address, facts.sender, *facts.recipients, *facts.delivered_to):
        if address is not None:
            assert address.count("@") == 1 and address == address.lower() and " " not in address
            assert no_surrogates(address)
    assert no_surrogates(facts.from_name)
    facts.from_name.encode("utf-8")
    assert facts.date is None or facts.date.tzinfo is not None


# --- huge header blocks: linear work, bounded reading -----------------------------------------
# No test here fails on a time limit; tests/bench is where timing belongs. Before address handling
# was made linear, the 80,000 recipients took 42 s of CPU and the nested comments raised
# RecursionError.

PARTNER = "mentee@example.net"
PROGRAM = "program@mentors.example.org"


def many_recipients(count: int, *, partner_at: int) -> list[str]:
    """`count` distinct addresses in the shape of issue 7's message (about 16 bytes each)."""
    addresses = [f"u{i}@ex{i % 7}.org" for i in range(count)]
    addresses[partner_at] = "Ana Mentee <Mentee@Example.NET>"
    return addresses


def test_eighty_thousand_recipients_are_all_read_each_once() -> None:
    recipients = many_recipients(80_000, partner_at=79_999)
    # folded as mail clients fold them, with the first ones repeated in other spellings
    to = ",\n ".join(recipients + [a.upper() for a in recipients[:500]])
    raw = crlf(f"From: Mo Mentor <mentor@example.com>\nTo: {to}\nCc: {PROGRAM}, {PARTNER}\nSubject: hi\n\n")
    assert 1_200_000 < len(raw) < 1_500_000  # issue 7's message was 1.3 MB

    facts = parse_headers(raw)

    assert facts.from_address == "mentor@example.com"
    assert len(facts.to) == 80_000
    assert facts.to[-1] == PARTNER and facts.to[0] == "u0@ex0.org"
    assert facts.cc == (PROGRAM, PARTNER)


def test_a_long_unfolded_list_reads_like_a_folded_one() -> None:
    recipients = many_recipients(20_000, partner_at=10_000)
    folded = crlf("From: mentor@example.com\nTo: " + ",\n\t".join(recipients) + "\n\n")
    unfolded = crlf("From: mentor@example.com\nTo: " + ", ".join(recipients) + "\n\n")

    assert parse_headers(folded) == parse_headers(unfolded)
    assert PARTNER in parse_headers(folded).to


@pytest.mark.parametrize(
    "hostile",
    [
        "(" * 380_000,  # nested comments: the standard parser recursed until RecursionError
        "a:" * 190_000,  # nested groups: the same
        '"a" <b@c.d>, (' * 27_000,
        "<" * 380_000,
        "@" * 380_000,
        "a@" * 190_000,
        ";" * 380_000,
        '\\"' * 190_000,
        "=?utf-8?q?a?= " * 27_000,
    ],
    ids=["comments", "groups", "quote_comment", "angles", "ats", "a_at", "semicolons", "escapes", "encoded_words"],
)
def test_a_380_kb_address_like_line_does_not_hide_the_rest(hostile: str) -> None:
    raw = crlf(
        f"From: Mo Mentor <mentor@example.com>\nTo: ben@example.net, {hostile}\nCc: {PARTNER}\n"
        f"Sender: {hostile}\nSubject: {hostile}\n\n"
    )

    facts = parse_headers(raw)

    assert facts.from_address == "mentor@example.com"
    assert facts.to[:1] == ("ben@example.net",)
    assert facts.cc == (PARTNER,)
    assert all(normalise(a) == a for a in facts.to)


def test_a_header_block_near_the_size_limit_is_read_up_to_the_bound() -> None:
    """25 MB of recipients (the SMTP limit is 25 MiB): the first 2 MiB of the block are read."""
    recipients = many_recipients(1_000_000, partner_at=3)
    recipients.append("last@example.org")
    to = ",\n ".join(recipients)
    raw = crlf(f"From: Mo Mentor <mentor@example.com>\nCc: {PROGRAM}\nTo: {to}\nSubject: hi\n\n")
    raw = raw + b"x" * (25 * 1024 * 1024 - len(raw))

    facts = parse_headers(raw)

    assert facts.from_address == "mentor@example.com"
    assert facts.cc == (PROGRAM,)
    assert PARTNER in facts.to
    assert "last@example.org" not in facts.to  # beyond the bound: not read
    assert 100_000 < len(facts.to) < 200_000


def test_ten_thousand_headers_are_read_and_no_more() -> None:
    filler = "".join(f"X-Filler-{i}: v\n" for i in range(9_998))
    raw = crlf(f"From: mentor@example.com\n{filler}To: {PARTNER}\nCc: {PROGRAM}\n\n")

    facts = parse_headers(raw)

    assert facts.from_address == "mentor@example.com"
    assert facts.to == (PARTNER,)  # the 10,000th header
    assert facts.cc == ()  # the 10,001st


def test_a_hundred_thousand_references_are_all_read() -> None:
    ids = [f"<r{i}@ex.org>" for i in range(100_000)]
    raw = crlf("From: mentor@example.com\nReferences: " + "\n ".join(ids) + "\n\n")

    facts = parse_headers(raw)

    assert len(facts.references) == 100_000
    assert facts.references[-1] == "r99999@ex.org"


# --- the address lists read as the standard library reads them ---------------------------------


def stdlib_addresses(value: str) -> tuple[str, ...]:
    """What parse_headers gave before it read addresses itself: getaddresses, then normalise."""
    found: list[str] = []
    for _, addr in getaddresses([value]):
        normal = normalise(addr)
        if normal and normal not in found:
            found.append(normal)
    return tuple(found)


def stdlib_first(value: str) -> tuple[str, str | None]:
    pairs = [(name, normalise(addr)) for name, addr in getaddresses([value])]
    usable = [(name, addr) for name, addr in pairs if addr]
    return usable[0] if usable else ("", None)


ADDRESS_PIECES = st.sampled_from(
    [
        "ana@example.org", "Ana <ana@example.org>", '"Lima, Ana" <ana@example.org>', "ana@example.org (Ana)",
        "<ana@example.org>", "Ben.B <BEN@Example.net>", "cleo@example.net", ", ", ",", " ", "\t",
        "undisclosed-recipients:;", "team: ana@example.org, ben@example.net;", '"a\\"b" <ab@example.org>',
        "(comment) ana@example.org", "ana @ example.org", "a@b@c.org", "[", "]", "<", ">", "(", ")", '"', ":", ";",
        "\\", "@", ".", "é", "Zoë <zoe@exämple.org>", "x@[192.0.2.1]", "a@b", "Name", "<<a@b.org>>", "(x)",
        "((x))", "(a, b)", ",,", "Ana <ana@example.org> (x)", "ana@example.org\t(Ana) (Lima)",
    ]
)  # fmt: skip
ADDRESS_LISTS = st.lists(ADDRESS_PIECES, max_size=12).map("".join)


@settings(max_examples=1000, deadline=None)
@given(ADDRESS_LISTS)
def test_address_lists_read_as_getaddresses_reads_them(value: str) -> None:
    facts = parse_headers(f"From: {value}\nTo: {value}\n\n".encode())

    assert facts.to == stdlib_addresses(value)
    assert facts.from_address == stdlib_first(value)[1]
    if facts.from_address is not None:
        assert facts.from_name == stdlib_first(value)[0].strip()


@settings(max_examples=300, deadline=None)
@given(ADDRESS_PIECES)
def test_normalise_reads_an_address_as_parseaddr_does(value: str) -> None:
    _, addr = parseaddr(value)

    assert normalise(value) == stdlib_normal(addr)


def stdlib_normal(addr: str) -> str | None:
    addr = addr.strip().strip("<>").strip()
    if addr.count("@") != 1:
        return None
    local, domain = addr.rsplit("@", 1)
    if not local or not domain or " " in addr or "." not in domain:
        return None
    return f"{local.lower()}@{domain.lower().rstrip('.')}"


# --- machine-mail evidence ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "suppresses"),
    [
        ("X-Auto-Response-Suppress: All\n", True),
        ("X-Auto-Response-Suppress: DR, RN, NRN, OOF\n", True),
        ("X-Auto-Response-Suppress: autoreply\n", True),
        ("X-Auto-Response-Suppress: DR, RN\n", False),
        ("X-Auto-Response-Suppress: None\n", False),
        ("Auto-Submitted: auto-replied\n", True),
        ("Auto-Submitted: No\n", False),
        ("", False),
    ],
)
def test_which_mail_asks_for_no_automatic_answer(headers: str, suppresses: bool) -> None:
    raw = crlf(f"From: mentor@example.com\nTo: {PARTNER}\n{headers}\n")

    assert parse_headers(raw).suppresses_auto_responses is suppresses


def test_vendor_markers_are_named_never_quoted() -> None:
    raw = crlf(
        "From: mentor@example.com\n"
        "X-Loop: yes\n"
        "X-MS-Exchange-Inbox-Rules-Loop: Mentor <MENTOR@example.com>\n"
        "List-Unsubscribe: <mailto:u@example.org>\n"
        f"Subject: Automatische Antwort: {CANARY}\n\n"
    )

    facts = parse_headers(raw)

    assert facts.autoreply_header == "X-Loop" and facts.x_autoreply is True
    assert facts.inbox_rules_loop == "mentor@example.com"
    assert facts.list_header == "List-Unsubscribe"
    assert facts.auto_reply_subject == "Exchange's localised automatic-reply prefix"
    assert facts.subject_looks_like_auto_reply is True
    assert CANARY not in repr(facts)


def test_x_loop_with_an_address_is_no_autoresponder_marker() -> None:
    """procmail and list servers write their address there, on forwarded human mail too."""
    raw = crlf("From: mentor@example.com\nX-Loop: mentor@example.com\n\n")

    assert parse_headers(raw).autoreply_header is None
