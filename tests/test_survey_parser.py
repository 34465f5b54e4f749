"""parsers/survey.py: answers to a feedback survey, from the new text of replies written the ways people write."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mentormail.daemon.settings import SurveyQuestion, SurveySettings
from mentormail.parsers.survey import Answers, Question, missing, parse_answers, questions_of

AGREEMENT = ("strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree")
MET = Question(id="met", number=1, text="The program met my expectations.", kind="scale", labels=AGREEMENT)
RECOMMEND = Question(id="recommend", number=2, text="Would you recommend the program to a colleague?", kind="yesno")
FREQUENCY = Question(
    id="frequency", number=3, text="How often did you meet?", kind="choice", labels=("Weekly", "Monthly", "Less often")
)
COMMENTS = Question(id="comments", number=4, text="What could we do better?", kind="text")
QUESTIONS = (MET, RECOMMEND, FREQUENCY, COMMENTS)
USEFUL = Question(
    id="useful",
    number=1,
    text="How useful was it?",
    kind="scale",
    labels=("poor", "fair", "good", "very good", "great"),
)


def answers(text: str, questions: tuple[Question, ...] = QUESTIONS, interleaved=()) -> Answers:
    return parse_answers(questions, text, list(interleaved))


# --- building questions from the config ------------------------------------------------------------


def test_questions_of_numbers_the_questions_as_the_survey_mail_does():
    survey = SurveySettings(
        id="end",
        title="Feedback",
        audience="both",
        questions=(
            SurveyQuestion(id="met", text="Met expectations?", kind="scale", labels=AGREEMENT),
            SurveyQuestion(id="more", text="Anything else?", kind="text"),
        ),
    )
    assert questions_of(survey) == (
        Question(id="met", number=1, text="Met expectations?", kind="scale", labels=AGREEMENT),
        Question(id="more", number=2, text="Anything else?", kind="text", labels=()),
    )


# --- numbered answers ------------------------------------------------------------------------------


def test_numbered_answers_with_a_dot_one_a_line():
    assert answers("1. 4\n2. yes\n3. 2\n4. More topics on interviews").values == {
        "met": 4,
        "recommend": True,
        "frequency": "Monthly",
        "comments": "More topics on interviews",
    }


def test_numbered_answers_with_a_parenthesis():
    assert answers("1) 5\n2) no").values == {"met": 5, "recommend": False}


def test_numbered_answers_with_a_colon():
    assert answers("1: 3\n2: y").values == {"met": 3, "recommend": True}


def test_numbered_answer_with_a_dash_and_a_word():
    assert answers("1 - agree").values == {"met": 4}


def test_q_prefixed_answers():
    assert answers("Q1: 2\nQ3: weekly\nq4 nothing to add").values == {
        "met": 2,
        "frequency": "Weekly",
        "comments": "nothing to add",
    }


def test_answer_on_the_line_after_its_number():
    assert answers("1.\n4\n2.\nyes").values == {"met": 4, "recommend": True}


def test_lines_before_the_first_answer_and_the_sign_off_are_not_answers():
    reply = "Hi Sam,\n\nHere are my answers:\n\n1. 4\n4. Great program.\n\nThanks,\nAnn"
    assert answers(reply).values == {"met": 4, "comments": "Great program."}


def test_text_answer_continues_on_following_lines_until_the_next_numbered_answer():
    reply = "4. More about interviews,\nand about salary talks.\n1.5 hours a month was right.\n2. yes"
    assert answers(reply).values == {
        "comments": "More about interviews,\nand about salary talks.\n1.5 hours a month was right.",
        "recommend": True,
    }


def test_a_list_inside_a_text_answer_is_not_taken_for_answers():
    reply = "1. 4\n4. Two things:\n1) more topics\n2) earlier pairing"
    assert answers(reply).values == {"met": 4, "comments": "Two things:\n1) more topics\n2) earlier pairing"}


def test_an_answer_going_back_after_a_text_answer_is_still_an_answer_when_it_reads_as_one():
    assert answers("4. Nothing to add.\n2. yes").values == {"comments": "Nothing to add.", "recommend": True}


def test_a_later_answer_to_the_same_question_in_one_reply_wins():
    assert answers("1. 2\n1. 4").values == {"met": 4}


def test_a_copy_of_the_question_before_the_answer_is_ignored():
    assert answers("1. The program met my expectations. 4").values == {"met": 4}


def test_quoted_lines_that_reached_the_parser_are_not_answers():
    assert answers("> 1. 4\n> 2. yes\n1. 2").values == {"met": 2}


# --- scale values ----------------------------------------------------------------------------------


def test_scale_as_a_fraction_or_out_of_five():
    assert answers("1. 4/5").values == {"met": 4}
    assert answers("1. 4 out of 5").values == {"met": 4}


def test_scale_with_a_comment_after_the_number():
    assert answers("1. 4 - mostly, yes").values == {"met": 4}


def test_scale_in_the_words_of_its_labels_case_and_accent_insensitive():
    assert answers("1. Strongly Agree").values == {"met": 5}
    assert answers("1. disagree").values == {"met": 2}
    assert answers("1 - Neither agree nor disagree").values == {"met": 3}


def test_scale_in_everyday_agreement_words_on_the_default_scale():
    assert answers("1. neutral").values == {"met": 3}
    assert answers("1. I agree").values == {"met": 4}
    assert answers("1. totally agree!").values == {"met": 5}


def test_scale_with_its_own_labels_reads_those_labels_longest_first():
    assert answers("1. very good", (USEFUL,)).values == {"useful": 4}
    assert answers("1. Good", (USEFUL,)).values == {"useful": 3}


def test_agreement_words_are_not_understood_on_a_scale_with_other_labels():
    assert answers("1. agree", (USEFUL,)).unclear == {"useful": "'agree' is not 1-5"}


def test_scale_number_out_of_range_is_unclear():
    result = answers("1. 7")
    assert result.values == {}
    assert result.unclear == {"met": "'7' is not 1-5"}


def test_scale_out_of_ten_is_unclear():
    assert answers("1. 8/10").unclear == {"met": "'8/10' is not 1-5"}


def test_scale_half_point_is_unclear():
    assert answers("1. 3.5").unclear == {"met": "'3.5' is not 1-5"}


# --- yes / no --------------------------------------------------------------------------------------


def test_yes_and_no_in_several_languages():
    for word, value in [("yes", True), ("Y", True), ("oui", True), ("Ja", True), ("Sí", True), ("si", True)]:
        assert answers(f"2. {word}").values == {"recommend": value}, word
    for word in ("no", "N", "non", "Nein", "No, not really"):
        assert answers(f"2. {word}").values == {"recommend": False}, word


def test_yes_with_more_words():
    assert answers("2. Yes, absolutely!").values == {"recommend": True}


def test_maybe_is_not_yes_or_no():
    assert answers("2. maybe").unclear == {"recommend": "'maybe' is not yes or no"}


def test_not_applicable_is_a_skipped_question_not_a_no():
    result = answers("2. n/a")
    assert result.values == {} and result.unclear == {}
    assert missing(QUESTIONS, result) == list(QUESTIONS)


# --- choices ---------------------------------------------------------------------------------------


def test_choice_by_label_case_insensitive():
    assert answers("3. monthly").values == {"frequency": "Monthly"}


def test_choice_by_its_number_in_the_mail():
    assert answers("3. 3").values == {"frequency": "Less often"}


def test_choice_by_an_unambiguous_prefix():
    assert answers("3. less").values == {"frequency": "Less often"}


def test_choice_label_that_starts_with_a_number_beats_the_number():
    question = Question(id="how", number=1, text="How often?", kind="choice", labels=("1 a month", "2-3 a month"))
    assert answers("1. 2-3 a month", (question,)).values == {"how": "2-3 a month"}
    assert answers("1. 2", (question,)).values == {"how": "2-3 a month"}


def test_choice_not_among_the_labels_is_unclear():
    assert answers("3. blue").unclear == {"frequency": "'blue' is not one of: Weekly, Monthly, Less often"}


def test_choice_number_out_of_range_is_unclear():
    assert answers("3. 7").unclear == {"frequency": "'7' is not one of: Weekly, Monthly, Less often"}


# --- answers typed under the quoted questions ------------------------------------------------------

INTRO_BLOCK = """Your mentoring round is nearly over. For example:

    1. 4
    2. yes
    3. 1

1. The program met my
expectations.
     1 = strongly disagree
     5 = strongly agree
"""


def test_answers_typed_under_each_quoted_question():
    interleaved = [
        (None, ""),
        (INTRO_BLOCK, "agree"),
        ("\n2. Would you recommend the program to a colleague?\n     yes or no\n", "Yes!"),
        ("3. How often did you meet?\n     1 = Weekly\n     2 = Monthly\n     3 = Less often", "monthly"),
        ("4. What could we do better?\n     in your own words", "Start earlier\nin the year"),
    ]
    result = answers("agree\nYes!\nmonthly\nStart earlier\nin the year", interleaved=interleaved)
    assert result.values == {
        "met": 4,
        "recommend": True,
        "frequency": "Monthly",
        "comments": "Start earlier\nin the year",
    }
    assert result.unclear == {}


def test_answer_under_a_quoted_question_found_by_its_number_alone():
    result = answers("", interleaved=[("2) Would you recommend it?", "no")])
    assert result.values == {"recommend": False}


def test_answer_under_a_question_rewrapped_by_the_quoting_client():
    block = "2. Would you recommend the\nprogram to a\ncolleague?"
    assert answers("yes", interleaved=[(block, "yes")]).values == {"recommend": True}


def test_numbered_answers_typed_under_a_quote_are_read_as_numbered():
    result = answers("", interleaved=[(INTRO_BLOCK, "1. 2\n2. no")])
    assert result.values == {"met": 2, "recommend": False}


def test_unnumbered_answers_below_the_whole_quoted_survey_are_read_in_order():
    whole = INTRO_BLOCK + "2. Would you recommend the program to a colleague?\n3. How often did you meet?\n"
    whole += "4. What could we do better?\n"
    result = answers("4\nyes\nweekly\nNothing", interleaved=[(whole, "4\nyes\nweekly\nNothing")])
    assert result.values == {"met": 4, "recommend": True, "frequency": "Weekly", "comments": "Nothing"}


def test_text_typed_under_a_block_without_a_question_is_not_an_answer():
    assert answers("", interleaved=[("Dear Ann, thanks for taking part.", "You're welcome")]).values == {}


# --- unnumbered replies ----------------------------------------------------------------------------


def test_one_question_survey_answered_without_a_number():
    assert answers("Hi,\n\n4\n\nThanks,\nAnn", (MET,)).values == {"met": 4}


def test_one_line_per_question_in_order_when_every_line_fits():
    assert answers("4\nyes\nmonthly\nMore socials").values == {
        "met": 4,
        "recommend": True,
        "frequency": "Monthly",
        "comments": "More socials",
    }


def test_unnumbered_lines_that_do_not_fit_are_not_guessed():
    assert answers("4\nperhaps\nmonthly\nMore socials") == Answers(values={}, unclear={})


def test_unnumbered_lines_not_one_per_question_are_not_guessed():
    assert answers("It was great, thank you!").values == {}


# --- missing ---------------------------------------------------------------------------------------


def test_missing_lists_unanswered_questions_but_not_unclear_ones():
    result = answers("1. 9\n2. yes")
    assert missing(QUESTIONS, result) == [FREQUENCY, COMMENTS]


def test_missing_is_empty_when_all_are_answered():
    assert missing(QUESTIONS, answers("1. 4\n2. yes\n3. 1\n4. ok")) == []


def test_empty_reply_answers_nothing():
    assert answers("") == Answers(values={}, unclear={})
    assert missing(QUESTIONS, answers("")) == list(QUESTIONS)


# --- never raises ----------------------------------------------------------------------------------

labels = st.lists(st.text(min_size=1, max_size=12), min_size=2, max_size=5, unique_by=str.casefold)
question_strategy = st.builds(
    Question,
    id=st.text(min_size=1, max_size=5),
    number=st.integers(min_value=1, max_value=6),
    text=st.text(max_size=40),
    kind=st.sampled_from(["scale", "yesno", "choice", "text"]),
    labels=labels.map(tuple),
)
reply_text = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(["1.", "2)", "Q3:", "4 -", "yes", "agree", "4/5", "\n", " ", "n/a", ">", "Thanks,", "7", "é"]),
        max_size=30,
    ).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(
    questions=st.lists(question_strategy, max_size=5).map(tuple),
    text=reply_text,
    interleaved=st.lists(st.tuples(st.none() | st.text(max_size=80), reply_text), max_size=3),
)
def test_never_raises(questions, text, interleaved):
    result = parse_answers(questions, text, interleaved)
    assert isinstance(result, Answers)
    assert not set(result.values) & set(result.unclear)
    assert isinstance(missing(questions, result), list)
