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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from mentormail.parsers.headers import normalise

Security = Literal["ssl", "starttls", "none"]
Backend = Literal["maildir", "smtp", "memory"]

_SECTIONS = ("program", "store", "intake", "delivery", "people")
# Top-level tables that later features will define. They are accepted and ignored for now so that
# a config written for them still loads; each feature validates its own table when it lands.
_LATER_SECTIONS = ("topics", "surveys", "schedule", "templates_dir", "security", "letters")

_PROGRAM_KEYS = ("name", "address", "starts_on", "months", "timezone", "secret_file")
_SMTP_INTAKE_KEYS = ("enabled", "host", "port", "lmtp", "max_message_bytes")
_IMAP_INTAKE_KEYS = (
    "enabled", "host", "port", "security", "username", "password", "password_file",
    "folder", "after_logging", "idle_seconds",
)  # fmt: skip
_RELAY_KEYS = ("host", "port", "security", "username", "password", "password_file")

_REQUIRED: Any = object()  # default for keys that must be present
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
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
class Settings:
    path: Path  # the config file, absolute
    program: ProgramSettings
    store: StoreSettings
    intake_smtp: SmtpIntakeSettings
    intake_imap: ImapIntakeSettings
    delivery: DeliverySettings
    people: PeopleSettings

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
    return Settings(
        path=path.absolute(),
        program=program,
        store=store,
        intake_smtp=intake_smtp,
        intake_imap=intake_imap,
        delivery=delivery,
        people=people,
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

    def text(self, name: str, default: Any = _REQUIRED, *, secret: bool = False) -> str:
        return cast(str, self.get(name, str, default, secret=secret))

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
