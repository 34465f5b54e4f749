"""The program the fuzz runs against, and the mail it starts from.

The program is the test suite's (`conftest.Program`: its config, secret and roster of three
pairs, a coordinator and a liaison), with the survey of tests/test_replies_daemon.py plus a
choice question, and a trusted authentication server so that coordinators' commands are checked
the way production checks them. `in_process` (tests/in_process.py) then runs the round on its
virtual clock up to `FUZZ_NOW`, so that the store holds the program's real mail (pairing,
check-ins, surveys, a digest, ...) and replies to it can carry real tokens.

Seeds are every file of the shared corpus, and synthetic mail built here from that program's
mail: the kinds of message intake exists for, each once, well formed.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from conftest import PROGRAM_ADDRESS, ROSTER_CSV, Program, dsn_for, free_port, is_message, message, reply
from corpus_labels import CORPUS, mail_files, name
from in_process import in_process
from mentormail.daemon.settings import Settings
from mentormail.parsers.survey import Question, questions_of
from test_replies_daemon import SURVEY

# Every fuzz input arrives at this moment: the survey is open, the latest check-ins and the
# digest are days old, and every reply address the round handed out is still valid.
FUZZ_NOW = datetime(2027, 5, 20, 15, tzinfo=UTC)
# The planner ticks after a generation of inputs: the next day (the digest forwards the
# questions received, the answers go out), and the morning after the survey closed (its results
# tabulate the answers received).
TICK_MOMENTS = (FUZZ_NOW + timedelta(days=1), datetime(2027, 6, 17, 15, tzinfo=UTC))

_ROUND_STARTS = datetime(2026, 9, 1, 15, tzinfo=UTC)
# Where the round is run up to FUZZ_NOW: the start, then monthly, then the day the survey opened.
_PLANNED_AT = (
    _ROUND_STARTS,
    *(datetime(2026 + (m - 1) // 12, (m - 1) % 12 + 1, 2, 15, tzinfo=UTC) for m in range(10, 18)),
    datetime(2027, 5, 12, 15, tzinfo=UTC),
)
# A stranger's mail the day before, so that a digest (a reply address for commands) goes out.
_STRANGER_AT = datetime(2027, 5, 18, 15, tzinfo=UTC)
_DIGEST_AT = datetime(2027, 5, 19, 15, tzinfo=UTC)
_WRITTEN_AT = FUZZ_NOW - timedelta(hours=1)

_CONFIG = f"""
[security]
trusted_authserv_id = "mx.example.org"
{SURVEY}
[[surveys.questions]]
id = "format"
text = "Which way of meeting suited you best?"
kind = "choice"
labels = ["email", "phone", "video call"]
"""
_DMARC_PASS = "mx.example.org; dmarc=pass header.from=example.org; dkim=pass header.d=example.org"



@dataclass(frozen=True)
class Seed:
    name: str  # a corpus path or "synthetic/<what it is>": all the report ever shows of an input
    raw: bytes
    message: bool  # a whole message; else a bare reply body (given to the text parsers as text)
    envelope: tuple[str, ...] = ()  # the SMTP recipients it arrives with (a BCC copy needs one)


@dataclass(frozen=True)
class Addresses:
    """What mutations and structured mail put in address fields to reach deep paths."""

    program: str
    participants: tuple[str, ...]
    staff: tuple[str, ...]
    reply_addresses: tuple[str, ...]  # program+TOKEN of the program's real mail
    verp_addresses: tuple[str, ...]  # the envelope senders of the program's mail (bounces go there)
    message_ids: tuple[str, ...]  # of the program's mail, for In-Reply-To and loops
    strangers: tuple[str, ...] = ("stranger@example.com", "MAILER-DAEMON@mx.example.com", "list@lists.example.org")

    @property
    def all(self) -> tuple[str, ...]:
        return (
            self.program, *self.participants, *self.staff, *self.reply_addresses, *self.verp_addresses,
            *self.strangers,
        )  # fmt: skip


@dataclass
class FuzzProgram:
    program: Program
    settings: Settings
    template: Path  # the store as of FUZZ_NOW; every generation of inputs starts from a copy
    seeds: list[Seed]
    addresses: Addresses
    questions: tuple[Question, ...]
    started_on: date  # the pairs' start, for the self-report parser
    corpus_files: int = 0

    @property
    def today(self) -> date:
        return FUZZ_NOW.astimezone(self.settings.program.zone).date()


def build(root: Path, corpus: Path | None = CORPUS) -> FuzzProgram:
    """The program in `root` run up to FUZZ_NOW, its template store, and the seeds."""
    root.mkdir(parents=True, exist_ok=True)
    program = Program(root, free_port())
    program.write_config(extra=_CONFIG)
    program.cli("import-roster", str(root / "roster.csv"))
    with in_process(program) as daemon:
        for moment in _PLANNED_AT:
            daemon.run_at(moment)
        daemon.ingest(message("stranger@example.com", [PROGRAM_ADDRESS], date=_STRANGER_AT), _STRANGER_AT)
        sent = daemon.run_at(_DIGEST_AT)
        envelopes = [envelope for envelope, _ in daemon.backend.outbox]
        settings = daemon.settings
    template = root / "template.db"
    copy_sqlite(program.database, template)
    roster = list(csv.DictReader(io.StringIO(ROSTER_CSV)))
    participants = sorted({row[column] for row in roster for column in ("mentor_email", "mentee_email")})
    staff = (*settings.people.coordinators, *((settings.people.liaison,) if settings.people.liaison else ()))
    addresses = Addresses(
        program=PROGRAM_ADDRESS,
        participants=tuple(participants),
        staff=tuple(staff),
        reply_addresses=tuple(sorted({str(m["Reply-To"]) for m in sent})),
        verp_addresses=tuple(sorted({e.sender for e in envelopes})),
        message_ids=tuple(str(m["Message-ID"]) for m in sent),
    )
    seeds = synthetic_seeds(sent, envelopes[0].sender)
    corpus_seeds = corpus_files(corpus) if corpus is not None else []
    return FuzzProgram(
        program=program,
        settings=settings,
        template=template,
        seeds=corpus_seeds + seeds,
        addresses=addresses,
        questions=questions_of(settings.surveys[0]),
        started_on=_ROUND_STARTS.date(),
        corpus_files=len(corpus_seeds),
    )


def corpus_files(corpus: Path) -> list[Seed]:
    """Every file of the shared corpus, or none when it is not on this machine."""
    if not corpus.is_dir():
        return []
    seeds = []
    for path in mail_files(corpus):
        raw = path.read_bytes()
        seeds.append(Seed("corpus/" + name(path) if corpus == CORPUS else path.name, raw, is_message(raw)))
    return seeds


def synthetic_seeds(sent: list[EmailMessage], verp: str) -> list[Seed]:
    """One well-formed message of each kind intake tells apart, answering the program's real mail."""

    def latest(kind: str, to: str) -> EmailMessage:
        return [m for m in sent if m["X-Mentormail-Kind"] == kind and to in str(m["To"])][-1]

    def quoted(original: EmailMessage, answers: list[str]) -> str:
        """Answers typed under each numbered line of the quoted original, as people do."""
        lines = original.get_body(("plain",)).get_content().splitlines()
        out = []
        for line in lines:
            out.append("> " + line)
            if re.match(r"\s*\d+\.", line) and answers:
                out.append(answers.pop(0))
        return "\n".join(out) + "\n"

    pairing = latest("pairing", "ben@example.net")
    survey = latest("survey", "ben@example.net")
    checkin = latest("checkin", "dev@example.org")
    digest = latest("digest", "coordinator@example.org")
    dmarc = {"Authentication-Results": _DMARC_PASS}
    on = {"date": _WRITTEN_AT}
    mail: list[tuple[str, EmailMessage | bytes, tuple[str, ...]]] = [
        ("cc_copy_mentor_to_mentee", message("Ana Álvarez <ana@example.org>", ["ben@example.net"], [PROGRAM_ADDRESS], **on), ()),
        ("bcc_copy_mentee_to_mentor", message("eve@example.com", ["dev@example.org"], **on), (PROGRAM_ADDRESS,)),
        ("cc_copy_with_attachment", message("cleo@example.net", ["ana@example.org"], [PROGRAM_ADDRESS], attachment_name="cv.pdf", **on), ()),
        ("reply_all_to_pairing", _with_cc(reply(pairing, "ben@example.net", "Looking forward to it!\n"), "ana@example.org"), ()),
        ("self_report_phone", reply(pairing, "Ben O'Brien <ben@example.net>", "We had a phone call yesterday.\n"), ()),
        ("self_report_video_minutes", reply(pairing, "ana@example.org", "Video call on 12 May, 45 minutes.\n"), ()),
        ("self_report_future", reply(pairing, "ben@example.net", "Phone call on 30 May\n"), ()),
        ("survey_answers_numbered", reply(survey, "ben@example.net", "1. 4\n2. yes\n3. More evening events\n4. video call\n"), ()),
        ("survey_answers_under_quotes", reply(survey, "ben@example.net", quoted(survey, ["agree", "Oui!", "Nothing", "2"])), ()),
        ("survey_answers_html", reply(survey, "ben@example.net", "", html="<p>1. 5<br>2. no</p><blockquote>1. The program</blockquote>"), ()),
        ("survey_reply_spoofed", reply(survey, "cleo@example.net", "1. 1\n"), ()),
        ("checkin_numbered", reply(checkin, "dev@example.org", "1. 4\n2. no\nAll good so far.\n"), ()),
        ("checkin_in_words", reply(checkin, "Dev Patel <dev@example.org>", "Not well, please call me.\n\nSent from my iPhone\n"), ()),
        ("letter_request", message("dev@example.org", [PROGRAM_ADDRESS], body="I would like a letter of recognition, please.\n", **on), ()),
        ("coordinator_commands", reply(digest, "coordinator@example.org", "pause p1\nresume p1\nstatus p2\nnudge p3\nhelp\n", headers=dmarc), ()),
        ("coordinator_letter_and_pair", reply(digest, "coordinator@example.org", "approve letter 1\ndecline letter 2 too early\npair ana@example.org eve@example.com start 2027-05-20\nend p3 moved away\n", headers=dmarc), ()),
        ("coordinator_commands_unauthenticated", reply(digest, "coordinator@example.org", "pasue p1\n"), ()),
        ("question_to_program", message("cleo@example.net", [PROGRAM_ADDRESS], subject="A question", body="Can I change mentor?\n", **on), ()),
        ("question_bcc_to_other", message("ben@example.net", ["friend@example.com"], **on), (PROGRAM_ADDRESS,)),
        ("unknown_sender", message("stranger@example.com", [PROGRAM_ADDRESS], **on), ()),
        ("forged_token", message("ben@example.net", ["mentoring+aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.org"], **on), ()),
        ("dsn_for_participant", dsn_for("ben@example.net"), ()),
        ("dsn_to_verp_address", dsn_for("someone-else@example.net", "bounce-2@mx.example.com"), (verp,)),
        ("auto_reply_out_of_office", message("ana@example.org", [PROGRAM_ADDRESS], subject="Out of office", headers={"Auto-Submitted": "auto-replied"}, **on), ()),
        ("mailing_list", message("list@lists.example.org", [PROGRAM_ADDRESS], headers={"List-Id": "<talk.lists.example.org>", "Precedence": "list"}, **on), ()),
        ("own_mail_looped_back", survey, ()),
    ]  # fmt: skip
    return [
        Seed("synthetic/" + label, body if isinstance(body, bytes) else body.as_bytes(), True, envelope)
        for label, body, envelope in mail
    ]


def _with_cc(msg: EmailMessage, cc: str) -> EmailMessage:
    msg["Cc"] = cc
    return msg


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite store (WAL included), by SQLite's own backup."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
