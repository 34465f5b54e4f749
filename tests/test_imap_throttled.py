"""Exchange Online's IMAP throttling: `NO [THROTTLED]` or `NO ... Server busy` makes the watcher
wait minutes (60 s, doubling to half an hour), not the seconds of a dropped connection.

No server here can be made to throttle (Dovecot has no such answer), so this checks what the
watcher reads in the errors imaplib raises for such answers, built by imaplib itself from the
server's words, and that other refusals are not taken for throttling.
"""

from __future__ import annotations

import imaplib

import pytest
from imapclient.exceptions import LoginError
from mentormail.daemon.intake.imap import _throttled


@pytest.mark.parametrize(
    "answer",
    [
        "NO [THROTTLED] Request is throttled. Suggested Backoff Time: 92275 milliseconds",
        "NO Server busy. Please try again later",
        "NO Server Unavailable. 15",
    ],
)
def test_exchange_online_throttling_answers_are_recognised(answer: str) -> None:
    assert _throttled(imaplib.IMAP4.error(f"SELECT command error: BAD [b'{answer}']"))
    assert _throttled(LoginError(f"b'{answer}'"))


@pytest.mark.parametrize("answer", ["NO [AUTHENTICATIONFAILED] Authentication failed.", "BAD Command unknown"])
def test_other_refusals_are_not_throttling(answer: str) -> None:
    assert not _throttled(imaplib.IMAP4.error(answer))
    assert not _throttled(OSError("Server busy"))  # a socket's error is a dropped connection
