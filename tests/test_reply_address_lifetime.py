"""A participant's reply to the round's first mail is still believed in the round's last month.

In process, with a virtual clock (the one thing not run for real): the test roster's pairs start on
1 September 2026 and their nine-month round ends on 1 June 2027. A reply address on mail to the
committee lasts a month only (tests/test_compose.py); a participant's outlasts the round.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage

from conftest import Program
from mentormail.daemon.backends import MemoryBackend
from mentormail.daemon.delivery import Deliverer
from mentormail.daemon.outcomes import OutcomeKind, Source, Transport
from mentormail.daemon.scheduler import ProgramMail
from mentormail.daemon.service import build_intake, open_store
from mentormail.daemon.settings import load_settings

ROUND_STARTS = datetime(2026, 9, 1, 15, tzinfo=timezone.utc)
LAST_MONTH = datetime(2027, 5, 20, 15, tzinfo=timezone.utc)  # 261 days on


def test_a_reported_call_in_reply_to_the_pairing_mail_counts_in_the_last_month(program: Program) -> None:
    settings = load_settings(program.config)
    store = open_store(settings)
    backend = MemoryBackend()
    mail = ProgramMail(store, settings, Deliverer(store, backend, timedelta(hours=48)))
    mail.plan(ROUND_STARTS)
    mail.deliver(ROUND_STARTS)
    sent = [message_from_bytes(raw, policy=policy.default) for _, raw in backend.outbox]
    pairing = next(m for m in sent if m["X-Mentormail-Kind"] == "pairing" and "ben@" in str(m["To"]))

    report = EmailMessage()
    report["From"] = "Ben O'Brien <ben@example.net>"
    report["To"] = str(pairing["Reply-To"])
    report["Subject"] = "Re: " + str(pairing["Subject"])
    report["Message-ID"] = "<late-call@example.net>"
    report["In-Reply-To"] = str(pairing["Message-ID"])
    report.set_content("We had a phone call yesterday.\n")
    intake = build_intake(settings, store, clock=lambda: LAST_MONTH)
    outcome = intake.ingest(report.as_bytes(), Source(Transport.SMTP))
    mail.close()
    store.close()

    assert outcome.kind is OutcomeKind.SELF_REPORT, outcome.reason
    with sqlite3.connect(program.database) as db:
        assert db.execute("SELECT pair_id, direction, channel FROM contactevent").fetchall() == [
            ("p1", "mentee_to_mentor", "phone")
        ]
