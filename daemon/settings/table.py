"""One TOML table read with care: typed values, defaults, unknown keys named, errors as `FILE: KEY: what is wrong`."""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import date, datetime, time
from email.utils import parseaddr
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...parsers.headers import normalise

REQUIRED: Any = object()  # default for keys that must be present


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


_HOUR_MINUTE = re.compile(r"\d{2}:\d{2}")


_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")


_INDEX = re.compile(r"\[\d+\]")


# Characters that break a line or are not text (the roster refuses them in names too).
_NOT_ONE_LINE = frozenset({"Cc", "Zl", "Zp"})


# Zones that are universal time under another name: meant as they are.
_UNIVERSAL = frozenset({"UTC", "UCT", "Universal", "Zulu"})


# The place to suggest for a fixed-offset abbreviation that people write meaning a place.
_PLACES = {
    "EST": "America/New_York",
    "MST": "America/Denver (or America/Phoenix, which keeps standard time all year)",
    "HST": "Pacific/Honolulu",
}


_KIND_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


class ConfigError(Exception):
    """A problem with the configuration; str() is one line: `FILE: KEY: what is wrong`."""


class Table:
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

    def get(self, name: str, kind: type, default: Any = REQUIRED, *, secret: bool = False) -> Any:
        if name not in self.data:
            if default is REQUIRED:
                raise self.error(name, "missing (required)")
            return default
        value = self.data[name]
        if not _is_a(value, kind):
            got = "" if secret else f" (got {_show(value)})"
            raise self.error(name, f"must be {_KIND_NAMES[kind]}{got}")
        return value

    def table(self, name: str, keys: Iterable[str]) -> Table:
        return Table(self.file, self.key(name), self.get(name, dict, {}), keys)

    def tables(self, name: str, keys: Iterable[str], default: Any = ()) -> list[Table]:
        """An array of tables (`[[name]]`), each named with its index: `topics[2]`."""
        values = self.get(name, object, default)
        if not isinstance(values, (list, tuple)):
            header = _INDEX.sub("", self.key(name))
            raise self.error(name, f"must be written as [[{header}]] tables (got {_show(values)})")
        found = []
        for index, value in enumerate(values):
            if not isinstance(value, dict):
                raise self.error(f"{name}[{index}]", f"must be a table (got {_show(value)})")
            found.append(Table(self.file, self.key(f"{name}[{index}]"), value, keys))
        return found

    def text(self, name: str, default: Any = REQUIRED, *, secret: bool = False) -> str:
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

    def number(self, name: str, default: float, *, above: float) -> float:
        """An integer or a decimal (`48`, `0.5`), greater than `above`."""
        value = self.get(name, object, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(name, f"must be a number (got {_show(value)})")
        if not value > above:
            raise self.error(name, f"must be more than {above:g} (got {value})")
        return float(value)

    def choice(self, name: str, default: str, choices: tuple[str, ...], *, any_case: bool = False) -> str:
        """One of `choices`; with `any_case`, written in any case ("Monday" is monday)."""
        value = self.text(name, default)
        found = value.strip().lower() if any_case else value
        if found not in choices:
            raise self.error(name, f"must be one of {', '.join(choices)} (got {value!r})")
        return found

    def day(self, name: str, default: Any = REQUIRED) -> Any:
        """A TOML date, or a "YYYY-MM-DD" string for editors that quote everything (`default` when absent)."""
        if default is not REQUIRED and name not in self.data:
            return default
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

    def zone_warning(self, name: str, value: str) -> str | None:
        """A warning for a zone that names an offset, not a place ("EST", "Etc/GMT+5"): it is a
        valid zone, but its clock never moves for daylight saving time, so a program in New York
        would send its mail an hour late all summer. UTC is meant as it is and not warned about."""
        if "/" in value and not value.startswith("Etc/") or value.removeprefix("Etc/") in _UNIVERSAL:
            return None
        zone = ZoneInfo(value)
        # "EST5EDT" and the like are rules with daylight saving time, just not a place's name.
        offsets = {zone.utcoffset(datetime(2026, month, 15)) for month in (1, 7)}
        if len(offsets) > 1:
            return None
        suggestion = _PLACES.get(value, "a place's name like America/Chicago")
        return (
            f"{self.file}: {self.key(name)}: {value!r} is a fixed offset from UTC, not a place: its clock never "
            f"changes for daylight saving time; use {suggestion}"
        )

    def address(self, name: str) -> str:
        return self._mailbox(name, self.text(name))[1]

    def addresses(self, name: str) -> tuple[str, ...]:
        return tuple(address for _, address in self.mailboxes(name))

    def mailbox(self, name: str) -> tuple[str, str]:
        """`"Full Name <a@b.example>"` or a bare address: (the name or "", the normalised address)."""
        return self._mailbox(name, self.text(name))

    def mailboxes(self, name: str) -> tuple[tuple[str, str], ...]:
        values = cast(list[Any], self.get(name, list, []))
        return tuple(self._mailbox(f"{name}[{index}]", value) for index, value in enumerate(values))

    def _mailbox(self, key: str, value: Any) -> tuple[str, str]:
        if not isinstance(value, str):
            raise self.error(key, f"must be a string (got {_show(value)})")
        address = normalise(value)
        if address is None:
            raise self.error(key, f"not a valid email address (got {value!r})")
        # A name goes into headers (To:, signatures), so it is one line, as a roster name is.
        if bad := next((char for char in value if unicodedata.category(char) in _NOT_ONE_LINE), None):
            raise self.error(key, f"contains a control character (U+{ord(bad):04X}): a name and address on one line")
        name, _ = parseaddr(value)
        return name.strip(), address

    def path(self, name: str, base: Path, default: Any = REQUIRED) -> Path:
        value = self.text(name, default)
        if not value:
            raise self.error(name, "must not be empty")
        return resolve_path(base, value)


def private_file_problem(path: Path, mode: int) -> str | None:
    """What is wrong with a file of secrets (the program key, a password) that others may read:
    the same words for every such file."""
    if mode & 0o077:
        return f"{path} has mode {mode & 0o777:04o}; it must be 0600 (chmod 600 {path})"
    return None


def resolve_path(base: Path, value: str) -> Path:
    # normpath, not resolve(): "../var" should read as written, whether or not it exists yet.
    return Path(os.path.normpath(base / value))


def field_default(cls: type, name: str) -> Any:
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


def os_error_reason(error: OSError) -> str:
    return error.strerror or type(error).__name__
