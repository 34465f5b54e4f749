"""The `mentormail` command line as users and their scripts rely on it (DESIGN.md section 6).

Commands, `-c/--config` anywhere, exit status (0 success, 1 a user error in one line, 2 usage),
`init`, `check-config`, `explain --json` and `status` (plain and `--json`).
"""

from __future__ import annotations

import json
import mailbox
import os
import stat
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest

from conftest import MENTORMAIL, PROGRAM_ADDRESS, Program, free_port, message

COMMANDS = ("init", "check-config", "import-roster", "run", "ingest", "explain", "status")


def mentormail(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI with exactly these arguments (no `-c` added), with no MENTORMAIL_CONFIG set."""
    env = {k: v for k, v in os.environ.items() if k != "MENTORMAIL_CONFIG"}
    return subprocess.run(
        [*MENTORMAIL, *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    text = result.stderr.strip()
    assert text and "\n" not in text, f"not one line:\n{result.stderr}"
    assert "Traceback" not in text
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    return text


def save(program: Program, msg: EmailMessage | bytes, name: str) -> Path:
    path = program.root / name
    path.write_bytes(msg if isinstance(msg, bytes) else msg.as_bytes())
    return path


def explain_json(program: Program, path: Path) -> dict[str, object]:
    result = program.cli("explain", str(path), "--json")
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


# --- help and usage ----------------------------------------------------------------------------


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = mentormail("--help", cwd=tmp_path)

    assert result.returncode == 0
    for command in COMMANDS:
        assert f"\n    {command} " in result.stdout, f"{command} is not listed"
    assert "-c CONFIG, --config CONFIG" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(tmp_path: Path, command: str) -> None:
    result = mentormail(command, "--help", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: mentormail {command}")
    assert "--config" in result.stdout  # every command takes -c/--config


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    result = mentormail(cwd=tmp_path)

    assert result.returncode == 2
    assert "usage: mentormail" in result.stdout + result.stderr


def test_an_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    result = mentormail("frobnicate", cwd=tmp_path)

    assert result.returncode == 2
    assert "frobnicate" in result.stderr


def test_a_missing_argument_is_a_usage_error(tmp_path: Path) -> None:
    assert mentormail("import-roster", cwd=tmp_path).returncode == 2
    assert mentormail("explain", cwd=tmp_path).returncode == 2
    assert mentormail("status", "--bogus-option", cwd=tmp_path).returncode == 2


# --- -c/--config ---------------------------------------------------------------------------------


def test_config_option_before_and_after_the_command(program: Program, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # no mentormail.toml here
    config = str(program.config)

    forms = [
        ("-c", config, "status", "--json"),
        ("--config", config, "status", "--json"),
        ("status", "-c", config, "--json"),
        ("status", "--json", "--config", config),
        (f"--config={config}", "status", "--json"),
    ]
    documents = []
    for form in forms:
        result = mentormail(*form, cwd=elsewhere)
        assert result.returncode == 0, (form, result.stderr)
        documents.append(json.loads(result.stdout))
    assert all(d == documents[0] for d in documents)
    assert {p["id"] for p in documents[0]["pairs"]} == {"p1", "p2", "p3"}


def test_config_after_the_command_wins_over_before(program: Program, tmp_path: Path) -> None:
    result = mentormail("-c", str(tmp_path / "wrong.toml"), "check-config", "-c", str(program.config), cwd=tmp_path)

    assert result.returncode == 0, result.stderr


def test_config_from_the_environment(program: Program, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    env = {**os.environ, "MENTORMAIL_CONFIG": str(program.config)}

    result = subprocess.run(
        [*MENTORMAIL, "check-config"], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("command", [("check-config",), ("status",), ("ingest", "-"), ("run",), ("explain", "-")])
def test_a_missing_config_file_is_a_one_line_error_naming_it(tmp_path: Path, command: tuple[str, ...]) -> None:
    missing = tmp_path / "nowhere" / "mentormail.toml"

    result = mentormail("-c", str(missing), *command, cwd=tmp_path, stdin="")

    one_line_error(result, str(missing))
    assert not (tmp_path / "nowhere").exists()


def test_without_c_the_default_config_is_named_when_missing(tmp_path: Path) -> None:
    one_line_error(mentormail("status", cwd=tmp_path), "mentormail.toml")


# --- init and check-config ---------------------------------------------------------------------


def test_init_writes_a_config_that_checks_ok_and_a_private_secret(tmp_path: Path) -> None:
    directory = tmp_path / "round-2026"

    result = mentormail("init", str(directory), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    config, roster, secret = directory / "mentormail.toml", directory / "roster.csv", directory / "secret"
    for path in (config, roster, secret):
        assert path.is_file()
        assert str(path) in result.stdout
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text().strip()) >= 32

    checked = mentormail("-c", str(config), "check-config", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    first, store, retention = checked.stdout.strip().splitlines()
    assert first.endswith(": OK")
    assert retention.startswith("retention: a round's per-person data is removed 365 days after the round ends")
    assert store.startswith("store: ") and "no schema yet" in store  # a new program's store is made by its first run


def test_the_starter_roster_imports_into_the_starter_config(tmp_path: Path) -> None:
    directory = tmp_path / "round"
    assert mentormail("init", str(directory), cwd=tmp_path).returncode == 0
    config = str(directory / "mentormail.toml")

    imported = mentormail("-c", config, "import-roster", str(directory / "roster.csv"), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert ": 2 added, 0 updated, 0 unchanged" in imported.stdout

    status = json.loads(mentormail("-c", config, "status", "--json", cwd=tmp_path).stdout)
    assert len(status["pairs"]) == 2
    # the store is inside DIR, whatever directory the command ran from
    assert (directory / "var").is_dir()


def test_init_twice_is_an_error_and_overwrites_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "round"
    assert mentormail("init", str(directory), cwd=tmp_path).returncode == 0
    before = {p.name: p.read_bytes() for p in directory.iterdir()}

    result = mentormail("init", str(directory), cwd=tmp_path)

    one_line_error(result, str(directory))
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_init_over_a_single_existing_secret_writes_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "round"
    directory.mkdir()
    (directory / "secret").write_text("the key reply addresses were signed with\n")

    result = mentormail("init", str(directory), cwd=tmp_path)

    one_line_error(result, "secret")
    assert sorted(p.name for p in directory.iterdir()) == ["secret"]
    assert (directory / "secret").read_text() == "the key reply addresses were signed with\n"


def test_init_where_the_folder_cannot_be_made_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    directory = tmp_path / "a-file" / "round"

    result = mentormail("init", str(directory), cwd=tmp_path)

    one_line_error(result, str(directory))


def test_check_config_rejects_a_secret_readable_by_others(program: Program) -> None:
    (program.root / "secret").chmod(0o644)

    result = program.cli("check-config", check=False)

    one_line_error(result, "secret")


# --- explain -----------------------------------------------------------------------------------

EXPLAIN_KEYS = {"outcome", "reason", "pair", "direction", "pairs", "examined", "warnings", "hops", "transit_seconds"}


def test_explain_json_for_a_cc_copy(program: Program) -> None:
    path = save(program, message("Ana Álvarez <ana@example.org>", ["ben@example.net"], [PROGRAM_ADDRESS]), "cc.eml")

    document = explain_json(program, path)

    assert set(document) == EXPLAIN_KEYS
    assert document["outcome"] == "contact"
    assert document["pair"] == "p1"
    assert document["direction"] == "mentor_to_mentee"
    assert document["pairs"] == [{"pair": "p1", "direction": "mentor_to_mentee"}]
    assert "CC" in document["reason"] and "BCC" not in document["reason"]


def test_explain_json_for_a_bcc_copy(program: Program) -> None:
    path = save(program, message("ben@example.net", ["ana@example.org"]), "bcc.eml")

    document = explain_json(program, path)

    assert set(document) == EXPLAIN_KEYS
    assert (document["outcome"], document["pair"], document["direction"]) == ("contact", "p1", "mentee_to_mentor")
    assert "BCC" in document["reason"]


def test_explain_json_for_a_message_to_both_mentees(program: Program) -> None:
    msg = message("ana@example.org", ["ben@example.net", "cleo@example.net"], [PROGRAM_ADDRESS])

    document = explain_json(program, save(program, msg, "both.eml"))

    assert document["outcome"] == "contact"
    assert sorted(p["pair"] for p in document["pairs"]) == ["p1", "p2"]  # type: ignore[union-attr]
    assert document["pair"] in ("p1", "p2")


def test_explain_json_for_an_auto_reply(program: Program) -> None:
    msg = message(
        "ben@example.net",
        ["ana@example.org"],
        [PROGRAM_ADDRESS],
        subject="Out of office",
        headers={"Auto-Submitted": "auto-replied"},
    )

    document = explain_json(program, save(program, msg, "auto.eml"))

    assert set(document) == EXPLAIN_KEYS
    assert document["outcome"] == "auto_reply"
    assert (document["pair"], document["direction"], document["pairs"]) == (None, None, [])
    assert "Auto-Submitted" in document["reason"]  # type: ignore[operator]


def test_explain_json_for_a_stranger(program: Program) -> None:
    msg = message("Someone <someone@elsewhere.example>", ["ana@example.org"], [PROGRAM_ADDRESS])

    document = explain_json(program, save(program, msg, "stranger.eml"))

    assert set(document) == EXPLAIN_KEYS
    assert document["outcome"] == "unknown_sender"
    assert (document["pair"], document["direction"], document["pairs"]) == (None, None, [])
    assert "someone@elsewhere.example" in document["reason"]  # type: ignore[operator]


def test_explain_plain_is_one_line_outcome_and_reason(program: Program) -> None:
    path = save(program, message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]), "cc.eml")

    result = program.cli("explain", str(path))

    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("contact: ")


def test_explain_reads_standard_input(program: Program) -> None:
    msg = message("eve@example.com", ["dev@example.org"], [PROGRAM_ADDRESS])

    result = program.cli("explain", "-", "--json", stdin=msg.as_bytes())

    assert json.loads(result.stdout)["pair"] == "p3"


def test_explain_changes_nothing(program: Program) -> None:
    msg = message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS])
    question = message("ben@example.net", [PROGRAM_ADDRESS])
    stranger = message("x@elsewhere.example", ["ana@example.org"], [PROGRAM_ADDRESS])
    paths = [save(program, m, f"{i}.eml") for i, m in enumerate((msg, question, stranger))]
    before = program.status()

    for path in paths:
        program.cli("explain", str(path))
        program.cli("explain", str(path), "--json")

    assert program.status() == before
    # and the message is still new to the daemon: ingesting it now counts it, not a duplicate
    ingested = program.cli("ingest", str(paths[0]))
    assert ": contact: " in ingested.stdout
    assert program.contacts()["p1"] == (1, 0)
    assert explain_json(program, paths[0])["outcome"] == "duplicate"


def test_explain_of_a_missing_file_is_a_one_line_error(program: Program) -> None:
    missing = program.root / "missing.eml"

    one_line_error(program.cli("explain", str(missing), check=False), str(missing))


def test_explain_takes_one_message(program: Program) -> None:
    path = program.root / "two.mbox"
    box = mailbox.mbox(path)
    box.add(message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]))
    box.add(message("ben@example.net", ["ana@example.org"], [PROGRAM_ADDRESS]))
    box.close()

    one_line_error(program.cli("explain", str(path), check=False), str(path), "one message")


# --- status ------------------------------------------------------------------------------------


def test_status_json_shape(program: Program) -> None:
    program.cli(
        "ingest", str(save(program, message("ana@example.org", ["ben@example.net"], [PROGRAM_ADDRESS]), "a.eml"))
    )

    document = json.loads(program.cli("status", "--json").stdout)

    assert set(document) == {"round", "pairs"} and document["round"] == "1"  # the one-round config's round
    pairs = {p["id"]: p for p in document["pairs"]}
    assert set(pairs) == {"p1", "p2", "p3"}
    for pair in pairs.values():
        assert {"id", "mentor", "mentee", "status", "contacts", "last_contact", "days_since_contact", "flags"} <= set(
            pair
        )
        assert set(pair["contacts"]) == {"mentor_to_mentee", "mentee_to_mentor", "self_reported"}
        assert all(isinstance(n, int) for n in pair["contacts"].values())
        assert isinstance(pair["flags"], list)
        assert pair["status"] == "active"
    p1, p2 = pairs["p1"], pairs["p2"]
    assert (p1["mentor"], p1["mentee"]) == ("ana@example.org", "ben@example.net")
    assert p1["contacts"] == {"mentor_to_mentee": 1, "mentee_to_mentor": 0, "self_reported": 0}
    assert isinstance(p1["last_contact"], str) and p1["last_contact"].endswith("+00:00")
    assert p1["days_since_contact"] == 0
    assert "one_sided" in p1["flags"] and "no_contact_yet" not in p1["flags"]
    assert p2["contacts"] == {"mentor_to_mentee": 0, "mentee_to_mentor": 0, "self_reported": 0}
    assert (p2["last_contact"], p2["days_since_contact"]) == (None, None)
    assert p2["flags"] == ["no_contact_yet"]


def test_status_plain_is_a_table_with_a_header_and_one_line_per_pair(program: Program) -> None:
    result = program.cli("status")

    lines = result.stdout.rstrip("\n").split("\n")
    assert len(lines) == 1 + 3
    header = lines[0].split()
    assert header[:4] == ["pair", "mentor", "mentee", "status"]
    assert "flags" in header
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"p1", "p2", "p3"}
    assert "ana@example.org" in rows["p1"] and "ben@example.net" in rows["p1"]
    assert "never" in rows["p3"] and "no_contact_yet" in rows["p3"]
    # columns line up: every row's mentor starts where the header's "mentor" does
    column = lines[0].index("mentor")
    assert all(line[column:].startswith(("ana@", "dev@")) for line in lines[1:])


def test_status_of_an_empty_program_is_just_the_header(tmp_path: Path) -> None:
    program = Program(tmp_path, free_port())

    lines = program.cli("status").stdout.strip().split("\n")
    assert len(lines) == 1 and lines[0].split()[:2] == ["pair", "mentor"]
    assert json.loads(program.cli("status", "--json").stdout) == {"round": "1", "pairs": []}


def test_status_counts_days_since_the_last_contact_and_flags_inactive_pairs(program: Program) -> None:
    from datetime import datetime, timedelta, timezone

    forty_days_ago = datetime.now(timezone.utc) - timedelta(days=40, hours=1)
    old = message("dev@example.org", ["eve@example.com"], [PROGRAM_ADDRESS], date=forty_days_ago)
    reply = message("eve@example.com", ["dev@example.org"], [PROGRAM_ADDRESS], date=forty_days_ago)
    program.cli("ingest", str(save(program, old, "old.eml")), str(save(program, reply, "reply.eml")))

    p3 = program.status()["p3"]

    assert p3["contacts"] == {"mentor_to_mentee": 1, "mentee_to_mentor": 1, "self_reported": 0}
    assert p3["days_since_contact"] == 40
    assert p3["flags"] == ["inactive_30d"]


def test_check_config_warns_of_a_zone_without_daylight_saving_time_and_passes(program: Program) -> None:
    text = program.config.read_text(encoding="utf-8").replace('timezone = "America/Chicago"', 'timezone = "EST"')
    program.config.write_text(text, encoding="utf-8")

    result = program.cli("check-config")

    assert result.stdout.splitlines()[0] == f"{program.config}: OK"
    assert result.stderr.splitlines() == [
        f"mentormail: warning: {program.config}: program.timezone: 'EST' is a fixed offset from UTC, not a place: "
        "its clock never changes for daylight saving time; use America/New_York"
    ]
