"""Intake benchmarks: our figure beside its ceiling, measured in the same run.

    make bench                          # or: .venv/bin/python -m tests.bench.run
    .venv/bin/python tests/bench/run.py --messages 500 --profile

A figure alone says little (machines differ several-fold), so every line sets ours beside the
fastest thing that could do the same job on this machine, now:

- SMTP: the real daemon (`mentormail run`, a subprocess) against a bare aiosmtpd Controller that
  only answers `250 OK` (bare_smtp.py, also a subprocess), both fed the same ~2 KB CC copies
  by the same smtplib code, over one connection and over four in parallel.
- Files: `mentormail ingest MAILDIR` (one process, as a user runs it) against parsing the same
  files' header blocks with `BytesHeaderParser`, the least work intake could do with them. The
  `Intake.ingest` loop in this process is shown too, so that start-up cost and per-message cost
  can be told apart.
- IMAP: the daemon's `ImapWatcher` catching up on N messages in a private Dovecot (the test
  suite's config) against one raw `FETCH BODY.PEEK[HEADER]` of the same messages. Skipped with
  a note when Dovecot is not installed.

Every "ours" figure is checked afterwards with `mentormail status --json` (the contacts add up
to the messages sent), so a fast figure cannot come from messages that were dropped.
"""

from __future__ import annotations

import argparse
import cProfile
import mailbox
import os
import platform
import pstats
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import TYPE_CHECKING

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if __package__ in (None, ""):  # run as `python tests/bench/run.py`: make `tests.` importable
    sys.path.insert(0, str(REPO))

# The test suite's program-on-disk helpers: the benchmark's program is configured exactly like
# the tests' one, and follows it when the config format changes.
from tests.conftest import MENTORMAIL, PROGRAM_ADDRESS, Program, free_port, message, wait_for_port  # noqa: E402

if TYPE_CHECKING:
    from tests.dovecot_server import Dovecot

STARTS_ON = "2026-09-01"  # the date Program's config gives the program
BODY_LINE = "Thanks for the notes on the draft; shall we go through chapter two on Tuesday?\n"
BODY = BODY_LINE * 22  # with the headers, about 2 KB: a typical short personal email


# --- the messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    sender: str  # the envelope sender (MAIL FROM)
    raw: bytes


def roster_csv(pairs: int) -> str:
    rows = ["mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on"]
    rows += [
        f"mentor{i}@example.org,Mentor {i},mentee{i}@example.net,Mentee {i},b{i},{STARTS_ON}" for i in range(pairs)
    ]
    return "\n".join(rows) + "\n"


def cc_copies(count: int, pairs: int, tag: str, *, linesep: str) -> list[Mail]:
    """`count` CC copies between roster partners, both directions, each with its own Message-ID
    (a repeated ID would be counted once, as a duplicate, and the check would fail)."""
    mails = []
    for i in range(count):
        mentor, mentee = f"mentor{i % pairs}@example.org", f"mentee{i % pairs}@example.net"
        sender, partner = (mentor, mentee) if (i // pairs) % 2 == 0 else (mentee, mentor)
        msg = message(sender, [partner], [PROGRAM_ADDRESS], body=BODY, message_id=f"<{tag}-{i}@bench.example.net>")
        # aiosmtpd wants CRLF on the wire; files on disk have LF.
        mails.append(Mail(sender, msg.as_bytes(policy=policy.default.clone(linesep=linesep))))
    return mails


# --- programs and servers ----------------------------------------------------------------------


def new_program(root: Path, pairs: int) -> Program:
    """A program on disk (config, 0600 secret) with `pairs` pairs imported by the real CLI."""
    root.mkdir()
    program = Program(root, free_port())
    roster = root / "bench-roster.csv"
    roster.write_text(roster_csv(pairs), encoding="utf-8")
    program.cli("import-roster", str(roster))
    return program


def contacts_recorded(program: Program) -> int:
    """The user's view (`status --json`): contacts in both directions, over all pairs."""
    return sum(to_mentee + to_mentor for to_mentee, to_mentor in program.contacts().values())


@contextmanager
def running(command: list[str], port: int, cwd: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A server subprocess, up once its port answers, stopped with SIGTERM and waited for."""
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


def daemon(program: Program) -> AbstractContextManager[subprocess.Popen[bytes]]:
    # The default log level, as `make run` starts it (the tests' DEBUG would measure logging).
    command = [*MENTORMAIL, "-c", str(program.config), "run"]
    return running(command, program.smtp_port, program.root, program.root / "daemon.log")


def bare_server(port: int, workdir: Path) -> AbstractContextManager[subprocess.Popen[bytes]]:
    return running([sys.executable, str(HERE / "bare_smtp.py"), str(port)], port, workdir, workdir / "bare.log")


# How long the daemon's log must stay still, after its first planner tick, to call it settled:
# longer than a pause between two log lines of the delivery that follows the tick.
QUIET_SECONDS = 1.5


def settle(program: Program, timeout: float = 600) -> float:
    """Wait until the daemon's start-up work is done; returns how long that took.

    At start, `mentormail run` plans the round so far and delivers what is due (a few hundred
    mails for the bench's program), in the same process as SMTP intake. Measured during that
    work, the SMTP figure would measure the planner. So: wait for the first tick's log line
    ("planner tick: ..."), then for the log to stop growing (delivery logs each mail it sends).
    """
    log = program.root / "daemon.log"
    started = time.monotonic()
    while "planner tick" not in log.read_text(errors="replace"):
        if time.monotonic() - started > timeout:
            raise SystemExit(f"SMTP: the daemon's first planner tick did not finish within {timeout:.0f} s")
        time.sleep(0.1)
    size, still_since = log.stat().st_size, time.monotonic()
    while time.monotonic() - still_since < QUIET_SECONDS:
        time.sleep(0.1)
        if log.stat().st_size != size:
            size, still_since = log.stat().st_size, time.monotonic()
    return time.monotonic() - started


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads, so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Spent:
    """One timed run: wall seconds, and the CPU seconds of the server and of this (client) process."""

    seconds: float
    server_cpu: float
    client_cpu: float


def timed(work: Callable[[], object], server: subprocess.Popen[bytes]) -> Spent:
    server_before, client_before = cpu_seconds(server.pid), time.process_time()
    elapsed = seconds(work)
    return Spent(elapsed, cpu_seconds(server.pid) - server_before, time.process_time() - client_before)


# --- the client and the clock ------------------------------------------------------------------


def send_one_connection(port: int, mails: list[Mail]) -> None:
    """The same client for both servers: plain smtplib, one transaction per message; any reply
    other than 250 raises, so a refused message cannot pass for a fast one."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        for mail in mails:
            client.sendmail(mail.sender, [PROGRAM_ADDRESS], mail.raw)


def send_parallel(port: int, mails: list[Mail], connections: int) -> None:
    shares = [mails[i::connections] for i in range(connections)]
    with ThreadPoolExecutor(max_workers=connections) as pool:
        for done in [pool.submit(send_one_connection, port, share) for share in shares]:
            done.result()  # re-raises a client's failure


def seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def best_seconds(work: Callable[[], object], repeats: int = 3) -> float:
    """For ceilings that take a fraction of a second and change nothing: the best of a few runs,
    so that one scheduling hiccup on a busy machine does not lower the bar."""
    return min(seconds(work) for _ in range(repeats))


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    ours: float  # messages per second
    ceiling: float
    ceiling_name: str
    target: float | None = None  # the ratio issue 8 asks for, where it names one

    def verdict(self) -> str:
        if self.target is None:
            return ""
        return f">= {self.target:.0%} " + ("met" if self.ours / self.ceiling >= self.target else "NOT met")


def print_table(rows: list[Row], header: list[str]) -> None:
    for line in header:
        print(line)
    name_width = max(len(r.name) for r in rows)
    print(
        f"\n{'benchmark':<{name_width}}  {'ours msg/s':>10}  {'ceiling msg/s':>13}  {'ratio':>6}  "
        f"{'target':<14}  ceiling"
    )
    for r in rows:
        ratio = r.ours / r.ceiling
        print(
            f"{r.name:<{name_width}}  {r.ours:>10,.0f}  {r.ceiling:>13,.0f}  {ratio:>6.1%}  "
            f"{r.verdict():<14}  {r.ceiling_name}"
        )


def machine_lines(args: argparse.Namespace, sample: Mail, workdir: Path, load_before: float) -> list[str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"machine: {platform.node()}, {usable} usable cores ({os.cpu_count()} present), "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.system()} {platform.release()}",
        f"N = {args.messages} messages per line ({args.imap_messages} for IMAP), ~{len(sample.raw):,} bytes each, "
        f"{args.pairs} pairs, "
        f"{args.connections} parallel connections; store: SQLite (WAL, synchronous=FULL) under {workdir}",
        # Other work on the machine slows both columns; the ratio is what survives it.
        f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after",
    ]


# --- 1. SMTP -----------------------------------------------------------------------------------


def bench_smtp(workdir: Path, args: argparse.Namespace, notes: list[str]) -> list[Row]:
    # Two batches with different Message-IDs: the parallel run must not repeat the serial one's.
    serial = cc_copies(args.messages, args.pairs, "serial", linesep="\r\n")
    parallel = cc_copies(args.messages, args.pairs, "parallel", linesep="\r\n")
    send_serial = lambda port: send_one_connection(port, serial)  # noqa: E731
    send_four = lambda port: send_parallel(port, parallel, args.connections)  # noqa: E731

    bare_port = free_port()
    with bare_server(bare_port, workdir) as bare:
        bare_serial = timed(lambda: send_serial(bare_port), bare)
        bare_parallel = timed(lambda: send_four(bare_port), bare)

    program = new_program(workdir / "smtp", args.pairs)
    with daemon(program) as ours:
        settled = settle(program)
        ours_serial = timed(lambda: send_serial(program.smtp_port), ours)
        ours_parallel = timed(lambda: send_four(program.smtp_port), ours)
        recorded = contacts_recorded(program)
    check(recorded, 2 * args.messages, "SMTP", notes)
    notes.append(f"SMTP: measured after the daemon's start-up planner run and delivery had settled ({settled:.1f} s)")
    notes.append(smtp_limit(args, bare_parallel, ours_parallel))

    n = args.messages
    return [
        Row("SMTP, 1 connection", n / ours_serial.seconds, n / bare_serial.seconds, "bare aiosmtpd, 250 OK"),
        Row(
            f"SMTP, {args.connections} connections",
            n / ours_parallel.seconds,
            n / bare_parallel.seconds,
            "bare aiosmtpd, 250 OK",
            target=0.5,
        ),
    ]


def smtp_limit(args: argparse.Namespace, bare: Spent, ours: Spent) -> str:
    """What bounds the parallel SMTP figure, from where the CPU went in each run.

    The server is one Python process (one GIL): it cannot run more than one core's worth of
    Python, and it shares the machine's cores with the client. A daemon near a whole core is
    held back by its own work per message; one well below it is waiting (on the disk, the
    store's write lock, or the client).
    """

    def per_message(cpu: float) -> str:
        return f"{cpu / args.messages * 1e6:,.0f} µs"

    core_share = ours.server_cpu / ours.seconds
    if core_share >= 0.8:
        limit = (
            "the daemon's own CPU per message (one Python process: aiosmtpd's protocol work, which the bare "
            "server does too, plus parsing the header block, routing and recording), not the disk: one "
            "commit (one fsync) serves the messages that arrived during the one before"
        )
    else:
        limit = "waiting, not CPU: the disk (an fsync per batch), the store's write lock or the client"
    return (
        f"SMTP, {args.connections} connections, CPU per message: the daemon {per_message(ours.server_cpu)} "
        f"({core_share:.0%} of a core), its client {per_message(ours.client_cpu)}; bare aiosmtpd "
        f"{per_message(bare.server_cpu)} ({bare.server_cpu / bare.seconds:.0%} of a core), its client "
        f"{per_message(bare.client_cpu)}. What limits ours: {limit}"
    )


# --- 2. files ----------------------------------------------------------------------------------


def write_maildir(path: Path, mails: list[Mail]) -> Path:
    box = mailbox.Maildir(path, create=True)
    for mail in mails:
        box.add(mail.raw)
    return path


def parse_header_blocks(maildir: Path) -> int:
    """The ceiling: read every file and parse its header block, nothing else."""
    parser = BytesHeaderParser(policy=policy.compat32)  # the policy parsers/headers.py uses
    count = 0
    for entry in os.scandir(maildir / "new"):
        with open(entry.path, "rb") as handle:
            parser.parsebytes(handle.read())
        count += 1
    return count


def ingest_in_process(program: Program, maildir: Path, profile: Path | None) -> float:
    """`Intake.ingest` over the same files in this process: per-message cost, no start-up."""
    from mentormail.daemon.intake.files import iter_messages
    from mentormail.daemon.intake.ingest import Intake
    from mentormail.store.outcomes import Source, Transport
    from mentormail.daemon.service import open_store
    from mentormail.daemon.settings import load_settings

    settings = load_settings(program.config)
    store = open_store(settings)
    intake = Intake(store, settings.program.address, settings.secret())
    source = Source(Transport.FILE)

    def loop() -> None:
        for _label, raw in iter_messages(str(maildir)):
            intake.ingest(raw, source)

    try:
        if profile is None:
            return seconds(loop)
        profiler = cProfile.Profile()
        elapsed = seconds(lambda: profiler.runcall(loop))
        profiler.dump_stats(profile)
        return elapsed
    finally:
        store.close()


def run_ingest_command(program: Program, maildir: Path) -> float:
    def ingest() -> None:
        subprocess.run(
            [*MENTORMAIL, "-c", str(program.config), "ingest", str(maildir)],
            cwd=program.root,
            stdout=subprocess.DEVNULL,  # one line per message; a terminal would be slower still
            stderr=subprocess.DEVNULL,
            check=True,
        )

    return seconds(ingest)


def bench_files(workdir: Path, args: argparse.Namespace, notes: list[str]) -> list[Row]:
    n = args.messages
    maildir = write_maildir(workdir / "Maildir", cc_copies(n, args.pairs, "file", linesep="\n"))
    empty = write_maildir(workdir / "EmptyMaildir", [])

    ceiling = n / best_seconds(lambda: parse_header_blocks(maildir))

    command_program = new_program(workdir / "ingest", args.pairs)
    startup = run_ingest_command(command_program, empty)  # interpreter, imports, store, migrations
    elapsed = run_ingest_command(command_program, maildir)
    check(contacts_recorded(command_program), n, "mentormail ingest", notes)
    notes.append(
        f"`mentormail ingest` start-up (an empty Maildir) takes {startup:.2f} s of its {elapsed:.2f} s; "
        f"without it: {n / max(elapsed - startup, 1e-9):,.0f} msg/s"
    )

    in_process_program = new_program(workdir / "in-process", args.pairs)
    profile = workdir / "ingest.prof" if args.profile else None
    in_process = ingest_in_process(in_process_program, maildir, profile)
    check(contacts_recorded(in_process_program), n, "Intake.ingest loop", notes)
    if profile is not None:
        print_profile(profile)

    return [
        Row("ingest MAILDIR, 1 process", n / elapsed, ceiling, "BytesHeaderParser on the same files"),
        Row("Intake.ingest loop, in process", n / in_process, ceiling, "BytesHeaderParser on the same files"),
    ]


def print_profile(path: Path) -> None:
    print("\n--- cProfile of the in-process Intake.ingest loop (top 25 by cumulative time) ---")
    pstats.Stats(str(path)).strip_dirs().sort_stats("cumulative").print_stats(25)
    print("--- (top 15 by own time) ---")
    pstats.Stats(str(path)).strip_dirs().sort_stats("tottime").print_stats(15)


# --- 3. IMAP ----------------------------------------------------------------------------------

APPEND_CHUNK = 500  # messages per MULTIAPPEND: one command, a few MB at most


def imap_unavailable() -> str | None:
    """Why the IMAP line cannot be measured here, or None when it can."""
    if shutil.which("dovecot") is None and not Path("/usr/sbin/dovecot").exists():
        return "dovecot is not installed (apt-get install dovecot-imapd)"
    try:
        import mentormail.daemon.intake.imap  # noqa: F401
        import tests.dovecot_server  # noqa: F401
    except ImportError as exc:
        return f"cannot import {exc.name}"
    if os.geteuid() != 0:
        return "the Dovecot set-up (tests/dovecot_server.py) needs root to chown the mail folder"
    return None


@contextmanager
def dovecot_server() -> Iterator[Dovecot]:
    """A private Dovecot with the test suite's config. The suite's `dovecot` fixture cannot be
    called outside pytest, so its few start-up steps are repeated here around its CONFIG."""
    from tests.dovecot_server import CONFIG, MAIL_UID, Dovecot

    # Not under the 0700 bench folder: Dovecot's unprivileged processes must reach these files.
    root = Path(tempfile.mkdtemp(prefix="mentormail-bench-dovecot-"))
    root.chmod(0o755)
    port = free_port()
    passwd = root / "users"
    passwd.touch()
    passwd.chmod(0o644)
    (root / "mail").mkdir()
    os.chown(root / "mail", MAIL_UID, MAIL_UID)
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, passwd=passwd, uid=MAIL_UID), encoding="utf-8")
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    process = subprocess.Popen(
        [binary, "-c", str(config), "-F"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield Dovecot(host="127.0.0.1", port=port, root=root, passwd=passwd, config=config)
    finally:
        process.terminate()
        process.wait(timeout=60)  # Dovecot takes ~3 s to stop
        shutil.rmtree(root, ignore_errors=True)


def seed_mailbox(server: Dovecot, user: str, password: str, mails: list[Mail]) -> None:
    with server.client(user, password) as client:
        for start in range(0, len(mails), APPEND_CHUNK):
            client.multiappend("INBOX", [mail.raw for mail in mails[start : start + APPEND_CHUNK]])


def fetch_all_headers(server: Dovecot, user: str, password: str) -> int:
    """The ceiling: log in, EXAMINE, one FETCH of every header block; no parsing, no store."""
    with server.client(user, password) as client:
        client.select_folder("INBOX", readonly=True)
        return len(client.fetch(client.search(["ALL"]), ["BODY.PEEK[HEADER]"]))


def imap_section(server: Dovecot, user: str, password: str) -> str:
    # `keep` (EXAMINE, nothing removed) so that ours does the same server work as the ceiling;
    # the default, `delete`, adds a STORE and an EXPUNGE per batch of 200.
    return f"""
[intake.imap]
enabled = true
host = "{server.host}"
port = {server.port}
security = "none"
username = "{user}"
password = "{password}"
after_logging = "keep"
"""


def imap_catch_up(program: Program) -> float:
    """Seconds from starting the daemon's `ImapWatcher` (in this process: its `caught_up` event
    says exactly when the folder has been read) to its catch-up being done."""
    from mentormail.daemon.intake.imap import ImapWatcher
    from mentormail.daemon.intake.ingest import Intake
    from mentormail.daemon.service import open_store
    from mentormail.daemon.settings import load_settings

    settings = load_settings(program.config)
    store = open_store(settings)
    stop = threading.Event()
    intake = Intake(store, settings.program.address, settings.secret())
    watcher = ImapWatcher(settings.intake_imap, intake, settings.program.address, stop)
    thread = threading.Thread(target=watcher.run, name="bench-imap", daemon=True)
    try:
        started = time.perf_counter()
        thread.start()
        if not watcher.caught_up.wait(timeout=300):
            raise SystemExit("IMAP: the watcher did not catch up within 300 s")
        return time.perf_counter() - started
    finally:
        stop.set()
        thread.join(timeout=30)
        store.close()


def bench_imap(workdir: Path, args: argparse.Namespace, notes: list[str]) -> list[Row]:
    reason = imap_unavailable()
    if reason is not None:
        notes.append(f"IMAP catch-up not measured: {reason}")
        return []
    n = args.imap_messages
    with dovecot_server() as server:
        user, password = server.add_user("program")
        seed_mailbox(server, user, password, cc_copies(n, args.pairs, "imap", linesep="\r\n"))
        fetch_seconds = best_seconds(lambda: fetch_all_headers(server, user, password))
        program = new_program(workdir / "imap", args.pairs)
        program.write_config(extra=imap_section(server, user, password))
        ours = imap_catch_up(program)
    check(contacts_recorded(program), n, "IMAP catch-up", notes)
    return [
        Row(
            f"IMAP catch-up of {n:,} (ImapWatcher)",
            n / ours,
            n / fetch_seconds,
            "FETCH BODY.PEEK[HEADER], imapclient",
            target=0.25,
        )
    ]


# --- main --------------------------------------------------------------------------------------


def check(recorded: int, expected: int, what: str, notes: list[str]) -> None:
    """A benchmark whose messages were not all recorded measures nothing: say so loudly."""
    if recorded != expected:
        raise SystemExit(f"{what}: status --json counts {recorded} contacts, {expected} were sent")
    notes.append(f"{what}: status --json counts {recorded} contacts, as sent")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", "-n", type=int, default=1000, help="N, messages per line (default 1000)")
    parser.add_argument(
        "--imap-messages", type=int, default=10_000, help="messages for the IMAP catch-up (default 10000)"
    )
    parser.add_argument("--pairs", type=int, default=50, help="pairs in the roster (default 50)")
    parser.add_argument("--connections", type=int, default=4, help="parallel SMTP connections (default 4)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the in-process ingest loop")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    workdir = Path(tempfile.mkdtemp(prefix="mentormail-bench-"))
    notes: list[str] = []
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    try:
        rows = bench_smtp(workdir, args, notes) + bench_files(workdir, args, notes) + bench_imap(workdir, args, notes)
        header = machine_lines(args, cc_copies(1, 1, "sample", linesep="\r\n")[0], workdir, load_before)
        print_table(rows, header)
        print()
        for note in notes:
            print(f"note: {note}")
        print(f"note: whole run {time.perf_counter() - started:.0f} s")
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
