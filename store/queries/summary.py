"""Reading for the liaison's weekly summary: every pair's contacts as figures, in SQL, and the
week's check-in comments.

One grouped query over the contact events gives each pair's counts, last contact and the
one-sided window's directions; one more, bounded by the pairs the chart shows, gives their
contacts per local week. No row per contact reaches Python, so the summary of 10,000 pairs
costs about what a bare `GROUP BY pair_id` over the same table does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlmodel import Session

from ..models import ContactEvent, Pair
from ..outcomes import Direction
from ..summary_state import ChartChoice, CheckinNote, LiaisonActivity, PairFigures
from .replies import checkin_comments
from .times import as_utc

# SQLite allows 32,766 bound parameters; the charted pairs are far fewer, but a list is cut anyway.
IN_CHUNK = 500


def liaison_activity(
    session: Session,
    at: datetime,
    *,
    window_days: int,
    zone: tzinfo,
    weeks_from: date | None,
    chart_pairs: ChartChoice,
    comments_days: int,
    round_ids: Sequence[str] | None = None,
) -> LiaisonActivity:
    """Each pair's contacts up to `at` (of the pairs of `round_ids`, the rounds the summary has a
    section for; None: every round's), the chart's cells of the pairs `chart_pairs` picks from
    those figures (weeks starting on the Monday `weeks_from`, local to `zone`), and the check-in
    comments of the `comments_days` up to `at` (the replies of those days that carry one)."""
    at = at.astimezone(UTC)  # stored moments are UTC, compared as stored
    window_start = at - timedelta(days=window_days)
    to_mentee = ContactEvent.direction == Direction.MENTOR_TO_MENTEE.value
    to_mentor = ContactEvent.direction == Direction.MENTEE_TO_MENTOR.value
    in_window = ContactEvent.occurred_at >= window_start  # type: ignore[operator]
    rows = session.execute(
        select(
            ContactEvent.pair_id,
            _count(to_mentee),
            _count(to_mentor),
            func.max(ContactEvent.occurred_at),
            _count(and_(in_window, to_mentee)),
            _count(and_(in_window, to_mentor)),
        )
        .where(ContactEvent.occurred_at <= at, *_of_rounds(round_ids))  # type: ignore[operator]
        .group_by(ContactEvent.pair_id)  # a pair is in one round: its group is that round's too
    )
    figures = {
        pair_id: PairFigures(to_mentee_count, to_mentor_count, as_utc(last), window_to_mentee, window_to_mentor)
        for pair_id, to_mentee_count, to_mentor_count, last, window_to_mentee, window_to_mentor in rows
    }
    charted = list(dict.fromkeys(chart_pairs(figures)))
    chart = _chart(session, at, zone, weeks_from, charted, figures) if weeks_from is not None else {}
    comments = tuple(
        CheckinNote(c.pair_id, c.month, c.rating, c.wants_contact, c.comment, c.received_at)
        for c in checkin_comments(session, at - timedelta(days=comments_days))
        if c.received_at <= at
    )
    return LiaisonActivity(at, window_days, figures, weeks_from, chart, comments)


def _of_rounds(round_ids: Sequence[str] | None) -> tuple[ColumnElement[bool], ...]:
    """The events of the rounds' pairs only: a finished round's year of events is not read again
    for a summary that no longer has its section. A set of ids, not a join: the grouped query
    still reads the events in the pair_id index's order, as it does without rounds."""
    if round_ids is None:
        return ()
    pairs = select(Pair.id).where(Pair.round_id.in_(list(round_ids)))  # type: ignore[attr-defined]
    return (ContactEvent.pair_id.in_(pairs),)  # type: ignore[attr-defined]


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many of a group's events meet `condition` (one pass over the group for all counts)."""
    return func.sum(case((condition, 1), else_=0))


def _chart(
    session: Session,
    at: datetime,
    zone: tzinfo,
    weeks_from: date,
    pair_ids: list[str],
    figures: Mapping[str, PairFigures],
) -> dict[str, tuple[int, ...]]:
    """Contacts per local week for `pair_ids`: each week's start is local midnight of its Monday,
    turned into UTC here (so a week across a daylight-saving change is as long as it really is),
    and the database only compares stored moments with those bounds."""
    weeks = max((at.astimezone(zone).date() - weeks_from).days // 7 + 1, 0)
    starts = [
        datetime.combine(weeks_from + timedelta(weeks=n), time(0), tzinfo=zone).astimezone(UTC)
        for n in range(weeks + 1)
    ]
    cells = {pair_id: [0] * weeks for pair_id in pair_ids}
    # A pair without contacts has an empty row: nothing to ask the database.
    asked = [pair_id for pair_id in pair_ids if pair_id in figures]
    if weeks and asked:
        # The first week whose end is after the moment: CASE takes the first branch that holds.
        week = case(*((ContactEvent.occurred_at < starts[n + 1], n) for n in range(weeks)), else_=weeks)  # type: ignore[operator]
        for start in range(0, len(asked), IN_CHUNK):
            chunk = asked[start : start + IN_CHUNK]
            rows = session.execute(
                select(ContactEvent.pair_id, week, func.count())
                .where(
                    ContactEvent.pair_id.in_(chunk),  # type: ignore[attr-defined]
                    ContactEvent.occurred_at >= starts[0],  # type: ignore[operator]
                    ContactEvent.occurred_at <= at,  # type: ignore[operator]
                )
                .group_by(ContactEvent.pair_id, week)
            )
            for pair_id, index, count in rows:
                if 0 <= index < weeks:
                    cells[pair_id][index] = count
    return {pair_id: tuple(row) for pair_id, row in cells.items()}
