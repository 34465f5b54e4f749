"""Reading the TOML file: each section checked and turned into its settings (`load_settings`)."""

from __future__ import annotations

import calendar
import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, cast, get_args

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ...parsers.tokens import MAX_REFERENCE_LENGTH, MAX_TOKEN_LENGTH
from .model import (
    Audience,
    Backend,
    DeliverySettings,
    ImapIntakeSettings,
    LetterSettings,
    PeopleSettings,
    PrivacySettings,
    ProgramSettings,
    QuestionKind,
    RelaySettings,
    RoundSettings,
    ScheduleSettings,
    Security,
    SecuritySettings,
    SendRate,
    Settings,
    SmtpIntakeSettings,
    StoreSettings,
    SurveyQuestion,
    SurveySettings,
    TopicSettings,
    Weekday,
)
from .oauth2 import AuthMethod, OAuth2Settings, read_oauth2
from .oauth2 import read_table as read_oauth2_table
from .table import (
    REQUIRED,
    ConfigError,
    Table,
    field_default,
    os_error_reason,
    private_file_problem,
    resolve_path,
)

# Top-level tables, and the one top-level key (templates_dir).
_SECTIONS = (
    "program", "store", "intake", "delivery", "people", "schedule", "topics", "surveys", "security", "letters",
    "privacy",
    "oauth2", "rounds", "templates_dir",
)  # fmt: skip


# Top-level tables that later features will define, accepted and ignored until then.
_LATER_SECTIONS: tuple[str, ...] = ()


_PROGRAM_KEYS = ("name", "address", "starts_on", "months", "ends_on", "timezone", "secret_file")


# The dates of a round: [program]'s in the one-round form, each [[rounds]] table's otherwise.
_ROUND_DATE_KEYS = ("starts_on", "months", "ends_on")


_ROUND_KEYS = ("id", *_ROUND_DATE_KEYS)


# A round's id goes into pair keys (`2027/p1`) and mail keys: short, and no separator of them.
_ROUND_ID = re.compile(r"[A-Za-z0-9._-]{1,16}")


_SMTP_INTAKE_KEYS = ("enabled", "host", "port", "lmtp", "max_message_bytes")


_IMAP_INTAKE_KEYS = (
    "enabled", "host", "port", "security", "username", "password", "password_file",
    "folder", "after_logging", "idle_seconds", "auth_retry_seconds", "auth", "oauth2",
)  # fmt: skip


_RELAY_KEYS = ("host", "port", "security", "username", "password", "password_file", "auth", "oauth2")


_DELIVERY_KEYS = (
    "backend", "maildir", "smtp", "max_messages_per_minute", "max_messages_per_day", "max_recipients_per_day",
)  # fmt: skip


# The providers' published sending limits for one mailbox (README, "Sending limits"): Exchange
# Online, 30 messages a minute and 10,000 recipients a day; Google Workspace, 2,000 messages and
# 10,000 recipients a day (it suspends sending for up to a day when they are passed). A relay of
# the program's own has none: mail goes out as fast as it is due, as before.
_PROVIDER_RATES = {
    "microsoft": SendRate(messages_per_minute=30, recipients_per_day=10_000),
    "google": SendRate(messages_per_day=2_000, recipients_per_day=10_000),
}


# A relay known by its name (an app password on Gmail's, say) is held to its provider's limits too.
_PROVIDER_RELAYS = {"smtp.office365.com": "microsoft", "smtp.gmail.com": "google"}


_SCHEDULE_KEYS = (
    "send_time", "intro_within_days", "intro_reminders_max", "inactive_after_days", "checkin_day_of_month",
    "liaison_summary_weekday", "liaison_summary_time", "digest_time", "survey_days_before_end",
    "delivery_give_up_hours", "delivery_first_retry_seconds", "planner_interval_minutes", "compose_in_worker",
    "delivery_claim_seconds",
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


_TOML_POSITION = re.compile(r"(?P<what>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)")


_TOML_AT_END = re.compile(r"(?P<what>.*) \(at end of document\)")


def load_settings(path: Path) -> Settings:
    """Read and validate the config file at `path`; raises ConfigError on the first problem."""
    path = Path(path)
    base = path.absolute().parent
    root = Table(str(path), "", _read_toml(path), _SECTIONS, ignored=_LATER_SECTIONS)
    program_table = root.table("program", _PROGRAM_KEYS)
    program = _program(program_table, base)
    rounds = _rounds(program_table, root.tables("rounds", _ROUND_KEYS))
    warnings = tuple(filter(None, [program_table.zone_warning("timezone", program.timezone)]))
    store = _store(root.table("store", ("url",)), base)
    intake = root.table("intake", ("smtp", "imap"))
    intake_smtp = _intake_smtp(intake.table("smtp", _SMTP_INTAKE_KEYS))
    imap_table = intake.table("imap", _IMAP_INTAKE_KEYS)
    delivery_table = root.table("delivery", _DELIVERY_KEYS)
    oauth2 = _program_oauth2(root, base, imap_table, delivery_table)
    intake_imap = _intake_imap(imap_table, base, oauth2)
    delivery = _delivery(delivery_table, base, oauth2)
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
        surveys=(surveys := _surveys(root.tables("surveys", _SURVEY_KEYS), schedule)),
        privacy=_privacy(root.table("privacy", ("keep_days_after_round",)), surveys),
        templates_dir=_templates_dir(root, base),
        rounds=rounds,
        security=_security(root.table("security", ("trusted_authserv_id",))),
        letters=_letters(root.table("letters", ("auto_approve_completed", "signatory"))),
        warnings=warnings,
    )


def _security(table: Table) -> SecuritySettings:
    return SecuritySettings(trusted_authserv_id=table.text("trusted_authserv_id", "").strip().lower() or None)


def _privacy(table: Table, surveys: tuple[SurveySettings, ...]) -> PrivacySettings:
    name = "keep_days_after_round"
    days = table.get(name, int, PrivacySettings().keep_days_after_round)
    if days < 0:
        raise table.error(
            name, f"must be 0 (keep until forgotten) or a number of days after a round's end (got {days})"
        )
    closing = max((survey.closes_days_after_end for survey in surveys), default=0)
    if 0 < days <= closing:
        raise table.error(
            name,
            f"must be more than the surveys' closes_days_after_end ({closing}): a round's answers are counted "
            f"after its surveys close (got {days})",
        )
    return PrivacySettings(keep_days_after_round=cast(int, days))


def _letters(table: Table) -> LetterSettings:
    defaults = LetterSettings()
    return LetterSettings(
        auto_approve_completed=table.flag("auto_approve_completed", defaults.auto_approve_completed),
        signatory=table.text("signatory", defaults.signatory),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {os_error_reason(error)}") from None
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


def _program(table: Table, base: Path) -> ProgramSettings:
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
    # With [[rounds]] the dates are the rounds' (`_rounds` says so if [program] gives them too).
    one_round = _round_dates(table, "1") if "starts_on" in table.data else None
    return ProgramSettings(
        name=name,
        address=address,
        starts_on=one_round.starts_on if one_round else None,
        months=one_round.months if one_round else field_default(ProgramSettings, "months"),
        ends_on=one_round.ends_on if one_round else None,
        timezone=table.zone("timezone", field_default(ProgramSettings, "timezone")),
        secret_file=table.path("secret_file", base),
    )


def _rounds(program: Table, tables: list[Table]) -> tuple[RoundSettings, ...]:
    """The one-round form ([program] starts_on..., round "1") or the [[rounds]] tables, not both."""
    if not tables:
        return (_round_dates(program, "1"),)  # starts_on is required then: "missing (required)"
    given = [key for key in _ROUND_DATE_KEYS if key in program.data]
    if given:
        raise program.error(
            given[0],
            "not with [[rounds]]: give each round's starts_on, months and ends_on in its [[rounds]] table "
            "(README, \"Rounds\")",
        )
    rounds: list[RoundSettings] = []
    for table in tables:
        round_id = table.text("id")
        if not _ROUND_ID.fullmatch(round_id):
            raise table.error("id", f"must be 1 to 16 letters, digits, '.', '_' or '-' (got {round_id!r})")
        if round_id in (known.id for known in rounds):
            raise table.error("id", f"{round_id!r} is also the id of an earlier [[rounds]] table")
        found = _round_dates(table, round_id)
        # In order, so that "the latest round that has started" is the last such in the list.
        if rounds and found.starts_on <= rounds[-1].starts_on:
            raise table.error(
                "starts_on",
                f"must be after the previous round's ({rounds[-1].id!r}, {rounds[-1].starts_on}): "
                f"list the rounds in the order they start (got {found.starts_on})",
            )
        rounds.append(found)
    return tuple(rounds)


def _round_dates(table: Table, round_id: str) -> RoundSettings:
    starts_on = table.day("starts_on")
    months = table.integer("months", field_default(RoundSettings, "months"), low=1, high=36)
    ends_on = table.day("ends_on", None)
    # At most `months` after the start: reply addresses, topics and check-ins are sized by `months`.
    if ends_on is not None and not starts_on < ends_on <= _add_months(starts_on, months):
        raise table.error(
            "ends_on",
            f"must be after starts_on ({starts_on}) and at most months = {months} later, "
            f"{_add_months(starts_on, months)} (got {ends_on}); raise months for a longer round",
        )
    return RoundSettings(id=round_id, starts_on=starts_on, months=months, ends_on=ends_on)


def _add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (as the planner's calendar counts)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _store(table: Table, base: Path) -> StoreSettings:
    url = table.text("url", "sqlite:///var/mentormail.db")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # The URL itself is not shown: it may hold a database password.
        raise table.error("url", "not a database URL (e.g. sqlite:///var/mentormail.db)") from None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return StoreSettings(url=url)
    resolved = resolve_path(base, cast(str, database))
    return StoreSettings(url=parsed.set(database=str(resolved)).render_as_string(hide_password=False))


def _intake_smtp(table: Table) -> SmtpIntakeSettings:
    defaults = SmtpIntakeSettings()
    return SmtpIntakeSettings(
        enabled=table.flag("enabled", defaults.enabled),
        host=table.text("host", defaults.host),
        port=table.integer("port", defaults.port, low=0, high=65535),
        lmtp=table.flag("lmtp", defaults.lmtp),
        max_message_bytes=table.integer("max_message_bytes", defaults.max_message_bytes, low=1),
    )


def _program_oauth2(root: Table, base: Path, imap: Table, delivery: Table) -> OAuth2Settings | None:
    """The program's [oauth2] table, read whenever it is written (a typo in it is an error even
    before a section uses it); its secret files are checked when a section in use takes it."""
    if "oauth2" not in root.data:
        return None
    relay = delivery.get("smtp", dict, {})
    used = (
        imap.get("enabled", bool, False) and imap.get("auth", str, "") == "oauth2" and "oauth2" not in imap.data
    ) or (
        delivery.get("backend", str, "") == "smtp" and relay.get("auth") == "oauth2" and "oauth2" not in relay
    )
    return read_oauth2_table(root.file, "oauth2", root.get("oauth2", dict), base, bool(used))


def _auth(
    table: Table, base: Path, program_oauth2: OAuth2Settings | None, *, in_use: bool
) -> tuple[AuthMethod, OAuth2Settings | None]:
    """`auth` and the oauth2 settings it names (none for a password). With oauth2 there is no
    password to give: one written would be a leftover that is never used, so it is refused."""
    auth = cast(AuthMethod, table.choice("auth", "password", get_args(AuthMethod)))
    if auth == "oauth2":
        for key in ("password", "password_file"):
            if key in table.data:
                raise table.error(key, 'not used with auth = "oauth2" (remove it)')
    return auth, read_oauth2(table, program_oauth2, base, auth=auth, in_use=in_use)


def _intake_imap(table: Table, base: Path, program_oauth2: OAuth2Settings | None) -> ImapIntakeSettings:
    defaults = ImapIntakeSettings()
    enabled = table.flag("enabled", defaults.enabled)
    auth, oauth2 = _auth(table, base, program_oauth2, in_use=enabled)
    settings = ImapIntakeSettings(
        enabled=enabled,
        host=table.text("host", defaults.host),
        port=table.integer("port", defaults.port, low=1, high=65535),
        security=cast(Security, table.choice("security", defaults.security, get_args(Security))),
        username=table.text("username", defaults.username),
        password=_password(table, base, in_use=enabled),
        auth=auth,
        oauth2=oauth2,
        folder=table.text("folder", defaults.folder),
        after_logging=_after_logging(table, defaults.after_logging),
        idle_seconds=table.integer("idle_seconds", defaults.idle_seconds, low=1, high=29 * 60),
        auth_retry_seconds=table.integer("auth_retry_seconds", defaults.auth_retry_seconds, low=1, high=3600),
    )
    if enabled:
        for key in ("host", "username", "password") if auth == "password" else ("host", "username"):
            if not getattr(settings, key):
                also = " (or password_file)" if key == "password" else ""
                raise table.error(key, f"required{also} when intake.imap.enabled = true")
    return settings


def _after_logging(table: Table, default: str) -> str:
    value = table.text("after_logging", default)
    kind, colon, folder = value.partition(":")
    if value in ("delete", "keep") or (kind == "move" and colon and folder.strip()):
        return f"move:{folder.strip()}" if kind == "move" else value
    raise table.error("after_logging", f"must be delete, keep or move:FOLDER (got {value!r})")


def _delivery(table: Table, base: Path, program_oauth2: OAuth2Settings | None) -> DeliverySettings:
    backend = cast(Backend, table.choice("backend", "maildir", get_args(Backend)))
    relay = table.table("smtp", _RELAY_KEYS)
    defaults = RelaySettings()
    auth, oauth2 = _auth(relay, base, program_oauth2, in_use=backend == "smtp")
    if auth == "oauth2" and backend == "smtp" and not relay.text("username", ""):
        raise relay.error("username", 'required with auth = "oauth2" (the mailbox the token signs in as)')
    return DeliverySettings(
        backend=backend,
        maildir=table.path("maildir", base, "var/outbox"),
        smtp=RelaySettings(
            host=relay.text("host", defaults.host),
            port=relay.integer("port", defaults.port, low=1, high=65535),
            security=cast(Security, relay.choice("security", defaults.security, get_args(Security))),
            username=relay.text("username", defaults.username),
            password=_password(relay, base, in_use=backend == "smtp"),
            auth=auth,
            oauth2=oauth2,
        ),
        rate=_send_rate(table, relay, oauth2),
    )


def _send_rate(table: Table, relay: Table, oauth2: OAuth2Settings | None) -> SendRate:
    """`max_messages_per_minute`, `max_messages_per_day`, `max_recipients_per_day` (0: no limit),
    each by default the limit of the provider that the relay belongs to: the one whose tokens it
    takes ([oauth2] provider), else the one its host name says, else none."""
    provider = oauth2.provider if oauth2 is not None else _PROVIDER_RELAYS.get(relay.text("host", "").strip().lower())
    defaults = _PROVIDER_RATES.get(provider or "", SendRate())
    return SendRate(
        messages_per_minute=table.integer("max_messages_per_minute", defaults.messages_per_minute, low=0),
        messages_per_day=table.integer("max_messages_per_day", defaults.messages_per_day, low=0),
        recipients_per_day=table.integer("max_recipients_per_day", defaults.recipients_per_day, low=0),
    )


def _people(table: Table) -> PeopleSettings:
    coordinators = table.mailboxes("coordinators")
    liaison = table.mailbox("liaison") if table.text("liaison", "") else None
    staff = (*coordinators, *((liaison,) if liaison else ()))
    return PeopleSettings(
        coordinators=tuple(address for _, address in coordinators),
        liaison=liaison[1] if liaison else None,
        names=tuple((address, name) for name, address in staff if name),
    )


def _schedule(table: Table) -> ScheduleSettings:
    defaults = ScheduleSettings()
    return ScheduleSettings(
        send_time=table.clock("send_time", defaults.send_time),
        intro_within_days=table.integer("intro_within_days", defaults.intro_within_days, low=1),
        intro_reminders_max=table.integer("intro_reminders_max", defaults.intro_reminders_max, low=0),
        inactive_after_days=table.integer("inactive_after_days", defaults.inactive_after_days, low=1),
        # 28: every month has that day, so the check-in never slips into the next month.
        checkin_day_of_month=table.integer("checkin_day_of_month", defaults.checkin_day_of_month, low=1, high=28),
        liaison_summary_weekday=cast(
            Weekday,
            table.choice("liaison_summary_weekday", defaults.liaison_summary_weekday, get_args(Weekday), any_case=True),
        ),
        liaison_summary_time=table.clock("liaison_summary_time", defaults.liaison_summary_time),
        digest_time=table.clock("digest_time", defaults.digest_time),
        survey_days_before_end=table.integer("survey_days_before_end", defaults.survey_days_before_end, low=0),
        delivery_give_up_hours=table.number("delivery_give_up_hours", defaults.delivery_give_up_hours, above=0),
        delivery_first_retry_seconds=table.integer(
            "delivery_first_retry_seconds", defaults.delivery_first_retry_seconds, low=1, high=3600
        ),
        delivery_claim_seconds=table.integer(
            "delivery_claim_seconds", defaults.delivery_claim_seconds, low=1, high=86400
        ),
        planner_interval_minutes=table.integer(
            "planner_interval_minutes", defaults.planner_interval_minutes, low=1, high=60
        ),
        compose_in_worker=table.flag("compose_in_worker", defaults.compose_in_worker),
    )


def _topic(table: Table) -> TopicSettings:
    return TopicSettings(
        title=table.line("title"),
        prompts=table.lines("prompts"),
        resources=tuple(
            (resource.line("title"), resource.url("url")) for resource in table.tables("resources", _RESOURCE_KEYS)
        ),
    )


def _surveys(tables: list[Table], schedule: ScheduleSettings) -> tuple[SurveySettings, ...]:
    surveys = tuple(_survey(table, schedule) for table in tables)
    _check_unique_ids(tables, [survey.id for survey in surveys])
    return surveys


def _survey(table: Table, schedule: ScheduleSettings) -> SurveySettings:
    survey_id = table.identifier("id")
    if len(survey_id) > _MAX_SURVEY_ID:
        raise table.error(
            "id", f"must be at most {_MAX_SURVEY_ID} characters: reply addresses carry it (got {survey_id!r})"
        )
    question_tables = table.tables("questions", _QUESTION_KEYS, REQUIRED)
    if not question_tables:
        raise table.error("questions", "must have at least one [[surveys.questions]]")
    questions = tuple(_question(question) for question in question_tables)
    _check_unique_ids(question_tables, [question.id for question in questions])
    return SurveySettings(
        id=survey_id,
        title=table.line("title"),
        audience=cast(Audience, table.choice("audience", REQUIRED, get_args(Audience))),
        # The schedule sets when surveys open; a survey may open earlier or later than the rest.
        opens_days_before_end=table.integer("opens_days_before_end", schedule.survey_days_before_end, low=0),
        closes_days_after_end=table.integer(
            "closes_days_after_end", field_default(SurveySettings, "closes_days_after_end"), low=0
        ),
        questions=questions,
    )


def _question(table: Table) -> SurveyQuestion:
    question_id = table.identifier("id")
    text = table.line("text")
    kind = cast(QuestionKind, table.choice("kind", REQUIRED, get_args(QuestionKind)))
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


def _check_unique_ids(tables: list[Table], ids: list[str]) -> None:
    first: dict[str, str] = {}
    for table, item_id in zip(tables, ids, strict=True):
        if item_id in first:
            raise table.error("id", f"{item_id!r} is also the id of {first[item_id]}")
        first[item_id] = table.name


def _templates_dir(root: Table, base: Path) -> Path | None:
    if "templates_dir" not in root.data:
        return None
    path = root.path("templates_dir", base)
    if not path.is_dir():
        problem = "is not a directory" if path.exists() else "does not exist"
        raise root.error("templates_dir", f"{path} {problem}")
    return path


def _password(table: Table, base: Path, *, in_use: bool) -> str:
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
    path = resolve_path(base, file)
    try:
        with path.open("rb") as opened:
            mode = os.fstat(opened.fileno()).st_mode
            password = opened.read().decode("utf-8").rstrip("\r\n")
    except OSError as error:
        raise table.error("password_file", f"cannot read {path}: {os_error_reason(error)}") from None
    except UnicodeDecodeError:
        raise table.error("password_file", f"{path} is not UTF-8 text") from None
    # As for the program key: a password others can read is no secret.
    if problem := private_file_problem(path, mode):
        raise table.error("password_file", problem)
    if not password:
        raise table.error("password_file", f"{path} is empty")
    return password
