"""A survey answer belongs to the round whose survey it answers (issue 12, rounds): Ben is a mentee
in round 1 and already a mentor in round 2 when he answers round 1's feedback survey; his
answers are about round 1's pair, not his newer one, and round 2's survey is still his to answer."""

from __future__ import annotations

from datetime import timedelta

from conftest import Program, reply
from in_process import in_process
from test_mail_instructions import kind_to
from test_retention import BEN, R1_STARTS, R1_SURVEY, ROUND_2, import_round, two_rounds


def test_an_answer_to_round_1s_survey_is_filed_under_round_1s_pair(program: Program) -> None:
    two_rounds(program, keep_days="0")
    import_round(program, "2", ROUND_2)  # next year's roster, imported before round 1's survey
    with in_process(program) as daemon:
        daemon.run_at(R1_STARTS)
        surveys = daemon.run_at(R1_SURVEY)
        (survey,) = kind_to(surveys, "survey", BEN)
        daemon.ingest(reply(survey, BEN, "1. 4\n2. yes\n3. More lunches\n"), R1_SURVEY)
        daemon.run_at(R1_SURVEY + timedelta(hours=1))

    answers = program.sql(
        "SELECT pair.round_id, pair.id, surveyresponse.survey_id FROM surveyresponse "
        "JOIN pair ON pair.id = surveyresponse.pair_id"
    )
    assert answers == [("1", "p1", "feedback")]
