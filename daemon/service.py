"""`mentormail run`: the long-running process.

It owns the event loop (SMTP/LMTP intake), the IMAP watcher thread, the scheduler of the
program's own mail (planner tick and delivery), and a clean shutdown: on
SIGTERM or SIGINT it stops accepting connections, lets the message in hand finish, and closes
the store. A message that was not committed by then was not acknowledged, so its sender (MTA or
IMAP server) still has it.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from ..store import queries
from ..store.db import Store
from ..store.locks import SingleDaemon
from .intake.ingest import Intake, IntakePolicy, utc_now
from .intake.smtp import IntakeHandler, server_class
from .mail.compose import Composer
from .mail.scheduler import ProgramMail, Scheduler
from .replies.effects import ReplyEffects
from .settings import ConfigError, Settings

log = logging.getLogger("mentormail.run")


class CannotListen(Exception):
    """The intake port is taken (another daemon, another program) or not ours to take: one line
    for the command line to print, naming the address and what to do."""

    def __init__(self, host: str, port: int, error: OSError) -> None:
        if error.errno == errno.EADDRINUSE:
            reason = "address already in use (by another daemon or server: stop it, or change intake.smtp.port)"
        else:
            reason = os.strerror(error.errno).lower() if error.errno else type(error).__name__
        super().__init__(f"cannot listen on {host}:{port}: {reason}")


def open_store(settings: Settings, *, durable: bool = True) -> Store:
    """Open the store, apply migrations, and keep the program row in step with the config."""
    store = Store.open(settings.store.url, durable=durable)
    program, first = settings.program, settings.rounds[0]
    try:
        with store.session() as session:
            people = settings.people
            staff = (*people.coordinators, *((people.liaison,) if people.liaison else ()))
            queries.sync_program(
                session, program.name, program.address, first.starts_on, first.months, staff, dict(people.names)
            )
            queries.sync_rounds(session, store_rounds(settings))
    except queries.RoundsMissing as missing:
        store.close()
        raise ConfigError(f"{settings.path}: rounds: {missing}") from None
    return store


def store_rounds(settings: Settings) -> list[queries.RoundDates]:
    """The config's rounds as the store keeps them."""
    return [queries.RoundDates(r.id, r.starts_on, r.months, r.last_day) for r in settings.rounds]


def build_intake(settings: Settings, store: Store, clock: Callable[[], datetime] = utc_now) -> Intake:
    """Intake as the config makes it: who the coordinators are, whose authentication to trust,
    and the effects of replies (answers go out through the outbox)."""
    policy = IntakePolicy(
        coordinators=frozenset(settings.people.coordinators),
        trusted_authserv_id=settings.security.trusted_authserv_id,
        zone=settings.program.zone,
    )
    effects = ReplyEffects(settings, Composer.for_settings(settings))
    return Intake(store, settings.program.address, settings.secret(), clock, policy=policy, effects=effects)


def run(settings: Settings) -> None:
    for warning in settings.warnings:  # valid, but probably not what was meant: said once, at start
        log.warning("%s", warning)
    with SingleDaemon(settings.store.url):  # a second `run` on one SQLite file is refused here
        store = open_store(settings)
        if not store.shared:
            # This daemon is the store's only one: a claim on outgoing mail is a killed
            # predecessor's, and waiting out its lease would only delay that mail.
            with store.session() as session:
                queries.release_claims(session)
        intake = build_intake(settings, store)
        try:
            asyncio.run(_serve(settings, intake))
        finally:
            store.close()
            log.info("stopped")


async def _serve(settings: Settings, intake: Intake) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)

    handler = None
    server = None
    smtp = settings.intake_smtp
    if smtp.enabled:
        handler = IntakeHandler(intake, settings.program.address, lmtp=smtp.lmtp)
        protocol = server_class(smtp.lmtp)
        try:
            server = await loop.create_server(
                lambda: protocol(
                    handler,
                    data_size_limit=smtp.max_message_bytes,
                    enable_SMTPUTF8=True,
                    hostname=settings.program.domain,
                    ident="mentormail",
                ),
                host=smtp.host,
                port=smtp.port,
            )
        except OSError as error:
            handler.close()
            raise CannotListen(smtp.host, smtp.port, error) from None
        log.info("%s intake listening on %s:%d", "LMTP" if smtp.lmtp else "SMTP", smtp.host, smtp.port)

    imap_stop = threading.Event()
    imap_thread = None
    if settings.intake_imap.enabled:
        from .intake.imap import ImapWatcher

        watcher = ImapWatcher(settings.intake_imap, intake, settings.program.address, imap_stop)
        imap_thread = threading.Thread(target=watcher.run, name="imap-intake", daemon=True)
        imap_thread.start()
        log.info("IMAP intake watching %s on %s", settings.intake_imap.folder, settings.intake_imap.host)

    workers = 1 if settings.schedule.compose_in_worker else 0  # see composing.py
    program_mail = ProgramMail(intake.store, settings, compose_workers=workers)
    scheduler = Scheduler(program_mail, timedelta(minutes=settings.schedule.planner_interval_minutes))
    scheduler.start()
    log.info("mentormail running for %s", settings.program.address)
    await stopping.wait()
    log.info("shutting down")
    await loop.run_in_executor(None, scheduler.shutdown)
    if server is not None:
        server.close()
        await server.wait_closed()
    if handler is not None:
        await loop.run_in_executor(None, handler.close)
    imap_stop.set()
    if imap_thread is not None:
        await loop.run_in_executor(None, imap_thread.join, 30)
