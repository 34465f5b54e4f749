"""daemon/settings.py and daemon/starter.py: the config file, its errors, and `init`."""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import pytest

from mentormail.daemon.settings import ConfigError, Settings, load_settings
from mentormail.daemon.starter import create_starter

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config" / "example.toml"

PROGRAM = """\
[program]
name = "Test mentoring"
address = "mentoring@example.org"
starts_on = 2026-09-01
secret_file = "secret"
"""

IMAP = """
[intake.imap]
enabled = true
host = "imap.example.org"
username = "mentoring@example.org"
"""


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mentormail.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_secret(path: Path, mode: int) -> None:
    path.write_text("k" * 64 + "\n", encoding="ascii")
    path.chmod(mode)  # explicit, whatever the umask is


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_example_config_loads() -> None:
    settings = load_settings(EXAMPLE)

    assert settings.path == EXAMPLE
    assert settings.program.name == "Example Library Association: new-librarian mentoring"
    assert settings.program.address == "mentoring@example.org"
    assert settings.program.domain == "example.org"
    assert settings.program.starts_on == date(2026, 9, 1)
    assert settings.program.months == 9
    assert settings.program.zone.key == "America/Chicago"
    # Relative paths lead from config/ to the checkout's var/, not from the working directory.
    assert settings.program.secret_file == REPO / "var" / "secret"
    assert settings.store.url == f"sqlite:///{REPO}/var/mentormail.db"
    assert settings.delivery.backend == "maildir"
    assert settings.delivery.maildir == REPO / "var" / "outbox"
    assert settings.intake_smtp.enabled and settings.intake_smtp.port == 8025
    assert not settings.intake_imap.enabled
    assert settings.people.coordinators == ("coordinator@example.org",)
    assert settings.people.liaison == "liaison@example.org"


def test_defaults_fill_everything_but_the_required_keys(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, PROGRAM))

    assert settings.program.months == 9
    assert settings.program.timezone == "UTC"
    assert settings.program.secret_file == tmp_path / "secret"
    assert settings.store.url == f"sqlite:///{tmp_path}/var/mentormail.db"
    smtp = settings.intake_smtp
    assert (smtp.enabled, smtp.host, smtp.port, smtp.lmtp, smtp.max_message_bytes) == (
        True, "127.0.0.1", 8025, False, 26214400,
    )  # fmt: skip
    imap = settings.intake_imap
    assert (imap.enabled, imap.port, imap.security, imap.folder) == (False, 993, "ssl", "INBOX")
    assert (imap.after_logging, imap.move_to, imap.idle_seconds) == ("delete", None, 1500)
    assert settings.delivery.backend == "maildir"
    assert settings.delivery.maildir == tmp_path / "var" / "outbox"
    relay = settings.delivery.smtp
    assert (relay.host, relay.port, relay.security, relay.username) == ("localhost", 587, "starttls", "")
    assert settings.people.coordinators == ()
    assert settings.people.liaison is None


def test_addresses_are_normalised_and_dates_may_be_strings(tmp_path: Path) -> None:
    text = PROGRAM.replace("mentoring@example.org", "Mentoring <Mentoring@Example.ORG>")
    text = text.replace("2026-09-01", '"2026-09-01"')
    text += '[people]\ncoordinators = ["Ana Coord <Ana@Example.org>"]\nliaison = "LIAISON@example.org"\n'

    settings = load_settings(write_config(tmp_path, text))

    assert settings.program.address == "mentoring@example.org"
    assert settings.program.starts_on == date(2026, 9, 1)
    assert settings.people.coordinators == ("ana@example.org",)
    assert settings.people.liaison == "liaison@example.org"


def test_tables_for_later_features_are_accepted(tmp_path: Path) -> None:
    text = PROGRAM + '[topics]\n"1" = "Professional resources"\n[surveys]\nend = true\n'

    assert load_settings(write_config(tmp_path, text)).program.name == "Test mentoring"


def test_after_logging_move_names_a_folder(tmp_path: Path) -> None:
    text = PROGRAM + IMAP + 'password = "pw"\nafter_logging = "move:Logged"\n'

    assert load_settings(write_config(tmp_path, text)).intake_imap.move_to == "Logged"


def test_password_file_is_read_without_its_newline_and_kept_out_of_repr(tmp_path: Path) -> None:
    (tmp_path / "imap-password").write_text("s3cret pass\n", encoding="utf-8")
    text = PROGRAM + IMAP + 'password_file = "imap-password"\n'

    settings = load_settings(write_config(tmp_path, text))

    assert settings.intake_imap.password == "s3cret pass"
    assert "s3cret" not in repr(settings)


def test_password_file_of_a_disabled_transport_is_not_read(tmp_path: Path) -> None:
    text = PROGRAM + '[delivery.smtp]\nusername = "relay"\npassword_file = "missing"\n'

    assert load_settings(write_config(tmp_path, text)).delivery.smtp.password == ""


# Each kind of error: the message is one line naming the file, the key and what is wrong.
ERRORS = [
    pytest.param(
        PROGRAM.replace('name = "Test mentoring"\n', ""),
        "program.name: missing (required)",
        id="missing-required-key",
    ),
    pytest.param(
        PROGRAM + 'months = "9"\n',
        "program.months: must be an integer (got '9')",
        id="wrong-type",
    ),
    pytest.param(
        PROGRAM + "months = 40\n",
        "program.months: must be at most 36 (got 40)",
        id="out-of-range",
    ),
    pytest.param(
        PROGRAM + "[intake.smtp]\nenabled = 1\n",
        "intake.smtp.enabled: must be true or false (got 1)",
        id="integer-for-boolean",
    ),
    pytest.param(
        PROGRAM.replace("2026-09-01", "2026-09-01T09:00:00"),
        "program.starts_on: must be a date like 2026-09-01 (got 2026-09-01T09:00:00)",
        id="datetime-for-date",
    ),
    pytest.param(
        PROGRAM.replace('"mentoring@example.org"', '"mentoring at example.org"'),
        "program.address: not a valid email address (got 'mentoring at example.org')",
        id="bad-address",
    ),
    pytest.param(
        PROGRAM.replace('"mentoring@example.org"', '"mentoring+x@example.org"'),
        "program.address: must not contain '+' (got 'mentoring+x@example.org')",
        id="plus-in-program-address",
    ),
    pytest.param(
        PROGRAM + '[people]\ncoordinators = ["ok@example.org", "nobody"]\n',
        "people.coordinators[1]: not a valid email address (got 'nobody')",
        id="bad-address-in-list",
    ),
    pytest.param(
        PROGRAM + 'timezone = "America/Chicgo"\n',
        "program.timezone: unknown time zone (got 'America/Chicgo'); use a name like America/Chicago",
        id="bad-timezone",
    ),
    pytest.param(
        PROGRAM + '[intake.imap]\nsecurity = "tls"\n',
        "intake.imap.security: must be one of ssl, starttls, none (got 'tls')",
        id="bad-security",
    ),
    pytest.param(
        PROGRAM + '[intake.imap]\nafter_logging = "archive"\n',
        "intake.imap.after_logging: must be delete, keep or move:FOLDER (got 'archive')",
        id="bad-after-logging",
    ),
    pytest.param(
        PROGRAM + '[intake.imap]\nafter_logging = "move:"\n',
        "intake.imap.after_logging: must be delete, keep or move:FOLDER (got 'move:')",
        id="move-without-folder",
    ),
    pytest.param(
        PROGRAM.replace("address =", "adress ="),
        "program.adress: unknown key (did you mean 'address'?)",
        id="unknown-key",
    ),
    pytest.param(
        PROGRAM + "[intake.smtp]\nverbose = true\n",
        "intake.smtp.verbose: unknown key (expected one of: enabled, host, port, lmtp, max_message_bytes)",
        id="unknown-key-without-a-close-match",
    ),
    pytest.param(
        PROGRAM + '[delivry]\nbackend = "smtp"\n',
        "delivry: unknown section (did you mean 'delivery'?)",
        id="unknown-section",
    ),
    pytest.param(
        PROGRAM + IMAP,
        "intake.imap.password: required (or password_file) when intake.imap.enabled = true",
        id="imap-without-password",
    ),
    pytest.param(
        PROGRAM + IMAP.replace('host = "imap.example.org"\n', "") + 'password = "pw"\n',
        "intake.imap.host: required when intake.imap.enabled = true",
        id="imap-without-host",
    ),
    pytest.param(
        PROGRAM + IMAP + 'password = "pw"\npassword_file = "imap-password"\n',
        "intake.imap.password_file: give password or password_file, not both",
        id="password-and-password-file",
    ),
    pytest.param(
        PROGRAM + '[delivery]\nbackend = "smtp"\n[delivery.smtp]\npassword = 12345\n',
        "delivery.smtp.password: must be a string",  # the value is never echoed
        id="password-wrong-type-not-echoed",
    ),
]


@pytest.mark.parametrize(("text", "problem"), ERRORS)
def test_config_error_names_file_key_and_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = write_config(tmp_path, text)

    assert config_error(path) == f"{path}: {problem}"


def test_password_file_that_cannot_be_read(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROGRAM + IMAP + 'password_file = "imap-password"\n')

    assert config_error(path) == (
        f"{path}: intake.imap.password_file: cannot read {tmp_path / 'imap-password'}: No such file or directory"
    )


def test_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROGRAM + "months 9\n")

    assert config_error(path) == (
        f"{path}: line 6: Expected '=' after a key in a key/value pair (column 8)"
    )


def test_missing_config_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"

    assert config_error(path) == f"{path}: cannot read: No such file or directory"


def test_secret_is_read_from_a_private_file(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, PROGRAM))
    write_secret(tmp_path / "secret", 0o600)

    assert settings.secret() == b"k" * 64


def test_missing_secret_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROGRAM)
    settings = load_settings(path)

    with pytest.raises(ConfigError) as raised:
        settings.secret()

    assert str(raised.value) == (
        f"{path}: program.secret_file: cannot read {tmp_path / 'secret'} "
        "(run `mentormail init` or create it)"
    )


def test_empty_secret_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROGRAM)
    (tmp_path / "secret").touch(mode=0o600)

    with pytest.raises(ConfigError) as raised:
        load_settings(path).secret()

    assert str(raised.value) == (
        f"{path}: program.secret_file: {tmp_path / 'secret'} is empty (run `mentormail init` or create it)"
    )


def test_secret_file_readable_by_others_is_rejected(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROGRAM)
    secret = tmp_path / "secret"
    write_secret(secret, 0o644)

    with pytest.raises(ConfigError) as raised:
        load_settings(path).secret()

    assert str(raised.value) == (
        f"{path}: program.secret_file: {secret} has mode 0644; it must be 0600 (chmod 600 {secret})"
    )


def test_starter_writes_a_config_that_loads(tmp_path: Path) -> None:
    directory = tmp_path / "new" / "mentormail"

    written = create_starter(directory)

    config, roster, secret = (directory / "mentormail.toml", directory / "roster.csv", directory / "secret")
    assert written == [config, roster, secret]
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    assert roster.read_text(encoding="utf-8").splitlines()[0] == (
        "mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on"
    )
    assert len(roster.read_text(encoding="utf-8").splitlines()) == 3
    settings: Settings = load_settings(config)
    assert settings.program.secret_file == secret
    assert settings.store.url == f"sqlite:///{directory}/var/mentormail.db"
    assert settings.delivery.maildir == directory / "var" / "outbox"
    key = settings.secret()
    assert len(key) == 64 and int(key, 16) >= 0


def test_starter_makes_a_new_key_each_time(tmp_path: Path) -> None:
    create_starter(tmp_path / "a")
    create_starter(tmp_path / "b")

    assert (tmp_path / "a" / "secret").read_bytes() != (tmp_path / "b" / "secret").read_bytes()


def test_starter_refuses_to_overwrite(tmp_path: Path) -> None:
    written = create_starter(tmp_path)
    before = {path: path.read_bytes() for path in written}

    with pytest.raises(FileExistsError) as raised:
        create_starter(tmp_path)

    assert str(raised.value) == (
        f"{tmp_path / 'mentormail.toml'}: already exists; nothing was written (init never overwrites)"
    )
    assert {path: path.read_bytes() for path in written} == before


def test_starter_writes_nothing_if_any_file_exists(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text("mine\n", encoding="utf-8")

    with pytest.raises(FileExistsError):
        create_starter(tmp_path)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["roster.csv"]
    assert (tmp_path / "roster.csv").read_text(encoding="utf-8") == "mine\n"
