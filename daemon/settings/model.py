"""What a validated config is: frozen dataclasses, one per section of the TOML file, and `ConfigError`."""

from __future__ import annotations

import calendar
import os
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from .oauth2 import AuthMethod, OAuth2Settings
from .table import ConfigError, os_error_reason, private_file_problem

Security = Literal["ssl", "starttls", "none"]


Backend = Literal["maildir", "smtp", "memory"]


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


Audience = Literal["mentors", "mentees", "both"]


QuestionKind = Literal["scale", "yesno", "choice", "text"]


@dataclass(frozen=True, kw_only=True)
class ProgramSettings:
    name: str
    address: str  # normalised, lower case
    # The one-round form of the config ([program] starts_on, months, ends_on: round "1"); None
    # when the config writes [[rounds]]. Code uses `Settings.rounds`, which both forms fill.
    starts_on: date | None = None
    months: int = 9
    ends_on: date | None = None
    timezone: str = "UTC"
    secret_file: Path

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1]


@dataclass(frozen=True, kw_only=True)
class RoundSettings:
    """One round of the program: `[[rounds]]`, or `[program]`'s starts_on/months/ends_on as round "1"."""

    id: str  # short text: "1", "2026"
    starts_on: date
    months: int = 9
    # The round's end, when it is not starts_on + months (validated: after starts_on, at most
    # `months` later); every pair of the round ends then, a pair added late too.
    ends_on: date | None = None

    @property
    def last_day(self) -> date:
        """The round's end: `ends_on`, else starts_on + months (the day its pairs end)."""
        return self.ends_on or _add_months(self.starts_on, self.months)


def _add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (as the planner's calendar counts)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, kw_only=True)
class StoreSettings:
    url: str  # a relative SQLite path is already resolved against the config directory


@dataclass(frozen=True, kw_only=True)
class SmtpIntakeSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8025  # 0 picks a free port (tests)
    lmtp: bool = False
    max_message_bytes: int = 26214400


@dataclass(frozen=True, kw_only=True)
class ImapIntakeSettings:
    enabled: bool = False
    host: str = ""
    port: int = 993
    security: Security = "ssl"
    username: str = ""
    # From `password` or the contents of `password_file`; kept out of repr() so that logging the
    # settings cannot leak it.
    password: str = field(default="", repr=False)
    # "oauth2": sign in with a bearer token (SASL XOAUTH2 or OAUTHBEARER) got as `oauth2` says
    # (this section's own [intake.imap.oauth2], else the program's [oauth2]); no password then.
    auth: AuthMethod = "password"
    oauth2: OAuth2Settings | None = None
    folder: str = "INBOX"
    after_logging: str = "delete"  # "delete" | "keep" | "move:FOLDER"
    # RFC 2177: servers may drop an IDLE after 30 minutes, so it is re-issued before that.
    idle_seconds: int = 1500
    # After a refused login the watcher waits this long, then twice as long after each further
    # refusal, up to an hour (imap.py, AUTH_RETRY_MAX): a wrong password retried every few
    # seconds would get the account locked by the server.
    auth_retry_seconds: int = 60

    @property
    def move_to(self) -> str | None:
        """The folder named by `after_logging = "move:FOLDER"`, else None."""
        kind, _, folder = self.after_logging.partition(":")
        return folder if kind == "move" else None


@dataclass(frozen=True, kw_only=True)
class RelaySettings:
    host: str = "localhost"
    port: int = 587
    security: Security = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)  # as for ImapIntakeSettings.password
    auth: AuthMethod = "password"  # as for ImapIntakeSettings.auth ([delivery.smtp.oauth2])
    oauth2: OAuth2Settings | None = None


@dataclass(frozen=True, kw_only=True)
class SendRate:
    """The most mail delivery hands the relay in a minute and in a day (0: no limit), so that a
    big tick's mail (a 1,000-pair program's monthly topic) is spread over time instead of being
    refused as a burst by the provider's sending limits (README, "Sending limits")."""

    messages_per_minute: int = 0
    messages_per_day: int = 0
    recipients_per_day: int = 0  # each recipient of each message counts, as providers count them

    @property
    def limited(self) -> bool:
        return bool(self.messages_per_minute or self.messages_per_day or self.recipients_per_day)


@dataclass(frozen=True, kw_only=True)
class DeliverySettings:
    backend: Backend = "maildir"
    maildir: Path
    smtp: RelaySettings = field(default_factory=RelaySettings)
    # Kept to by the smtp backend only: a Maildir (the embedded default, `simulate`'s preview) has
    # no provider to refuse it. The default is the relay's provider's (loading.py, _PROVIDER_RATES).
    rate: SendRate = field(default_factory=SendRate)

    @property
    def send_rate(self) -> SendRate:
        """The rate delivery keeps to with this backend."""
        return self.rate if self.backend == "smtp" else SendRate()


@dataclass(frozen=True, kw_only=True)
class PeopleSettings:
    coordinators: tuple[str, ...] = ()  # normalised addresses
    liaison: str | None = None
    # The names given with the addresses (`"Full Name <address>"`): (address, name) of each staff
    # member who has one, for the mail that is addressed to them or signed by them.
    names: tuple[tuple[str, str], ...] = ()

    def name_of(self, address: str | None) -> str:
        """The staff member's name as the config gives it, or "" when it gives none."""
        return next((name for known, name in self.names if known == address), "")


@dataclass(frozen=True, kw_only=True)
class ScheduleSettings:
    """When the program's own mail goes out; times are local times in program.timezone."""

    send_time: time = time(9, 0)  # participant mail
    # intro_reminder when no mentor-to-mentee contact this many days after the start, and again
    # after as many days, at most intro_reminders_max times.
    intro_within_days: int = 7
    intro_reminders_max: int = 2
    # nudge when a pair has had no contact for this long; again at most every as many days.
    inactive_after_days: int = 30
    checkin_day_of_month: int = 15  # day within each month of a pair, counted from its start
    liaison_summary_weekday: Weekday = "monday"
    liaison_summary_time: time = time(9, 0)
    digest_time: time = time(8, 0)
    survey_days_before_end: int = 21  # a survey's opens_days_before_end when it gives none
    # A mail still undeliverable this long after its first attempt is given up and listed in the
    # digest (a decimal is allowed: 0.5 is half an hour).
    delivery_give_up_hours: float = 48
    # The first retry of a temporary failure; each later one waits twice as long, at most an hour.
    delivery_first_retry_seconds: int = 60
    # How long a delivering daemon keeps the mail it claimed to itself (daemons sharing one
    # PostgreSQL outbox): a daemon that dies while sending leaves its claims to expire, and
    # another sends that mail then.
    delivery_claim_seconds: int = 900
    planner_interval_minutes: int = 5
    # Compose the planner's mail in a worker process: SMTP answers stay fast during a big tick
    # (p99 0.13 s against 0.7 s while the first tick of 10,000 pairs composes 30,000 mails) at
    # the cost of a second Python process (about 100 MB more).
    compose_in_worker: bool = False


@dataclass(frozen=True, kw_only=True)
class TopicSettings:
    """One month's discussion topic: [[topics]] N is sent in month N; months beyond the list get none."""

    title: str
    prompts: tuple[str, ...] = ()
    resources: tuple[tuple[str, str], ...] = ()  # (title, url)


@dataclass(frozen=True, kw_only=True)
class SurveyQuestion:
    id: str
    text: str
    kind: QuestionKind
    # scale: the words for 1..5; choice: the choices (two or more); otherwise none.
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SurveySettings:
    id: str
    title: str
    audience: Audience
    opens_days_before_end: int = 21
    closes_days_after_end: int = 14
    questions: tuple[SurveyQuestion, ...]


@dataclass(frozen=True, kw_only=True)
class SecuritySettings:
    # The authserv-id of the receiving server whose Authentication-Results header is trusted;
    # when set, a coordinator's command is obeyed only with DMARC or DKIM pass for their domain.
    trusted_authserv_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class LetterSettings:
    # Send the letter at once, without a coordinator's approval, to a mentor whose pair completed
    # the round.
    auto_approve_completed: bool = False
    signatory: str = "The mentoring coordinators"


@dataclass(frozen=True, kw_only=True)
class PrivacySettings:
    # Days after a round's end at which its per-person data is removed, keeping only its counts
    # (README "Erasure"). A year: the coordinators' annual report, late letter requests and the
    # comparison with the next round are done by then, and nothing needs a person's data after it.
    # 0 keeps everything until someone is forgotten by name.
    keep_days_after_round: int = 365


@dataclass(frozen=True, kw_only=True)
class Settings:
    path: Path  # the config file, absolute
    program: ProgramSettings
    store: StoreSettings
    intake_smtp: SmtpIntakeSettings
    intake_imap: ImapIntakeSettings
    delivery: DeliverySettings
    people: PeopleSettings
    schedule: ScheduleSettings
    topics: tuple[TopicSettings, ...]
    surveys: tuple[SurveySettings, ...]
    templates_dir: Path | None  # the program's own templates, replacing built-in ones of the same name
    # The program's rounds in the config's order (by start: validated); at least one.
    rounds: tuple[RoundSettings, ...] = ()
    security: SecuritySettings = SecuritySettings()
    letters: LetterSettings = LetterSettings()
    privacy: PrivacySettings = PrivacySettings()
    # Each a line `FILE: KEY: what may be wrong`: valid, but probably not what was meant (a time
    # zone with no daylight saving time). check-config prints them, `run` logs them.
    warnings: tuple[str, ...] = ()

    def round(self, round_id: str) -> RoundSettings:
        """The round with this id; an unknown one is a user's mistake, named with the known ones."""
        for known in self.rounds:
            if known.id == round_id:
                return known
        raise ConfigError(f"unknown round {round_id!r} (the config's rounds: {', '.join(self.round_ids())})")

    def round_ids(self) -> tuple[str, ...]:
        return tuple(known.id for known in self.rounds)

    def current_round(self, today: date) -> RoundSettings:
        """The round that commands mean by default: the latest that has started by `today` (in the
        program's zone), or the first before any has."""
        started = [known for known in self.rounds if known.starts_on <= today]
        return started[-1] if started else self.rounds[0]

    def secret(self) -> bytes:
        """The program key (HMAC of reply tokens and Message-IDs), surrounding whitespace removed.

        Read on demand rather than at load time so that the key is not kept in a dataclass that
        may be printed or logged.
        """
        path = self.program.secret_file
        where = f"{self.path}: program.secret_file"
        hint = "(run `mentormail init` or create it)"
        try:
            with path.open("rb") as file:
                mode = os.fstat(file.fileno()).st_mode & 0o777
                key = file.read().strip()
        except FileNotFoundError:
            raise ConfigError(f"{where}: cannot read {path} {hint}") from None
        except OSError as error:
            raise ConfigError(f"{where}: cannot read {path}: {os_error_reason(error)}") from None
        # Whoever can read the key can forge reply tokens and coordinator commands.
        if problem := private_file_problem(path, mode):
            raise ConfigError(f"{where}: {problem}")
        if not key:
            raise ConfigError(f"{where}: {path} is empty {hint}")
        return key
