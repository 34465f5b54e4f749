"""The program's rounds in the store, and how a pair's key is made from its round and roster id.

`round` holds the config's rounds (synced at every start); `pair.round_id` says whose a pair is.
`pair.id` stays the key every other table refers to: the roster's pair_id in round "1" (what a
store from before rounds holds, migrated unchanged), `ROUND/PAIR_ID` in every other round, so a
roster's ids need only be unique within its round and no foreign key had to change. "/" is in
neither a round id nor a roster pair_id (both: letters, digits, '.', '_', '-').
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from ..models import CheckinReply, ContactEvent, LetterRequest, OutboxMessage, Pair, PairPlan, Round, SurveyResponse
from ..planner_state import FIRST_ROUND

_SEPARATOR = "/"


@dataclass(frozen=True)
class RoundDates:
    """A round as the store keeps it (the config's, with its end resolved)."""

    id: str
    starts_on: date
    months: int
    ends_on: date


class RoundsMissing(Exception):
    """The store has pairs in rounds the config no longer lists: their data would be orphaned."""

    def __init__(self, missing: dict[str, int], known: Iterable[str]) -> None:
        self.missing, self.known = missing, tuple(known)
        listed = ", ".join(f"{round_id!r} ({count} pairs)" for round_id, count in sorted(missing.items()))
        super().__init__(
            f"the store has pairs in rounds the config does not list: {listed}; keep them in [[rounds]] "
            f"(the config lists: {', '.join(self.known) or 'none'})"
        )


def pair_key(round_id: str, roster_pair_id: str) -> str:
    """The store's key of a round's pair `roster_pair_id` (what every other table refers to)."""
    return roster_pair_id if round_id == FIRST_ROUND else f"{round_id}{_SEPARATOR}{roster_pair_id}"


def roster_pair_id(key: str) -> str:
    """The roster's pair_id of a pair key: what a coordinator wrote, unique within its round."""
    return key.rpartition(_SEPARATOR)[2]


def named_pair_key(name: str, current_round: str) -> str:
    """The key of the pair a coordinator names: `p7` is the current round's, `2026/p7` round 2026's."""
    round_id, separator, pair_id = name.rpartition(_SEPARATOR)
    return pair_key(round_id, pair_id) if separator else pair_key(current_round, name)


def rounds_with_pairs(session: Session) -> dict[str, int]:
    """round id -> how many pairs it has (a grouped count over the round index)."""
    return dict(session.exec(select(Pair.round_id, func.count()).group_by(Pair.round_id)).all())


def sync_rounds(session: Session, rounds: list[RoundDates]) -> None:
    """Make the `round` table the config's rounds. Raises RoundsMissing, changing nothing, if a
    round with pairs is missing from them; a round without pairs that the config dropped goes."""
    configured = {known.id: known for known in rounds}
    with_pairs = rounds_with_pairs(session)
    missing = {round_id: count for round_id, count in with_pairs.items() if round_id not in configured}
    if missing:
        raise RoundsMissing(missing, configured)
    stored = {row.id: row for row in session.exec(select(Round))}
    for known in rounds:
        row = stored.get(known.id)
        if row is None:
            session.add(Round(id=known.id, starts_on=known.starts_on, months=known.months, ends_on=known.ends_on))
        elif (row.starts_on, row.months, row.ends_on) != (known.starts_on, known.months, known.ends_on):
            row.starts_on, row.months, row.ends_on = known.starts_on, known.months, known.ends_on
            session.add(row)
    gone = [round_id for round_id in stored if round_id not in configured]
    if gone:
        session.execute(delete(Round).where(col(Round.id).in_(gone)))
    session.flush()


def stored_rounds(session: Session) -> list[RoundDates]:
    """The rounds as the store has them, by start (for code without the config: retention)."""
    rows = session.exec(select(Round).order_by(col(Round.starts_on)))
    return [RoundDates(row.id, row.starts_on, row.months, row.ends_on) for row in rows]


def keep_only_round(session: Session, round_id: str) -> None:
    """Remove every other round's pairs and what refers to them: for `simulate --round` on its
    scratch copy only (the real store is never cut)."""
    others = select(Pair.id).where(Pair.round_id != round_id)
    for table in (ContactEvent, SurveyResponse, CheckinReply, LetterRequest, PairPlan, OutboxMessage):
        session.execute(delete(table).where(col(table.pair_id).in_(others)))  # type: ignore[attr-defined]
    session.execute(delete(Pair).where(Pair.round_id != round_id))  # type: ignore[arg-type]
    session.flush()
