"""A private Dovecot IMAP server for the test session (see ../shared/SERVERS.md).

Loaded as a pytest plugin from conftest.py (`pytest_plugins = ["dovecot_server"]`). The
session-scoped `dovecot` fixture starts one real Dovecot in a temporary folder, listening on a
free port on 127.0.0.1 with plain-text login and no TLS, and stops it at the end. Each test gets
its own mailbox by adding a user (`add_user`), so tests never see each other's mail.
Under pytest-xdist (`make test` runs several workers) each worker is a session of its own and
starts its own Dovecot: nothing is shared or fixed (a temporary folder of its own for base_dir,
state, log and mail, a free port, an instance name made from that port).

The session-scoped `dovecot_oauth` fixture is a second Dovecot that also signs in with bearer
tokens: `auth_mechanisms = xoauth2 oauthbearer plain login`, an `oauth2` passdb that checks each
token at the session's token server (tests/oauth_server.py, `oauth_server`) by introspection,
and the passwd-file passdb for PLAIN and LOGIN, so that a test can still seed a mailbox with a
password while the daemon signs in with a token. Dovecot checks a token at login only, so
`kick` ends a user's sessions (`doveadm kick`) to make a client sign in again.

Without the `dovecot` binary the tests that use the fixture are skipped, unless
MENTORMAIL_REQUIRE_SERVERS=1 (CI) makes that a failure: they can never silently not run.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from imapclient import IMAPClient

# Dovecot refuses to run mail processes as root; any unprivileged uid works, it need not exist.
MAIL_UID = 5000
START_TIMEOUT = 120.0  # seconds: generous, the machines are busy (several workers, other work)
STOP_TIMEOUT = 30.0

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
instance_name = mentormail-test-{port}
# Explicit: the default still advertises STARTTLS and wants certificates.
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u/Maildir
# The tests hold a few connections per user at once (watcher, seeding, checking).
mail_max_userip_connections = 50

passdb {{
  driver = passwd-file
  args = {passwd}
}}
userdb {{
  driver = passwd-file
  args = {passwd}
  default_fields = uid={uid} gid={uid} home={root}/mail/%u
}}

service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""

# The same server, with bearer tokens as well (passdbs are tried in order, each for the
# mechanisms it names). Written one setting a line: Dovecot refuses `name {{ key = value }}`.
OAUTH_CONFIG = (
    CONFIG.replace("auth_mechanisms = plain login", "auth_mechanisms = xoauth2 oauthbearer plain login")
    .replace(
        """passdb {{
  driver = passwd-file
  args = {passwd}
}}""",
        """passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = {passwd}
}}""",
    )
    # A token names its user; the mailbox need not be in the passwd-file.
    .replace(
        """userdb {{
  driver = passwd-file
  args = {passwd}
  default_fields = uid={uid} gid={uid} home={root}/mail/%u
}}""",
        """userdb {{
  driver = static
  args = uid={uid} gid={uid} home={root}/mail/%u
}}""",
    )
)

# Dovecot POSTs `token=...` to the URL and signs the user in when the answer is active and names them.
OAUTH2_ARGS = """\
introspection_mode = post
introspection_url = {introspection_url}
username_attribute = username
active_attribute = active
active_value = true
tokeninfo_url =
"""


def dovecot_binary() -> str:
    """The dovecot executable, or skip (fail in CI) when it is not installed."""
    path = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
    if path is None:
        if os.environ.get("MENTORMAIL_REQUIRE_SERVERS") == "1":
            pytest.fail("dovecot is required (MENTORMAIL_REQUIRE_SERVERS=1) but not installed")
        pytest.skip("dovecot not installed (apt-get install dovecot-imapd; `.ci/run` installs it)")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_banner(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited with {process.returncode}; its log:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"dovecot did not answer on port {port} within {START_TIMEOUT} s:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Dovecot:
    """A running Dovecot: where it listens, and how to get a mailbox on it."""

    host: str
    port: int
    root: Path
    passwd: Path
    config: Path
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_user(self, name: str = "program") -> tuple[str, str]:
        """A new mailbox `name-N@example.org` (or `local-N@domain` for `local@domain`).

        Dovecot re-reads its passwd-file when the file has changed, but looks at most once per
        second (by its clock's whole seconds): a login in the same second as the write could
        still miss the new line, so return only once that second is over.
        """
        local, _, domain = name.partition("@")
        password = secrets.token_urlsafe(12)
        with self._lock:
            username = f"{local}-{next(self._counter)}@{domain or 'example.org'}"
            with self.passwd.open("a", encoding="utf-8") as passwd:
                passwd.write(f"{username}:{{PLAIN}}{password}::::::\n")
            written = time.time()
        time.sleep(max(0.0, math.floor(written) + 1.05 - time.time()))
        return username, password

    def client(self, username: str, password: str) -> IMAPClient:
        """A logged-in client; use it as a context manager so that it logs out."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        try:
            client.login(username, password)
        except BaseException:
            client.shutdown()
            raise
        return client

    def session_pids(self, username: str) -> list[int]:
        """The process ids of the user's IMAP sessions, oldest first, from the login lines."""
        pattern = re.compile(rf"Login: user=<{re.escape(username)}>.*?mpid=(\d+)")
        return [int(pid) for pid in pattern.findall(self.log_text())]

    def log_text(self) -> str:
        """Dovecot's own log (logins, logouts with their fetch statistics, errors)."""
        return (self.root / "dovecot.log").read_text(errors="replace")

    def kick(self, username: str) -> None:
        """End every session of the user, as an administrator does (`doveadm kick`): the server
        closes the connections, and a client has to sign in again."""
        doveadm = shutil.which("doveadm") or shutil.which("doveadm", path="/usr/bin:/usr/sbin")
        assert doveadm is not None, "doveadm comes with dovecot-core"
        command = [doveadm, "-c", str(self.config), "kick", username]
        subprocess.run(command, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    yield from _run_dovecot(CONFIG)


@pytest.fixture(scope="session")
def dovecot_oauth(oauth_server) -> Iterator[Dovecot]:  # type: ignore[no-untyped-def]
    """A Dovecot that checks bearer tokens at `oauth_server` (XOAUTH2, OAUTHBEARER), and passwords."""
    args = OAUTH2_ARGS.format(introspection_url=oauth_server.introspection_url)
    yield from _run_dovecot(OAUTH_CONFIG, oauth2_args=args)


def _run_dovecot(template: str, *, oauth2_args: str | None = None) -> Iterator[Dovecot]:
    binary = dovecot_binary()
    # Not pytest's tmp_path: that is mode 0700, and Dovecot's unprivileged processes must reach
    # the passwd-file and the mail folders.
    root = Path(tempfile.mkdtemp(prefix="mentormail-dovecot-"))
    root.chmod(0o755)
    port = _free_port()
    passwd = root / "users"
    passwd.touch()
    passwd.chmod(0o644)
    mail = root / "mail"
    mail.mkdir()
    os.chown(mail, MAIL_UID, MAIL_UID)
    if oauth2_args is not None:
        (root / "oauth2.conf.ext").write_text(oauth2_args, encoding="utf-8")
    config = root / "dovecot.conf"
    config.write_text(template.format(root=root, port=port, passwd=passwd, uid=MAIL_UID), encoding="utf-8")
    log = root / "dovecot.log"
    process = subprocess.Popen(
        [binary, "-c", str(config), "-F"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_banner(port, process, log)
        yield Dovecot(host="127.0.0.1", port=port, root=root, passwd=passwd, config=config)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    # pyproject.toml registers it too; repeating it keeps the plugin usable on its own.
    config.addinivalue_line("markers", "dovecot: needs a private Dovecot IMAP server")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the server is marked `dovecot` (`-m "not dovecot"` deselects them)."""
    for item in items:
        if {"dovecot", "dovecot_oauth"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.dovecot)
