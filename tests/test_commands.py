"""parsers/commands.py: coordinators' commands a line at a time, and mentors asking for their letter."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mentormail.parsers.commands import VERBS, BadCommand, Command, is_letter_request, parse_commands


def one(line: str) -> Command | BadCommand:
    results = parse_commands(line)
    assert len(results) == 1, results
    return results[0]


# --- each command ----------------------------------------------------------------------------------


def test_pause_a_pair():
    assert one("pause pair-01") == Command(verb="pause", pair="pair-01", line="pause pair-01", number=1)


def test_resume_a_pair():
    assert one("resume p2") == Command(verb="resume", pair="p2", line="resume p2", number=1)


def test_end_a_pair_without_a_reason():
    assert one("end p3") == Command(verb="end", pair="p3", args=(), line="end p3", number=1)


def test_end_a_pair_with_a_reason():
    assert one("end p3 - mentee moved abroad").args == ("mentee moved abroad",)


def test_nudge_a_pair():
    assert one("nudge p1") == Command(verb="nudge", pair="p1", line="nudge p1", number=1)


def test_pair_two_people():
    assert one("pair ana@example.org ben@example.net") == Command(
        verb="pair", args=("ana@example.org", "ben@example.net"), line="pair ana@example.org ben@example.net", number=1
    )


def test_pair_two_people_with_a_start_date_and_angle_brackets():
    command = one("pair <Ana@Example.org> ben@example.net start 2026-11-03")
    assert command == Command(
        verb="pair",
        args=("ana@example.org", "ben@example.net", "2026-11-03"),
        line="pair <Ana@Example.org> ben@example.net start 2026-11-03",
        number=1,
    )


def test_approve_a_letter():
    assert one("approve letter 3") == Command(verb="approve", args=("letter", "3"), line="approve letter 3", number=1)


def test_approve_a_letter_written_with_a_hash():
    assert one("approve letter #4").args == ("letter", "4")


def test_decline_a_letter_without_and_with_a_reason():
    assert one("decline letter 5").args == ("letter", "5")
    assert one("decline letter 5: the pair never met").args == ("letter", "5", "the pair never met")


def test_status_of_a_pair():
    assert one("status p1") == Command(verb="status", pair="p1", line="status p1", number=1)


def test_help():
    assert one("help") == Command(verb="help", line="help", number=1)


# --- tolerated ---------------------------------------------------------------------------------------


def test_verbs_are_case_insensitive():
    assert one("PAUSE p1").verb == "pause"


def test_a_bullet_and_trailing_punctuation_are_tolerated():
    assert one("- pause p1.") == Command(verb="pause", pair="p1", line="- pause p1.", number=1)
    assert one("* Resume p2!").pair == "p2"


def test_please_before_a_command_is_tolerated():
    assert one("Please pause p1").verb == "pause"


def test_a_reply_with_greeting_blank_lines_quote_and_signature():
    reply = """Hi all,

pause p1

approve letter 2
> nudge p9
Thanks,
Sam

On Mon, 2 Nov 2026 at 08:00, Mentoring <program@example.org> wrote:
> Coordinators' digest
"""
    assert [(r.verb, r.number) for r in parse_commands(reply) if isinstance(r, Command)] == [
        ("pause", 1),
        ("approve", 2),
    ]


def test_commands_stop_at_the_signature_delimiter():
    assert [r.verb for r in parse_commands("pause p1\n-- \nnudge p2\nSam Smith")] == ["pause"]


def test_a_thanks_above_the_commands_does_not_end_them():
    assert [r.verb for r in parse_commands("Thanks!\npause p1\nnudge p2\n\nBest,\nSam")] == ["pause", "nudge"]


def test_a_mobile_footer_is_not_a_command():
    assert [r.verb for r in parse_commands("status p1\nSent from my iPhone")] == ["status"]


def test_numbers_count_bad_lines_too():
    results = parse_commands("pause p1\nfrobnicate\nresume p1")
    assert [r.number for r in results] == [1, 2, 3]
    assert isinstance(results[1], BadCommand)


# --- rejected, with a reason -------------------------------------------------------------------------


def test_unknown_command_suggests_the_closest():
    assert one("pasue p1") == BadCommand(
        line="pasue p1", reason="unknown command 'pasue' (did you mean 'pause'?)", number=1
    )


def test_unknown_command_lists_the_commands():
    assert one("frobnicate").reason == f"unknown command 'frobnicate' (the commands are: {', '.join(VERBS)})"


def test_a_pair_verb_without_a_pair():
    for verb in ("pause", "resume", "nudge", "status", "end"):
        assert one(verb).reason.startswith(f"{verb} needs a pair id")


def test_a_pair_verb_with_two_words():
    assert one("pause p1 p2").reason.startswith("pause takes one pair id, not 'p1 p2'")


def test_a_pair_id_with_characters_the_roster_does_not_allow():
    assert one("pause p#1").reason == "'p#1' is not a pair id"
    # "/" only separates a round from its pair id (`pause 2027/p1`), once.
    assert one("pause 2027/p/1").reason == "'2027/p/1' is not a pair id"


def test_pair_needs_two_addresses():
    assert one("pair ana@example.org").reason.startswith("pair needs two addresses")


def test_pair_with_something_that_is_not_an_address():
    assert one("pair ana@example.org ben").reason.startswith("'ben' is not an email address")


def test_pair_with_the_same_address_twice():
    assert one("pair ana@example.org ANA@example.org").reason.startswith("pair needs two different addresses")


def test_pair_with_a_start_that_is_not_a_date():
    assert one("pair ana@example.org ben@example.net start soon").reason.startswith("'soon' is not a date")
    assert one("pair ana@example.org ben@example.net start 2026-02-30").reason.startswith("'2026-02-30' is not a date")


def test_pair_with_start_but_no_date():
    assert one("pair ana@example.org ben@example.net start").reason.startswith("start needs a date")


def test_approve_without_a_letter_number():
    assert one("approve letter").reason == "approve needs a letter number (approve letter N)"


def test_approve_with_a_letter_number_that_is_not_a_number():
    assert one("approve letter x").reason == "'x' is not a letter number (approve letter N)"


def test_approve_with_words_after_the_number():
    assert one("approve letter 3 and 4").reason.startswith("approve takes only a letter number")


def test_no_commands_in_an_empty_reply():
    assert parse_commands("") == []
    assert parse_commands("\n\nThanks,\nSam") == []


# --- letter requests -------------------------------------------------------------------------------


def test_letter_request_in_one_word():
    assert is_letter_request("letter")


def test_letter_request_letter_please():
    assert is_letter_request("Letter please!")


def test_letter_request_id_like_a_letter_of_recognition():
    assert is_letter_request("Hi,\n\nI'd like a letter of recognition, please.\n\nBest,\nAnn")


def test_letter_request_please_send_me_the_letter():
    assert is_letter_request("please send me the letter")


def test_newsletter_is_not_a_letter_request():
    assert not is_letter_request("I got your newsletter")


def test_thanks_for_the_letter_is_not_a_request():
    assert not is_letter_request("Thank you so much for the letter!")


def test_not_needing_a_letter_is_not_a_request():
    assert not is_letter_request("I don't need a letter, thanks")


def test_a_letter_mentioned_far_down_is_not_a_request():
    assert not is_letter_request("We met yesterday.\nIt went well.\nShe asked about a letter for her file.")


# --- never raises ----------------------------------------------------------------------------------

tokens = st.sampled_from(
    [*VERBS, "letter", "p1", "#3", "a@b.org", "<c@d.net>", "start", "2026-02-30", "-", "*", ".", "\n", " ", "> ", "-- "]
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(tokens, max_size=20).map(" ".join)))
def test_never_raises(text):
    results = parse_commands(text)
    assert [r.number for r in results] == list(range(1, len(results) + 1))
    for result in results:
        assert isinstance(result, Command | BadCommand)
        if isinstance(result, Command):
            assert result.verb in VERBS
    assert isinstance(is_letter_request(text), bool)


# --- pair, with names (issue 10) -------------------------------------------------------------


def test_pair_with_quoted_names() -> None:
    command = one('pair "Ana Álvarez" <Ana@Example.org> "Ben O\'Brien" <ben@example.net>')
    assert (command.args, command.names) == (("ana@example.org", "ben@example.net"), ("Ana Álvarez", "Ben O'Brien"))


def test_pair_with_unquoted_names_a_comma_and_a_start() -> None:
    command = one("pair Ana Álvarez <ana@example.org>, Ben O'Brien <ben@example.net> start 2026-11-03")
    assert command.args == ("ana@example.org", "ben@example.net", "2026-11-03")
    assert command.names == ("Ana Álvarez", "Ben O'Brien")


def test_pair_with_a_name_for_one_and_a_bare_address_for_the_other() -> None:
    command = one('pair "Álvarez, Ana" <ana@example.org> ben@example.net')
    assert command.names == ("Álvarez, Ana", "")


def test_pair_with_a_name_in_quotes_but_no_address_after_it() -> None:
    assert one('pair ana@example.org "Ben" ben').reason.startswith("'\"Ben\"' is not an email address")


def test_pair_usage_shows_the_names() -> None:
    assert '"Mentor Name"' in one("pair ana@example.org").reason
