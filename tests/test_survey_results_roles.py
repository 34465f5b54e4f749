"""Survey results say whether an answer came from a mentor or a mentee (issue 10): per role, the
response, each question's distribution and the free-text answers, in the mail's text and HTML.

Pure: the planner's results of tests/test_planner.py's round, rendered by the real templates.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from mentormail.daemon.mail.planner import Calendar, due_mail
from mentormail.daemon.mail.render import Renderer
from mentormail.store.planner_state import PlannerState, SurveyAnswerRow
from test_planner import (
    ANA,
    BEN,
    CLEO,
    COORDINATOR,
    DEV,
    LIAISON,
    PAIRS,
    RESULTS_CALENDAR,
    RESULTS_SURVEY,
    SURVEY_END,
    answers,
    at_local,
)

GIVEN = (
    answers(ANA, useful=4, again=True, how="Email", better="More structure in the first month."),
    answers(BEN, useful=5, again=True, how="A mix", better="Être mis en relation plus tôt."),
    answers(CLEO, useful=4, again=False, how="email"),
    answers(DEV, useful=2, again=True, better="A shorter survey."),
)


def results(
    survey_answers: tuple[SurveyAnswerRow, ...] = GIVEN, calendar: Calendar = RESULTS_CALENDAR
) -> dict[str, Any]:
    staff = (COORDINATOR, LIAISON)
    state = PlannerState(pairs=PAIRS, sent_keys=frozenset(), survey_answers=survey_answers, staff=staff)
    (mail, _) = [m for m in due_mail(calendar, state, at_local(SURVEY_END)) if m.kind == "survey_results"]
    return mail.context


def test_the_results_count_each_sides_answers() -> None:
    context = results()
    assert context["by_role"] == [
        {"role": "mentor", "invited": 3, "responded": 2},  # Ana, Dev (of Ana, Dev, Gil)
        {"role": "mentee", "invited": 4, "responded": 2},  # Ben, Cléo
    ]
    useful, again, how, better = context["questions"]
    mentors, mentees = useful["by_role"]
    assert [b["count"] for b in mentors["bars"]] == [0, 1, 0, 1, 0] and mentors["answered"] == 2
    assert [b["count"] for b in mentees["bars"]] == [0, 0, 0, 1, 1] and mentees["answered"] == 2
    assert [[b["count"] for b in side["bars"]] for side in again["by_role"]] == [[2, 0], [1, 1]]
    assert [side["texts"] for side in better["by_role"]] == [
        ["A shorter survey.", "More structure in the first month."],
        ["Être mis en relation plus tôt."],
    ]
    # The whole question's figures are as they were.
    assert [b["count"] for b in useful["bars"]] == [0, 1, 0, 2, 1] and len(better["texts"]) == 3


def test_the_results_mail_says_which_side_answered_in_text_and_html() -> None:
    mail = Renderer().render("survey_results", results())
    words = " ".join(mail.text.split())
    assert "2 of 3 mentors and 2 of 4 mentees" in words
    assert "Mentors (2 answers): 1: 0, 2: 1, 3: 0, 4: 1, 5: 0" in words
    assert "Mentees (2 answers): 1: 0, 2: 0, 3: 0, 4: 1, 5: 1" in words
    assert "Mentors (3 answers): yes: 2, no: 0" not in words and "Mentors (2 answers): yes: 2, no: 0" in words
    from_mentors, from_mentees = words.index("From mentors"), words.index("From mentees")
    assert from_mentors < words.index("A shorter survey.") < words.index("More structure") < from_mentees
    assert from_mentees < words.index("Être mis en relation")
    assert mail.html is not None
    html = " ".join(re.sub(r"<[^>]*>", " ", mail.html).split())
    assert "2 of 3 mentors and 2 of 4 mentees" in html
    assert "From mentors (2)" in html and "From mentees (1)" in html
    # Each bar's row has a column per side: 4 "agree" by one mentor and one mentee.
    header = re.search(r"<th[^>]*>Mentors</th>\s*<th[^>]*>Mentees</th>", mail.html)
    assert header is not None


def test_a_survey_of_one_side_only_says_nothing_more() -> None:
    mentors_only = replace(RESULTS_SURVEY, audience="mentors")
    context = results(calendar=replace(RESULTS_CALENDAR, surveys=(mentors_only,)))
    assert context["by_role"] == [] and all(q["by_role"] == [] for q in context["questions"])
    mail = Renderer().render("survey_results", context)
    assert "From mentors" not in mail.text and "Mentors (" not in mail.text
    assert mail.html is not None and ">Mentors</th>" not in mail.html
