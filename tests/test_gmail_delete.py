"""`after_logging = "delete"` on Gmail (a server that says `X-GM-EXT-1`): Gmail's IMAP does not
delete what is expunged from a folder, it takes that label off and keeps the message in All Mail,
or moves it to Trash for 30 days, as the account's IMAP settings say. So the daemon copies the
logged message to the Trash folder (SPECIAL-USE \\Trash), which takes every label off, expunges it
from the watched folder, and expunges it from Trash too, where it is gone.

Against a real Dovecot made to keep what is expunged the way Gmail's "move to Trash" setting does
(the lazy_expunge plugin copies every message expunged from a folder into Trash) and to say
X-GM-EXT-1: before this change, the CC copy between partners was left whole in Trash.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import PROGRAM_ADDRESS, Daemon, Program, message, wait_until
from dovecot_server import CONFIG, Dovecot, _run_dovecot
from imapclient import IMAPClient

pytestmark = pytest.mark.dovecot

GMAIL_LIKE = (
    CONFIG
    + r"""
imap_capability = +X-GM-EXT-1
mail_plugins = $mail_plugins lazy_expunge
namespace inbox {{
  inbox = yes
  mailbox Trash {{
    auto = subscribe
    special_use = \Trash
  }}
}}
plugin {{
  lazy_expunge = Trash
}}
"""
)

CANARY = "gmail-trash-canary-5b7e"


@pytest.fixture(scope="module")
def gmail_like() -> Iterator[Dovecot]:
    yield from _run_dovecot(GMAIL_LIKE)


def count(client: IMAPClient, folder: str, text: str = "") -> int:
    client.select_folder(folder, readonly=True)
    return len(client.search(["TEXT", text] if text else "ALL"))


def test_delete_on_gmail_leaves_nothing_in_trash_and_counts_once(
    program: Program, daemon: Daemon, gmail_like: Dovecot
) -> None:
    username, password = gmail_like.add_user("mentoring")
    program.write_config(
        extra=f"""
[intake.imap]
enabled = true
host = "{gmail_like.host}"
port = {gmail_like.port}
security = "none"
username = "{username}"
password = "{password}"
"""
    )
    partners = ("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS])
    copy = message(*partners, subject=f"About {CANARY}", body=f"{CANARY}\n")
    with gmail_like.client(username, password) as client:
        client.append("Trash", message("x@example.com", ["y@example.com"], subject="the user's own trash").as_bytes())
        raw = copy.as_bytes()
        client.multiappend("INBOX", [raw, raw])  # the same message twice: one contact

    daemon.start()
    wait_until(lambda: program.contacts()["p1"] == (1, 0), 60)
    with gmail_like.client(username, password) as client:
        wait_until(lambda: count(client, "INBOX") == 0, 60)
        assert count(client, "Trash", CANARY) == 0  # was 2 before: the expunged copies, whole
        assert count(client, "Trash") == 1  # what the account had in Trash is left alone
    assert daemon.stop() == 0
    # And on the server's disk: no trace of the partners' mail in any folder.
    mail = gmail_like.root / "mail" / username
    assert not [path for path in mail.rglob("*") if path.is_file() and CANARY.encode() in path.read_bytes()]
