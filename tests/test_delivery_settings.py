"""The delivery retry settings in `[schedule]`: the window may be a decimal number of hours (a
test, or an operator who wants half an hour), the first retry a number of seconds; nonsense is
refused by `check-config`, naming the key."""

from __future__ import annotations

import pytest
from conftest import Program
from mentormail.daemon.settings import load_settings


def test_a_decimal_window_and_a_first_retry_in_seconds_are_read(program: Program) -> None:
    program.write_config(extra="[schedule]\ndelivery_give_up_hours = 0.5\ndelivery_first_retry_seconds = 5\n")
    schedule = load_settings(program.config).schedule
    assert (schedule.delivery_give_up_hours, schedule.delivery_first_retry_seconds) == (0.5, 5)
    assert program.cli("check-config").returncode == 0


@pytest.mark.parametrize(
    "line, problem",
    [
        ("delivery_give_up_hours = 0", "schedule.delivery_give_up_hours: must be more than 0 (got 0)"),
        ('delivery_give_up_hours = "48"', "schedule.delivery_give_up_hours: must be a number (got '48')"),
        ("delivery_first_retry_seconds = 0", "schedule.delivery_first_retry_seconds: must be at least 1 (got 0)"),
        ("delivery_first_retry_seconds = 1.5", "schedule.delivery_first_retry_seconds: must be an integer"),
    ],
)
def test_nonsense_is_refused_naming_the_key(program: Program, line: str, problem: str) -> None:
    program.write_config(extra=f"[schedule]\n{line}\n")
    result = program.cli("check-config", check=False)
    assert result.returncode == 1 and problem in result.stderr
