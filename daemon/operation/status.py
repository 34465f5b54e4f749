"""Per-pair status: counts, last contact and flags, as `mentormail status` shows them.

Pure: the store's `PairActivity` rows and `now` in, the documented JSON shape out. The JSON says
moments in UTC (ISO 8601 with its offset, for scripts); the table, for people, in the program's
time zone with the zone named.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from ...store.queries import PairActivity, PurgedRound

INACTIVE_AFTER_DAYS = 30
LONG_INACTIVE_AFTER_DAYS = 45

# The flags, in the order they are listed; their names are part of the `status --json` contract.
FLAG_NO_CONTACT_YET = "no_contact_yet"
FLAG_INACTIVE = "inactive_30d"
FLAG_LONG_INACTIVE = "inactive_45d"
FLAG_ONE_SIDED = "one_sided"
FLAG_BOUNCING = "bouncing"


def pair_status(activity: PairActivity, now: datetime) -> dict[str, object]:
    days = _days_since(activity.last_contact, now)
    return {
        "id": activity.pair_id,
        "mentor": activity.mentor,
        "mentee": activity.mentee,
        "status": activity.status,
        "started_on": activity.started_on.isoformat(),
        "contacts": {
            "mentor_to_mentee": activity.mentor_to_mentee,
            "mentee_to_mentor": activity.mentee_to_mentor,
            "self_reported": activity.self_reported,
        },
        "last_contact": _iso(activity.last_contact),
        "days_since_contact": days,
        "flags": _flags(activity, days),
    }


def status_document(activities: list[PairActivity], now: datetime) -> dict[str, object]:
    return {"pairs": [pair_status(a, now) for a in activities]}


def _flags(activity: PairActivity, days: int | None) -> list[str]:
    flags = []
    if activity.last_contact is None:
        flags.append(FLAG_NO_CONTACT_YET)
    if days is not None and days >= INACTIVE_AFTER_DAYS:
        flags.append(FLAG_INACTIVE)
    if days is not None and days >= LONG_INACTIVE_AFTER_DAYS:
        flags.append(FLAG_LONG_INACTIVE)
    if (activity.mentor_to_mentee == 0) != (activity.mentee_to_mentor == 0):
        flags.append(FLAG_ONE_SIDED)
    if activity.bouncing:
        flags.append(FLAG_BOUNCING)
    return flags


def _days_since(moment: datetime | None, now: datetime) -> int | None:
    if moment is None:
        return None
    return max(0, (now - moment.replace(tzinfo=timezone.utc)).days)


def _iso(moment: datetime | None) -> str | None:
    return moment.replace(tzinfo=timezone.utc).isoformat() if moment else None


def local_time(moment: str, zone: ZoneInfo) -> str:
    """`2026-12-01 15:17 EST`: an ISO 8601 moment of a JSON document as people read it, in the
    program's zone and naming it (a bare `20:17` from a New York program reads as local time)."""
    return f"{datetime.fromisoformat(moment).astimezone(zone):%Y-%m-%d %H:%M %Z}"


def status_table(document: dict[str, object], zone: ZoneInfo) -> str:
    """The plain form: one line per pair, readable in a terminal; times in `zone`."""
    header = ("pair", "mentor", "mentee", "status", "m→m", "m←m", "calls", "last contact", "days", "flags")
    rows = [header]
    for pair in document["pairs"]:  # type: ignore[union-attr]
        contacts = pair["contacts"]
        rows.append(
            (
                pair["id"],
                pair["mentor"],
                pair["mentee"],
                pair["status"],
                str(contacts["mentor_to_mentee"]),
                str(contacts["mentee_to_mentor"]),
                str(contacts["self_reported"]),
                local_time(pair["last_contact"], zone) if pair["last_contact"] else "never",
                "-" if pair["days_since_contact"] is None else str(pair["days_since_contact"]),
                " ".join(pair["flags"]),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def purged_round(purged: PurgedRound) -> dict[str, object]:
    """What is kept of a round purged after `[privacy] keep_days_after_round`: its counts (the
    `purged_rounds` of `status --json`; README, "Erasure")."""
    return {
        "round": purged.round_id,
        "counted_at": _iso(purged.counted_at),
        "purged_at": _iso(purged.finished_at),  # None while its pairs are still being removed
        "pairs": purged.pairs,
        "people_forgotten": purged.people_forgotten,
        "contacts": purged.contacts(),
        "tallies": {
            kind: purged.of_kind(kind) for kind in ("pairs", "people", "contacts", "survey", "checkins", "letters")
        },
    }


def purged_rounds_text(documents: list[dict[str, object]], zone: ZoneInfo) -> str:
    """One line a purged round, under the pairs' table."""
    lines = []
    for document in documents:
        contacts = document["contacts"]
        answers = sum(int(t["count"]) for t in document["tallies"]["survey"])  # type: ignore[index]
        when = document["purged_at"] or document["counted_at"]
        state = "purged" if document["purged_at"] else "being purged since"
        lines.append(
            f"round {document['round']}: {state} {local_time(str(when), zone)}; kept its counts: "
            f"{document['pairs']} pairs, {contacts.get('mentor_to_mentee', 0)} contacts from mentors and "  # type: ignore[union-attr]
            f"{contacts.get('mentee_to_mentor', 0)} from mentees, {answers} survey answers"  # type: ignore[union-attr]
        )
    return "\n".join(lines)
