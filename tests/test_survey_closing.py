"""A survey reply after the survey closed gets a polite notice and changes nothing.

In process, with a virtual clock (the one thing not run for real): the round of the test roster
ends on 1 June 2027 and the survey closes fourteen days later.
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
from test_replies_daemon import SURVEY

SURVEY_OPEN = datetime(2027, 5, 20, 15, tzinfo=timezone.utc)
AFTER_CLOSING = datetime(2027, 6, 20, 15, tzinfo=timezone.utc)


def test_a_reply_after_closing_gets_a_notice_and_is_not_kept(program: Program) -> None:
    program.write_config(extra=SURVEY)
    settings = load_settings(program.config)
    store = open_store(settings)
    backend = MemoryBackend()
    mail = ProgramMail(store, settings, Deliverer(store, backend, timedelta(hours=48)))
    mail.plan(SURVEY_OPEN)
    mail.deliver(SURVEY_OPEN)
    sent = [message_from_bytes(raw, policy=policy.default) for _, raw in backend.outbox]
    survey = next(m for m in sent if m["X-Mentormail-Kind"] == "survey" and "ben@" in str(m["To"]))

    answer = EmailMessage()
    answer["From"] = "ben@example.net"
    answer["To"] = str(survey["Reply-To"])
    answer["Subject"] = "Re: " + str(survey["Subject"])
    answer["Message-ID"] = "<late-answer@example.net>"
    answer["In-Reply-To"] = str(survey["Message-ID"])
    answer.set_content("1. 5\n2. yes\n")
    intake = build_intake(settings, store, clock=lambda: AFTER_CLOSING)
    assert intake.ingest(answer.as_bytes(), Source(Transport.SMTP)).kind is OutcomeKind.SURVEY_REPLY
    mail.deliver(AFTER_CLOSING)
    mail.close()
    store.close()

    notice = message_from_bytes(backend.outbox[-1][1], policy=policy.default)
    assert notice["X-Mentormail-Kind"] == "reply" and "ben@example.net" in str(notice["To"])
    assert "closed on" in notice.get_body(("plain",)).get_content()
    with sqlite3.connect(program.database) as db:
        assert db.execute("SELECT count(*) FROM surveyresponse").fetchone() == (0,)
