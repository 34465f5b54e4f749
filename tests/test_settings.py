"""daemon/settings.py and daemon/starter.py: the config file, its errors, and `init`."""

from __future__ import annotations

import os
import stat
from datetime import date, time
from pathlib import Path

import pytest

from mentormail.daemon.settings import (
    ConfigError,
    ScheduleSettings,
    Settings,
    SurveyQuestion,
    SurveySettings,
    TopicSettings,
    load_settings,
)
from mentormail.daemon.operation.starter import create_starter

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config" / "example.toml"

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
"""


SURVEY = """
[[surveys]]
id = "end"
title = "Feedback"
audience = "both"
[[surveys.questions]]
id = "q1"
text = "Worth it?"
kind = "scale"
"""

SCALE = ("strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree")


def question(question_id: str, body: str) -> str:
    """One more [[surveys.questions]] for SURVEY; `body` gives its kind and labels."""
    return f'[[surveys.questions]]\nid = "{question_id}"\ntext = "Which?"\n{body}\n'


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mentormail.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_secret(path: Path, mode: int) -> None:
    path.write_text("k" * 64 + "\n", encoding="ascii")
    path.chmod(mode)  # explicit, whatever the umask is


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_example_config_loads() -> None:
    settings = load_settings(EXAMPLE)

    assert settings.path == EXAMPLE
    assert settings.program.name == "Example Library Association: new-librarian mentoring"
    assert settings.program.address == "mentoring@example.org"
    assert settings.program.domain == "example.org"
    assert settings.program.starts_on == date(2026, 9, 1)
    assert settings.program.months == 9
    assert settings.program.zone.key == "America/Chicago"
    # Relative paths lead from config/ to the checkout's var/, not from the working directory.
    assert settings.program.secret_file == REPO / "var" / "secret"
    assert settings.store.url == f"sqlite:///{REPO}/var/mentormail.db"
    assert settings.delivery.backend == "maildir"
    assert settings.delivery.maildir == REPO / "var" / "outbox"
    assert settings.intake_smtp.enabled and settings.intake_smtp.port == 8025
    assert not settings.intake_imap.enabled
    assert settings.people.coordinators == ("coordinator@example.org",)
    assert settings.people.liaison == "liaison@example.org"
    assert settings.templates_dir is None


def test_example_config_documents_the_schedule_defaults() -> None:
    assert load_settings(EXAMPLE).schedule == ScheduleSettings()


def test_example_config_has_nine_topics_and_a_feedback_survey() -> None:
    settings = load_settings(EXAMPLE)

    assert len(settings.topics) == settings.program.months == 9
    assert settings.topics[0].title.startswith("Getting to know each other")
    assert settings.topics[1].title == "Creating and attaining goals"
    assert settings.topics[8].title == "Looking back and looking ahead"
    assert all(3 <= len(topic.prompts) <= 4 and 1 <= len(topic.resources) <= 2 for topic in settings.topics)
    assert ("American Library Association", "https://www.ala.org/") in settings.topics[2].resources
    (survey,) = settings.surveys
    assert (survey.id, survey.audience, survey.opens_days_before_end, survey.closes_days_after_end) == (
        "end-of-round", "both", 21, 14,
    )  # fmt: skip
    assert {question.kind for question in survey.questions} == {"scale", "yesno", "choice", "text"}
    assert survey.questions[0].labels == SCALE


def test_defaults_fill_everything_but_the_required_keys(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, PROGRAM))

    assert settings.program.months == 9
    assert settings.program.timezone == "UTC"
    assert settings.program.secret_file == tmp_path / "secret"
    assert settings.store.url == f"sqlite:///{tmp_path}/var/mentormail.db"
    smtp = settings.intake_smtp
    assert (smtp.enabled, smtp.host, smtp.port, smtp.lmtp, smtp.max_message_bytes) == (
        True, "127.0.0.1", 8025, False, 26214400,
    )  # fmt: skip
    imap = settings.intake_imap
    assert (imap.enabled, imap.port, imap.security, imap.folder) == (False, 993, "ssl", "INBOX")
    assert (imap.after_logging, imap.move_to, imap.idle_seconds) == ("delete", None, 1500)
    assert settings.delivery.backend == "maildir"
    assert settings.delivery.maildir == tmp_path / "var" / "outbox"
    relay = settings.delivery.smtp
    assert (relay.host, relay.port, relay.security, relay.username) == ("localhost", 587, "starttls", "")
    assert settings.people.coordinators == ()
    assert settings.people.liaison is None
    assert (settings.topics, settings.surveys, settings.templates_dir) == ((), (), None)


def test_schedule_defaults(tmp_path: Path) -> None:
    schedule = load_settings(write_config(tmp_path, PROGRAM)).schedule

    assert schedule == ScheduleSettings(
        send_time=time(9, 0),
        intro_within_days=7,
        intro_reminders_max=2,
        inactive_after_days=30,
        checkin_day_of_month=15,
        liaison_summary_weekday="monday",
        liaison_summary_time=time(9, 0),
        digest_time=time(8, 0),
        survey_days_before_end=21,
        delivery_give_up_hours=48,
        planner_interval_minutes=5,
    )


def test_schedule_times_may_be_toml_times_or_strings(tmp_path: Path) -> None:
    text = PROGRAM + '[schedule]\nsend_time = 10:30:00\ndigest_time = "07:45"\nliaison_summary_weekday = "friday"\n'

    schedule = load_settings(write_config(tmp_path, text)).schedule

    assert (schedule.send_time, schedule.digest_time) == (time(10, 30), time(7, 45))
    assert schedule.liaison_summary_weekday == "friday"


def test_topics_with_inline_and_table_resources(tmp_path: Path) -> None:
    text = PROGRAM + (
        '[[topics]]\ntitle = " Goals "\nprompts = ["What next?"]\n'
        'resources = [{ title = "ALA", url = "https://www.ala.org/" }]\n'
        '[[topics]]\ntitle = "Resources"\n'
        '[[topics.resources]]\ntitle = "IFLA"\nurl = "https://www.ifla.org/"\n'
    )

    topics = load_settings(write_config(tmp_path, text)).topics

    assert topics == (
        TopicSettings(title="Goals", prompts=("What next?",), resources=(("ALA", "https://www.ala.org/"),)),
        TopicSettings(title="Resources", prompts=(), resources=(("IFLA", "https://www.ifla.org/"),)),
    )


def test_survey_defaults_come_from_the_schedule(tmp_path: Path) -> None:
    text = PROGRAM + "[schedule]\nsurvey_days_before_end = 28\n" + SURVEY

    (survey,) = load_settings(write_config(tmp_path, text)).surveys

    assert survey == SurveySettings(
        id="end",
        title="Feedback",
        audience="both",
        opens_days_before_end=28,
        closes_days_after_end=14,
        questions=(SurveyQuestion(id="q1", text="Worth it?", kind="scale", labels=SCALE),),
    )


def test_survey_question_labels(tmp_path: Path) -> None:
    labels = '["no", "a little", "some", "much", "very much"]'
    text = PROGRAM + SURVEY + question("q2", f'kind = "scale"\nlabels = {labels}')
    text += question("q3", 'kind = "choice"\nlabels = ["weekly", "monthly"]') + question("q4", 'kind = "yesno"')

    questions = load_settings(write_config(tmp_path, text)).surveys[0].questions

    assert [(q.id, q.kind, q.labels) for q in questions] == [
        ("q1", "scale", SCALE),
        ("q2", "scale", ("no", "a little", "some", "much", "very much")),
        ("q3", "choice", ("weekly", "monthly")),
        ("q4", "yesno", ()),
    ]


def test_templates_dir_is_resolved_against_the_config_directory(tmp_path: Path) -> None:
    (tmp_path / "my-templates").mkdir()
    text = 'templates_dir = "my-templates"\n' + PROGRAM

    assert load_settings(write_config(tmp_path, text)).templates_dir == tmp_path / "my-templates"


def test_addresses_are_normalised_and_dates_may_be_strings(tmp_path: Path) -> None:
    text = PROGRAM.replace("mentoring@example.org", "Mentoring <Mentoring@Example.ORG>")
    text = text.replace("2026-09-01", '"2026-09-01"')
    text += '[people]\ncoordinators = ["Ana Coord <Ana@Example.org>"]\nliaison = "LIAISON@example.org"\n'

    settings = load_settings(write_config(tmp_path, text))

    assert settings.program.address == "mentoring@example.org"
    assert settings.program.starts_on == date(2026, 9, 1)
    assert settings.people.coordinators == ("ana@example.org",)
    assert settings.people.liaison == "liaison@example.org"


def test_security_and_letters_are_read(tmp_path: Path) -> None:
    text = PROGRAM + '[security]\ntrusted_authserv_id = "MX.Example.org"\n[letters]\nauto_approve_completed = true\n'

    settings = load_settings(write_config(tmp_path, text))
    assert settings.security.trusted_authserv_id == "mx.example.org"
    assert settings.letters.auto_approve_completed is True


def test_a_misspelt_security_key_is_an_error(tmp_path: Path) -> None:
    text = PROGRAM + '[security]\ntrusted_server = "mx.example.org"\n'

    with pytest.raises(ConfigError, match=r"security\.trusted_server: unknown key"):
        load_settings(write_config(tmp_path, text))


def test_after_logging_move_names_a_folder(tmp_path: Path) -> None:
    text = PROGRAM + IMAP + 'password = "pw"\nafter_logging = "move:Logged"\n'

    assert load_settings(write_config(tmp_path, text)).intake_imap.move_to == "Logged"


def test_password_file_is_read_without_its_newline_and_kept_out_of_repr(tmp_path: Path) -> None:
    (tmp_path / "imap-password").write_text("s3cret pass\n", encoding="utf-8")
    (tmp_path / "imap-password").chmod(0o600)  # as the secret's: readable by others is refused
    text = PROGRAM + IMAP + 'password_file = "imap-password"\n'

    settings = load_settings(write_config(tmp_path, text))

    assert settings.intake_imap.password == "s3cret pass"
    assert "s3cret" not in repr(settings)


def test_password_file_of_a_disabled_transport_is_not_read(tmp_path: Path) -> None:
    text = PROGRAM + '[delivery.smtp]\nusername = "relay"\npassword_file = "missing"\n'

    assert load_settings(write_config(tmp_path, text)).delivery.smtp.password == ""


# Each kind of error: the message is one line naming the file, the key and what is wrong.
ERRORS = [
    pytest.param(
        PROGRAM.replace('name = "Test mentoring"\n', ""),
        "program.name: missing (required)",
        id="missing-required-key",
    ),
    pytest.param(
        PROGRAM + 'months = "9"\n',
        "program.months: must be an integer (got '9')",
        id="wrong-type",
    ),
    pytest.param(
        PROGRAM + "months = 40\n",
        "program.months: must be at most 36 (got 40)",
        id="out-of-range",
    ),
    pytest.param(
        PROGRAM + "[intake.smtp]\nenabled = 1\n",
        "intake.smtp.enabled: must be true or false (got 1)",
        id="integer-for-boolean",
    ),
    pytest.param(
        PROGRAM.replace("2026-09-01", "2026-09-01T09:00:00"),
        "program.starts_on: must be a date like 2026-09-01 (got 2026-09-01T09:00:00)",
        id="datetime-for-date",
    ),
    pytest.param(
        PROGRAM.replace('"mentoring@example.org"', '"mentoring at example.org"'),
        "program.address: not a valid email address (got 'mentoring at example.org')",
        id="bad-address",
    ),
    pytest.param(
        PROGRAM.replace('"mentoring@example.org"', '"mentoring+x@example.org"'),
        "program.address: must not contain '+' (got 'mentoring+x@example.org')",
        id="plus-in-program-address",
    ),
    pytest.param(
        PROGRAM + '[people]\ncoordinators = ["ok@example.org", "nobody"]\n',
        "people.coordinators[1]: not a valid email address (got 'nobody')",
        id="bad-address-in-list",
    ),
    pytest.param(
        PROGRAM + 'timezone = "America/Chicgo"\n',
        "program.timezone: unknown time zone (got 'America/Chicgo'); use a name like America/Chicago",
        id="bad-timezone",
    ),
    pytest.param(
        PROGRAM + '[intake.imap]\nsecurity = "tls"\n',
        "intake.imap.security: must be one of ssl, starttls, none (got 'tls')",
        id="bad-security",
    ),
    pytest.param(
        PROGRAM + '[intake.imap]\nafter_logging = "archive"\n',
        "intake.imap.after_logging: must be delete, keep or move:FOLDER (got 'archive')",
        id="bad-after-logging",
    ),
    pytest.param(
        PROGRAM + '[intake.imap]\nafter_logging = "move:"\n',
        "intake.imap.after_logging: must be delete, keep or move:FOLDER (got 'move:')",
        id="move-without-folder",
    ),
    pytest.param(
        PROGRAM.replace("address =", "adress ="),
        "program.adress: unknown key (did you mean 'address'?)",
        id="unknown-key",
    ),
    pytest.param(
        PROGRAM + "[intake.smtp]\nverbose = true\n",
        "intake.smtp.verbose: unknown key (expected one of: enabled, host, port, lmtp, max_message_bytes)",
        id="unknown-key-without-a-close-match",
    ),
    pytest.param(
        PROGRAM + '[delivry]\nbackend = "smtp"\n',
        "delivry: unknown section (did you mean 'delivery'?)",
        id="unknown-section",
    ),
    pytest.param(
        PROGRAM + IMAP,
        "intake.imap.password: required (or password_file) when intake.imap.enabled = true",
        id="imap-without-password",
    ),
    pytest.param(
        PROGRAM + IMAP.replace('host = "imap.example.org"\n', "") + 'password = "pw"\n',
        "intake.imap.host: required when intake.imap.enabled = true",
        id="imap-without-host",
    ),
    pytest.param(
        PROGRAM + IMAP + 'password = "pw"\npassword_file = "imap-password"\n',
        "intake.imap.password_file: give password or password_file, not both",
        id="password-and-password-file",
    ),
    pytest.param(
        PROGRAM + '[delivery]\nbackend = "smtp"\n[delivery.smtp]\npassword = 12345\n',
        "delivery.smtp.password: must be a string",  # the value is never echoed
        id="password-wrong-type-not-echoed",
    ),
    pytest.param(
        PROGRAM.replace('"mentoring@example.org"', '"new-librarian-mentoring@example.org"'),
        "program.address: the part before @ must be at most 16 characters, so that reply addresses (+TOKEN) "
        "fit the limit of 64 (got 'new-librarian-mentoring', 23)",
        id="program-local-part-too-long",
    ),
    # [schedule]
    pytest.param(
        PROGRAM + '[schedule]\nsend_time = "9am"\n',
        "schedule.send_time: must be a time like 09:00 (got '9am')",
        id="bad-time",
    ),
    pytest.param(
        PROGRAM + '[schedule]\ndigest_time = "24:00"\n',
        "schedule.digest_time: hour must be in 0..23 (got '24:00')",
        id="time-out-of-range",
    ),
    pytest.param(
        PROGRAM + "[schedule]\nsend_time = 2026-09-01T09:00:00\n",
        "schedule.send_time: must be a time like 09:00 (got 2026-09-01T09:00:00)",
        id="datetime-for-time",
    ),
    pytest.param(
        PROGRAM + '[schedule]\nliaison_summary_weekday = "Mon"\n',
        "schedule.liaison_summary_weekday: must be one of monday, tuesday, wednesday, thursday, friday, "
        "saturday, sunday (got 'Mon')",
        id="bad-weekday",
    ),
    pytest.param(
        PROGRAM + "[schedule]\ncheckin_day_of_month = 31\n",
        "schedule.checkin_day_of_month: must be at most 28 (got 31)",
        id="checkin-day-beyond-28",
    ),
    pytest.param(
        PROGRAM + "[schedule]\ninactive_after_days = 0\n",
        "schedule.inactive_after_days: must be at least 1 (got 0)",
        id="zero-days",
    ),
    # [[topics]]
    pytest.param(
        PROGRAM + '[topics]\n"1" = "Professional resources"\n',
        "topics: must be written as [[topics]] tables (got a table)",
        id="topics-as-a-table",
    ),
    pytest.param(
        'topics = ["Goals"]\n' + PROGRAM,
        "topics[0]: must be a table (got 'Goals')",
        id="topic-not-a-table",
    ),
    pytest.param(
        PROGRAM + '[[topics]]\ntitle = "A"\n[[topics]]\ntitle = "B"\n[[topics]]\nprompts = ["C?"]\n',
        "topics[2].title: missing (required)",
        id="topic-without-title",
    ),
    pytest.param(
        PROGRAM + '[[topics]]\ntitle = "  "\n',
        "topics[0].title: must not be empty",
        id="empty-title",
    ),
    pytest.param(
        PROGRAM + '[[topics]]\ntitle = "Goals"\nprompts = ["Why?", 3]\n',
        "topics[0].prompts[1]: must be a string (got 3)",
        id="prompt-not-a-string",
    ),
    pytest.param(
        PROGRAM + '[[topics]]\ntitle = "Goals"\nprompt = ["Why?"]\n',
        "topics[0].prompt: unknown key (did you mean 'prompts'?)",
        id="unknown-topic-key",
    ),
    pytest.param(
        PROGRAM + '[[topics]]\ntitle = "Goals"\nresources = [{ title = "ALA", url = "www.ala.org" }]\n',
        "topics[0].resources[0].url: must be an http or https URL (got 'www.ala.org')",
        id="bad-resource-url",
    ),
    pytest.param(
        PROGRAM + '[[topics]]\ntitle = "Goals"\nresources = [{ url = "https://www.ala.org/" }]\n',
        "topics[0].resources[0].title: missing (required)",
        id="resource-without-title",
    ),
    # [[surveys]]
    pytest.param(
        PROGRAM
        + SURVEY
        + question("q2", 'kind = "yesno"')
        + question("q3", 'kind = "text"')
        + question("q4", 'kind = "rating"'),
        "surveys[0].questions[3].kind: must be one of scale, yesno, choice, text (got 'rating')",
        id="bad-question-kind",
    ),
    pytest.param(
        PROGRAM + SURVEY.replace('audience = "both"', 'audience = "everyone"'),
        "surveys[0].audience: must be one of mentors, mentees, both (got 'everyone')",
        id="bad-audience",
    ),
    pytest.param(
        PROGRAM + SURVEY.replace('audience = "both"\n', ""),
        "surveys[0].audience: missing (required)",
        id="survey-without-audience",
    ),
    pytest.param(
        PROGRAM + SURVEY.replace('id = "end"', 'id = "End of round"'),
        "surveys[0].id: must be lower-case letters, digits, '-' or '_' (got 'End of round')",
        id="bad-survey-id",
    ),
    pytest.param(
        PROGRAM + SURVEY.replace('id = "end"', 'id = "end-of-round-feedback"'),
        "surveys[0].id: must be at most 13 characters: reply addresses carry it (got 'end-of-round-feedback')",
        id="survey-id-too-long",
    ),
    pytest.param(
        PROGRAM + SURVEY + SURVEY,
        "surveys[1].id: 'end' is also the id of surveys[0]",
        id="duplicate-survey-id",
    ),
    pytest.param(
        PROGRAM + SURVEY + question("q1", 'kind = "yesno"'),
        "surveys[0].questions[1].id: 'q1' is also the id of surveys[0].questions[0]",
        id="duplicate-question-id",
    ),
    pytest.param(
        PROGRAM + SURVEY[: SURVEY.index("[[surveys.questions]]")],
        "surveys[0].questions: missing (required)",
        id="survey-without-questions",
    ),
    pytest.param(
        PROGRAM + SURVEY[: SURVEY.index("[[surveys.questions]]")] + "questions = []\n",
        "surveys[0].questions: must have at least one [[surveys.questions]]",
        id="survey-with-empty-questions",
    ),
    pytest.param(
        PROGRAM + SURVEY + question("q2", 'kind = "scale"\nlabels = ["low", "mid", "high"]'),
        "surveys[0].questions[1].labels: a scale needs 5 labels, for 1 to 5 (got 3)",
        id="scale-without-five-labels",
    ),
    pytest.param(
        PROGRAM + SURVEY + question("q2", 'kind = "choice"\nlabels = ["only"]'),
        "surveys[0].questions[1].labels: a choice needs at least 2 choices (got 1)",
        id="choice-with-one-label",
    ),
    pytest.param(
        PROGRAM + SURVEY + question("q2", 'kind = "choice"'),
        "surveys[0].questions[1].labels: a choice needs at least 2 choices (got 0)",
        id="choice-without-labels",
    ),
    pytest.param(
        PROGRAM + SURVEY + question("q2", 'kind = "choice"\nlabels = ["Weekly", "monthly", "weekly"]'),
        "surveys[0].questions[1].labels: must all differ (got 'weekly' twice)",
        id="repeated-label",
    ),
    pytest.param(
        PROGRAM + SURVEY + question("q2", 'kind = "yesno"\nlabels = ["yes", "no"]'),
        "surveys[0].questions[1].labels: only for kind scale or choice (this question's kind is yesno)",
        id="labels-on-yesno",
    ),
]


@pytest.mark.parametrize(("text", "problem"), ERRORS)
def test_config_error_names_file_key_and_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = write_config(tmp_path, text)

    assert config_error(path) == f"{path}: {problem}"


def test_templates_dir_that_does_not_exist(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'templates_dir = "mine"\n' + PROGRAM)

    assert config_error(path) == f"{path}: templates_dir: {tmp_path / 'mine'} does not exist"


def test_templates_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "mine").write_text("", encoding="utf-8")
    path = write_config(tmp_path, 'templates_dir = "mine"\n' + PROGRAM)

    assert config_error(path) == f"{path}: templates_dir: {tmp_path / 'mine'} is not a directory"


def test_password_file_that_cannot_be_read(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROGRAM + IMAP + 'password_file = "imap-password"\n')

    assert config_error(path) == (
        f"{path}: intake.imap.password_file: cannot read {tmp_path / 'imap-password'}: No such file or directory"
    )


def test_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROGRAM + "months 9\n")

    assert config_error(path) == (f"{path}: line 6: Expected '=' after a key in a key/value pair (column 8)")


def test_missing_config_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"

    assert config_error(path) == f"{path}: cannot read: No such file or directory"


def test_secret_is_read_from_a_private_file(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, PROGRAM))
    write_secret(tmp_path / "secret", 0o600)

    assert settings.secret() == b"k" * 64


def test_missing_secret_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROGRAM)
    settings = load_settings(path)

    with pytest.raises(ConfigError) as raised:
        settings.secret()

    assert str(raised.value) == (
        f"{path}: program.secret_file: cannot read {tmp_path / 'secret'} (run `mentormail init` or create it)"
    )


def test_empty_secret_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROGRAM)
    (tmp_path / "secret").touch(mode=0o600)

    with pytest.raises(ConfigError) as raised:
        load_settings(path).secret()

    assert str(raised.value) == (
        f"{path}: program.secret_file: {tmp_path / 'secret'} is empty (run `mentormail init` or create it)"
    )


def test_secret_file_readable_by_others_is_rejected(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROGRAM)
    secret = tmp_path / "secret"
    write_secret(secret, 0o644)

    with pytest.raises(ConfigError) as raised:
        load_settings(path).secret()

    assert str(raised.value) == (
        f"{path}: program.secret_file: {secret} has mode 0644; it must be 0600 (chmod 600 {secret})"
    )


def test_starter_writes_a_config_that_loads(tmp_path: Path) -> None:
    directory = tmp_path / "new" / "mentormail"

    written = create_starter(directory)

    config, roster, secret = (directory / "mentormail.toml", directory / "roster.csv", directory / "secret")
    assert written == [config, roster, secret]
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    assert roster.read_text(encoding="utf-8").splitlines()[0] == (
        "mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on"
    )
    assert len(roster.read_text(encoding="utf-8").splitlines()) == 3
    settings: Settings = load_settings(config)
    assert settings.program.secret_file == secret
    assert settings.store.url == f"sqlite:///{directory}/var/mentormail.db"
    assert settings.delivery.maildir == directory / "var" / "outbox"
    key = settings.secret()
    assert len(key) == 64 and int(key, 16) >= 0


def test_starter_makes_a_new_key_each_time(tmp_path: Path) -> None:
    create_starter(tmp_path / "a")
    create_starter(tmp_path / "b")

    assert (tmp_path / "a" / "secret").read_bytes() != (tmp_path / "b" / "secret").read_bytes()


def test_starter_refuses_to_overwrite(tmp_path: Path) -> None:
    written = create_starter(tmp_path)
    before = {path: path.read_bytes() for path in written}

    with pytest.raises(FileExistsError) as raised:
        create_starter(tmp_path)

    assert str(raised.value) == (
        f"{tmp_path / 'mentormail.toml'}: already exists; nothing was written (init never overwrites)"
    )
    assert {path: path.read_bytes() for path in written} == before


def test_starter_writes_nothing_if_any_file_exists(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text("mine\n", encoding="utf-8")

    with pytest.raises(FileExistsError):
        create_starter(tmp_path)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["roster.csv"]
    assert (tmp_path / "roster.csv").read_text(encoding="utf-8") == "mine\n"


# --- issue 10: config that passed although it was wrong ------------------------------------------


@pytest.mark.parametrize(
    ("zone", "suggestion"),
    [
        ("EST", "America/New_York"),
        ("MST", "America/Denver (or America/Phoenix, which keeps standard time all year)"),
        ("Etc/GMT+5", "a place's name like America/Chicago"),
        ("GMT", "a place's name like America/Chicago"),
    ],
)
def test_a_zone_that_is_an_abbreviation_or_a_fixed_offset_passes_with_a_warning(
    tmp_path: Path, zone: str, suggestion: str
) -> None:
    path = write_config(tmp_path, PROGRAM + f'timezone = "{zone}"\n')

    settings = load_settings(path)

    assert settings.program.timezone == zone  # a warning, not an error: it may be meant
    assert settings.warnings == (
        f"{path}: program.timezone: {zone!r} is a fixed offset from UTC, not a place: its clock never "
        f"changes for daylight saving time; use {suggestion}",
    )


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "UTC", "US/Eastern", "EST5EDT"])
def test_a_place_zone_or_utc_passes_without_a_warning(tmp_path: Path, zone: str) -> None:
    assert load_settings(write_config(tmp_path, PROGRAM + f'timezone = "{zone}"\n')).warnings == ()


def test_weekday_names_are_read_whatever_their_case(tmp_path: Path) -> None:
    text = PROGRAM + '[schedule]\nliaison_summary_weekday = "Monday"\n'

    assert load_settings(write_config(tmp_path, text)).schedule.liaison_summary_weekday == "monday"


@pytest.mark.parametrize(
    ("section", "key"),
    [(IMAP, "intake.imap.password_file"), ('[delivery]\nbackend = "smtp"\n[delivery.smtp]\nusername = "relay"\n',
                                            "delivery.smtp.password_file")],
)  # fmt: skip
def test_a_password_file_readable_by_others_is_refused_as_the_secret_is(tmp_path: Path, section: str, key: str) -> None:
    secret = tmp_path / "password"
    write_secret(secret, 0o644)
    path = write_config(tmp_path, PROGRAM + section + 'password_file = "password"\n')

    assert config_error(path) == f"{path}: {key}: {secret} has mode 0644; it must be 0600 (chmod 600 {secret})"

    secret.chmod(0o600)
    assert load_settings(path)  # and once private, it is read


def test_staff_names_are_kept_beside_their_addresses(tmp_path: Path) -> None:
    text = PROGRAM + (
        '[people]\ncoordinators = ["Cora Ordin <Coordinator@Example.org>", "plain@example.org"]\n'
        'liaison = "Lia Ison <liaison@example.org>"\n'
    )

    people = load_settings(write_config(tmp_path, text)).people

    assert people.coordinators == ("coordinator@example.org", "plain@example.org")
    assert people.liaison == "liaison@example.org"
    assert people.name_of("liaison@example.org") == "Lia Ison"
    assert people.name_of("coordinator@example.org") == "Cora Ordin"
    assert people.name_of("plain@example.org") == ""


def test_a_staff_name_with_a_line_break_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROGRAM + '[people]\nliaison = "Lia\\nIson <liaison@example.org>"\n')

    assert config_error(path).startswith(f"{path}: people.liaison: ")
