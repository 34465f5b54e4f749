"""A planner tick: what is due goes into the outbox, once; a mail that cannot be made is set aside.

The planner is pure; this is where its answer meets the store. Each due mail is composed and
enqueued under its key, a bounded batch to a transaction, so a tick can run again at any moment
(after a crash, on a second daemon) and add nothing twice, and no transaction grows with the
size of the program.

Like a GNU Mailman runner that shunts a message it cannot handle, a mail that cannot be composed
(a template that fails on one person's data, a forwarded question no encoder can write) does not
stop the rest: it is enqueued as `failed` with its reason, so the coordinators' next digest and
`mentormail outbox --failed` list it, and every other mail goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from ...store import queries
from ...store.db import Store
from ...store.models import OutboxMessage
from ...store.planner_state import PlannerState
from ..logs import describe_exception
from .compose import Attachment, Composer
from .planner import Calendar, DueMail, due_mail
from .render import TemplateError

log = logging.getLogger("mentormail.outbox")

# Mails composed and enqueued per transaction: small enough that a tick of 10,000 pairs never
# holds the database's write lock for long, large enough that commits do not dominate.
BATCH_SIZE = 100


def tick(
    store: Store, calendar: Calendar, composer: Composer, now: datetime, state: PlannerState | None = None
) -> list[str]:
    """Enqueue everything due at `now`; returns the keys that were added (set-aside ones included).

    `state` may be given by a caller that knows it is current (`simulate` keeps one between
    ticks); a stale one is harmless, since enqueuing a key the outbox already holds does nothing.
    """
    if state is None:
        with store.session() as session:
            state = queries.planner_state(session)
    due = due_mail(calendar, state, now)
    added: list[str] = []
    for start in range(0, len(due), BATCH_SIZE):
        with store.session() as session:
            for mail in due[start : start + BATCH_SIZE]:
                forwarded = queries.question_texts(session, mail.forwards)
                row = compose_or_set_aside(composer, mail, forwarded, mail.attachments, now=now)
                # A set-aside digest has forwarded nothing: its questions wait for the next one.
                forwards = mail.forwards if row.status == "pending" else ()
                if queries.enqueue(session, row, forwards):
                    added.append(mail.key)
    for key in added:
        log.info("enqueued %s", key)
    return added


def compose_or_set_aside(
    composer: Composer,
    mail: DueMail,
    forwarded: Sequence[bytes] = (),
    attachments: Sequence[Attachment] = (),
    *,
    now: datetime,
) -> OutboxMessage:
    """The composed mail, or, when it cannot be composed, a `failed` row under its key saying why.

    Never raises for the mail's own data: every mail the program sends goes through here, so one
    person's or one question's data can stop only their own mail.
    """
    try:
        return composer.compose(mail, forwarded, attachments)
    except Exception as error:  # noqa: BLE001 - whatever one mail's data does, the others go on
        where = describe_exception(error)  # type and place only: the data may be a participant's
        log.warning("set aside %s: it could not be composed (%s)", mail.key, where)
        reason = (
            f"could not be composed: {_readable(error)}"
            if isinstance(error, TemplateError)
            else f"could not be composed ({where})"
        )
        return OutboxMessage(
            key=mail.key,
            kind=mail.kind,
            pair_id=mail.pair_id,
            recipients=" ".join(_printable(person.email) for person in mail.to),
            envelope_sender="",
            message_id="",
            raw=None,
            due_at=mail.due_at,
            status="failed",
            next_attempt_at=now,
            last_error=reason,
            sent_at=now,
        )


def _readable(error: Exception) -> str:
    """A template's error names the template and line; keep it to one printable line."""
    return _printable(str(error))[:300]


def _printable(text: str) -> str:
    return "".join(char if char.isprintable() else " " for char in text)
