"""What the liaison's weekly summary is computed from: each pair's contacts as a few figures.

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
class LiaisonActivity:
    """Every pair's contacts as of `at`, and the activity chart's cells for the charted pairs."""

    at: datetime  # aware UTC: the summary's due moment
    window_days: int  # of the one-sided window
    pairs: Mapping[str, PairFigures]  # pair id -> figures, for each pair with a contact up to `at`
    # The chart: contacts per local week (weeks starting on Monday `weeks_from`, in the program's
    # time zone) up to the week of `at`, for the pairs the summary charts and no others.
    weeks_from: date | None = None
    chart: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


# Which pairs the chart shows, chosen from the figures (the pairs the summary lists need them).
ChartChoice = Callable[[Mapping[str, PairFigures]], Iterable[str]]


class LiaisonActivityOptions(TypedDict):
    """What `liaison_activity` needs besides the moment, as the planner decides it."""

    window_days: int
    zone: tzinfo
    weeks_from: date | None
    chart_pairs: ChartChoice
