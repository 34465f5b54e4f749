"""Times shown to people are in the program's zone, with the zone named; JSON for scripts stays
ISO 8601 in UTC with its offset (the README's contract). The test program is in America/Chicago.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import PROGRAM_ADDRESS, Program, message
from mentormail.daemon.mail.backends import MemoryBackend
from mentormail.daemon.mail.delivery import Deliverer
from mentormail.daemon.mail.scheduler import ProgramMail
from mentormail.daemon.service import open_store
from mentormail.daemon.settings import load_settings

CHICAGO = ZoneInfo("America/Chicago")


def test_status_shows_the_last_contact_in_the_programs_zone_and_names_it(program: Program, tmp_path: Path) -> None:
    written = datetime(2026, 11, 3, 20, 17, tzinfo=timezone.utc)  # 14:17 in Chicago (CST)
    mail = message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS], date=written)
    program.cli("ingest", "-", stdin=mail.as_bytes())

    [p1] = [pair for pair in json.loads(program.cli("status", "--json").stdout)["pairs"] if pair["id"] == "p1"]
    assert p1["last_contact"] == "2026-11-03T20:17:00+00:00"  # machine-readable, as before

    rows = {line.split()[0]: line for line in program.cli("status").stdout.splitlines()[1:]}
    assert "2026-11-03 14:17 CST" in rows["p1"] and "20:17" not in rows["p1"]


def test_outbox_shows_due_times_in_the_programs_zone_and_names_it(program: Program) -> None:
    # The planner fills the outbox (in process, on the real store); nothing delivers it.
    settings = load_settings(program.config)
    store = open_store(settings)
    mail = ProgramMail(store, settings, Deliverer(store, MemoryBackend(), timedelta(hours=48)))
    assert mail.plan(datetime(2026, 9, 1, 15, tzinfo=timezone.utc))  # 10:00 in Chicago, CDT
    mail.close()
    store.close()

    document = json.loads(program.cli("outbox", "--json").stdout)
    table = program.cli("outbox").stdout
    assert document["mail"]
    for item in document["mail"]:
        assert item["due_at"].endswith("+00:00")  # machine-readable, as before
        local = datetime.fromisoformat(item["due_at"]).astimezone(CHICAGO)
        assert f"{local:%Y-%m-%d %H:%M} CDT" in table
