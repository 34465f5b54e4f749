"""parsers/tokens.py: signed reply addresses (pure).

A token comes back from the outside world in a To, a Delivered-To or an envelope sender, often
lower-cased by a mail server, sometimes forged or mangled. Only a token this program signed with
its key, unchanged but for case and not yet expired, may verify; anything else is a Rejected,
never an exception.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mentormail.parsers.tokens import (
    MAX_PERSON,
    MAX_REFERENCE_LENGTH,
    MAX_TOKEN_LENGTH,
    Claims,
    Purpose,
    Rejected,
    make_token,
    reply_address,
    token_in,
    verify,
)

SECRET = b"0123456789abcdef" * 4
PROGRAM = "mentoring@example.org"
TODAY = date(2026, 10, 5)
CLAIMS = Claims(Purpose.REPLY, 17, "pair-17", date(2026, 12, 1))
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"

claims_strategy = st.builds(
    Claims,
    purpose=st.sampled_from(Purpose),
    person=st.integers(0, MAX_PERSON),
    reference=st.text("abcdefghijklmnopqrstuvwxyz0123456789._:-", min_size=1, max_size=MAX_REFERENCE_LENGTH),
    expires_on=st.dates(date(2020, 1, 1), date(2199, 6, 6)),
)


def test_round_trip() -> None:
    token = make_token(SECRET, CLAIMS)

    assert verify(SECRET, token, TODAY) == CLAIMS
    assert token == token.lower() and token.isalnum()


@given(claims_strategy)
def test_every_claim_round_trips_within_the_length_bound(claims: Claims) -> None:
    token = make_token(SECRET, claims)

    assert len(token) <= MAX_TOKEN_LENGTH
    assert verify(SECRET, token, claims.expires_on) == claims


def test_the_longest_claims_fit_a_64_character_local_part() -> None:
    longest = Claims(Purpose.BOUNCE, MAX_PERSON, "-" * MAX_REFERENCE_LENGTH, date(2199, 6, 6))

    address = reply_address("sixteen-chars-16@example.org", make_token(SECRET, longest))

    assert len(address.split("@")[0]) <= 64
    assert verify(SECRET, token_in(address, "sixteen-chars-16@example.org") or "", TODAY) == longest


def test_typical_tokens_are_short() -> None:
    assert len(make_token(SECRET, CLAIMS)) == 33
    assert len(make_token(SECRET, Claims(Purpose.BOUNCE, 0, "digest", date(2026, 12, 1)))) == 32


def test_upper_cased_token_verifies() -> None:
    token = make_token(SECRET, CLAIMS)

    assert verify(SECRET, token.upper(), TODAY) == CLAIMS


def test_valid_through_the_expiry_day_and_expired_after() -> None:
    token = make_token(SECRET, CLAIMS)

    assert verify(SECRET, token, date(2026, 12, 1)) == CLAIMS
    assert verify(SECRET, token, date(2026, 12, 2)) == Rejected("expired on 2026-12-01")


def test_wrong_secret_is_a_bad_signature() -> None:
    token = make_token(SECRET, CLAIMS)

    assert verify(b"another key", token, TODAY) == Rejected("bad signature")


@given(st.text(ALPHABET, min_size=17, max_size=MAX_TOKEN_LENGTH))
def test_forged_tokens_are_rejected(forged: str) -> None:
    assert isinstance(verify(SECRET, forged, TODAY), Rejected)


def test_random_forgeries_are_bad_signatures() -> None:
    forgeries = ["".join(secrets.choice(ALPHABET) for _ in range(28)) for _ in range(200)]

    # Most decode to some claims; the rest carry impossible field values.
    assert {verify(SECRET, forged, TODAY) for forged in forgeries} == {Rejected("bad signature"), Rejected("malformed")}


@given(claims_strategy, st.data())
def test_any_single_character_changed_is_rejected(claims: Claims, data: st.DataObject) -> None:
    token = make_token(SECRET, claims)
    index = data.draw(st.integers(0, len(token) - 1))
    char = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != token[index]))

    altered = token[:index] + char + token[index + 1 :]

    assert isinstance(verify(SECRET, altered, claims.expires_on), Rejected)


def test_the_payload_cannot_be_respelt_with_a_leading_zero_digit() -> None:
    token = make_token(SECRET, CLAIMS)

    assert verify(SECRET, "a" + token, TODAY) == Rejected("bad signature")


def test_a_tampered_claim_is_a_bad_signature() -> None:
    other = make_token(SECRET, replace(CLAIMS, person=18))
    token = make_token(SECRET, CLAIMS)

    # Another genuine token's payload with this token's tag.
    assert verify(SECRET, other[:-16] + token[-16:], TODAY) == Rejected("bad signature")


@pytest.mark.parametrize("cut", [1, 5, 16, 20])
def test_truncated_tokens_are_rejected(cut: int) -> None:
    token = make_token(SECRET, CLAIMS)

    assert isinstance(verify(SECRET, token[:-cut], TODAY), Rejected)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "not a token"),
        ("pair-17", "not a token"),
        ("abc def", "not a token"),
        ("ab0", "not a token"),  # 0 and 1 are not base32 digits
        ("\u212a" * 20, "not a token"),  # KELVIN SIGN lower-cases to an ASCII "k"
        ("abcdefgh", "malformed"),  # shorter than a tag
        ("a" * (MAX_TOKEN_LENGTH + 1), "malformed"),
        ("7" * MAX_TOKEN_LENGTH, "malformed"),  # a reference longer than MAX_REFERENCE_LENGTH
        ("a" * MAX_TOKEN_LENGTH, "malformed"),  # an empty reference
    ],
)
def test_what_is_not_a_token(token: str, reason: str) -> None:
    assert verify(SECRET, token, TODAY) == Rejected(reason)


@given(st.text())
def test_verify_never_raises_on_any_text(text: str) -> None:
    assert isinstance(verify(SECRET, text, TODAY), Rejected)


@given(st.text(ALPHABET + ALPHABET.upper(), max_size=60))
def test_verify_never_raises_on_base32_text(text: str) -> None:
    assert isinstance(verify(SECRET, text, TODAY), (Claims, Rejected))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("purpose", "reply"),
        ("person", -1),
        ("person", MAX_PERSON + 1),
        ("person", True),
        ("reference", ""),
        ("reference", "Pair-17"),
        ("reference", "pair 17"),
        ("reference", "x" * (MAX_REFERENCE_LENGTH + 1)),
        ("reference", "pär-17"),
        ("expires_on", date(2019, 12, 31)),
        ("expires_on", date(2199, 6, 7)),
    ],
)
def test_claims_that_cannot_be_signed_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        replace(CLAIMS, **{field: value})


def test_reply_address_and_token_in() -> None:
    token = make_token(SECRET, CLAIMS)

    address = reply_address(PROGRAM, token)

    assert address == f"mentoring+{token}@example.org"
    assert token_in(address, PROGRAM) == token
    assert token_in(f"Mentoring <MENTORING+{token.upper()}@Example.ORG>", PROGRAM) == token


@pytest.mark.parametrize(
    "address",
    [
        "mentoring@example.org",  # no tag
        "mentoring+@example.org",  # empty tag
        "mentoring+log@example.org",  # a tag, but too short to be a token
        "mentoring+pair-17-reply-to-the-program@example.org",  # not base32
        "mentoring+" + "b" * 20 + "+x@example.org",  # two tags
        "mentoring+" + "b" * (MAX_TOKEN_LENGTH + 1) + "@example.org",
        "not an address",
    ],
)
def test_token_in_other_plus_tags_is_none(address: str) -> None:
    assert token_in(address, PROGRAM) is None


def test_token_in_another_program_address_is_none() -> None:
    token = make_token(SECRET, CLAIMS)

    assert token_in(f"mentoring+{token}@example.net", PROGRAM) is None
    assert token_in(f"other+{token}@example.org", PROGRAM) is None
    assert token_in(f"xmentoring+{token}@example.org", PROGRAM) is None


def test_reply_address_needs_an_address() -> None:
    with pytest.raises(ValueError):
        reply_address("mentoring", "token")


def test_tokens_differ_by_purpose_and_expire_by_day() -> None:
    reply = make_token(SECRET, CLAIMS)
    bounce = make_token(SECRET, replace(CLAIMS, purpose=Purpose.BOUNCE))

    assert reply != bounce
    assert verify(SECRET, bounce, TODAY) == replace(CLAIMS, purpose=Purpose.BOUNCE)
    assert verify(SECRET, reply, CLAIMS.expires_on + timedelta(days=400)) == Rejected("expired on 2026-12-01")
