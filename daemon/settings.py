"""The TOML config file, read once at startup and validated into frozen dataclasses.

Every problem becomes one `ConfigError` whose text is a single line, `FILE: KEY: what is wrong`,
because `check-config` and the daemon print it as is and exit 1 (DESIGN.md section 6).

Validation is written out here rather than delegated to pydantic: a typo must be reported as the
unknown key it is, before the "missing" error it causes; a password must never be echoed back
in a message that ends up in a log; and each message should read the same across library
upgrades. Relative paths are resolved against the config file's directory, never the working
directory, so the daemon behaves the same whichever directory it is started from.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal, cast, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from mentormail.parsers.headers import normalise
from mentormail.parsers.tokens import MAX_REFERENCE_LENGTH, MAX_TOKEN_LENGTH

Security = Literal["ssl", "starttls", "none"]
Backend = Literal["maildir", "smtp", "memory"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Audience = Literal["mentors", "mentees", "both"]
QuestionKind = Literal["scale", "yesno", "choice", "text"]

# Top-level tables, and the one top-level key (templates_dir).
_SECTIONS = (
    "program", "store", "intake", "delivery", "people", "schedule", "topics", "surveys", "security", "letters",
    "templates_dir",
)  # fmt: skip
# Top-level tables that later features will define, accepted and ignored until then.
_LATER_SECTIONS: tuple[str, ...] = ()

_PROGRAM_KEYS = ("name", "address", "starts_on", "months", "timezone", "secret_file")
_SMTP_INTAKE_KEYS = ("enabled", "host", "port", "lmtp", "max_message_bytes")
_IMAP_INTAKE_KEYS = (
    "enabled", "host", "port", "security", "username", "password", "password_file",
    "folder", "after_logging", "idle_seconds",
)  # fmt: skip
_RELAY_KEYS = ("host", "port", "security", "username", "password", "password_file")
_SCHEDULE_KEYS = (
    "send_time", "intro_within_days", "intro_reminders_max", "inactive_after_days", "checkin_day_of_month",
    "liaison_summary_weekday", "liaison_summary_time", "digest_time", "survey_days_before_end",
    "delivery_give_up_hours", "planner_interval_minutes",
)  # fmt: skip
_TOPIC_KEYS = ("title", "prompts", "resources")
_RESOURCE_KEYS = ("title", "url")
_SURVEY_KEYS = ("id", "title", "audience", "opens_days_before_end", "closes_days_after_end", "questions")
_QUESTION_KEYS = ("id", "text", "kind", "labels")

# Reply addresses are the program's local part, "+" and a token; RFC 5321 allows 64 characters.
_MAX_PROGRAM_LOCAL = 64 - len("+") - MAX_TOKEN_LENGTH
# The planner signs survey replies with the reference "survey-ID" (parsers/tokens.py).
_MAX_SURVEY_ID = MAX_REFERENCE_LENGTH - len("survey-")
_SCALE_LABELS = ("strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree")

_REQUIRED: Any = object()  # default for keys that must be present
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_HOUR_MINUTE = re.compile(r"\d{2}:\d{2}")
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_INDEX = re.compile(r"\[\d+\]")
_TOML_POSITION = re.compile(r"(?P<what>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)")
_TOML_AT_END = re.compile(r"(?P<what>.*) \(at end of document\)")
_KIND_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


class ConfigError(Exception):
    """A problem with the configuration; str() is one line: `FILE: KEY: what is wrong`."""


@dataclass(frozen=True, kw_only=True)
class ProgramSettings:
    name: str
    address: str  # normalised, lower case
    starts_on: date
    months: int = 9
    timezone: str = "UTC"
    secret_file: Path

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1]


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
    folder: str = "INBOX"
    after_logging: str = "delete"  # "delete" | "keep" | "move:FOLDER"
    # RFC 2177: servers may drop an IDLE after 30 minutes, so it is re-issued before that.
    idle_seconds: int = 1500

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


@dataclass(frozen=True, kw_only=True)
class DeliverySettings:
    backend: Backend = "maildir"
    maildir: Path
    smtp: RelaySettings = field(default_factory=RelaySettings)


@dataclass(frozen=True, kw_only=True)
class PeopleSettings:
    coordinators: tuple[str, ...] = ()
    liaison: str | None = None


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
    # A mail still undeliverable after this long is given up and listed in the digest.
    delivery_give_up_hours: int = 48
    planner_interval_minutes: int = 5


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
    security: SecuritySettings = SecuritySettings()
    letters: LetterSettings = LetterSettings()

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
            raise ConfigError(f"{where}: cannot read {path}: {_reason(error)}") from None
        # Whoever can read the key can forge reply tokens and coordinator commands.
        if mode & 0o077:
            raise ConfigError(f"{where}: {path} has mode {mode:04o}; it must be 0600 (chmod 600 {path})")
        if not key:
            raise ConfigError(f"{where}: {path} is empty {hint}")
        return key


def load_settings(path: Path) -> Settings:
    """Read and validate the config file at `path`; raises ConfigError on the first problem."""
    path = Path(path)
    base = path.absolute().parent
    root = _Table(str(path), "", _read_toml(path), _SECTIONS, ignored=_LATER_SECTIONS)
    program = _program(root.table("program", _PROGRAM_KEYS), base)
    store = _store(root.table("store", ("url",)), base)
    intake = root.table("intake", ("smtp", "imap"))
    intake_smtp = _intake_smtp(intake.table("smtp", _SMTP_INTAKE_KEYS))
    intake_imap = _intake_imap(intake.table("imap", _IMAP_INTAKE_KEYS), base)
    delivery = _delivery(root.table("delivery", ("backend", "maildir", "smtp")), base)
    people = _people(root.table("people", ("coordinators", "liaison")))
    schedule = _schedule(root.table("schedule", _SCHEDULE_KEYS))
    return Settings(
        path=path.absolute(),
        program=program,
        store=store,
        intake_smtp=intake_smtp,
        intake_imap=intake_imap,
        delivery=delivery,
        people=people,
        schedule=schedule,
        topics=tuple(_topic(table) for table in root.tables("topics", _TOPIC_KEYS)),
        surveys=_surveys(root.tables("surveys", _SURVEY_KEYS), schedule),
        templates_dir=_templates_dir(root, base),
        security=_security(root.table("security", ("trusted_authserv_id",))),
        letters=_letters(root.table("letters", ("auto_approve_completed", "signatory"))),
    )


def _security(table: _Table) -> SecuritySettings:
    return SecuritySettings(trusted_authserv_id=table.text("trusted_authserv_id", "").strip().lower() or None)


def _letters(table: _Table) -> LetterSettings:
    defaults = LetterSettings()
    return LetterSettings(
        auto_approve_completed=table.flag("auto_approve_completed", defaults.auto_approve_completed),
        signatory=table.text("signatory", defaults.signatory),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {_reason(error)}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: cannot read: not UTF-8 text (byte {error.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {_syntax_problem(str(error), text)}") from None


def _syntax_problem(message: str, text: str) -> str:
    """tomllib's "... (at line 3, column 5)" as "line 3: ... (column 5)"."""
    if match := _TOML_POSITION.fullmatch(message):
        return f"line {match['line']}: {match['what']} (column {match['column']})"
    if match := _TOML_AT_END.fullmatch(message):
        last_line = max(1, len(text.splitlines()))
        return f"line {last_line}: {match['what']} (at end of file)"
    # tomllib's wording is not a public API: keep its message if the format ever changes.
    return f"invalid TOML: {message}"


def _program(table: _Table, base: Path) -> ProgramSettings:
    name = table.text("name")
    address = table.address("address")
    # Reply addresses are made by adding +TOKEN to the program address; a second + would break them.
    if "+" in address:
        raise table.error("address", f"must not contain '+' (got {address!r})")
    local = address.rsplit("@", 1)[0]
    if len(local) > _MAX_PROGRAM_LOCAL:
        raise table.error(
            "address",
            f"the part before @ must be at most {_MAX_PROGRAM_LOCAL} characters, so that reply addresses "
            f"(+TOKEN) fit the limit of 64 (got {local!r}, {len(local)})",
        )
    return ProgramSettings(
        name=name,
        address=address,
        starts_on=table.day("starts_on"),
        months=table.integer("months", _default(ProgramSettings, "months"), low=1, high=36),
        timezone=table.zone("timezone", _default(ProgramSettings, "timezone")),
        secret_file=table.path("secret_file", base),
    )


def _store(table: _Table, base: Path) -> StoreSettings:
    url = table.text("url", "sqlite:///var/mentormail.db")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # The URL itself is not shown: it may hold a database password.
        raise table.error("url", "not a database URL (e.g. sqlite:///var/mentormail.db)") from None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return StoreSettings(url=url)
    resolved = _resolve(base, cast(str, database))
    return StoreSettings(url=parsed.set(database=str(resolved)).render_as_string(hide_password=False))


def _intake_smtp(table: _Table) -> SmtpIntakeSettings:
    defaults = SmtpIntakeSettings()
    return SmtpIntakeSettings(
        enabled=table.flag("enabled", defaults.enabled),
        host=table.text("host", defaults.host),
        port=table.integer("port", defaults.port, low=0, high=65535),
        lmtp=table.flag("lmtp", defaults.lmtp),
        max_message_bytes=table.integer("max_message_bytes", defaults.max_message_bytes, low=1),
    )


def _intake_imap(table: _Table, base: Path) -> ImapIntakeSettings:
    defaults = ImapIntakeSettings()
    enabled = table.flag("enabled", defaults.enabled)
    settings = ImapIntakeSettings(
        enabled=enabled,
        host=table.text("host", defaults.host),
        port=table.integer("port", defaults.port, low=1, high=65535),
        security=cast(Security, table.choice("security", defaults.security, get_args(Security))),
        username=table.text("username", defaults.username),
        password=_password(table, base, in_use=enabled),
        folder=table.text("folder", defaults.folder),
        after_logging=_after_logging(table, defaults.after_logging),
        idle_seconds=table.integer("idle_seconds", defaults.idle_seconds, low=1, high=29 * 60),
    )
    if enabled:
        for key in ("host", "username", "password"):
            if not getattr(settings, key):
                also = " (or password_file)" if key == "password" else ""
                raise table.error(key, f"required{also} when intake.imap.enabled = true")
    return settings


def _after_logging(table: _Table, default: str) -> str:
    value = table.text("after_logging", default)
    kind, colon, folder = value.partition(":")
    if value in ("delete", "keep") or (kind == "move" and colon and folder.strip()):
        return f"move:{folder.strip()}" if kind == "move" else value
    raise table.error("after_logging", f"must be delete, keep or move:FOLDER (got {value!r})")


def _delivery(table: _Table, base: Path) -> DeliverySettings:
    backend = cast(Backend, table.choice("backend", "maildir", get_args(Backend)))
    relay = table.table("smtp", _RELAY_KEYS)
    defaults = RelaySettings()
    return DeliverySettings(
        backend=backend,
        maildir=table.path("maildir", base, "var/outbox"),
        smtp=RelaySettings(
            host=relay.text("host", defaults.host),
            port=relay.integer("port", defaults.port, low=1, high=65535),
            security=cast(Security, relay.choice("security", defaults.security, get_args(Security))),
            username=relay.text("username", defaults.username),
            password=_password(relay, base, in_use=backend == "smtp"),
        ),
    )


def _people(table: _Table) -> PeopleSettings:
    liaison = table.text("liaison", "")
    return PeopleSettings(
        coordinators=table.addresses("coordinators"),
        liaison=table.address("liaison") if liaison else None,
    )


def _schedule(table: _Table) -> ScheduleSettings:
    defaults = ScheduleSettings()
    return ScheduleSettings(
        send_time=table.clock("send_time", defaults.send_time),
        intro_within_days=table.integer("intro_within_days", defaults.intro_within_days, low=1),
        intro_reminders_max=table.integer("intro_reminders_max", defaults.intro_reminders_max, low=0),
        inactive_after_days=table.integer("inactive_after_days", defaults.inactive_after_days, low=1),
        # 28: every month has that day, so the check-in never slips into the next month.
        checkin_day_of_month=table.integer("checkin_day_of_month", defaults.checkin_day_of_month, low=1, high=28),
        liaison_summary_weekday=cast(
            Weekday, table.choice("liaison_summary_weekday", defaults.liaison_summary_weekday, get_args(Weekday))
        ),
        liaison_summary_time=table.clock("liaison_summary_time", defaults.liaison_summary_time),
        digest_time=table.clock("digest_time", defaults.digest_time),
        survey_days_before_end=table.integer("survey_days_before_end", defaults.survey_days_before_end, low=0),
        delivery_give_up_hours=table.integer("delivery_give_up_hours", defaults.delivery_give_up_hours, low=1),
        planner_interval_minutes=table.integer(
            "planner_interval_minutes", defaults.planner_interval_minutes, low=1, high=60
        ),
    )


def _topic(table: _Table) -> TopicSettings:
    return TopicSettings(
        title=table.line("title"),
        prompts=table.lines("prompts"),
        resources=tuple(
            (resource.line("title"), resource.url("url")) for resource in table.tables("resources", _RESOURCE_KEYS)
        ),
    )


def _surveys(tables: list[_Table], schedule: ScheduleSettings) -> tuple[SurveySettings, ...]:
    surveys = tuple(_survey(table, schedule) for table in tables)
    _check_unique_ids(tables, [survey.id for survey in surveys])
    return surveys


def _survey(table: _Table, schedule: ScheduleSettings) -> SurveySettings:
    survey_id = table.identifier("id")
    if len(survey_id) > _MAX_SURVEY_ID:
        raise table.error(
            "id", f"must be at most {_MAX_SURVEY_ID} characters: reply addresses carry it (got {survey_id!r})"
        )
    question_tables = table.tables("questions", _QUESTION_KEYS, _REQUIRED)
    if not question_tables:
        raise table.error("questions", "must have at least one [[surveys.questions]]")
    questions = tuple(_question(question) for question in question_tables)
    _check_unique_ids(question_tables, [question.id for question in questions])
    return SurveySettings(
        id=survey_id,
        title=table.line("title"),
        audience=cast(Audience, table.choice("audience", _REQUIRED, get_args(Audience))),
        # The schedule sets when surveys open; a survey may open earlier or later than the rest.
        opens_days_before_end=table.integer("opens_days_before_end", schedule.survey_days_before_end, low=0),
        closes_days_after_end=table.integer(
            "closes_days_after_end", _default(SurveySettings, "closes_days_after_end"), low=0
        ),
        questions=questions,
    )


def _question(table: _Table) -> SurveyQuestion:
    question_id = table.identifier("id")
    text = table.line("text")
    kind = cast(QuestionKind, table.choice("kind", _REQUIRED, get_args(QuestionKind)))
    given = "labels" in table.data
    labels = table.lines("labels") if given or kind != "scale" else _SCALE_LABELS
    if kind == "scale" and len(labels) != len(_SCALE_LABELS):
        raise table.error("labels", f"a scale needs {len(_SCALE_LABELS)} labels, for 1 to 5 (got {len(labels)})")
    if kind == "choice" and len(labels) < 2:
        raise table.error("labels", f"a choice needs at least 2 choices (got {len(labels)})")
    if kind in ("yesno", "text") and given:
        raise table.error("labels", f"only for kind scale or choice (this question's kind is {kind})")
    folded = [label.casefold() for label in labels]
    if repeated := next((label for index, label in enumerate(labels) if folded[index] in folded[:index]), None):
        raise table.error("labels", f"must all differ (got {repeated!r} twice)")
    return SurveyQuestion(id=question_id, text=text, kind=kind, labels=labels)


def _check_unique_ids(tables: list[_Table], ids: list[str]) -> None:
    first: dict[str, str] = {}
    for table, item_id in zip(tables, ids, strict=True):
        if item_id in first:
            raise table.error("id", f"{item_id!r} is also the id of {first[item_id]}")
        first[item_id] = table.name


def _templates_dir(root: _Table, base: Path) -> Path | None:
    if "templates_dir" not in root.data:
        return None
    path = root.path("templates_dir", base)
    if not path.is_dir():
        problem = "is not a directory" if path.exists() else "does not exist"
        raise root.error("templates_dir", f"{path} {problem}")
    return path


def _password(table: _Table, base: Path, *, in_use: bool) -> str:
    """`password`, or the contents of `password_file` without its trailing newline.

    The file is read only when the transport is in use, so a disabled transport's example
    settings cannot stop the daemon from starting.
    """
    password = table.text("password", "", secret=True)
    file = table.text("password_file", "")
    if password and file:
        raise table.error("password_file", "give password or password_file, not both")
    if not file or not in_use:
        return password
    path = _resolve(base, file)
    try:
        password = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        raise table.error("password_file", f"cannot read {path}: {_reason(error)}") from None
    except UnicodeDecodeError:
        raise table.error("password_file", f"{path} is not UTF-8 text") from None
    if not password:
        raise table.error("password_file", f"{path} is empty")
    return password


class _Table:
    """One TOML table, read through typed getters that name the full key in every error."""

    def __init__(
        self,
        file: str,
        name: str,
        data: Mapping[str, Any],
        keys: Iterable[str],
        ignored: Iterable[str] = (),
    ) -> None:
        self.file = file
        self.name = name
        self.data = data
        keys = tuple(keys)
        # Checked before any value is read: a typo would otherwise surface as "missing".
        for key in data:
            if key not in keys and key not in ignored:
                raise self.error(key, _unknown(key, data[key], keys))

    def key(self, name: str) -> str:
        return f"{self.name}.{name}" if self.name else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.file}: {self.key(name)}: {problem}")

    def get(self, name: str, kind: type, default: Any = _REQUIRED, *, secret: bool = False) -> Any:
        if name not in self.data:
            if default is _REQUIRED:
                raise self.error(name, "missing (required)")
            return default
        value = self.data[name]
        if not _is_a(value, kind):
            got = "" if secret else f" (got {_show(value)})"
            raise self.error(name, f"must be {_KIND_NAMES[kind]}{got}")
        return value

    def table(self, name: str, keys: Iterable[str]) -> _Table:
        return _Table(self.file, self.key(name), self.get(name, dict, {}), keys)

    def tables(self, name: str, keys: Iterable[str], default: Any = ()) -> list[_Table]:
        """An array of tables (`[[name]]`), each named with its index: `topics[2]`."""
        values = self.get(name, object, default)
        if not isinstance(values, (list, tuple)):
            header = _INDEX.sub("", self.key(name))
            raise self.error(name, f"must be written as [[{header}]] tables (got {_show(values)})")
        found = []
        for index, value in enumerate(values):
            if not isinstance(value, dict):
                raise self.error(f"{name}[{index}]", f"must be a table (got {_show(value)})")
            found.append(_Table(self.file, self.key(f"{name}[{index}]"), value, keys))
        return found

    def text(self, name: str, default: Any = _REQUIRED, *, secret: bool = False) -> str:
        return cast(str, self.get(name, str, default, secret=secret))

    def line(self, name: str) -> str:
        """A required string with something in it."""
        return self._line(name, self.text(name))

    def lines(self, name: str) -> tuple[str, ...]:
        values = cast(list[Any], self.get(name, list, []))
        return tuple(self._line(f"{name}[{index}]", value) for index, value in enumerate(values))

    def _line(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.error(key, f"must be a string (got {_show(value)})")
        if not value.strip():
            raise self.error(key, "must not be empty")
        return value.strip()

    def identifier(self, name: str) -> str:
        value = self.text(name)
        if not _ID.fullmatch(value):
            raise self.error(name, f"must be lower-case letters, digits, '-' or '_' (got {value!r})")
        return value

    def url(self, name: str) -> str:
        value = self.text(name)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or any(char.isspace() for char in value):
            raise self.error(name, f"must be an http or https URL (got {value!r})")
        return value

    def flag(self, name: str, default: bool) -> bool:
        return cast(bool, self.get(name, bool, default))

    def integer(self, name: str, default: int, *, low: int, high: int | None = None) -> int:
        value = cast(int, self.get(name, int, default))
        if value < low:
            raise self.error(name, f"must be at least {low} (got {value})")
        if high is not None and value > high:
            raise self.error(name, f"must be at most {high} (got {value})")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in choices:
            raise self.error(name, f"must be one of {', '.join(choices)} (got {value!r})")
        return value

    def day(self, name: str) -> date:
        """A TOML date, or a "YYYY-MM-DD" string for editors that quote everything."""
        value = self.get(name, object)
        if isinstance(value, str) and _ISO_DAY.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError as error:
                raise self.error(name, f"{error} (got {value!r})") from None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        raise self.error(name, f"must be a date like 2026-09-01 (got {_show(value)})")

    def clock(self, name: str, default: time) -> time:
        """A TOML local time (09:00:00), or an "HH:MM" string."""
        value = self.get(name, object, default)
        if isinstance(value, str) and _HOUR_MINUTE.fullmatch(value):
            try:
                return time.fromisoformat(value)
            except ValueError as error:
                raise self.error(name, f"{error} (got {value!r})") from None
        if isinstance(value, time):
            return value
        raise self.error(name, f"must be a time like 09:00 (got {_show(value)})")

    def zone(self, name: str, default: str) -> str:
        value = self.text(name, default)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.error(name, f"unknown time zone (got {value!r}); use a name like America/Chicago") from None
        return value

    def address(self, name: str) -> str:
        return self._address(name, self.text(name))

    def addresses(self, name: str) -> tuple[str, ...]:
        values = cast(list[Any], self.get(name, list, []))
        return tuple(self._address(f"{name}[{index}]", value) for index, value in enumerate(values))

    def _address(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.error(key, f"must be a string (got {_show(value)})")
        address = normalise(value)
        if address is None:
            raise self.error(key, f"not a valid email address (got {value!r})")
        return address

    def path(self, name: str, base: Path, default: Any = _REQUIRED) -> Path:
        value = self.text(name, default)
        if not value:
            raise self.error(name, "must not be empty")
        return _resolve(base, value)


def _resolve(base: Path, value: str) -> Path:
    # normpath, not resolve(): "../var" should read as written, whether or not it exists yet.
    return Path(os.path.normpath(base / value))


def _default(cls: type, name: str) -> Any:
    """The default declared on a settings dataclass, so that it is written in one place."""
    return next(item.default for item in fields(cls) if item.name == name)


def _is_a(value: Any, kind: type) -> bool:
    # To isinstance a TOML `true` is an integer; to someone writing the file it is not.
    if isinstance(value, bool):
        return kind in (bool, object)
    return isinstance(value, kind)


def _show(value: Any) -> str:
    """A value as it would appear in the TOML file, shortened to keep the message one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (date, time)):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _unknown(key: str, value: Any, known: tuple[str, ...]) -> str:
    kind = "unknown section" if isinstance(value, dict) else "unknown key"
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f"{kind} (did you mean {close[0]!r}?)"
    return f"{kind} (expected one of: {', '.join(known)})"


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__
