"""The outbox as `mentormail outbox` shows it: what is queued, due, retrying, or failed, and why;
and what `mentormail outbox retry` says it did.

Pure: the store's `OutboxEntry` rows and `now` in, the documented JSON shape (moments in UTC) or
a table (moments in the program's zone, named) out.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ...store.queries import OutboxEntry, Requeued
from .status import local_time

# The states, part of the `outbox --json` contract.
QUEUED = "queued"  # not yet due
DUE = "due"  # due, not yet tried
RETRYING = "retrying"  # tried, failed for now, will be tried again at next_attempt
FAILED = "failed"  # given up by delivery, or set aside because it could not be composed


def state_of(entry: OutboxEntry, now: datetime) -> str:
    if entry.status == "failed":
        return FAILED
    if entry.attempts:
        return RETRYING
    return DUE if entry.next_attempt_at <= now else QUEUED


def outbox_document(entries: list[OutboxEntry], now: datetime) -> dict[str, object]:
    return {
        "mail": [
            {
                "key": entry.key,
                "kind": entry.kind,
                "to": entry.recipients.split(),
                "state": state_of(entry, now),
                "due_at": entry.due_at.isoformat(),
                "attempts": entry.attempts,
                "first_attempt_at": entry.first_attempt_at.isoformat() if entry.first_attempt_at else None,
                "next_attempt_at": entry.next_attempt_at.isoformat() if state_of(entry, now) != FAILED else None,
                "reason": entry.last_error or None,
            }
            for entry in entries
        ]
    }


def outbox_table(document: dict[str, object], zone: ZoneInfo) -> str:
    mail = document["mail"]
    assert isinstance(mail, list)
    if not mail:
        return "nothing waiting in the outbox"
    lines = []
    for item in mail:
        line = f"{item['state']:<9} {local_time(item['due_at'], zone)}  {item['key']} to {' '.join(item['to'])}"
        if item["state"] == RETRYING:
            line += f" (tried {item['attempts']}x, next at {local_time(item['next_attempt_at'], zone)})"
        lines.append(line + (f": {item['reason']}" if item["reason"] else ""))
    failed = sum(item["state"] == FAILED for item in mail)
    if failed:
        lines.append(f"\n{_mails(failed)} failed; to send again: mentormail outbox retry KEY (or --all-failed)")
    return "\n".join(lines)


def requeued_text(requeued: Requeued) -> str:
    """One line (two when some mail is to be composed again) for `outbox retry`."""
    text = f"re-queued {_mails(requeued.total)}"
    if requeued.resent:
        text += "; the running daemon (`mentormail run`) sends them at its next delivery, within seconds"
    if requeued.recomposed:
        text += (
            f"\n{_mails(requeued.recomposed)} had no message kept (set aside because it could not be composed):"
            " planned and composed again at the daemon's next planner tick, if still due"
        )
    return text


def _mails(count: int) -> str:
    return f"{count} mail" if count == 1 else f"{count} mails"
