"""A survey reply after the survey closed gets a polite notice and changes nothing.

In process, with a virtual clock (tests/in_process.py): the round of the test roster ends on
1 June 2027 and the survey closes fourteen days later.
"""

from __future__ import annotations

from datetime import datetime, timezone

from conftest import Program, reply
from in_process import in_process
from mentormail.store.outcomes import OutcomeKind
from test_replies_daemon import SURVEY

SURVEY_OPEN = datetime(2027, 5, 20, 15, tzinfo=timezone.utc)
AFTER_CLOSING = datetime(2027, 6, 20, 15, tzinfo=timezone.utc)


def test_a_reply_after_closing_gets_a_notice_and_is_not_kept(program: Program) -> None:
    program.write_config(extra=SURVEY)
    with in_process(program) as daemon:
        sent = daemon.run_at(SURVEY_OPEN)
        survey = next(m for m in sent if m["X-Mentormail-Kind"] == "survey" and "ben@" in str(m["To"]))
        answer = reply(survey, "ben@example.net", "1. 5\n2. yes\n")
        assert daemon.ingest(answer, AFTER_CLOSING).kind is OutcomeKind.SURVEY_REPLY
        notice = daemon.run_at(AFTER_CLOSING)[-1]

    assert notice["X-Mentormail-Kind"] == "reply" and "ben@example.net" in str(notice["To"])
    assert "closed on" in notice.get_body(("plain",)).get_content()
    assert program.sql("SELECT count(*) FROM surveyresponse") == [(0,)]
