"""What the shared corpus of real-world mail (../shared/corpus) is, file by file.

Labels come from upstream file and folder names (`lhost-*`/`rhost-*`: a bounce from that MTA
or provider); the exceptions were checked by hand and are listed with why. Used by the corpus
tests of the parsers and of intake.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The team's shared corpus sits beside the checkout; MENTORMAIL_CORPUS points elsewhere.
CORPUS = Path(os.environ.get("MENTORMAIL_CORPUS", Path(__file__).resolve().parents[1].parent / "shared" / "corpus"))


def skip_without_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not on this machine (looked in {CORPUS})", allow_module_level=True)


NOT_MAIL = {"README.md", "SOURCE.md", "PROVENANCE.tsv"}
SISIMAI = CORPUS / "sisimai-set-of-emails"
# Folders of replies written by people (full messages and bare bodies): never a bounce.
REPLY_FOLDERS = (
    "mailgun-talon",
    "github-email_reply_parser",
    "alfonsrv-mail-parser-reply",
    "crisp-email-reply-parser",
    "discourse-email_reply_trimmer",
)

# Filed with the sisimai bounces but not delivery failures; they must not be BOUNCE.
SISIMAI_NOT_BOUNCES: dict[str, str] = {
    # ARF (RFC 5965) abuse reports: a recipient marked mail as spam. Machine mail (AUTO_REPLY
    # when recognised), but the address still works, so it is no bounce. Added by glob below.
    "maildir/bsd/lhost-amazonses-11.eml": "Amazon SES complaint notification (an abuse report)",
    "maildir/bsd/lhost-amazonses-12.eml": "Amazon SES delivery (success) notification",
    "maildir/bsd/lhost-amazonses-13.eml": "Amazon SES delivery (success) notification",
    "maildir/bsd/lhost-sendmail-14.eml": (
        "a person forwarding a bounce (From a person, Apple Mail, 'Fwd:' Subject, the bounce "
        "quoted in the body): human mail to us, and calling it a bounce would drop it"
    ),
    "maildir/not/is-not-bounce-01.eml": "upstream's non-bounce control",
    "maildir/not/is-not-bounce-02.eml": "upstream's non-bounce control (a bounce attached by a person)",
}
SISIMAI_NOT_BOUNCES.update(
    {path.relative_to(SISIMAI).as_posix(): "ARF abuse report" for path in SISIMAI.glob("maildir/bsd/arf-*.eml")}
)

# Upstream files this under maildir/not, but it is a real bounce: From postmaster, Return-Path <>,
# "an email you sent was rejected ... Mailbox full". It is there because sisimai's fix for the
# crash it caused (rb-sisimai #368/#369) expects no parsed result, not because it is human mail.
SISIMAI_BOUNCES_FILED_AS_NOT = {"maildir/not/rb-issue-368-bug.eml"}

# Bounces we do not recognise, and why. The test fails if one of them starts being recognised,
# so that this list stays true.
SISIMAI_KNOWN_MISSES: dict[str, str] = {
    "maildir/bsd/lhost-fml-02.eml": (
        "fml list-manager notice ('you are not a member') from the list's -admin address with a "
        "real Return-Path: no DSN, no null sender, no mail-system sender, nothing but fml's wording"
    ),
    "maildir/bsd/lhost-fml-03.eml": "fml 'Loop Alert' to the list admin: as lhost-fml-02",
}


def mail_files(root: Path) -> list[Path]:
    return sorted(
        path for path in root.rglob("*") if path.is_file() and path.name not in NOT_MAIL and path.suffix != ".tsv"
    )


def name(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def sisimai_name(path: Path) -> str:
    return path.relative_to(SISIMAI).as_posix()


def expected_bounces() -> list[Path]:
    return [
        path
        for path in mail_files(SISIMAI)
        if sisimai_name(path) not in SISIMAI_NOT_BOUNCES
        and (not sisimai_name(path).startswith("maildir/not/") or sisimai_name(path) in SISIMAI_BOUNCES_FILED_AS_NOT)
    ]


# Folders of mail people wrote, with its headers: classified from the headers, none is machine
# mail. Not looked at while the header rules of parsers/machine.py were written (issue 7).
HUMAN_MAIL_FOLDERS = ("mailgun-talon", "mailman3-core", "zulip")

# cpython's email test messages that are machine mail, checked by hand; every other one is a
# person's message (or a MIME test case) and must stay unclassified.
CPYTHON_MACHINE_MAIL: dict[str, str] = {
    "cpython-test_email/msg_05.txt": "a DSN (multipart/report; report-type=delivery-status)",
    "cpython-test_email/msg_16.txt": "a postmaster's delivery failure notice with a null Return-Path",
    "cpython-test_email/msg_25.txt": "a DSN from MAILER-DAEMON",
    "cpython-test_email/msg_32.txt": "a person's reply as a mailing list delivers it (Precedence: bulk)",
    "cpython-test_email/msg_33.txt": "the same, signed",
    "cpython-test_email/msg_42.txt": "a Mail Delivery Subsystem notice",
    "cpython-test_email/msg_43.txt": "a DSN from MAILER DAEMON <>",
}
