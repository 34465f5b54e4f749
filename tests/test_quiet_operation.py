"""Quiet, readable operation (issue 10): what `mentormail run` and `simulate` print at the default
level, and a second `run` on a port that is already taken.

The daemon is started as a user starts it, without `--log-level`: the default is what an operator
reads every day (the `daemon` fixture runs at DEBUG for the other tests).
"""

from __future__ import annotations

import logging
import mailbox
import re
import signal
import smtplib
import subprocess
import time
from collections.abc import Iterator

import pytest
from conftest import MENTORMAIL, PROGRAM_ADDRESS, Program, message, wait_for_port, wait_until

# A log line as daemon/logs.py writes it: date, time, level, logger.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) (?P<logger>[\w.]+): (?P<text>.*)$")
START_UP = ("SMTP intake listening", "mentormail running")


class DefaultDaemon:
    """`mentormail run` at the default log level, its output in a file."""

    def __init__(self, program: Program, name: str = "daemon") -> None:
        self.program = program
        self.log_path = program.root / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True) -> DefaultDaemon:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*MENTORMAIL, "-c", str(self.program.config), "run"],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.program.root,
            )
        if wait:
            wait_for_port(self.program.smtp_port, self.process)
            wait_until(lambda: "mentormail running" in self.text())
        return self

    def text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def lines(self) -> list[str]:
        return self.text().splitlines()

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.process = None
        return code

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=60)


@pytest.fixture
def default_daemon(program: Program) -> Iterator[DefaultDaemon]:
    running = DefaultDaemon(program)
    yield running
    running.kill()


def sent_mail(program: Program) -> int:
    outbox = program.root / "var" / "outbox"
    return len(mailbox.Maildir(outbox, create=False)) if outbox.exists() else 0


def settled(daemon: DefaultDaemon, program: Program, quiet_for: float = 6.0) -> list[str]:
    """The log once the first tick's mail is all sent: no new line for `quiet_for` seconds."""
    last, since = daemon.text(), time.monotonic()
    deadline = time.monotonic() + 120
    while time.monotonic() - since < quiet_for:
        assert time.monotonic() < deadline, "the daemon never stopped logging"
        time.sleep(0.5)
        now = daemon.text()
        if now != last:
            last, since = now, time.monotonic()
    return last.splitlines()


def test_run_logs_a_line_per_mail_sent_and_per_message_and_nothing_when_idle(
    program: Program, default_daemon: DefaultDaemon
) -> None:
    program.write_config(extra="[schedule]\nplanner_interval_minutes = 1\n")
    default_daemon.start()
    lines = settled(default_daemon, program)
    # The first tick sent the round's mail so far (pairings, topics, ...): a `sent` line each,
    # besides the start-up lines and the tick's own summary (a tick that did something says so).
    mails = sent_mail(program)
    assert mails > 0
    assert all(LOG_LINE.match(line) for line in lines), lines
    after_start = [line for line in lines if not any(s in line for s in START_UP)]
    sent = [line for line in after_start if "mentormail.delivery: sent " in line]
    ticks = [line for line in after_start if "mentormail.outbox: planner tick: " in line]
    assert len(sent) == mails and len(ticks) == 1, after_start[:20]
    assert len(after_start) == len(sent) + len(ticks), after_start[:20]

    # Idle: a planner tick (a minute here) and a dozen delivery polls (5 s each) pass, and
    # nothing is logged.
    time.sleep(65)
    assert default_daemon.lines() == lines

    # A message: one line, its outcome.
    with smtplib.SMTP("127.0.0.1", program.smtp_port, timeout=30) as smtp:
        smtp.send_message(
            message("dev@example.org", ["eve@example.com"], [PROGRAM_ADDRESS]), to_addrs=[PROGRAM_ADDRESS]
        )
    wait_until(lambda: len(default_daemon.lines()) > len(lines))
    time.sleep(6)
    new = default_daemon.lines()[len(lines) :]
    assert len(new) == 1 and "contact via smtp" in new[0], new
    assert default_daemon.stop() == 0


def test_a_second_run_on_a_busy_port_says_so_in_one_line(
    program: Program, default_daemon: DefaultDaemon, tmp_path_factory: pytest.TempPathFactory
) -> None:
    default_daemon.start()
    # Another program (its own folder and store) configured with the same port by mistake.
    other = Program(tmp_path_factory.mktemp("other"), program.smtp_port)
    second = subprocess.run(
        [*MENTORMAIL, "-c", str(other.config), "run"], capture_output=True, text=True, cwd=other.root, timeout=120
    )
    assert second.returncode == 1
    assert "Traceback" not in second.stderr
    errors = [line for line in second.stderr.splitlines() if not LOG_LINE.match(line)]
    assert len(errors) == 1, second.stderr
    assert errors[0].startswith(f"mentormail: cannot listen on 127.0.0.1:{program.smtp_port}: address already in use")
    # The first daemon is unharmed.
    assert default_daemon.process is not None and default_daemon.process.poll() is None
    assert default_daemon.stop() == 0


def test_simulate_prints_its_table_not_the_log_and_a_letter_adds_no_font_lines(program: Program) -> None:
    from test_simulate import NINE_TOPICS, SURVEY

    program.write_config(extra=NINE_TOPICS + SURVEY)
    outbox = program.root / "simulated"
    result = program.cli(
        "simulate", "--until", "2027-06-25", "--traffic", "quiet-pairs", "--replies", "--outbox", str(outbox)
    )
    kinds = [m["X-Mentormail-Kind"] for m in mailbox.Maildir(outbox, create=False)]
    assert "recognition_letter" in kinds  # a PDF was made: fontTools had its chance to talk
    assert "fontTools" not in result.stderr + result.stdout
    assert result.stderr == "", result.stderr[:2000]  # not a terminal: no progress bar, no log
    assert result.stdout.splitlines()[0].split()[:2] == ["week", "of"]
    assert not any(LOG_LINE.match(line) for line in result.stdout.splitlines())


def test_a_letter_made_under_the_daemons_logging_logs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """`run` configures logging at INFO; making a PDF letter (fontTools subsets its fonts, ~75
    INFO lines a letter) then logs nothing: third-party loggers stay at WARNING."""
    from mentormail.daemon import logs
    from mentormail.daemon.mail.letters import letter_pdf
    from test_letters import facts

    root, ours = logging.getLogger(), logging.getLogger("mentormail")
    saved = (root.handlers[:], root.level, ours.level)
    try:
        logs.configure("INFO")
        assert letter_pdf(facts()).startswith(b"%PDF")
        logging.getLogger("mentormail.test").info("done")
    finally:  # as pytest had it, for the tests that follow
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        ours.setLevel(saved[2])
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].endswith("mentormail.test: done"), lines[:10]


def test_run_says_once_at_start_that_the_zone_has_no_daylight_saving_time(
    program: Program, default_daemon: DefaultDaemon
) -> None:
    text = program.config.read_text(encoding="utf-8").replace('timezone = "America/Chicago"', 'timezone = "EST"')
    program.config.write_text(text, encoding="utf-8")
    default_daemon.start()
    assert default_daemon.stop() == 0
    warnings = [line for line in default_daemon.lines() if " WARNING mentormail.run: " in line]
    expected = "'EST' is a fixed offset from UTC, not a place: its clock never changes for daylight saving time"
    assert len(warnings) == 1 and warnings[0].endswith(f"{expected}; use America/New_York"), warnings
