"""Composing the program's mail: headers recipients rely on, and names that survive encoding."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

from mentormail.daemon.mail.compose import Composer, Sender
from mentormail.daemon.mail.planner import DueMail
from mentormail.store.planner_state import Person
from mentormail.daemon.mail.render import Renderer
from mentormail.parsers.tokens import Claims, Purpose, token_in, verify

SECRET = b"compose-test-secret"
PROGRAM = "Example Library Association: new-librarian mentoring"
SIOBHAN = Person(1, "Siobhán O'Connor", "siobhan.oconnor@example.org")
ZOE = Person(2, "Zoë Müller", "zoe.muller@example.net")
DUE = datetime(2026, 9, 1, 14, tzinfo=timezone.utc)


def pairing() -> DueMail:
    return DueMail(
        key="pairing:pair-pair-01",
        kind="pairing",
        due_at=DUE,
        to=(SIOBHAN, ZOE),
        context={
            "program": {"name": PROGRAM, "address": "mentoring@example.org", "coordinators": [], "liaison": None},
            "recipient": {"name": SIOBHAN.name, "email": SIOBHAN.email, "role": "mentor"},
            "mentor": {"name": SIOBHAN.name, "email": SIOBHAN.email},
            "mentee": {"name": ZOE.name, "email": ZOE.email},
            "pair_id": "pair-01",
            "starts_on": date(2026, 9, 1),
            "ends_on": date(2027, 6, 1),
        },
        pair_id="pair-01",
        reference="pair-pair-01",
    )


def compose(mail: DueMail):  # type: ignore[no-untyped-def]
    sender = Sender(PROGRAM, "mentoring@example.org", ZoneInfo("America/Chicago"), SECRET, 9)
    row = Composer(sender, Renderer()).compose(mail)
    return row, message_from_bytes(row.raw, policy=policy.default)


def test_non_ascii_names_keep_their_spaces_in_a_long_subject() -> None:
    _, parsed = compose(pairing())
    assert str(parsed["Subject"]).endswith("Siobhán O'Connor and Zoë Müller")
    assert [a.display_name for a in parsed["To"].addresses] == ["Siobhán O'Connor", "Zoë Müller"]


def test_every_mail_says_it_is_automatic_and_carries_signed_addresses() -> None:
    row, parsed = compose(pairing())
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert parsed["X-Mentormail-Kind"] == "pairing"
    assert parsed["Date"].datetime == DUE
    reply = verify(SECRET, token_in(str(parsed["Reply-To"]), "mentoring@example.org") or "", date(2026, 9, 2))
    assert isinstance(reply, Claims) and reply.purpose is Purpose.REPLY and reply.reference.startswith("pair-pair-0")
    assert row.message_id.startswith(token_in(str(parsed["Reply-To"]), "mentoring@example.org") or "-")
    bounce = verify(SECRET, token_in(row.envelope_sender, "mentoring@example.org") or "", date(2026, 9, 2))
    assert isinstance(bounce, Claims) and bounce.purpose is Purpose.BOUNCE
    assert row.recipients.split() == [SIOBHAN.email, ZOE.email]
    assert parsed.get_body(("html",)) is not None and parsed.get_body(("plain",)) is not None


def test_the_same_due_mail_composes_to_the_same_message_id() -> None:
    assert compose(pairing())[0].message_id == compose(pairing())[0].message_id


def test_two_mails_with_the_same_claims_on_one_day_get_different_tokens() -> None:
    """A mentor of two mentees gets two check-ins at once; each reply must find its own."""
    first, _ = compose(pairing())
    second, _ = compose(replace(pairing(), key="pairing:pair-pair-02"))
    assert first.message_id.split(".")[0] != second.message_id.split(".")[0]


def reply_expires_on(mail: DueMail) -> date:
    _, parsed = compose(mail)
    claims = verify(SECRET, token_in(str(parsed["Reply-To"]), "mentoring@example.org") or "", DUE.date())
    assert isinstance(claims, Claims)
    return claims.expires_on


def test_a_participant_can_answer_the_pairing_mail_until_well_after_the_round_ends() -> None:
    # A nine-month round that starts on 1 September 2026 ends on 1 June 2027.
    assert reply_expires_on(pairing()) >= date(2027, 6, 1) + timedelta(days=90)


def test_a_reply_address_on_committee_mail_lasts_a_month() -> None:
    # Which template does not matter here: who the mail goes to does.
    assert reply_expires_on(replace(pairing(), to_committee=True)) == date(2026, 10, 1)


def test_a_reply_token_names_its_person_only_on_mail_to_that_person_alone() -> None:
    """A coordinator's commands are obeyed only with a token made out to them; mail that others
    hold too (a letter copied to the coordinators, a pairing) must carry a token naming nobody."""

    def token_person(mail: DueMail) -> int:
        _, parsed = compose(mail)
        claims = verify(SECRET, token_in(str(parsed["Reply-To"]), "mentoring@example.org") or "", date(2026, 9, 2))
        assert isinstance(claims, Claims)
        return claims.person

    alone = replace(pairing(), key="checkin:pair-01:month-1", to=(SIOBHAN,), reply_person=SIOBHAN.person_id)
    shared = replace(pairing(), key="letter:pair-01", to=(SIOBHAN, ZOE), reply_person=SIOBHAN.person_id)
    assert token_person(alone) == SIOBHAN.person_id
    assert token_person(shared) == 0
    assert token_person(pairing()) == 0
