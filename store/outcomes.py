"""The closed vocabulary of what can happen to a message, and where it came from.

Every message that reaches `intake.ingest` ends as exactly one `Outcome`. The kinds are those of
DESIGN.md section 2; `explain`, the logs and the summaries speak only this vocabulary.

Adding a kind: add it to `OutcomeKind`, give it a row in `router.DECISION_TABLE`, decide in
`SMTP_REPLY` what the sending server is told and in `REMOVED_FROM_INBOX` whether the IMAP copy
goes, and add a test named for the scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class OutcomeKind(StrEnum):
    CONTACT = "contact"
    SELF_REPORT = "self_report"
    SURVEY_REPLY = "survey_reply"
    CHECKIN_REPLY = "checkin_reply"
    COMMAND = "command"
    LETTER_REQUEST = "letter_request"
    # A participant asking what the program holds about them (`my data`): answered at their roster
    # address only, at most once a day (README "Erasure").
    DATA_REQUEST = "data_request"
    QUESTION = "question"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    DUPLICATE = "duplicate"
    UNKNOWN_SENDER = "unknown_sender"
    SPOOFED = "spoofed"
    # A coordinator's or the liaison's mail without a reply address of ours: a copy of their own
    # mail to a participant, or commands written to the plain address. Nothing is done or
    # counted; they are told how to give commands (a reply to a digest).
    STAFF_MAIL = "staff_mail"
    LOOP = "loop"
    MALFORMED = "malformed"


class Direction(StrEnum):
    MENTOR_TO_MENTEE = "mentor_to_mentee"
    MENTEE_TO_MENTOR = "mentee_to_mentor"


class Transport(StrEnum):
    SMTP = "smtp"
    LMTP = "lmtp"
    IMAP = "imap"
    PIPE = "pipe"
    FILE = "file"


@dataclass(frozen=True)
class ImapCheckpoint:
    """Written in the same transaction as the message's events (DESIGN.md section 4)."""

    mailbox_key: str  # "user@host/INBOX": one checkpoint per account and folder
    uidvalidity: int
    uid: int


@dataclass(frozen=True)
class Source:
    """Where a message came from; never anything it says."""

    transport: Transport
    # Envelope recipients (SMTP RCPT TO) or the IMAP mailbox's address: how a BCC copy, which
    # does not name the program in its headers, is known to be addressed to the program.
    envelope_recipients: tuple[str, ...] = ()
    checkpoint: ImapCheckpoint | None = None


@dataclass(frozen=True)
class PairMatch:
    pair_id: str
    direction: Direction


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    reason: str  # for people: explain, logs. Never quotes the message.
    pairs: tuple[PairMatch, ...] = ()
    # Addresses the outcome is about: the sender of a question or unknown mail, the bounced
    # participant addresses of a bounce.
    addresses: tuple[str, ...] = field(default=())
    # For a duplicate: the outcome the message had the first time.
    duplicate_of: OutcomeKind | None = None

    @property
    def removed_from_inbox(self) -> bool:
        """Whether the IMAP copy goes after logging (see `REMOVED_FROM_INBOX`)."""
        kind = self.duplicate_of if self.kind is OutcomeKind.DUPLICATE else self.kind
        return kind in REMOVED_FROM_INBOX

    @property
    def pair(self) -> str | None:
        return self.pairs[0].pair_id if self.pairs else None

    @property
    def direction(self) -> Direction | None:
        return self.pairs[0].direction if self.pairs else None

    def as_json(self) -> dict[str, object]:
        """The `explain --json` document (keys are a stable contract, see README)."""
        return {
            "outcome": self.kind.value,
            "reason": self.reason,
            "pair": self.pair,
            "direction": self.direction.value if self.direction else None,
            "pairs": [{"pair": m.pair_id, "direction": m.direction.value} for m in self.pairs],
        }


# What an SMTP/LMTP client is told. Everything we have logged, or decided to ignore, is accepted:
# a rejection would bounce to a participant whose message reached their partner anyway.
# Only an internal failure (not an outcome) answers 451, so the sender retries.
SMTP_ACCEPTED = "250 2.0.0 OK: logged"

# After logging, these IMAP copies are removed (or moved) per `after_logging`: contacts and
# machine mail, and replies whose content the program has taken in full. The others (questions,
# unknown senders, spoofing attempts, unreadable mail) stay in the inbox for a person to look at.
# A duplicate goes as its first copy went: a question seen again on a re-scan is the very copy
# kept for a person, and must stay.
REMOVED_FROM_INBOX = frozenset(
    {
        OutcomeKind.CONTACT,
        OutcomeKind.BOUNCE,
        OutcomeKind.AUTO_REPLY,
        OutcomeKind.LOOP,
        OutcomeKind.SELF_REPORT,
        OutcomeKind.SURVEY_REPLY,
        OutcomeKind.CHECKIN_REPLY,
        OutcomeKind.COMMAND,
        OutcomeKind.LETTER_REQUEST,
        OutcomeKind.DATA_REQUEST,
        # Handled in full: the writer is answered, and a copy of staff mail to a participant is
        # nobody's to look at here.
        OutcomeKind.STAFF_MAIL,
    }
)
