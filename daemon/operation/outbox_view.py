"""The outbox as `mentormail outbox` shows it: what is queued, due, retrying, or failed, and why.

Pure: the store's `OutboxEntry` rows and `now` in, the documented JSON shape or a table out.
"""

from __future__ import annotations

from datetime import datetime

from ...store.queries import OutboxEntry

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
                "next_attempt_at": entry.next_attempt_at.isoformat() if state_of(entry, now) != FAILED else None,
                "reason": entry.last_error or None,
            }
            for entry in entries
        ]
    }


def outbox_table(document: dict[str, object]) -> str:
    mail = document["mail"]
    assert isinstance(mail, list)
    if not mail:
        return "nothing waiting in the outbox"
    lines = []
    for item in mail:
        reason = f": {item['reason']}" if item["reason"] else ""
        lines.append(f"{item['state']:<9} {item['due_at'][:16]}  {item['key']} to {' '.join(item['to'])}{reason}")
    return "\n".join(lines)
