"""The tables. Read this file as the complete list of what mentormail knows.

Confidentiality (DESIGN.md section 3) is a property of this schema: no table has a column that
could hold a subject, a body, an attachment name or a Message-ID in clear. Messages are known
only by `message_hash`, a keyed HMAC of their Message-ID (see `intake.message_hash`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Program(SQLModel, table=True):
    """The round being run; one row, kept in step with the config at start."""

    id: int = Field(default=1, primary_key=True)
    name: str
    address: str
    starts_on: date
    months: int
    # Raised by every change to people or pairs, so that intake can keep its roster cached and
    # still see an import made by another process at once.
    roster_version: int = 0


class Round(SQLModel, table=True):
    """One round of the program, as the config gives it (`[[rounds]]`, or `[program]` for the one
    round "1"); synced at every start. A round with pairs is never removed (the config must keep it)."""

    id: str = Field(primary_key=True)  # the config's id: "1", "2026", ...
    starts_on: date
    months: int
    ends_on: date  # resolved: `ends_on` from the config, else starts_on + months


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)  # normalised: lower case
    name: str = ""
    # Other addresses the person writes from, space separated, normalised.
    aliases: str = ""
    # Coordinators and the liaison are people too (reply tokens name a person), but never a
    # participant: they have no pair and their mail is never a contact.
    staff: bool = False


class Pair(SQLModel, table=True):
    __table_args__ = (
        # The same two people may be paired again in a later round.
        UniqueConstraint("round_id", "mentor_id", "mentee_id", name="uq_pair_round_mentor_mentee"),
        # The order status and export list a round's pairs in.
        Index("ix_pair_round_started_on_id", "round_id", "started_on", "id"),
    )

    # The key every other table refers to: the roster's pair_id (or a number given at import) in
    # round "1", `ROUND/PAIR_ID` in any other round (store.queries.rounds.pair_key), so that a
    # roster's ids need only be unique within its round.
    id: str = Field(primary_key=True)
    round_id: str = Field(foreign_key="round.id")
    mentor_id: int = Field(foreign_key="person.id", index=True)
    mentee_id: int = Field(foreign_key="person.id", index=True)
    status: str = "active"  # active | paused | ended
    started_on: date


class ContactEvent(SQLModel, table=True):
    """One logged contact: that a pair corresponded, in which direction, when and how."""

    __table_args__ = (UniqueConstraint("pair_id", "message_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    pair_id: str = Field(foreign_key="pair.id", index=True)
    direction: str  # mentor_to_mentee | mentee_to_mentor
    channel: str = "email"  # email | phone | meeting
    occurred_at: datetime  # UTC
    source: str  # smtp | lmtp | imap | pipe | file | self_report
    message_hash: str = Field(index=True)


class IntakeRecord(SQLModel, table=True):
    """Every message that was not a contact: questions, bounces, unknown senders, machine mail.

    `address` is the one address the record is about (the sender of a question, a participant
    address that bounced); the empty string when there is none, so that the unique key holds.
    """

    __table_args__ = (UniqueConstraint("message_hash", "outcome", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    outcome: str = Field(index=True)
    address: str = ""
    person_id: int | None = Field(default=None, foreign_key="person.id")
    occurred_at: datetime
    source: str
    message_hash: str


class ImapCheckpoint(SQLModel, table=True):
    mailbox_key: str = Field(primary_key=True)  # "user@host/FOLDER"
    uidvalidity: int
    last_uid: int


class OutboxMessage(SQLModel, table=True):
    """One mail the program sends, from the moment the planner decides it is due.

    `key` is the planner's deterministic key (`topic:pair-17:month-3:mentee`): enqueuing the same
    key twice is a no-op, so a planner tick can run any number of times. `raw` is the rendered
    message, kept until it is delivered and then wiped: a digest carries participants' questions.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    kind: str = Field(index=True)
    pair_id: str | None = Field(default=None, index=True)
    recipients: str  # envelope recipients, space separated
    envelope_sender: str
    message_id: str
    raw: bytes | None = None
    due_at: datetime
    status: str = Field(default="pending", index=True)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime
    # When delivery first tried it: a temporary failure is retried for `delivery_give_up_hours`
    # from then, not from `due_at` (mail that fell due during downtime gets the whole window).
    first_attempt_at: datetime | None = None
    # When the tick composed it (its Date: header). A pair's pairing mail composed late starts the
    # pair's own calendar then (DESIGN.md, "Catching up"); None only on rows a test writes by hand.
    composed_at: datetime | None = None
    last_error: str = ""  # a reason without content ("451 from relay", "connection refused")
    sent_at: datetime | None = Field(default=None, index=True)  # indexed: the send rate counts by it
    # Until when a delivering daemon has this mail to itself (queries.claim_for_delivery); marking
    # it sent or failed ends the claim, and a claim its daemon did not live to end expires.
    claimed_until: datetime | None = None


class QuestionMessage(SQLModel, table=True):
    """A question a participant wrote to the program, kept only until the digest forwards it.

    Mail addressed to the program itself may be read (DESIGN.md section 3); mail between
    partners never reaches this table (the router decides `question` only when no partner is
    among the recipients).
    """

    id: int | None = Field(default=None, primary_key=True)
    message_hash: str = Field(unique=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")  # None: a stranger's question
    address: str | None = None  # who wrote it, for a stranger (not on the roster) above all
    received_at: datetime
    raw: bytes | None = None  # wiped once a delivered digest has forwarded it
    forwarded_in: int | None = Field(default=None, foreign_key="outboxmessage.id")


class SurveyResponse(SQLModel, table=True):
    """One person's answers to one survey for one pair; a later reply updates it."""

    __table_args__ = (UniqueConstraint("survey_id", "person_id", "pair_id"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: str
    person_id: int = Field(foreign_key="person.id")
    pair_id: str = Field(foreign_key="pair.id")
    answers: str  # JSON: question id -> answer (parsed values only, never the message)
    updated_at: datetime


class CheckinReply(SQLModel, table=True):
    """A mentor's answer to a monthly check-in: a rating and whether to hear from the liaison."""

    __table_args__ = (UniqueConstraint("pair_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    pair_id: str = Field(foreign_key="pair.id")
    month: int
    rating: int | None = None
    wants_contact: bool | None = None
    comment: str | None = None  # what else the mentor wrote, for the liaison (parsers/checkin.py's note)
    received_at: datetime


class LetterRequest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    pair_id: str = Field(foreign_key="pair.id")
    requested_at: datetime
    status: str = "requested"  # requested | approved | declined
    decided_by: str = ""
    decided_at: datetime | None = None
    reason: str = ""


class AuditEntry(SQLModel, table=True):
    """Every coordinator command obeyed: who, when, what, and what came of it."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    coordinator: str
    command: str
    result: str


class CommandUse(SQLModel, table=True):
    """A command obeyed in reply to one of our mails: the same line in reply to the same mail
    is done once, so a command mail replayed under a new Message-ID changes nothing."""

    __table_args__ = (UniqueConstraint("replied_to", "command"),)

    id: int | None = Field(default=None, primary_key=True)
    replied_to: str  # a digest of the reply token's claims: which mail of ours was answered
    command: str  # the command as understood ("pause p3"), not the line as typed
    at: datetime


class PairPlan(SQLModel, table=True):
    """Where the planner is with one pair: when its next mail can fall due, and whether anything
    it plans from has changed since (DESIGN.md section 4, "Incremental planning").

    Whoever changes what a pair's mail depends on (a contact, a survey answer, its status, the
    roster) raises `changes` in the same transaction; the planner records the value it planned
    from in `planned_changes`. A pair is planned again when the two differ or when `next_due_at`
    has come, and by nothing else, so a tick with nothing new touches no pair at all. The
    counter (not a flag) makes a change that lands while the planner works count: the planner
    writes back the value it read, not "clean".
    """

    # The tick finds changed pairs by this partial index, however many pairs there are.
    __table_args__ = (
        Index(
            "ix_pairplan_changed",
            "pair_id",
            sqlite_where=text("changes != planned_changes"),
            postgresql_where=text("changes != planned_changes"),
        ),
    )

    pair_id: str = Field(primary_key=True, foreign_key="pair.id")
    changes: int = 1
    planned_changes: int = 0
    planned_at: datetime | None = Field(default=None, index=True)  # the `now` it was planned for
    next_due_at: datetime | None = Field(default=None, index=True)  # None: nothing more, unless it changes


class ProgramPlan(SQLModel, table=True):
    """Where the planner is with the program-wide mail (digest, liaison summary, survey results):
    the next moment one can fall due, and a fingerprint of what they are planned from (questions,
    bounces, failures, letters, answers, the roster), compared at each tick in a few indexed reads."""

    id: int = Field(default=1, primary_key=True)
    planned_at: datetime | None = None
    next_due_at: datetime | None = None
    fingerprint: str = ""


class RoundPurge(SQLModel, table=True):
    """A round whose per-person data is being or has been removed (`[privacy] keep_days_after_round`):
    its counts were taken into `roundtally` at `counted_at`, in the transaction that made this row;
    its pairs then go a batch at a time, and `finished_at` says the last has gone."""

    round_id: str = Field(primary_key=True)
    counted_at: datetime
    finished_at: datetime | None = None
    pairs: int = 0  # the round's pairs when it was counted
    people_forgotten: int = 0  # people who were in no other round, removed with it (so far)


class RoundTally(SQLModel, table=True):
    """What is kept of a purged round: counts, never a person or a pair. `kind` says what is
    counted: `pairs` (name: the pair's status), `people` (name: mentor | mentee), `contacts`
    (month YYYY-MM in the program's zone, name: direction, value: channel), `survey` (name:
    SURVEY.QUESTION, value: the answer, or `answered` for free text), `checkins` (name: rating,
    value: 1-5 or none) and `letters` (name: status)."""

    __table_args__ = (UniqueConstraint("round_id", "kind", "month", "name", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: str = Field(index=True)
    kind: str
    month: str = ""
    name: str = ""
    value: str = ""
    count: int
