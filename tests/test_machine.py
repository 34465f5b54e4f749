"""parsers/machine.py: which machine mail a message is, and why, on small inline messages.

Every message carries the canary CANARY below in its Subject and body: a verdict's reason is
logged, so it must never repeat either.
"""

from __future__ import annotations

import time
from email.header import Header
from pathlib import Path

import pytest

from mentormail.parsers.headers import parse_headers
from mentormail.parsers.machine import (
    MachineKind,
    MachineVerdict,
    bounced_addresses,
    classify_headers,
    classify_message,
)

PROGRAM = "program@mentors.example.org"
CANARY = "CANARY-q7Zx3"


def message(text: str, *, newline: bytes = b"\n") -> bytes:
    """A message written with LF line ends in the test, sent with `newline` line ends."""
    return text.lstrip("\n").encode("utf-8").replace(b"\n", newline)


def verdicts(raw: bytes) -> tuple[MachineVerdict | None, MachineVerdict | None]:
    """(headers-only verdict, whole-message verdict); both reasons checked for the canary."""
    by_headers = classify_headers(parse_headers(raw), PROGRAM)
    by_message = classify_message(raw, PROGRAM)
    for verdict in (by_headers, by_message):
        assert verdict is None or CANARY not in verdict.reason
    return by_headers, by_message


def kinds(raw: bytes) -> tuple[MachineKind | None, MachineKind | None]:
    by_headers, by_message = verdicts(raw)
    return (
        by_headers.kind if by_headers else None,
        by_message.kind if by_message else None,
    )


# --- Scenarios ----------------------------------------------------------------------------

ORDINARY_HUMAN_MAIL = f"""
Return-Path: <mentee@example.net>
From: Ana Mentee <mentee@example.net>
To: Mo Mentor <mentor@example.com>
Cc: program@mentors.example.org
Subject: {CANARY} coffee next week?
Date: Mon, 3 Mar 2025 10:00:00 +0000
Message-ID: <human-1@example.net>
Content-Type: text/plain; charset=utf-8

Hi Mo, {CANARY} could we meet next week?
"""

AUTO_REPLY_PRECEDENCE_BULK = f"""
Return-Path: <news@example.net>
From: Newsletter <news@example.net>
To: program@mentors.example.org
Subject: {CANARY} this month
Precedence: bulk
Content-Type: text/plain

{CANARY}
"""

AUTO_SUBMITTED_AUTO_REPLIED = f"""
Return-Path: <mentor@example.com>
From: Mo Mentor <mentor@example.com>
To: program@mentors.example.org
Subject: Re: {CANARY}
Auto-Submitted: auto-replied
Content-Type: text/plain

I am away until Monday. {CANARY}
"""

AUTO_SUBMITTED_NO_IS_HUMAN = f"""
Return-Path: <mentor@example.com>
From: Mo Mentor <mentor@example.com>
To: mentee@example.net
Subject: {CANARY}
Auto-Submitted: no
Content-Type: text/plain

Written by a person. {CANARY}
"""

AUTO_SUBMITTED_ODD_VALUE = f"""
From: Mo Mentor <mentor@example.com>
To: program@mentors.example.org
Subject: {CANARY}
Auto-Submitted: {CANARY}

{CANARY}
"""

X_AUTOREPLY = f"""
Return-Path: <mentor@example.com>
From: Mo Mentor <mentor@example.com>
To: program@mentors.example.org
Subject: Re: {CANARY}
X-Autoreply: yes

Out of the office. {CANARY}
"""

NULL_RETURN_PATH = f"""
Return-Path: <>
From: Helpdesk <helpdesk@example.com>
To: program@mentors.example.org
Subject: Ticket received: {CANARY}

We received your request. {CANARY}
"""

# RFC 3464 DSN, as Postfix sends it.
DSN_MULTIPART_REPORT = f"""
Return-Path: <>
From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: program+t0k3n@mentors.example.org
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="DSN-BOUNDARY"

This is a MIME-encapsulated message.

--DSN-BOUNDARY
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<gone@example.net>: host mx.example.net said: 550 5.1.1 User unknown

--DSN-BOUNDARY
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; gone@example.net
Original-Recipient: rfc822;gone@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--DSN-BOUNDARY
Content-Description: Undelivered Message
Content-Type: message/rfc822

From: program@mentors.example.org
To: gone@example.net
Subject: {CANARY} your monthly topic

{CANARY}

--DSN-BOUNDARY--
"""

# Postfix before DSN support (and with it switched off): multipart/mixed, no report-type, no
# message/delivery-status part; only the "Notification" part's wording says what failed.
POSTFIX_STYLE_BOUNCE_WITHOUT_REPORT = f"""
Return-Path: <>
From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: program@mentors.example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="PF"

This is a MIME-encapsulated message.

--PF
Content-Description: Notification
Content-Type: text/plain

This is the Postfix program at host mx.example.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

\t\t\tThe Postfix program

<gone@example.net>: host mx.example.net[192.0.2.1] said: 550 5.1.1
    <gone@example.net>: Recipient address rejected: User unknown

--PF
Content-Description: Undelivered Message
Content-Type: message/rfc822

From: program@mentors.example.org
To: gone@example.net
Subject: {CANARY}

{CANARY}

--PF--
"""

# Nothing in the headers says "bounce" (only Auto-Submitted), the DSN part in the body does.
BOUNCE_BEHIND_AUTO_SUBMITTED = f"""
From: Mail Gateway <gateway@example.com>
To: program@mentors.example.org
Subject: {CANARY}
Auto-Submitted: auto-generated
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="B"

--B
Content-Type: text/plain

Delivery report. {CANARY}

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; gateway.example.com

Final-Recipient: rfc822; gone@example.net
Action: failed
Status: 5.1.1

--B--
"""

# A person forwarding a bounce as an attachment: human mail, whatever is attached.
PERSON_FORWARDS_A_BOUNCE = f"""
Return-Path: <mentor@example.com>
From: Mo Mentor <mentor@example.com>
To: program@mentors.example.org
Subject: Fwd: {CANARY}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="OUTER"

--OUTER
Content-Type: text/plain

My mail to my mentee bounced, see attached. {CANARY}

--OUTER
Content-Type: message/rfc822

{DSN_MULTIPART_REPORT.lstrip()}
--OUTER--
"""

# flufl.bounce's Yale detector raises IndexError on a message without From; scan_message()
# would then stop before the detector that knows this wording (SimpleMatch).
BOUNCE_WITHOUT_FROM_HEADER = f"""
Return-Path: <>
To: program@mentors.example.org
Subject: Returned mail: see transcript for details

   ----- The following addresses had permanent fatal errors -----
<gone@example.net>

   ----- Transcript of session follows -----
550 5.1.1 <gone@example.net>... User unknown
{CANARY}
"""

# Amazon SES forwards bounces as JSON through SNS, from a no-reply address.
SES_BOUNCE_NOTIFICATION = f"""
Return-Path: <0101-0202@us-west-2.amazonses.com>
From: SES <no-reply@sns.amazonaws.com>
To: program@mentors.example.org
Subject: AWS Notification Message
Content-Type: text/plain; charset=UTF-8

{{"notificationType":"Bounce","bounce":{{"bounceType":"Permanent"}},"note":"{CANARY}"}}
"""

ARF_ABUSE_REPORT = f"""
From: Feedback Loop <fbl@isp.example>
To: program@mentors.example.org
Subject: FW: {CANARY}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is an email abuse report. {CANARY}

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1

--ARF
Content-Type: message/rfc822

From: program@mentors.example.org
Subject: {CANARY}

{CANARY}
--ARF--
"""

LIST_MAIL_LIST_ID = f"""
Return-Path: <librarians-bounces@lists.example.org>
From: Someone <someone@example.org>
To: librarians@lists.example.org
Subject: [librarians] {CANARY}
List-Id: Librarians <librarians.lists.example.org>
Precedence: list

{CANARY}
"""

LIST_MAIL_PRECEDENCE_LIST = f"""
From: Someone <someone@example.org>
To: librarians@lists.example.org
Subject: {CANARY}
Precedence: list

{CANARY}
"""

OWN_MAIL_X_MENTORMAIL_KIND = f"""
Return-Path: <>
From: Mentoring Program <coordinators@mentors.example.org>
To: mentor@example.com
Subject: {CANARY} your monthly topic
X-Mentormail-Kind: topic
Auto-Submitted: auto-generated

{CANARY}
"""

OWN_MAIL_FROM_PROGRAM_PLUS_TAG = f"""
From: Mentoring Program <Program+Topic-7@Mentors.Example.ORG>
To: mentor@example.com
Subject: {CANARY}

{CANARY}
"""

OWN_MAIL_FROM_PROGRAM = f"""
From: program@mentors.example.org
To: mentor@example.com
Subject: {CANARY}

{CANARY}
"""


# --- Tests ----------------------------------------------------------------------------------


def test_ordinary_human_mail_is_not_machine_mail() -> None:
    assert kinds(message(ORDINARY_HUMAN_MAIL)) == (None, None)
    assert bounced_addresses(message(ORDINARY_HUMAN_MAIL)) == frozenset()


@pytest.mark.parametrize(
    ("scenario", "expected_reason"),
    [
        (AUTO_REPLY_PRECEDENCE_BULK, "Precedence: bulk"),
        (AUTO_SUBMITTED_AUTO_REPLIED, "Auto-Submitted: auto-replied"),
        (X_AUTOREPLY, "X-Autoreply"),
        (NULL_RETURN_PATH, "null Return-Path"),
    ],
    ids=["auto_reply_precedence_bulk", "auto_submitted_auto_replied", "x_autoreply", "null_return_path"],
)
def test_auto_replies(scenario: str, expected_reason: str) -> None:
    by_headers, by_message = verdicts(message(scenario))
    assert by_headers is not None and by_headers.kind is MachineKind.AUTO_REPLY
    assert expected_reason in by_headers.reason
    assert by_message == by_headers


def test_auto_submitted_no_is_human() -> None:
    assert kinds(message(AUTO_SUBMITTED_NO_IS_HUMAN)) == (None, None)


def test_auto_submitted_with_an_odd_value_is_automatic_but_not_quoted() -> None:
    by_headers, _ = verdicts(message(AUTO_SUBMITTED_ODD_VALUE))
    assert by_headers == MachineVerdict(MachineKind.AUTO_REPLY, "Auto-Submitted: (not no) (RFC 3834)")


def test_dsn_multipart_report() -> None:
    raw = message(DSN_MULTIPART_REPORT)
    by_headers, by_message = verdicts(raw)
    assert by_headers is not None and by_headers.kind is MachineKind.BOUNCE
    assert "multipart/report" in by_headers.reason
    assert by_message == by_headers
    assert bounced_addresses(raw) == {"gone@example.net"}


def test_postfix_style_bounce_without_report() -> None:
    raw = message(POSTFIX_STYLE_BOUNCE_WITHOUT_REPORT)
    assert kinds(raw) == (MachineKind.BOUNCE, MachineKind.BOUNCE)
    assert bounced_addresses(raw) == {"gone@example.net"}


def test_body_evidence_overrides_an_auto_reply_verdict() -> None:
    raw = message(BOUNCE_BEHIND_AUTO_SUBMITTED)
    assert kinds(raw) == (MachineKind.AUTO_REPLY, MachineKind.BOUNCE)
    verdict = classify_message(raw, PROGRAM)
    assert verdict is not None and "message/delivery-status part" in verdict.reason


def test_a_person_forwarding_a_bounce_is_not_a_bounce() -> None:
    assert kinds(message(PERSON_FORWARDS_A_BOUNCE)) == (None, None)


def test_a_detector_that_raises_does_not_hide_the_others() -> None:
    # Also guards machine._FLUFL_DETECTORS: with flufl.bounce's own all_failures() as the
    # fallback, Yale's IndexError would leave this bounce naming nobody.
    raw = message(BOUNCE_WITHOUT_FROM_HEADER)
    assert kinds(raw)[1] is MachineKind.BOUNCE
    assert bounced_addresses(raw) == {"gone@example.net"}


def test_ses_bounce_notification_is_recognised_by_its_body() -> None:
    assert kinds(message(SES_BOUNCE_NOTIFICATION)) == (None, MachineKind.BOUNCE)


def test_arf_abuse_report_is_an_auto_reply_not_a_bounce() -> None:
    by_headers, by_message = verdicts(message(ARF_ABUSE_REPORT))
    assert by_headers is not None and by_headers.kind is MachineKind.AUTO_REPLY
    assert "feedback-report" in by_headers.reason
    assert by_message == by_headers


@pytest.mark.parametrize(
    "scenario", [LIST_MAIL_LIST_ID, LIST_MAIL_PRECEDENCE_LIST], ids=["list_mail_list_id", "precedence_list"]
)
def test_list_mail(scenario: str) -> None:
    assert kinds(message(scenario)) == (MachineKind.LIST, MachineKind.LIST)


@pytest.mark.parametrize(
    ("scenario", "expected_reason"),
    [
        (OWN_MAIL_X_MENTORMAIL_KIND, "X-Mentormail-Kind"),
        (OWN_MAIL_FROM_PROGRAM_PLUS_TAG, "+tag sub-address"),
        (OWN_MAIL_FROM_PROGRAM, "From is the program address"),
    ],
    ids=["own_mail_x_mentormail_kind", "own_mail_from_program_plus_tag", "own_mail_from_program"],
)
def test_own_mail_comes_first(scenario: str, expected_reason: str) -> None:
    # The X-Mentormail-Kind message also has Auto-Submitted and a null Return-Path: own wins.
    by_headers, by_message = verdicts(message(scenario))
    assert by_headers is not None and by_headers.kind is MachineKind.OWN
    assert expected_reason in by_headers.reason
    assert by_message == by_headers


def test_program_address_is_compared_normalised() -> None:
    facts = parse_headers(message(OWN_MAIL_FROM_PROGRAM))
    verdict = classify_headers(facts, "Mentoring <PROGRAM@Mentors.Example.org>")
    assert verdict is not None and verdict.kind is MachineKind.OWN


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["lf_only", "crlf", "cr_only"])
@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (DSN_MULTIPART_REPORT, MachineKind.BOUNCE),
        (POSTFIX_STYLE_BOUNCE_WITHOUT_REPORT, MachineKind.BOUNCE),
        (AUTO_SUBMITTED_AUTO_REPLIED, MachineKind.AUTO_REPLY),
        (LIST_MAIL_LIST_ID, MachineKind.LIST),
        (ORDINARY_HUMAN_MAIL, None),
    ],
    ids=["dsn", "postfix_text", "auto_replied", "list", "human"],
)
def test_line_endings(scenario: str, expected: MachineKind | None, newline: bytes) -> None:
    raw = message(scenario, newline=newline)
    assert kinds(raw) == (expected, expected)
    if expected is MachineKind.BOUNCE:
        assert bounced_addresses(raw) == {"gone@example.net"}


def test_eight_bit_non_utf8_header_bytes() -> None:
    # Latin-1 bytes, undeclared, in the display names and the Subject (raw 8-bit headers).
    human = (
        b"From: Jos\xe9 Mentor <jose@example.com>\n"
        b"To: Ana <mentee@example.net>\n"
        b"Subject: caf\xe9 " + CANARY.encode() + b"\n\n"
        b"Ol\xe1\n"
    )
    assert kinds(human) == (None, None)

    bounce = (
        message(POSTFIX_STYLE_BOUNCE_WITHOUT_REPORT)
        .replace(b"(Mail Delivery System)", b"(Syst\xe8me de distribution \xff)")
        .replace(b"Undelivered Mail Returned to Sender", b"Non remis: caf\xe9")
    )
    assert kinds(bounce) == (MachineKind.BOUNCE, MachineKind.BOUNCE)
    assert bounced_addresses(bounce) == {"gone@example.net"}


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00\xff\xfe", b"From: MAILER-DAEMON@x.example\n\n", b"Content-Type: multipart/report\n\n--"],
    ids=["empty", "binary", "headers_only", "broken_mime"],
)
def test_junk_never_raises(raw: bytes) -> None:
    classify_message(raw, PROGRAM)
    assert isinstance(bounced_addresses(raw), frozenset)


def test_hostile_input_finishes_in_bounded_time() -> None:
    daemon = b"From: MAILER-DAEMON@x.example\nReturn-Path: <>\nSubject: Returned mail\n"
    notifier = b"From: no-reply@x.example\nSubject: hello\n"
    hostile = [
        daemon + b"\n" + b"a" * 5_000_000,  # one 5 MB line
        daemon + b"\nthe following addresses had\n" + (b" " + b"a@" * 495 + b"\n") * 20_000,
        notifier
        + b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(20_000)),
        notifier + b'Content-Type: multipart/mixed; boundary="b"\n\n' + b"--b\n\nuser unknown\n" * 100_000,
    ]
    for raw in hostile:
        started = time.monotonic()
        classify_message(raw, PROGRAM)
        bounced_addresses(raw)
        assert time.monotonic() - started < 10


# --- Machine mail recognised from its headers alone (fixtures) -------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "machine"


def header_block(path: Path) -> bytes:
    """Only the header block of a fixture: what the daemon may read of mail between partners."""
    raw = path.read_bytes()
    return raw[: raw.index(b"\n\n") + 1]


@pytest.mark.parametrize(
    ("fixture", "kind", "expected_reason"),
    [
        ("read_receipt_rfc8098.eml", MachineKind.AUTO_REPLY, "disposition-notification (read receipt)"),
        ("lotus_notes_auto.eml", MachineKind.AUTO_REPLY, "Lotus Notes' AUTO: prefix"),
        # Exchange's automatic replies as sent without Auto-Submitted, so the subject alone decides
        ("exchange_automatic_reply_german.eml", MachineKind.AUTO_REPLY, "localised automatic-reply prefix"),
        ("exchange_automatic_reply_french.eml", MachineKind.AUTO_REPLY, "localised automatic-reply prefix"),
        ("exchange_automatic_reply_japanese.eml", MachineKind.AUTO_REPLY, "localised automatic-reply prefix"),
        ("exchange_out_of_office_2003.eml", MachineKind.AUTO_REPLY, "an out-of-office prefix"),
        ("exchange_inbox_rule_reply.eml", MachineKind.AUTO_REPLY, "X-MS-Exchange-Inbox-Rules-Loop"),
        ("arf_feedback_loop.eml", MachineKind.AUTO_REPLY, "feedback-report (ARF abuse report)"),
        ("challenge_response_tmda.eml", MachineKind.AUTO_REPLY, "Auto-Submitted: auto-replied"),
        ("challenge_response_verification_subject.eml", MachineKind.AUTO_REPLY, "verification request"),
        ("challenge_response_boxbe.eml", MachineKind.AUTO_REPLY, "challenge-response system's address"),
        ("x_loop_yes_helpdesk.eml", MachineKind.AUTO_REPLY, "X-Loop header present"),
        ("apple_vacation.eml", MachineKind.AUTO_REPLY, "X-Apple-Action header present"),
        ("list_unsubscribe_newsletter.eml", MachineKind.LIST, "List-Unsubscribe header present"),
    ],
)
def test_machine_mail_is_recognised_from_its_headers_alone(
    fixture: str, kind: MachineKind, expected_reason: str
) -> None:
    path = FIXTURES / fixture
    verdict = classify_headers(parse_headers(header_block(path)), PROGRAM)

    assert verdict is not None and verdict.kind is kind
    assert expected_reason in verdict.reason
    assert CANARY not in verdict.reason
    # The whole message says no less (and a report is never taken for a bounce), with the header
    # facts given or not.
    raw = path.read_bytes()
    assert classify_message(raw, PROGRAM) == verdict
    assert classify_message(raw, PROGRAM, parse_headers(raw)) == verdict


@pytest.mark.parametrize(
    "fixture",
    [
        "human_reply_to_automatic_reply.eml",  # "Re: Automatic reply: ...": a person answering one
        "human_out_of_office_hours.eml",  # "Re: Out of office hours for the reference desk"
        "human_german_auto_carpool.eml",  # "Auto: Fahrgemeinschaft ...": Auto is German for car
        "human_outlook_suppress_all.eml",  # X-Auto-Response-Suppress: All on a person's mail
        "human_redirected_by_program_mailbox_rule.eml",  # the program's own mailbox rule redirected it
        "human_please_confirm_meeting.eml",  # asks to confirm something in particular
    ],
)
def test_human_mail_that_looks_a_little_like_machine_mail_is_human(fixture: str) -> None:
    path = FIXTURES / fixture

    assert classify_headers(parse_headers(header_block(path)), PROGRAM) is None
    assert classify_message(path.read_bytes(), PROGRAM) is None


def with_subject(subject: str) -> bytes:
    """Ordinary human mail (ORDINARY_HUMAN_MAIL) with another subject, sent as RFC 2047 UTF-8."""
    encoded = Header(subject, "utf-8").encode()
    return message(ORDINARY_HUMAN_MAIL).replace(
        f"Subject: {CANARY} coffee next week?".encode(), b"Subject: " + encoded.encode()
    )


# People's subjects that mention an automatic reply or an absence, in several languages.
HUMAN_SUBJECTS = [
    "Re: my automatic reply settings question",
    "Out of office tips for new librarians?",
    "Re: Out of office hours for the reference desk",
    "Automatic reply settings in Outlook - can you help?",
    "Re: Automatic reply: coffee next week?",
    "Fwd: Out of Office: conference dates",
    "[EXTERNAL] Re: Out of office: back Monday",
    "Out of the office next week - can we move our call?",
    "Vacation: dates for our next call?",
    "Read: chapter 3 before our call",
    "Please confirm: our meeting on Tuesday?",
    "Please confirm your availability for the panel",
    "Abwesenheitsnotiz einrichten - wie geht das?",
    "Auto: Fahrgemeinschaft zum Treffen?",
    "Wie formuliere ich eine automatische Antwort?",
    "Re: Réponse automatique : ton conseil ?",
    "Réponse automatique ou message personnel ?",
    "¿Cómo configuro la respuesta automática?",
    "Vacaciones y la reunión de mayo",
    "Risposta automatica nelle biblioteche: un articolo",
    "Automatisch antwoord instellen voor de bibliotheek?",
    "Automatyczna odpowiedź - jak ją ustawić?",
    "Автоматический ответ в Outlook: как отключить?",
    "自動応答メールの設定について",
    "自动回复怎么设置？",
]
# The same words as the vendors write them.
VENDOR_SUBJECTS = [
    f"Automatic reply: {CANARY} coffee next week?",
    f"Automatische Antwort: {CANARY} Kaffee?",
    f"Réponse automatique : {CANARY} café ?",
    f"Respuesta automática: {CANARY} ¿café?",
    f"Risposta automatica: {CANARY} caffè?",
    f"Resposta automática: {CANARY} café?",
    f"Automatisch antwoord: {CANARY} koffie?",
    f"Autosvar: {CANARY} kaffe?",
    f"Automaattinen vastaus: {CANARY} kahvi?",
    f"Automatyczna odpowiedź: {CANARY} kawa?",
    f"Automatická odpověď: {CANARY} káva?",
    f"Автоматический ответ: {CANARY} кофе?",
    f"Αυτόματη απάντηση: {CANARY} καφές;",
    f"Otomatik yanıt: {CANARY} kahve?",
    f"自动回复: {CANARY} 咖啡？",
    f"自動応答: {CANARY} コーヒー",
    f"자동 응답: {CANARY} 커피?",
    f"Out of Office: {CANARY} coffee next week?",
    f"Out of Office AutoReply: {CANARY} coffee next week?",
    f"Abwesenheitsnotiz: {CANARY} Kaffee?",
    "AUTO: Mo Mentor is out of the office (returning 21/09/2026)",
    "Auto Response",
    f"Autoreply: {CANARY} coffee next week?",
    f"[Auto-Reply] {CANARY} coffee next week?",
    f"[EXTERNAL] Automatic reply: {CANARY} coffee next week?",
    "Please verify your email address",
    f"Please confirm your message ({CANARY} coffee next week?)",
]


@pytest.mark.parametrize("subject", HUMAN_SUBJECTS)
def test_a_person_writing_about_automatic_replies_is_not_one(subject: str) -> None:
    assert kinds(with_subject(subject)) == (None, None)


@pytest.mark.parametrize("subject", VENDOR_SUBJECTS)
def test_vendor_auto_reply_subjects_are_auto_replies(subject: str) -> None:
    by_headers, by_message = verdicts(with_subject(subject))

    assert by_headers is not None and by_headers.kind is MachineKind.AUTO_REPLY
    assert by_headers.reason.startswith("subject has ")
    assert by_message == by_headers


def test_subject_rules_need_the_subject_to_start_with_the_prefix() -> None:
    """A long or hostile Subject costs nothing extra and matches only at its start."""
    assert kinds(with_subject("Hello " * 5000 + "Automatic reply: x")) == (None, None)
    assert kinds(with_subject("Automatic reply: " + "x" * 50_000))[0] is MachineKind.AUTO_REPLY


def test_x_auto_response_suppress_alone_is_not_machine_mail_but_is_heeded() -> None:
    raw = message(ORDINARY_HUMAN_MAIL.replace("Content-Type:", "X-Auto-Response-Suppress: All\nContent-Type:"))

    assert kinds(raw) == (None, None)
    assert parse_headers(raw).suppresses_auto_responses is True
    assert parse_headers(message(ORDINARY_HUMAN_MAIL)).suppresses_auto_responses is False
