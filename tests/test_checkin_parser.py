"""parsers/checkin.py: a mentor's reply to the monthly check-in, in the ways mentors answer it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mentormail.parsers.checkin import MAX_NOTE, CheckinReply, parse_checkin


def test_a_bare_rating():
    assert parse_checkin("4") == CheckinReply(rating=4, wants_contact=None, note="")


def test_a_rating_out_of_five():
    assert parse_checkin("4/5").rating == 4
    assert parse_checkin("3 out of 5").rating == 3


def test_a_labelled_rating():
    assert parse_checkin("Rating: 4").rating == 4


def test_numbered_answers_as_the_checkin_mail_asks():
    assert parse_checkin("1. 4\n2. yes") == CheckinReply(rating=4, wants_contact=True, note="")


def test_numbered_answers_with_a_note_and_a_greeting_and_sign_off():
    reply = "Hi Sam,\n\n1. 3 - it has been slow\n2. no\nShe was ill in October.\n\nThanks,\nAnn"
    assert parse_checkin(reply) == CheckinReply(
        rating=3, wants_contact=False, note="it has been slow\nShe was ill in October."
    )


def test_answers_on_the_line_after_their_numbers():
    assert parse_checkin("1.\n5\n2.\nno") == CheckinReply(rating=5, wants_contact=False, note="")


def test_the_words_of_the_scale_ends_answer_question_one():
    assert parse_checkin("1. very well\n2. no thanks") == CheckinReply(rating=5, wants_contact=False, note="")


def test_rating_then_a_bare_yes():
    assert parse_checkin("4\nyes") == CheckinReply(rating=4, wants_contact=True, note="")


def test_asking_for_the_liaison_to_call():
    reply = parse_checkin("Please ask the liaison to call me")
    assert reply.wants_contact is True
    assert reply.note == "Please ask the liaison to call me"


def test_yes_please_get_in_touch():
    assert parse_checkin("yes, please get in touch") == CheckinReply(
        rating=None, wants_contact=True, note="please get in touch"
    )


def test_no_need_to_contact_me():
    assert parse_checkin("No need to contact me").wants_contact is False


def test_dont_call_me_is_a_no_despite_call_me():
    assert parse_checkin("4, all fine, don't call me").wants_contact is False


def test_a_sentence_starting_with_no_is_a_note_not_an_answer():
    assert parse_checkin("No problems so far") == CheckinReply(
        rating=None, wants_contact=None, note="No problems so far"
    )


def test_a_number_starting_a_sentence_is_not_a_rating():
    assert parse_checkin("2 of our meetings were cancelled").rating is None


def test_a_rating_outside_one_to_five_is_no_rating_and_stays_in_the_note():
    assert parse_checkin("7") == CheckinReply(rating=None, wants_contact=None, note="7")
    assert parse_checkin("10/10 would mentor again").rating is None


def test_the_first_rating_counts():
    assert parse_checkin("1. 2\n4").rating == 2


def test_the_note_is_at_most_500_characters():
    note = parse_checkin("1. 4\n" + "word " * 300).note
    assert len(note) == MAX_NOTE
    assert note.endswith("…")


def test_an_empty_reply_says_nothing():
    assert parse_checkin("") == CheckinReply(rating=None, wants_contact=None, note="")


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=400),
        st.lists(
            st.sampled_from(["1.", "2.", "4", "/5", "yes", "no", "call me", "\n", " ", "rating:", "n't", "Thanks,"]),
            max_size=30,
        ).map("".join),
    )
)
def test_never_raises(text):
    reply = parse_checkin(text)
    assert reply.rating is None or 1 <= reply.rating <= 5
    assert len(reply.note) <= MAX_NOTE
    assert reply.note == reply.note.strip()
