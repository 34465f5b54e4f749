"""The send rate (`[delivery] max_messages_per_minute`, `max_messages_per_day`,
`max_recipients_per_day`): a big tick's mail is spread over the minutes and days the provider
allows, not handed to the relay as one burst it refuses (Exchange Online: 30 messages a minute;
Google Workspace: 2,000 a day, then sending is suspended for up to a day).

Against a real aiosmtpd relay and a real store; the clock is the test's (virtual `now`) where
minutes must pass, and the daemon's own where only counts matter (a day's limit, which no test
outlives). Nothing here times anything: it counts what arrived and reads when each mail was
marked sent.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from conftest import Daemon, Program, wait_until
from mentormail.daemon.mail.backends import SmtpBackend
from mentormail.daemon.mail.delivery import Deliverer
from mentormail.daemon.mail.scheduler import ProgramMail
from mentormail.daemon.service import open_store
from mentormail.daemon.settings import ConfigError, SendRate, load_settings

FIRST_MORNING = datetime(2026, 9, 1, 15, tzinfo=timezone.utc)  # the test round's first day, 10:00 in Chicago


def many_pairs(program: Program, count: int) -> None:
    """A roster of `count` pairs starting on the round's first day (the pairing mail of each is due then)."""
    lines = ["mentor_email,mentor_name,mentee_email,mentee_name,pair_id,starts_on"]
    lines += [
        f"mentor{n}@example.org,Mentor {n},mentee{n}@example.net,Mentee {n},many-{n},2026-09-01" for n in range(count)
    ]
    (program.root / "many.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    program.cli("import-roster", str(program.root / "many.csv"))


def relay_config(program: Program, relay_port: int, delivery: str, host: str = "127.0.0.1") -> None:
    program.write_config(
        delivery_options=f'backend = "smtp"\n{delivery}',
        extra=f'[delivery.smtp]\nhost = "{host}"\nport = {relay_port}\nsecurity = "none"\n',
    )


def message_ids(relay) -> Counter[str]:  # type: ignore[no-untyped-def]
    with relay.lock:
        raws = [raw for _, _, raw in relay.received]
    return Counter(str(message_from_bytes(raw, policy=policy.default)["Message-ID"]) for raw in raws)


def sent_moments(program: Program) -> list[datetime]:
    rows = program.sql("SELECT sent_at FROM outboxmessage WHERE status = 'sent' ORDER BY sent_at")
    return [moment if isinstance(moment, datetime) else datetime.fromisoformat(moment) for (moment,) in rows]


def most_in_any_minute(moments: list[datetime]) -> int:
    """The most mails marked sent within any 60 seconds (a window starting at each sending)."""
    return max((sum(1 for m in moments if start <= m < start + timedelta(minutes=1)) for start in moments), default=0)


# --- the settings ---------------------------------------------------------------------------------


def rate_of(program: Program, delivery: str = "", host: str = "127.0.0.1") -> SendRate:
    relay_config(program, 2525, delivery, host)
    return load_settings(program.config).delivery.send_rate


def test_the_default_rate_is_the_providers_by_the_relays_name_and_none_for_a_relay_of_ones_own(
    program: Program,
) -> None:
    assert rate_of(program, host="smtp.office365.com") == SendRate(messages_per_minute=30, recipients_per_day=10_000)
    assert rate_of(program, host="SMTP.Gmail.com") == SendRate(messages_per_day=2_000, recipients_per_day=10_000)
    assert rate_of(program) == SendRate()  # as before: a relay of the program's own
    assert rate_of(program, "max_messages_per_minute = 12") == SendRate(messages_per_minute=12)
    # The provider's default can be lowered, or lifted with 0 (an administrator's raised limit).
    assert rate_of(program, "max_recipients_per_day = 0", host="smtp.office365.com") == SendRate(messages_per_minute=30)
    # A Maildir (the default backend, `simulate`'s preview) has no provider to refuse it.
    program.write_config(delivery_options="max_messages_per_minute = 5")
    assert load_settings(program.config).delivery.send_rate == SendRate()


def test_a_negative_rate_is_one_line_naming_the_key(program: Program) -> None:
    relay_config(program, 2525, "max_messages_per_day = -1")
    with pytest.raises(ConfigError) as refused:
        load_settings(program.config)
    assert str(refused.value) == f"{program.config}: delivery.max_messages_per_day: must be at least 0 (got -1)"
    result = program.cli("check-config", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr


# --- spread over the minutes, on a virtual clock ----------------------------------------------


def rated_mail(program: Program, relay) -> ProgramMail:  # type: ignore[no-untyped-def]
    settings = load_settings(program.config)
    store = open_store(settings)
    backend = SmtpBackend(settings.delivery.smtp, timeout=60)
    deliverer = Deliverer.configured(store, backend, settings.schedule, settings.delivery.send_rate)
    return ProgramMail(store, settings, deliverer)


def test_a_burst_is_spread_at_most_n_a_minute_across_rounds_and_none_is_lost(program: Program, relay) -> None:  # type: ignore[no-untyped-def]
    many_pairs(program, 40)
    relay_config(program, relay.controller.port, "max_messages_per_minute = 7")
    mail = rated_mail(program, relay)
    try:
        keys = mail.plan(FIRST_MORNING)
        assert len(keys) >= 40

        first = mail.deliverer.deliver_due(FIRST_MORNING)
        assert (first.sent, first.held_back) == (7, True) and len(message_ids(relay)) == 7
        # The delivery timer's rounds every few seconds within that minute send nothing more.
        for seconds in (5, 30, 59):
            report = mail.deliverer.deliver_due(FIRST_MORNING + timedelta(seconds=seconds))
            assert (report.sent, report.held_back) == (0, True)
        assert len(message_ids(relay)) == 7

        now = FIRST_MORNING + timedelta(minutes=1)
        while mail.deliverer.deliver_due(now).sent:
            now += timedelta(minutes=1)
    finally:
        mail.close()

    # Every mail arrived once, none was failed or retried, and no minute held more than 7.
    arrived = message_ids(relay)
    assert len(arrived) == len(keys) and set(arrived.values()) == {1}
    assert program.sql("SELECT status, count(*), max(attempts) FROM outboxmessage GROUP BY status") == [
        ("sent", len(keys), 0)  # attempts counts failures: none
    ]
    moments = sent_moments(program)
    assert most_in_any_minute(moments) == 7
    assert moments[-1] - moments[0] == timedelta(minutes=-(-len(keys) // 7) - 1)  # ceil(n / 7) rounds, a minute apart


def test_the_days_recipients_count_each_recipient_and_the_rest_goes_the_next_day(program: Program, relay) -> None:  # type: ignore[no-untyped-def]
    many_pairs(program, 12)
    relay_config(program, relay.controller.port, "max_recipients_per_day = 9")
    mail = rated_mail(program, relay)
    try:
        mail.plan(FIRST_MORNING)
        rows = program.sql("SELECT recipients FROM outboxmessage ORDER BY next_attempt_at, id")
        for hours in range(0, 24, 3):
            mail.deliverer.deliver_due(FIRST_MORNING + timedelta(hours=hours))
        with relay.lock:
            people = sum(len(to) for _, to, _ in relay.received)
        # The mails in the outbox's order, as many as fit in 9 recipients (a mail to two counts two).
        fitting, budget = 0, 9
        for (to,) in rows:
            if len(to.split()) > budget:
                break
            budget -= len(to.split())
            fitting += 1
        assert len(message_ids(relay)) == fitting and people <= 9

        mail.deliverer.deliver_due(FIRST_MORNING + timedelta(days=1))
        assert len(message_ids(relay)) > fitting  # a day after the first, the next day's share
    finally:
        mail.close()


# --- the daemon -----------------------------------------------------------------------------------


def test_the_daemon_keeps_a_days_limit_across_its_rounds_and_a_restart(
    program: Program, daemon: Daemon, relay  # type: ignore[no-untyped-def]
) -> None:
    many_pairs(program, 10)
    relay_config(program, relay.controller.port, "max_messages_per_day = 4")
    schedule = '\n[schedule]\nsend_time = "00:00"\nplanner_interval_minutes = 1\n'
    program.write_config(extra=program.extra_config + schedule)

    daemon.start()
    held = "send rate reached (at most 4 mails a day ([delivery] max_messages_per_day))"
    wait_until(lambda: held in daemon.log(), 120)
    assert len(message_ids(relay)) == 4
    assert daemon.stop() == 0

    # Started again the same day, it counts what its predecessor sent: nothing more goes out.
    daemon.start()
    wait_until(lambda: daemon.log().count("send rate reached") == 2, 120)
    assert len(message_ids(relay)) == 4
    assert daemon.stop() == 0
    pending = program.sql("SELECT count(*) FROM outboxmessage WHERE status = 'pending'")[0][0]
    assert pending >= 6 and program.sql("SELECT count(*) FROM outboxmessage WHERE status = 'failed'") == [(0,)]
