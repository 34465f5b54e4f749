"""daemon/router.py: one test per row of the decision table, pure (no store, no servers).

The facts are gathered the way intake gathers them: `parse_headers` on the message's bytes,
`classify_headers` for the machine verdict, the sender looked up in a `Roster` built with
`Roster.build`. Ana mentors Ben and Cleo (two pairs), Dev mentors Eve.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from email.message import EmailMessage

import pytest

from conftest import PROGRAM_ADDRESS, message
from mentormail.store.outcomes import Direction, OutcomeKind, PairMatch
from mentormail.store.roster import Participant, Roster, RosterPair
from mentormail.daemon.intake.router import DECISION_TABLE, MessageFacts, ReplyToken, route
from mentormail.parsers.headers import parse_headers
from mentormail.parsers.machine import classify_headers
from mentormail.parsers.tokens import Claims, Purpose

ANA = Participant(1, "ana@example.org", "Ana Álvarez")
BEN = Participant(2, "ben@example.net", "Ben O'Brien")
CLEO = Participant(3, "cleo@example.net", "Cléo Martin")
DEV = Participant(4, "dev@example.org", "Dev Patel")
EVE = Participant(5, "eve@example.com", "Eve Cohen")

ROSTER = Roster.build(
    [(ANA, ("ana.alvarez@home.example",)), (BEN, ()), (CLEO, ()), (DEV, ()), (EVE, ())],
    [
        RosterPair("p1", ANA, BEN, "active"),
        RosterPair("p2", ANA, CLEO, "active"),
        RosterPair("p3", DEV, EVE, "active"),
    ],
)


def facts(
    msg: EmailMessage | bytes,
    *,
    bounced: frozenset[str] = frozenset(),
    envelope: tuple[str, ...] = (PROGRAM_ADDRESS,),
    seen_pairs: frozenset[str] = frozenset(),
    seen_outcomes: frozenset[str] = frozenset(),
) -> MessageFacts:
    headers = parse_headers(msg if isinstance(msg, bytes) else msg.as_bytes())
    return MessageFacts(
        headers=headers,
        sender=ROSTER.participant(headers.from_address),
        machine=classify_headers(headers, PROGRAM_ADDRESS),
        bounced=bounced,
        program_address=PROGRAM_ADDRESS,
        envelope_recipients=envelope,
        seen_pairs=seen_pairs,
        seen_outcomes=seen_outcomes,
    )


def test_the_table_has_the_rows_these_tests_cover() -> None:
    assert [rule.name for rule in DECISION_TABLE] == [
        "loop",
        "bounce",
        "auto_reply",
        "malformed",
        "duplicate_contact",
        "contact",
        "duplicate_reply",
        "forged_token",
        "someone_elses_token",
        "staff_mail",
        "command",
        "strangers_question",
        "unknown_sender",
        "data_request",
        "survey_reply",
        "checkin_reply",
        "letter_request",
        "self_report",
        "question",
    ]


# --- malformed ---------------------------------------------------------------------------------


def test_malformed_when_from_has_no_address() -> None:
    raw = b"From: Ana without an address\r\nTo: ben@example.net\r\nCc: mentoring@example.org\r\n\r\nhi\r\n"

    outcome = route(facts(raw), ROSTER)

    assert outcome.kind is OutcomeKind.MALFORMED
    assert outcome.pairs == ()


def test_malformed_when_there_is_no_from_at_all() -> None:
    raw = b"To: ben@example.net\r\nCc: mentoring@example.org\r\nSubject: hi\r\n\r\n"

    assert route(facts(raw), ROSTER).kind is OutcomeKind.MALFORMED


def test_machine_mail_without_a_from_is_machine_mail_not_malformed() -> None:
    """Some mail systems send bounces and notices with no usable From: the machine rows come first."""
    auto = b"To: ben@example.net\r\nAuto-Submitted: auto-replied\r\n\r\n"
    own = b"To: ben@example.net\r\nX-Mentormail-Kind: topic\r\n\r\n"
    bounce = dsn_headers().replace(b"From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\n", b"")

    assert route(facts(auto), ROSTER).kind is OutcomeKind.AUTO_REPLY
    assert route(facts(own), ROSTER).kind is OutcomeKind.LOOP
    assert route(facts(bounce, bounced=frozenset({"ben@example.net"})), ROSTER).kind is OutcomeKind.BOUNCE


# --- loop --------------------------------------------------------------------------------------


def test_loop_when_the_daemons_own_mail_comes_back() -> None:
    """X-Mentormail-Kind is on every mail the daemon sends; a participant's server returning it
    (forwarding, a rule) must not count as contact, even with the partner among the recipients."""
    msg = message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS], headers={"X-Mentormail-Kind": "topic"})

    outcome = route(facts(msg), ROSTER)

    assert outcome.kind is OutcomeKind.LOOP
    assert "X-Mentormail-Kind" in outcome.reason
    assert outcome.pairs == ()


def test_loop_when_mail_comes_from_the_program_address() -> None:
    msg = message(f"Mentoring <{PROGRAM_ADDRESS}>", ["ben@example.net"])

    assert route(facts(msg), ROSTER).kind is OutcomeKind.LOOP


# --- bounce ------------------------------------------------------------------------------------


def dsn_headers() -> bytes:
    return (
        b"From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\n"
        b"To: mentoring@example.org\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce-1@mx.example.com>\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
    )


def test_bounce_names_only_the_participant_addresses_it_reports() -> None:
    outcome = route(facts(dsn_headers(), bounced=frozenset({"ben@example.net", "someone@else.example"})), ROSTER)

    assert outcome.kind is OutcomeKind.BOUNCE
    assert outcome.addresses == ("ben@example.net",)
    assert "ben@example.net" in outcome.reason
    assert "someone@else.example" not in outcome.reason
    assert outcome.pairs == ()


def test_bounce_naming_no_participant_says_so() -> None:
    outcome = route(facts(dsn_headers(), bounced=frozenset({"someone@else.example"})), ROSTER)

    assert outcome.kind is OutcomeKind.BOUNCE
    assert outcome.addresses == ()
    assert "no participant" in outcome.reason


# --- auto_reply (machine mail, list mail) --------------------------------------------------------


def test_auto_reply_from_a_participant_to_their_partner_is_never_counted() -> None:
    msg = message("ben@example.net", ["ana@example.org"], [PROGRAM_ADDRESS], headers={"Auto-Submitted": "auto-replied"})

    outcome = route(facts(msg), ROSTER)

    assert outcome.kind is OutcomeKind.AUTO_REPLY
    assert "Auto-Submitted" in outcome.reason
    assert outcome.pairs == ()


@pytest.mark.parametrize(
    "headers",
    [{"List-Id": "<librarians.lists.example.org>"}, {"Precedence": "list"}],
    ids=["list_id", "precedence_list"],
)
def test_list_mail_is_an_auto_reply_not_a_contact(headers: dict[str, str]) -> None:
    """A mailing list both partners are on relays Ana's post to Ben: not their correspondence."""
    msg = message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS], headers=headers)

    outcome = route(facts(msg), ROSTER)

    assert outcome.kind is OutcomeKind.AUTO_REPLY
    assert outcome.pairs == ()


# --- unknown_sender ----------------------------------------------------------------------------


def test_unknown_sender_writing_to_a_participant() -> None:
    msg = message("Stranger <Stranger@Elsewhere.example>", ["ana@example.org"], [PROGRAM_ADDRESS])

    outcome = route(facts(msg), ROSTER)

    assert outcome.kind is OutcomeKind.UNKNOWN_SENDER
    assert outcome.addresses == ("stranger@elsewhere.example",)
    assert outcome.pairs == ()


# --- contact -----------------------------------------------------------------------------------


def test_contact_cc_copy_mentor_to_mentee() -> None:
    msg = message("Ana Álvarez <ana@example.org>", ["ben@example.net"], [PROGRAM_ADDRESS])

    outcome = route(facts(msg), ROSTER)

    assert outcome.kind is OutcomeKind.CONTACT
    assert outcome.pairs == (PairMatch("p1", Direction.MENTOR_TO_MENTEE),)
    assert (outcome.pair, outcome.direction) == ("p1", Direction.MENTOR_TO_MENTEE)
    assert "CC copy" in outcome.reason
    assert "BCC" not in outcome.reason


def test_contact_cc_copy_mentee_to_mentor() -> None:
    msg = message("eve@example.com", ["dev@example.org"], [PROGRAM_ADDRESS])

    outcome = route(facts(msg), ROSTER)

    assert outcome.kind is OutcomeKind.CONTACT
    assert outcome.pairs == (PairMatch("p3", Direction.MENTEE_TO_MENTOR),)


def test_contact_with_the_program_in_to_and_the_partner_in_cc() -> None:
    msg = message("ben@example.net", [PROGRAM_ADDRESS], ["Ana <ANA@example.org>"])

    outcome = route(facts(msg), ROSTER)

    assert outcome.pairs == (PairMatch("p1", Direction.MENTEE_TO_MENTOR),)
    assert "CC copy" in outcome.reason


def test_contact_from_a_sender_alias() -> None:
    msg = message("ana.alvarez@home.example", ["cleo@example.net"], [PROGRAM_ADDRESS])

    assert route(facts(msg), ROSTER).pairs == (PairMatch("p2", Direction.MENTOR_TO_MENTEE),)


def test_contact_bcc_copy_program_only_in_the_envelope() -> None:
    msg = message("ben@example.net", ["ana@example.org"])  # the program is not in the headers

    outcome = route(facts(msg, envelope=(PROGRAM_ADDRESS,)), ROSTER)

    assert outcome.kind is OutcomeKind.CONTACT
    assert outcome.pairs == (PairMatch("p1", Direction.MENTEE_TO_MENTOR),)
    assert "BCC" in outcome.reason


def test_contact_cc_to_a_program_sub_address_is_a_cc_copy() -> None:
    msg = message("ana@example.org", ["ben@example.net"], ["mentoring+log@example.org"])

    outcome = route(facts(msg), ROSTER)

    assert outcome.kind is OutcomeKind.CONTACT
    assert "BCC" not in outcome.reason


def test_mentor_writing_to_both_mentees_is_two_contacts() -> None:
    msg = message("ana@example.org", ["ben@example.net", "cleo@example.net"], [PROGRAM_ADDRESS])

    outcome = route(facts(msg), ROSTER)

    assert outcome.kind is OutcomeKind.CONTACT
    assert set(outcome.pairs) == {
        PairMatch("p1", Direction.MENTOR_TO_MENTEE),
        PairMatch("p2", Direction.MENTOR_TO_MENTEE),
    }
    assert len(outcome.pairs) == 2


def test_mentor_writing_to_one_of_two_mentees_decides_that_pair_only() -> None:
    msg = message("ana@example.org", ["cleo@example.net"], [PROGRAM_ADDRESS, "eve@example.com"])

    outcome = route(facts(msg), ROSTER)

    assert outcome.pairs == (PairMatch("p2", Direction.MENTOR_TO_MENTEE),)


def test_a_mentee_writing_to_another_pairs_mentor_is_not_a_contact() -> None:
    msg = message("ben@example.net", ["dev@example.org"], [PROGRAM_ADDRESS])

    outcome = route(facts(msg), ROSTER)

    assert outcome.kind is OutcomeKind.QUESTION
    assert outcome.pairs == ()


# --- duplicate contact -------------------------------------------------------------------------


def test_duplicate_contact_when_every_pair_was_already_logged() -> None:
    msg = message("ana@example.org", ["ben@example.net", "cleo@example.net"], [PROGRAM_ADDRESS])

    outcome = route(facts(msg, seen_pairs=frozenset({"p1", "p2"})), ROSTER)

    assert outcome.kind is OutcomeKind.DUPLICATE
    assert outcome.pairs == ()
    assert "p1" in outcome.reason and "p2" in outcome.reason


def test_a_copy_seen_for_one_pair_only_counts_the_other_pair() -> None:
    msg = message("ana@example.org", ["ben@example.net", "cleo@example.net"], [PROGRAM_ADDRESS])

    outcome = route(facts(msg, seen_pairs=frozenset({"p1"})), ROSTER)

    assert outcome.kind is OutcomeKind.CONTACT
    assert outcome.pairs == (PairMatch("p2", Direction.MENTOR_TO_MENTEE),)


# --- question, duplicate question ------------------------------------------------------------------


def test_question_from_a_participant_to_the_program_only() -> None:
    msg = message("Ben <ben@example.net>", [PROGRAM_ADDRESS])

    outcome = route(facts(msg), ROSTER)

    assert outcome.kind is OutcomeKind.QUESTION
    assert outcome.addresses == ("ben@example.net",)
    assert outcome.pairs == ()


def test_question_sent_from_an_alias_is_about_the_person() -> None:
    msg = message("ana.alvarez@home.example", [PROGRAM_ADDRESS])

    assert route(facts(msg), ROSTER).addresses == ("ana@example.org",)


def test_duplicate_question_when_the_question_was_already_recorded() -> None:
    msg = message("ben@example.net", [PROGRAM_ADDRESS])

    outcome = route(facts(msg, seen_outcomes=frozenset({"question"})), ROSTER)

    assert outcome.kind is OutcomeKind.DUPLICATE
    assert outcome.addresses == ()


def test_my_data_from_a_participant_to_the_program_is_a_data_request() -> None:
    msg = message("ana.alvarez@home.example", [PROGRAM_ADDRESS], subject="My data, please")
    outcome = route(replace(facts(msg), text="", subject="My data, please"), ROSTER)
    assert outcome.kind is OutcomeKind.DATA_REQUEST
    assert outcome.addresses == ("ana.alvarez@home.example",) and outcome.pairs == ()


def test_my_data_in_a_mail_to_the_partner_is_a_contact_and_never_read() -> None:
    msg = message("ben@example.net", ["ana@example.org"], [PROGRAM_ADDRESS], subject="my data")
    assert route(facts(msg), ROSTER).kind is OutcomeKind.CONTACT


def test_my_data_from_a_stranger_is_a_strangers_question() -> None:
    msg = message("zed@elsewhere.example", [PROGRAM_ADDRESS], subject="my data")
    assert route(replace(facts(msg), text="my data", subject="my data"), ROSTER).kind is OutcomeKind.QUESTION


# --- the route is pure ---------------------------------------------------------------------------


def test_routing_the_same_facts_twice_gives_the_same_outcome() -> None:
    the_facts = facts(message("ana@example.org", ["ben@example.net", "cleo@example.net"], [PROGRAM_ADDRESS]))

    assert route(the_facts, ROSTER) == route(the_facts, ROSTER)


def test_reasons_never_quote_the_subject() -> None:
    canary = "CANARY-subject-7f3a"
    cases = [
        message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS], subject=canary),
        message("ben@example.net", ["ana@example.org"], subject=canary),
        message("ben@example.net", [PROGRAM_ADDRESS], subject=canary),
        message("x@elsewhere.example", ["ana@example.org"], subject=canary),
        message("ben@example.net", ["ana@example.org"], subject=canary, headers={"Auto-Submitted": "auto-replied"}),
    ]
    for msg in cases:
        assert canary not in route(facts(msg), ROSTER).reason


# --- command (issue 7: forged coordinator commands) ----------------------------------------------

COORDINATOR = Participant(9, "coordinator@example.org", "Coordinator")


def command_facts(token_person: int, *, authenticated: bool = True) -> MessageFacts:
    msg = message("Coordinator <coordinator@example.org>", [PROGRAM_ADDRESS], body="end p3\n")
    claims = Claims(Purpose.REPLY, token_person, "digest.0123abcd", date(2030, 1, 1))
    return replace(
        facts(msg),
        coordinator=COORDINATOR,
        staff=COORDINATOR,
        token=ReplyToken(claims, None),
        authenticated=authenticated,
        text="end p3",
    )


def test_a_command_with_a_token_made_out_to_that_coordinator_is_obeyed() -> None:
    assert route(command_facts(COORDINATOR.person_id), ROSTER).kind is OutcomeKind.COMMAND


def test_a_command_with_an_any_recipient_token_is_spoofed() -> None:
    """Person 0 is on mail several people hold (the pairing announcement): it proves nothing."""
    outcome = route(command_facts(0), ROSTER)
    assert outcome.kind is OutcomeKind.SPOOFED
    assert "not sent to this coordinator alone" in outcome.reason


def test_a_command_with_a_participants_token_is_spoofed() -> None:
    assert route(command_facts(BEN.person_id), ROSTER).kind is OutcomeKind.SPOOFED


def test_a_command_without_a_pass_from_the_trusted_server_is_spoofed() -> None:
    outcome = route(command_facts(COORDINATOR.person_id, authenticated=False), ROSTER)
    assert outcome.kind is OutcomeKind.SPOOFED and "DMARC" in outcome.reason


# --- staff mail, a stranger's question, naming the mentee (issue 10) -------------------------------


def test_a_coordinators_copy_of_her_mail_to_a_participant_is_staff_mail_not_spoofed() -> None:
    msg = message("Coordinator <coordinator@example.org>", ["ben@example.net"], [PROGRAM_ADDRESS])
    outcome = route(replace(facts(msg), coordinator=COORDINATOR, staff=COORDINATOR), ROSTER)
    assert outcome.kind is OutcomeKind.STAFF_MAIL
    assert outcome.addresses == ("coordinator@example.org",)
    assert outcome.removed_from_inbox  # answered in full; nobody's to look at in the shared inbox


def test_a_command_to_the_plain_address_is_staff_mail_not_spoofed() -> None:
    msg = message("Coordinator <coordinator@example.org>", [PROGRAM_ADDRESS], body="pause p3\n")
    the_facts = replace(facts(msg), coordinator=COORDINATOR, staff=COORDINATOR, text="pause p3")
    assert route(the_facts, ROSTER).kind is OutcomeKind.STAFF_MAIL


def test_a_coordinators_command_with_a_forged_token_is_still_spoofed() -> None:
    the_facts = replace(command_facts(COORDINATOR.person_id), token=ReplyToken(None, "bad signature"))
    assert route(the_facts, ROSTER).kind is OutcomeKind.SPOOFED


def test_a_stranger_writing_to_the_program_is_a_question() -> None:
    msg = message("Zed <zed@elsewhere.example>", [PROGRAM_ADDRESS], body="How do I join?\n")
    outcome = route(replace(facts(msg), text="How do I join?"), ROSTER)
    assert outcome.kind is OutcomeKind.QUESTION
    assert outcome.addresses == ("zed@elsewhere.example",)


def test_a_stranger_whose_mail_was_not_read_is_an_unknown_sender() -> None:
    msg = message("Zed <zed@elsewhere.example>", ["ben@example.net"], [PROGRAM_ADDRESS])
    assert route(facts(msg), ROSTER).kind is OutcomeKind.UNKNOWN_SENDER


def test_a_mentor_of_two_naming_a_mentee_reports_for_that_pair() -> None:
    msg = message("ana@example.org", [PROGRAM_ADDRESS], body="phone call with Cleo yesterday\n")
    outcome = route(replace(facts(msg), text="phone call with Cleo yesterday", today=date(2026, 11, 12)), ROSTER)
    assert outcome.kind is OutcomeKind.SELF_REPORT
    assert outcome.pairs == (PairMatch("p2", Direction.MENTOR_TO_MENTEE),)


def test_a_mentor_of_two_naming_nobody_reports_for_no_pair() -> None:
    msg = message("ana@example.org", [PROGRAM_ADDRESS], body="call 30 min\n")
    outcome = route(replace(facts(msg), text="call 30 min", today=date(2026, 11, 12)), ROSTER)
    assert outcome.kind is OutcomeKind.SELF_REPORT and outcome.pairs == ()
