"""`mentormail init DIR`: a starter config, a roster template and a new program key."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# The editable install runs from the source tree, so config/ sits next to daemon/.
_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

# example.toml's paths lead from config/ into the checkout's var/; a starter keeps everything
# under DIR, so that DIR can be moved or copied as a whole.
_STARTER_PATHS = {
    'secret_file = "../var/secret"': 'secret_file = "secret"',
    'url = "sqlite:///../var/mentormail.db"': 'url = "sqlite:///var/mentormail.db"',
    'maildir = "../var/outbox"': 'maildir = "var/outbox"',
}


def create_starter(directory: Path) -> list[Path]:
    """Write DIR/mentormail.toml, DIR/roster.csv and DIR/secret; return their paths.

    Raises FileExistsError, before writing anything, if any of the three already exists: a
    second `init` must never replace the key that existing reply addresses were signed with.
    """
    directory = Path(directory)
    files = {
        directory / "mentormail.toml": _starter_config(),
        directory / "roster.csv": _starter_roster(),
        directory / "secret": secrets.token_hex(32) + "\n",
    }
    for path in files:
        if os.path.lexists(path):
            raise FileExistsError(f"{path}: already exists; nothing was written (init never overwrites)")
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        _write_new(path, text)
    return list(files)


def _starter_config() -> str:
    text = (_CONFIG_DIR / "example.toml").read_text(encoding="utf-8")
    for example, starter in _STARTER_PATHS.items():
        text = text.replace(example, starter)
    return text


def _starter_roster() -> str:
    """The example roster's header and its first two pairs (one mentor with two mentees)."""
    lines = (_CONFIG_DIR / "roster.example.csv").read_text(encoding="utf-8").splitlines()
    return "\n".join(lines[:3]) + "\n"


def _write_new(path: Path, text: str) -> None:
    # Created 0600 in one step: the key (and later any password in the config, or the roster's
    # personal data) is never readable by others, not even between creating and chmod-ing.
    # O_EXCL also refuses a symlink planted at the path.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
