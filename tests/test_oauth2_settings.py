"""The config of `auth = "oauth2"`: `[intake.imap]` and `[delivery.smtp]`'s `auth`, the `[oauth2]`
table and a section's own, their errors (one line, naming the key), and secrets kept out of sight."""

from __future__ import annotations

from pathlib import Path

import pytest
from mentormail.daemon.settings import ConfigError, GenericOAuth2Settings, load_settings

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
auth = "oauth2"
"""

OAUTH2 = """
[oauth2]
provider = "generic"
token_url = "https://login.example.org/oauth2/token"
client_id = "mentormail"
client_secret_file = "client-secret"
scope = "https://mail.example.org/.default"
"""

CLIENT_SECRET = "client-secret-value-9d2f"


def write(tmp_path: Path, text: str, *, secret_mode: int = 0o600) -> Path:
    (tmp_path / "secret").write_text("program-key")
    (tmp_path / "secret").chmod(0o600)
    (tmp_path / "client-secret").write_text(CLIENT_SECRET + "\n")
    (tmp_path / "client-secret").chmod(secret_mode)
    path = tmp_path / "mentormail.toml"
    path.write_text(PROGRAM + text, encoding="utf-8")
    return path


def problem(tmp_path: Path, text: str, **options: int) -> str:
    path = write(tmp_path, text, **options)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


def test_password_stays_the_default_and_needs_no_oauth2_table(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, IMAP.replace('auth = "oauth2"', 'password = "pw"')))
    assert settings.intake_imap.auth == "password" and settings.intake_imap.oauth2 is None
    assert settings.delivery.smtp.auth == "password" and settings.delivery.smtp.oauth2 is None


def test_the_program_table_serves_imap_and_smtp(tmp_path: Path) -> None:
    relay = """
[delivery]
backend = "smtp"
[delivery.smtp]
host = "smtp.example.org"
username = "mentoring@example.org"
auth = "oauth2"
"""
    settings = load_settings(write(tmp_path, IMAP + relay + OAUTH2))
    oauth2 = settings.intake_imap.oauth2
    assert isinstance(oauth2, GenericOAuth2Settings)
    assert (oauth2.provider, oauth2.table, oauth2.client_id, oauth2.grant, oauth2.client_auth) == (
        "generic",
        "oauth2",
        "mentormail",
        "client_credentials",
        "basic",
    )
    assert oauth2.client_secret_file == tmp_path / "client-secret"
    assert settings.delivery.smtp.oauth2 == oauth2
    # The settings hold where the secret is, never the secret.
    assert CLIENT_SECRET not in repr(settings)


def test_a_sections_own_table_replaces_the_programs_whole(tmp_path: Path) -> None:
    own = """
[intake.imap.oauth2]
provider = "generic"
token_url = "https://other.example.net/token"
client_id = "reader"
client_secret_file = "client-secret"
"""
    settings = load_settings(write(tmp_path, IMAP + own + OAUTH2))
    oauth2 = settings.intake_imap.oauth2
    assert isinstance(oauth2, GenericOAuth2Settings)
    assert (oauth2.table, oauth2.client_id, oauth2.scope) == ("intake.imap.oauth2", "reader", "")


def test_a_refresh_token_grant_needs_its_file_and_may_have_no_client_secret(tmp_path: Path) -> None:
    (tmp_path / "refresh-token").write_text("refresh-1\n")
    (tmp_path / "refresh-token").chmod(0o600)
    table = OAUTH2.replace('client_secret_file = "client-secret"\n', "")
    text = IMAP + table + 'grant = "refresh_token"\nrefresh_token_file = "refresh-token"\n'
    oauth2 = load_settings(write(tmp_path, text)).intake_imap.oauth2
    assert isinstance(oauth2, GenericOAuth2Settings)
    assert (oauth2.grant, oauth2.refresh_token_file, oauth2.client_secret_file) == (
        "refresh_token",
        tmp_path / "refresh-token",
        None,
    )


def test_secret_files_of_a_disabled_section_are_not_read(tmp_path: Path) -> None:
    path = write(tmp_path, IMAP.replace("enabled = true", "enabled = false") + OAUTH2, secret_mode=0o644)
    assert load_settings(path).intake_imap.auth == "oauth2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (IMAP, 'intake.imap.auth: "oauth2" needs an [oauth2] table (or [intake.imap.oauth2]) naming the provider'),
        (
            IMAP.replace('"oauth2"', '"token"') + OAUTH2,
            "intake.imap.auth: must be one of password, oauth2 (got 'token')",
        ),
        (IMAP + 'password = "pw"\n' + OAUTH2, 'intake.imap.password: not used with auth = "oauth2" (remove it)'),
        (
            IMAP.replace('auth = "oauth2"', 'password = "pw"') + '[intake.imap.oauth2]\nprovider = "generic"\n',
            'intake.imap.oauth2: only with auth = "oauth2" (this section has auth = "password")',
        ),
        (IMAP + OAUTH2.replace('"generic"', '"yahoo"'), "oauth2.provider: must be one of generic, microsoft, google (got 'yahoo')"),
        (IMAP + OAUTH2.replace('provider = "generic"\n', ""), "oauth2.provider: missing (required)"),
        (
            IMAP + OAUTH2 + 'client_secret = "x"\n',
            "oauth2.client_secret: unknown key (did you mean 'client_secret_file'?)",
        ),
        (IMAP + OAUTH2.replace('client_id = "mentormail"\n', ""), "oauth2.client_id: missing (required)"),
        (
            IMAP + OAUTH2.replace("https://login", "http://login"),
            "oauth2.token_url: must be https (the client secret is sent to it); http only to localhost "
            "(got 'http://login.example.org/oauth2/token')",
        ),
        (
            IMAP + OAUTH2.replace('client_secret_file = "client-secret"\n', ""),
            "oauth2.client_secret_file: missing (required)",
        ),
        (
            IMAP + OAUTH2 + 'grant = "password"\n',
            "oauth2.grant: must be one of client_credentials, refresh_token (got 'password')",
        ),
        (IMAP + OAUTH2 + 'grant = "refresh_token"\n', "oauth2.refresh_token_file: missing (required)"),
        (
            IMAP + OAUTH2 + 'refresh_token_file = "client-secret"\n',
            'oauth2.refresh_token_file: only with grant = "refresh_token"',
        ),
        (
            IMAP.replace('username = "mentoring@example.org"\n', "") + OAUTH2,
            "intake.imap.username: required when intake.imap.enabled = true",
        ),
        (
            '\n[delivery]\nbackend = "smtp"\n[delivery.smtp]\nhost = "smtp.example.org"\nauth = "oauth2"\n' + OAUTH2,
            'delivery.smtp.username: required with auth = "oauth2" (the mailbox the token signs in as)',
        ),
    ],
)
def test_oauth2_config_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert problem(tmp_path, text) == expected


def test_a_client_secret_others_can_read_is_refused_like_the_program_key(tmp_path: Path) -> None:
    secret = tmp_path / "client-secret"
    assert problem(tmp_path, IMAP + OAUTH2, secret_mode=0o644) == (
        f"oauth2.client_secret_file: {secret} has mode 0644; it must be 0600 (chmod 600 {secret})"
    )


def test_a_missing_or_empty_secret_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    text = IMAP + OAUTH2.replace('"client-secret"', '"nowhere"')
    assert problem(tmp_path, text) == (f"oauth2.client_secret_file: cannot read {missing}: No such file or directory")
    path = write(tmp_path, IMAP + OAUTH2)
    (tmp_path / "client-secret").write_text("\n")
    with pytest.raises(ConfigError, match=r"oauth2\.client_secret_file: .*client-secret is empty$"):
        load_settings(path)
