"""What the planner is given: the store's state of the program, as plain values.

Read by `store.queries.planner_state` in one transaction and handed to the pure planner
(`daemon/planner`), which never touches the database. These live in store/ because the store
builds them; the planner only reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from .summary_state import LiaisonActivity

# The round a one-round config means, and the one a store from before rounds was migrated into.
FIRST_ROUND = "1"


@dataclass(frozen=True)
class Person:
    # Staff (coordinators, the liaison) are people too, with ids of their own; 0 only for an
    # address the store does not know (a reply to such mail may come from any recipient).
    person_id: int
    name: str
    email: str


@dataclass(frozen=True)
class Contact:
    occurred_at: datetime  # aware UTC
    direction: str  # mentor_to_mentee | mentee_to_mentor


@dataclass(frozen=True)
class PairState:
    pair_id: str
    mentor: Person
    mentee: Person
    status: str  # active | paused | ended
    started_on: date
    contacts: tuple[Contact, ...]  # oldest first
    # When its pairing mail was composed; None: not yet (the planner takes it as going out at
    # `now` when it is due) or not known (taken as on time).
    welcomed_at: datetime | None = None
    round_id: str = FIRST_ROUND  # its round: its calendar is the round's (Calendar.for_round)

    def partner(self, person: Person) -> Person:
        return self.mentee if person == self.mentor else self.mentor


@dataclass(frozen=True)
class Bounce:
    person: Person
    at: datetime
    pair_ids: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    question_id: int
    person: Person
    received_at: datetime


@dataclass(frozen=True)
class DeliveryFailure:
    kind: str
    to: str
    reason: str
    since: datetime  # when it was given up
    key: str = ""  # for `mentormail outbox retry KEY`


@dataclass(frozen=True)
class UnknownSender:
    email: str
    at: datetime


@dataclass(frozen=True)
class SurveyAnswerRow:
    """One person's latest answers to one survey (parsed values only, never their message)."""

    survey_id: str
    person_id: int
    # question id -> scale 1..5 (int) | yesno (bool) | choice (the label) | text (str)
    answers: Mapping[str, object]
    round_id: str = FIRST_ROUND  # the round of the pair answered about: each round has its survey


@dataclass(frozen=True)
class CheckinRow:
    """A mentor's reply to a monthly check-in."""

    pair_id: str
    month: int
    rating: int | None  # 1..5
    wants_contact: bool | None  # asks the liaison to get in touch
    received_at: datetime


@dataclass(frozen=True)
class LetterRow:
    """A mentor's request for a letter of recognition that no coordinator has decided yet."""

    request_id: int
    person: Person
    pair_id: str
    requested_at: datetime
    contacts: int = 0  # the pair's logged contacts (mail, reported calls, meetings), for judging it


@dataclass(frozen=True)
class SpoofAttempt:
    """Mail that tried to act with a forged or misused reply address (the outcome `spoofed`)."""

    email: str  # the sender it claimed
    at: datetime


@dataclass(frozen=True)
class PlannerState:
    pairs: tuple[PairState, ...]
    sent_keys: frozenset[str]  # every key already in the outbox
    bounces: tuple[Bounce, ...] = ()
    questions: tuple[Question, ...] = ()  # not yet forwarded
    failures: tuple[DeliveryFailure, ...] = ()
    unknown_senders: tuple[UnknownSender, ...] = ()
    last_digest_at: datetime | None = None  # due time of the latest digest in the outbox
    staff: tuple[Person, ...] = ()  # coordinators and the liaison, as the store knows them
    survey_answers: tuple[SurveyAnswerRow, ...] = ()  # one per survey and person
    checkins: tuple[CheckinRow, ...] = ()
    letter_requests: tuple[LetterRow, ...] = ()  # pending: status "requested"
    spoofed: tuple[SpoofAttempt, ...] = ()
    # The liaison summary's figures, read in SQL by the tick; None: derived from `pairs`' contacts.
    liaison_activity: LiaisonActivity | None = None
    # When each survey mail in `sent_keys` was composed (a survey sent late has no reminder after
    # it); a key missing here was sent on time.
    surveys_sent_at: Mapping[str, datetime] = field(default_factory=dict)

    def answered(self) -> frozenset[tuple[str, int]]:
        """(survey id, person id) of everyone who has answered a survey."""
        return frozenset((row.survey_id, row.person_id) for row in self.survey_answers)

    def staff_person(self, email: str) -> Person:
        """The coordinator or liaison with this address; id 0 if the store does not know them."""
        folded = email.casefold()
        return next((p for p in self.staff if p.email.casefold() == folded), Person(0, "", email))
