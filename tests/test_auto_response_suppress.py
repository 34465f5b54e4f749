"""`X-Auto-Response-Suppress` on a participant's mail: what it asks for is done, no answer is sent.

Exchange and Outlook put it on mail that must not draw automatic answers; ours ("Logged: your
phone call ...") is one. In process, on a virtual clock (tests/in_process.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from conftest import Program, reply
from in_process import in_process
from mentormail.store.outcomes import OutcomeKind

ROUND_STARTS = datetime(2026, 9, 1, 15, tzinfo=timezone.utc)
A_WEEK_ON = ROUND_STARTS + timedelta(days=7)


@pytest.mark.parametrize(
    "headers, answered",
    [({}, True), ({"X-Auto-Response-Suppress": "All"}, False), ({"X-Auto-Response-Suppress": "DR, OOF, AutoReply"}, False)],
    ids=["no_header", "suppress_all", "suppress_autoreply"],
)
def test_a_reported_call_is_logged_and_answered_only_when_answers_are_welcome(
    program: Program, headers: dict[str, str], answered: bool
) -> None:
    with in_process(program) as daemon:
        sent = daemon.run_at(ROUND_STARTS)
        pairing = next(m for m in sent if m["X-Mentormail-Kind"] == "pairing" and "ben@" in str(m["To"]))
        report = reply(pairing, "Ben O'Brien <ben@example.net>", "phone call yesterday", headers=headers)
        assert daemon.ingest(report, A_WEEK_ON).kind is OutcomeKind.SELF_REPORT
        after = daemon.run_at(A_WEEK_ON)

    answers = [m for m in after if m["X-Mentormail-Kind"] == "reply" and "ben@" in str(m["To"])]
    assert len(answers) == (1 if answered else 0)
    assert program.sql("SELECT pair_id, channel FROM contactevent") == [("p1", "phone")]
