"""What the liaison's weekly summary is computed from: each pair's contacts as a few figures,
and the week's check-in comments.

Read by `store.queries.summary.liaison_activity` with one grouped query (and one bounded query
for the chart's cells), or derived by the planner from the pairs' contacts when its state holds
them; either way the planner gets the same plain values, never an object per contact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import TypedDict


@dataclass(frozen=True)
class PairFigures:
    """One pair's contacts up to the summary's moment (a pair with none has no row)."""

    mentor_to_mentee: int
    mentee_to_mentor: int
    last_contact: datetime  # aware UTC
    # Contacts in each direction in the one-sided window: the `window_days` up to the moment.
    window_mentor_to_mentee: int
    window_mentee_to_mentor: int

    @property
    def one_sided(self) -> bool:
        """Contacts in the window went one way only."""
        return (self.window_mentor_to_mentee > 0) != (self.window_mentee_to_mentor > 0)


@dataclass(frozen=True)
class CheckinNote:
    """What a mentor wrote besides the answers in a reply to a monthly check-in (written to the
    program, for the liaison: parsers/checkin.py keeps it as the reply's note)."""

    pair_id: str
    month: int
    rating: int | None
    wants_contact: bool | None
    comment: str
    received_at: datetime  # aware UTC


@dataclass(frozen=True)
class LiaisonActivity:
    """Every pair's contacts as of `at`, and the activity chart's cells for the charted pairs."""

    at: datetime  # aware UTC: the summary's due moment
    window_days: int  # of the one-sided window
    pairs: Mapping[str, PairFigures]  # pair id -> figures, for each pair with a contact up to `at`
    # The chart: contacts per local week (weeks starting on Monday `weeks_from`, in the program's
    # time zone) up to the week of `at`, for the pairs the summary charts and no others.
    weeks_from: date | None = None
    chart: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # The check-in comments received in the `comments_days` up to `at`, oldest first. Read in SQL
    # only: the planner's state does not carry the comments' text, so the figures derived from
    # contacts have none unless a caller hands them in.
    comments: tuple[CheckinNote, ...] = ()


# Which pairs the chart shows, chosen from the figures (the pairs the summary lists need them).
ChartChoice = Callable[[Mapping[str, PairFigures]], Iterable[str]]


class LiaisonActivityOptions(TypedDict):
    """What `liaison_activity` needs besides the moment, as the planner decides it."""

    window_days: int
    zone: tzinfo
    weeks_from: date | None
    chart_pairs: ChartChoice
    comments_days: int  # the check-in comments of this many days up to the moment
    round_ids: tuple[str, ...]  # the rounds the summary has a section for: their pairs' figures
