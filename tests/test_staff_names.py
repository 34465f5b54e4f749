"""Staff named in the config (`liaison = "Full Name <address>"`) are named in the program's mail:
the check-in is signed with the liaison's name, and the committee's mail is addressed to them by
name (issue 10: the name was dropped and the check-in signed with a bare address).

Through `mentormail simulate`, which plans, composes and writes the program's real mail.
"""

from __future__ import annotations

import mailbox
from email import message_from_bytes, policy

from conftest import Program

def test_the_check_in_is_signed_by_the_liaison_by_name_and_staff_mail_addressed_by_name(program: Program) -> None:
    text = program.config.read_text(encoding="utf-8")
    text = text.replace('"coordinator@example.org"', '"Cora Ordin <coordinator@example.org>"')
    text = text.replace('liaison = "liaison@example.org"', 'liaison = "Lia Ison <liaison@example.org>"')
    program.config.write_text(text, encoding="utf-8")
    outbox = program.root / "simulated"
    program.cli("simulate", "--until", "2026-10-20", "--outbox", str(outbox))
    mails = [message_from_bytes(m.as_bytes(), policy=policy.default) for m in mailbox.Maildir(outbox, create=False)]

    checkins = [m for m in mails if m["X-Mentormail-Kind"] == "checkin"]
    assert checkins
    for checkin in checkins:
        body = checkin.get_body(("plain",)).get_content()
        assert "Lia Ison, committee liaison" in body, body
        assert "Lia Ison" in checkin.get_body(("html",)).get_content()
    summaries = [m for m in mails if m["X-Mentormail-Kind"] == "liaison_summary"]
    assert summaries and all(str(m["To"]) == "Lia Ison <liaison@example.org>" for m in summaries)
