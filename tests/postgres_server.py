"""A private PostgreSQL cluster for the test session (see ../shared/SERVERS.md).

`MENTORMAIL_TEST_DATABASE=postgresql` runs every test that uses a store on PostgreSQL instead of a
SQLite file: the first store a test asks for starts one cluster for the whole session (`initdb` in a
temporary folder, a free port on 127.0.0.1, trust authentication), migrates a template database once,
and gives each program a database of its own made from that template (`CREATE DATABASE ... TEMPLATE`,
a file copy, much faster than running the migrations again). The cluster stops when the session ends.
Under pytest-xdist (`make test` runs several workers) each worker is a session of its own with a
cluster of its own: its own temporary folder (data, socket directory, lock file), a free port, its
own template; nothing is fixed, so workers (and other sessions on the machine) never meet.

Loaded as a pytest plugin from conftest.py. Without PostgreSQL installed the switch skips the tests
that need a store, unless MENTORMAIL_REQUIRE_SERVERS=1 (CI) makes that a failure.

As root (the CI machines), the server runs as the `postgres` user, which owns its folders: PostgreSQL
refuses to run as root.
"""

from __future__ import annotations

import atexit
import gc
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SWITCH = "MENTORMAIL_TEST_DATABASE"
START_TIMEOUT = 120  # seconds: generous, the machines are busy (several workers, other work)
TEMPLATE = "mentormail_template"
SEARCH_PATH = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")


def on_postgresql() -> bool:
    """Whether this test session runs its stores on PostgreSQL."""
    chosen = os.environ.get(SWITCH, "sqlite").strip().lower()
    if chosen not in ("sqlite", "postgresql"):
        raise pytest.UsageError(f"{SWITCH} must be 'sqlite' or 'postgresql' (got {chosen!r})")
    return chosen == "postgresql"


def _binary(name: str) -> str:
    for folder in SEARCH_PATH:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        if os.environ.get("MENTORMAIL_REQUIRE_SERVERS") == "1":
            pytest.fail(f"PostgreSQL's {name} is required ({SWITCH}=postgresql) but not installed")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; `.ci/run` installs it)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    """One running PostgreSQL server and the databases made in it."""

    root: Path
    port: int
    names: itertools.count = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _psql(self, sql: str, database: str = "postgres") -> None:
        subprocess.run(
            [_binary("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "-d", database, "-c", sql],
            check=True, capture_output=True, timeout=START_TIMEOUT,
        )

    def new_database(self) -> str:
        """The URL of a fresh database holding the migrated, empty schema."""
        with self.lock:
            name = f"test_{os.getpid()}_{next(self.names)}"
            self._psql(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}')
        return self.url(name)

    def empty_database(self) -> str:
        """The URL of a new database with no schema at all (what migrations start from)."""
        with self.lock:
            name = f"empty_{os.getpid()}_{next(self.names)}"
            self._psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def dump(self, url: str) -> str:
        """Everything a database holds, as pg_dump writes it (the confidentiality tests read it)."""
        database = url.rsplit("/", 1)[1]
        return subprocess.run(
            [_binary("pg_dump"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", database],
            check=True, capture_output=True, text=True, timeout=START_TIMEOUT,
        ).stdout

    def stop(self) -> None:
        _as_server_user([_binary("pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)


def _as_server_user(command: list[str]) -> subprocess.CompletedProcess[bytes]:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, timeout=START_TIMEOUT)


def _start() -> Cluster:
    root = Path(tempfile.mkdtemp(prefix="mentormail-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (root, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    _as_server_user([_binary("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                     "--locale=C.UTF-8", "--no-sync"])
    port = _free_port()
    # fsync off: a test cluster need not survive a power cut, and the suite runs far faster.
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {sockets} -c fsync=off -c max_connections=300"
    _as_server_user([_binary("pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-o", options,
                     "start"])
    cluster = Cluster(root, port)
    cluster._psql(f"CREATE DATABASE {TEMPLATE}")
    from mentormail.store.db import Store

    Store.open(cluster.url(TEMPLATE)).close()  # the migrations, once for the session
    return cluster


_cluster: Cluster | None = None
_starting = threading.Lock()


def cluster() -> Cluster:
    """The session's cluster, started the first time a test asks for a store."""
    global _cluster
    with _starting:
        if _cluster is None:
            _cluster = _start()
            atexit.register(_cluster.stop)
    return _cluster


def store_url() -> str | None:
    """The store URL a new test program should use: None for the SQLite default."""
    return cluster().new_database() if on_postgresql() else None


def pytest_report_header(config: pytest.Config) -> str:
    return f"stores: {'PostgreSQL (a private cluster)' if on_postgresql() else 'SQLite files'} ({SWITCH})"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite: about SQLite itself (its file, its write lock, its triggers): skipped on PostgreSQL"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not on_postgresql():
        return
    about_sqlite = pytest.mark.skip(reason="about SQLite itself; the PostgreSQL run has tests of its own")
    for item in items:
        if item.get_closest_marker("sqlite"):
            item.add_marker(about_sqlite)


@pytest.fixture(autouse=True)
def _connections_of_the_test_closed_with_it() -> Iterator[None]:
    """On PostgreSQL, a store a test opened and did not close is collected after that test, not
    during a later one: psycopg warns (ResourceWarning) when a connection is collected open, and
    the warning, raised wherever the collector happens to run, failed an unrelated test. SQLite's
    driver does not warn, so the same tests pass there; the daemon's own stores are closed by it."""
    yield
    if on_postgresql():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
