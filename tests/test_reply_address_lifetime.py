"""A participant's reply to the round's first mail is still believed in the round's last month.

In process, with a virtual clock (tests/in_process.py): the test roster's pairs start on
1 September 2026 and their nine-month round ends on 1 June 2027. A reply address on mail to the
committee lasts a month only (tests/test_compose.py); a participant's outlasts the round.
"""

from __future__ import annotations

from datetime import datetime, timezone

from conftest import Program, reply
from in_process import in_process
from mentormail.store.outcomes import OutcomeKind

ROUND_STARTS = datetime(2026, 9, 1, 15, tzinfo=timezone.utc)
LAST_MONTH = datetime(2027, 5, 20, 15, tzinfo=timezone.utc)  # 261 days on


def test_a_reported_call_in_reply_to_the_pairing_mail_counts_in_the_last_month(program: Program) -> None:
    with in_process(program) as daemon:
        sent = daemon.run_at(ROUND_STARTS)
        pairing = next(m for m in sent if m["X-Mentormail-Kind"] == "pairing" and "ben@" in str(m["To"]))
        report = reply(pairing, "Ben O'Brien <ben@example.net>", "We had a phone call yesterday.\n")
        outcome = daemon.ingest(report, LAST_MONTH)

    assert outcome.kind is OutcomeKind.SELF_REPORT, outcome.reason
    assert program.sql("SELECT pair_id, direction, channel FROM contactevent") == [("p1", "mentee_to_mentor", "phone")]
