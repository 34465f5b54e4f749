"""The committee liaison's weekly summary: the pairs that need attention, what mentors wrote in
the week's check-ins, a week-by-week activity chart, and every pair's figures as an attached CSV.

Readable at any size: the counts of every category, and in each list at most `LIST_LIMIT`
pairs. A list that fits is as it always was (in roster order); a longer one shows the worst by
need (longest silence first, lowest rating first, ...) and says how many more the CSV has. The
chart shows every pair up to `CHART_LIMIT` pairs, and beyond that only pairs the mail lists.
The CSV (`pairs-YYYY-MM-DD.csv`) is attached always, whatever the size: the liaison's
spreadsheet gets the same file every week, also the week the program outgrows the lists, and
it has what the mail leaves out (every pair, contacts by direction, the latest rating).

Computed from an aggregate, `LiaisonActivity`: per pair its counts, last contact and the
one-sided window's directions, and the chart's cells for the charted pairs. The tick reads it
in SQL (`store.queries.summary.liaison_activity`, with `liaison_activity_options` below) and
puts it into the state; without it (the pure tests, a state that holds the contacts) it is
derived here from the pairs' contacts, giving the same figures.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TypeVar

from ....store.outcomes import Direction
from ....store.planner_state import CheckinRow, PairState, PlannerState
from ....store.queries.rounds import roster_pair_id
from ....store.summary_state import LiaisonActivity, LiaisonActivityOptions, PairFigures
from ...operation.cells import spreadsheet_safe
from ..attachment import Attachment
from .calendar import WEEKDAYS, Calendar, add_months, latest, round_ends_on
from .digest import latest_per_address
from .due import DueMail, person_fields, template_context
from .surveys import survey_results_moments

ONE_SIDED_WINDOW_DAYS = 60


LONG_INACTIVE_DAYS = 45


LOW_RATING = 2  # a check-in rating at or below this is listed in the liaison summary


CONTACT_REQUEST_DAYS = 45  # how long a check-in's request to hear from the liaison is listed


COMMENT_DAYS = 7  # a summary shows the check-in comments received since the one before it
# Comments are the longest rows of the mail (a check-in keeps up to 1,000 characters): the mail
# shows 10, each up to 500 characters, so that with every list full it stays under 1 MB.
COMMENT_LIMIT = 10
COMMENT_CHARACTERS = 500


# A person reads 25 rows of a list; the rest are counted, and all are in the CSV. With 25 chart
# rows of 40 weeks, the readable part of the mail stays under 300 KB at any size (DESIGN.md).
LIST_LIMIT = 25
CHART_LIMIT = 25

# Names, not addresses: at ~57 bytes a pair the CSV of 10,000 pairs stays under 600 KB (the
# addresses would add ~45 more each); the mail gives the addresses of the pairs it lists. A pair
# is its round and the roster's pair_id, as `status` and `export` name it.
CSV_COLUMNS = (
    "round",
    "pair_id",
    "mentor",
    "mentee",
    "status",
    "category",
    "days_since_contact",
    "mentor_to_mentee",
    "mentee_to_mentor",
    "latest_rating",
)


def weekly_occurrences(calendar: Calendar, state: PlannerState) -> list[datetime]:
    """Every liaison-summary time from the first pair's start until the last round leaves the
    summary (`_kept_until`): one after that would be about nobody."""
    if not state.pairs:
        return []
    first = min(pair.started_on for pair in state.pairs)
    end = max(_kept_until(own, pairs) for own, pairs in _rounds(calendar, state).values())
    weekday = WEEKDAYS.index(calendar.schedule.liaison_summary_weekday)
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    occurrences = []
    while (moment := calendar.at(day, calendar.schedule.liaison_summary_time)) < end:
        occurrences.append(moment)
        day += timedelta(days=7)
    return occurrences


def _rounds(calendar: Calendar, state: PlannerState) -> dict[str, tuple[Calendar, list[PairState]]]:
    """Each round's calendar and pairs (roster order), the rounds in the order they start."""
    found: dict[str, list[PairState]] = {}
    for pair in state.pairs:
        found.setdefault(pair.round_id, []).append(pair)
    rounds = {round_id: (calendar.for_round(round_id), pairs) for round_id, pairs in found.items()}
    return dict(sorted(rounds.items(), key=lambda item: (item[1][0].starts_on, item[0])))


def _round_end(own: Calendar) -> datetime:
    return own.at(own.ends_on, time(0))


def _kept_until(own: Calendar, pairs: list[PairState]) -> datetime:
    """Until when a round has its section: an ended round keeps it until its survey results have
    gone out (the liaison follows the round to its end), or, with no survey, for a week after."""
    alone = PlannerState(pairs=tuple(pairs), sent_keys=frozenset())
    results = list(survey_results_moments(own, alone, _round_end(own)))
    return max(results) if results else _round_end(own) + timedelta(days=7)


def liaison_summary_moments(calendar: Calendar, state: PlannerState, now: datetime) -> Iterable[datetime]:
    return weekly_occurrences(calendar, state) if calendar.liaison is not None else ()


def liaison_summary_due(calendar: Calendar, state: PlannerState, now: datetime) -> tuple[str, datetime] | None:
    """The key and due moment of the summary due at `now` and not yet sent, or None.

    Reads only the pairs' start dates (not their contacts) and the sent keys, so that a tick can
    decide cheaply whether to read the figures (`liaison_activity`) at all.
    """
    if calendar.liaison is None:
        return None
    occurrences = weekly_occurrences(calendar, state)
    current = latest(occurrences, now)
    if current is None:
        return None
    due = occurrences[current]
    key = f"liaison_summary:{calendar.local_date(due).isoformat()}"
    return None if key in state.sent_keys else (key, due)


def plan_liaison_summary(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    found = liaison_summary_due(calendar, state, now)
    if found is None or calendar.liaison is None:
        return  # none due, or already sent: spare building the summary on every tick of the week
    key, due = found
    activity = state.liaison_activity
    if activity is None:
        activity = activity_from_contacts(calendar, state, due)
    elif (activity.at, activity.window_days) != (due, ONE_SIDED_WINDOW_DAYS):
        # Figures of another moment would make a wrong summary that looks right.
        raise ValueError(f"liaison activity as of {activity.at.isoformat()}, the summary is due {due.isoformat()}")
    summary = liaison_summary(calendar, state, activity)
    liaison = state.staff_person(calendar.liaison)
    yield DueMail(
        key=key,
        kind="liaison_summary",
        due_at=due,
        to=(liaison,),
        context=template_context(calendar, liaison, "liaison", **summary.context),
        reply_person=liaison.person_id,
        reference="summary",
        to_committee=True,
        attachments=(summary.csv,),
    )


# --- the figures ---------------------------------------------------------------------------------


def liaison_activity_options(calendar: Calendar, state: PlannerState, at: datetime) -> LiaisonActivityOptions:
    """What `store.queries.summary.liaison_activity(session, at, **options)` needs to read the
    figures of the summary due at `at`; `state` needs the pairs, not their contacts."""
    parts = round_parts(calendar, state, at)
    first = min((p.started_on for part in parts for p in part.pairs), default=None)
    return {
        "window_days": ONE_SIDED_WINDOW_DAYS,
        "zone": calendar.zone,
        "weeks_from": first - timedelta(days=first.weekday()) if first is not None else None,
        "chart_pairs": lambda figures: charted_pairs(calendar, state, at, figures),
        "comments_days": COMMENT_DAYS,
        "round_ids": tuple(part.calendar.round_id for part in parts),
    }


def activity_from_contacts(calendar: Calendar, state: PlannerState, at: datetime) -> LiaisonActivity:
    """The figures `liaison_activity` reads in SQL, from the pairs' contacts in `state`."""
    window_start = at - timedelta(days=ONE_SIDED_WINDOW_DAYS)
    options = liaison_activity_options(calendar, state, at)
    figures: dict[str, PairFigures] = {}
    for pair in state.pairs:
        seen = [c for c in pair.contacts if c.occurred_at <= at]
        if not seen or pair.round_id not in options["round_ids"]:
            continue
        recent = [c for c in seen if c.occurred_at >= window_start]
        figures[pair.pair_id] = PairFigures(
            mentor_to_mentee=sum(1 for c in seen if c.direction == Direction.MENTOR_TO_MENTEE),
            mentee_to_mentor=sum(1 for c in seen if c.direction == Direction.MENTEE_TO_MENTOR),
            last_contact=max(c.occurred_at for c in seen),
            window_mentor_to_mentee=sum(1 for c in recent if c.direction == Direction.MENTOR_TO_MENTEE),
            window_mentee_to_mentor=sum(1 for c in recent if c.direction == Direction.MENTEE_TO_MENTOR),
        )
    first_monday = options["weeks_from"]
    chart: dict[str, tuple[int, ...]] = {}
    if first_monday is not None:
        weeks = max((calendar.local_date(at) - first_monday).days // 7 + 1, 0)
        contacts = {pair.pair_id: pair.contacts for pair in state.pairs}
        for pair_id in dict.fromkeys(options["chart_pairs"](figures)):
            cells = [0] * weeks
            for contact in contacts.get(pair_id, ()):
                if contact.occurred_at <= at:
                    index = (calendar.local_date(contact.occurred_at) - first_monday).days // 7
                    if 0 <= index < weeks:
                        cells[index] += 1
            chart[pair_id] = tuple(cells)
    return LiaisonActivity(at, ONE_SIDED_WINDOW_DAYS, figures, first_monday, chart)


# --- who needs attention -------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundPart:
    """A round's section of the summary: its calendar and the pairs it is about."""

    calendar: Calendar  # the round's own
    pairs: list[PairState]  # started, not ended by a coordinator, running (at the round's end, if it ended)
    ended: bool  # the round has ended; the section stays until its survey results went out


def round_parts(calendar: Calendar, state: PlannerState, at: datetime) -> list[RoundPart]:
    """The sections of the summary due at `at`, one a round that is running or has ended and is
    still kept (`_kept_until`), in the order the rounds start; a round with no pair to show has none."""
    parts = []
    for own, pairs in _rounds(calendar, state).values():
        end = _round_end(own)
        if at >= end and at >= _kept_until(own, pairs):
            continue
        # An ended round's pairs are those that ran until its end (its last moment stands for `at`).
        about = _started(own, pairs, min(at, end - timedelta(microseconds=1)), at)
        if about:
            parts.append(RoundPart(own, about, ended=at >= end))
    return parts


@dataclass(frozen=True)
class Sections:
    """Every pair of each list of one round, in roster order (not yet cut to a share of `LIST_LIMIT`)."""

    started: list[PairState]  # the pairs the section is about: started by its moment, not ended
    running: list[PairState]
    never_started: list[PairState]
    inactive_45: list[PairState]
    inactive_30: list[PairState]
    one_sided: list[PairState]
    paused: list[PairState]
    low_ratings: list[tuple[CheckinRow, PairState]]  # the pair's latest rated reply
    contact_requests: list[tuple[CheckinRow, PairState]]  # the latest asking, in the window


def sections(
    part: RoundPart, checkins: Sequence[CheckinRow], at: datetime, figures: Mapping[str, PairFigures]
) -> Sections:
    started = part.pairs
    running = [p for p in started if p.status == "active"]

    # Days since each running pair's last contact (None: never), worked out once per pair.
    quiet: dict[str, int | None] = {}
    for pair in running:
        found = figures.get(pair.pair_id)
        quiet[pair.pair_id] = (at - found.last_contact).days if found else None

    def quiet_for(pair: PairState, low: int, high: int | None = None) -> bool:
        days = quiet[pair.pair_id]
        return days is not None and days >= low and (high is None or days < high)

    inactive_after = part.calendar.schedule.inactive_after_days
    low_ratings, contact_requests = _checkin_concerns(started, checkins, at)
    return Sections(
        started=started,
        running=running,
        never_started=[p for p in running if quiet[p.pair_id] is None],
        inactive_45=[p for p in running if quiet_for(p, LONG_INACTIVE_DAYS)],
        inactive_30=[p for p in running if quiet_for(p, inactive_after, LONG_INACTIVE_DAYS)],
        one_sided=[p for p in running if (found := figures.get(p.pair_id)) is not None and found.one_sided],
        paused=[p for p in started if p.status == "paused"],
        low_ratings=low_ratings,
        contact_requests=contact_requests,
    )


def _started(own: Calendar, pairs: Iterable[PairState], running_at: datetime, at: datetime) -> list[PairState]:
    """The pairs a round's section is about: started by `at`, and neither ended by a coordinator
    nor past their own end at `running_at` (their status stays `active`, but the liaison has
    nothing to do)."""
    return [
        p
        for p in pairs
        if p.status != "ended"
        and own.at(p.started_on, time(0)) <= at
        and running_at < own.at(round_ends_on(own, p), time(0))
    ]


Item = TypeVar("Item")


def _worst(items: list[Item], need: Callable[[Item], object], limit: int = LIST_LIMIT) -> list[Item]:
    """A list that fits as it is; of a longer one, the `limit` first by `need`."""
    return items if len(items) <= limit else sorted(items, key=need)[:limit]


def _shares(needs: Sequence[int], budget: int) -> list[int]:
    """How many of `budget` rows each round's list gets: all it has when they fit, else an even
    share, with what a round leaves unused going to those that have more (the earlier rounds
    first for a remainder). Shared so that the mail stays as large as one round's, whatever the
    number of rounds; a program of one round gets min(need, budget), as before rounds."""
    shares = [0] * len(needs)
    left = budget
    wanting = [index for index, need in enumerate(needs) if need > 0]
    while left > 0 and wanting:
        each = max(left // len(wanting), 1)
        for index in list(wanting):
            give = min(each, needs[index] - shares[index], left)
            shares[index] += give
            left -= give
            if shares[index] == needs[index]:
                wanting.remove(index)
            if left == 0:
                break
    return shares


def _shortened(text: str, characters: int) -> str:
    """`text`, or its first `characters` cut at a word and ended with "…"."""
    if len(text) <= characters:
        return text
    cut = text[: characters - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip() + "…"


@dataclass(frozen=True)
class Listed:
    """The rows the mail shows of each list of a round, cut to its share, the worst by need first."""

    never_started: list[PairState]
    inactive_45: list[PairState]
    inactive_30: list[PairState]
    one_sided: list[PairState]
    paused: list[PairState]
    low_ratings: list[tuple[CheckinRow, PairState]]
    contact_requests: list[tuple[CheckinRow, PairState]]


LISTS = ("never_started", "inactive_45", "inactive_30", "one_sided", "paused", "low_ratings", "contact_requests")


def listed_by_round(found: Sequence[Sections], figures: Mapping[str, PairFigures]) -> list[Listed]:
    """Each round's rows, every list's `LIST_LIMIT` rows shared across the rounds (`_shares`)."""
    shares = {name: _shares([len(getattr(each, name)) for each in found], LIST_LIMIT) for name in LISTS}
    return [listed(each, figures, {name: shares[name][index] for name in LISTS}) for index, each in enumerate(found)]


def listed(found: Sections, figures: Mapping[str, PairFigures], limits: Mapping[str, int]) -> Listed:
    def silence(pair: PairState) -> tuple[bool, datetime | None]:
        """Longest silence first: never in touch, then the oldest last contact."""
        figure = figures.get(pair.pair_id)
        return (figure is not None, figure.last_contact if figure else None)

    def newest_first(found_rows: list[tuple[CheckinRow, PairState]]) -> list[tuple[CheckinRow, PairState]]:
        return sorted(found_rows, key=lambda item: item[0].received_at, reverse=True)

    return Listed(
        never_started=_worst(found.never_started, lambda p: p.started_on, limits["never_started"]),  # waiting longest
        inactive_45=_worst(found.inactive_45, silence, limits["inactive_45"]),
        inactive_30=_worst(found.inactive_30, silence, limits["inactive_30"]),
        one_sided=_worst(found.one_sided, silence, limits["one_sided"]),
        paused=_worst(found.paused, silence, limits["paused"]),
        # The lowest ratings first (the newest of equal ones); of the mentors asking, those who
        # have waited longest.
        low_ratings=_worst(
            newest_first(found.low_ratings), lambda item: (item[0].rating or 0, -_epoch(item[0])), limits["low_ratings"]
        ),
        contact_requests=_worst(
            newest_first(found.contact_requests), lambda item: item[0].received_at, limits["contact_requests"]
        ),
    )


def _epoch(reply: CheckinRow) -> float:
    return reply.received_at.timestamp()


def charted_pairs(
    calendar: Calendar, state: PlannerState, at: datetime, figures: Mapping[str, PairFigures]
) -> list[str]:
    """The pairs the activity charts show, round by round: every pair of a program of up to
    `CHART_LIMIT`, in roster order; of a larger one, at most `CHART_LIMIT` (shared across the
    rounds) of the pairs the mail lists, those listed for their silence first (inactive,
    one-sided, paused, in the order listed), then those from check-ins. A pair that never wrote
    has nothing to chart."""
    found = [sections(part, state.checkins, at, figures) for part in round_parts(calendar, state, at)]
    if sum(len(each.started) for each in found) <= CHART_LIMIT:
        return [p.pair_id for each in found for p in each.started]
    candidates = []
    for rows in listed_by_round(found, figures):
        in_order = [
            *rows.inactive_45,
            *rows.inactive_30,
            *rows.one_sided,
            *rows.paused,
            *(pair for _, pair in rows.low_ratings),
            *(pair for _, pair in rows.contact_requests),
        ]
        candidates.append(list(dict.fromkeys(pair.pair_id for pair in in_order if pair.pair_id in figures)))
    shares = _shares([len(each) for each in candidates], CHART_LIMIT)
    return [pair_id for each, share in zip(candidates, shares, strict=True) for pair_id in each[:share]]


# --- the mail --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    context: dict[str, object]  # for the template
    csv: Attachment  # every pair the summary is about


def liaison_summary(calendar: Calendar, state: PlannerState, activity: LiaisonActivity) -> Summary:
    """The summary's content, a section a round (pairs by concern, bouncing addresses, the
    weekly activity chart), and the CSV of every pair it is about."""
    at, figures = activity.at, activity.pairs
    parts = round_parts(calendar, state, at)
    found = [sections(part, state.checkins, at, figures) for part in parts]
    shown = listed_by_round(found, figures)

    def row(pair: PairState) -> dict[str, object]:
        figure = figures.get(pair.pair_id)
        last = figure.last_contact if figure else None
        return {
            "pair_id": pair.pair_id,
            "mentor": person_fields(pair.mentor),
            "mentee": person_fields(pair.mentee),
            "days_since_contact": (at - last).days if last else None,
            "last_contact": calendar.local_date(last) if last else None,
        }

    def checkin_rows(found_rows: list[tuple[CheckinRow, PairState]]) -> list[dict[str, object]]:
        return [
            {
                **row(pair),
                "rating": reply.rating,
                "month": reply.month,
                "received_at": reply.received_at,
                "received_on": calendar.local_date(reply.received_at),
            }
            for reply, pair in found_rows
        ]

    # What mentors wrote in this week's check-ins, about the pairs each section is about: all of
    # them in the order received, or of more than the round's share of `COMMENT_LIMIT`, those
    # asking for the liaison first, then the lowest ratings, then the newest.
    noted = []
    for each in found:
        by_id = {pair.pair_id: pair for pair in each.started}
        noted.append([(note, by_id[note.pair_id]) for note in activity.comments if note.pair_id in by_id])
    # Addresses of the pairs a section is about, named with those pairs only: a mentor whose
    # other pair has ended is still listed for the one that runs; an ended pair's are not.
    latest_bounces = [b for b in latest_per_address(state.bounces) if b.at <= at]
    all_bouncing = []
    for each in found:
        ids = {pair.pair_id for pair in each.started}
        named = ((b, [pair_id for pair_id in b.pair_ids if pair_id in ids]) for b in latest_bounces)
        all_bouncing.append([(b, pair_ids) for b, pair_ids in named if pair_ids])
    comment_shares = _shares([len(each) for each in noted], COMMENT_LIMIT)
    bouncing_shares = _shares([len(each) for each in all_bouncing], LIST_LIMIT)

    rounds: list[dict[str, object]] = []
    for index, (part, each, rows) in enumerate(zip(parts, found, shown, strict=True)):
        shown_notes = _worst(
            noted[index],
            lambda item: (not item[0].wants_contact, item[0].rating or 6, -item[0].received_at.timestamp()),
            comment_shares[index],
        )
        comments = [
            {
                **row(pair),
                "month": note.month,
                "rating": note.rating,
                "wants_contact": bool(note.wants_contact),
                "received_on": calendar.local_date(note.received_at),
                "lines": _shortened(note.comment, COMMENT_CHARACTERS).splitlines() or [note.comment],
            }
            for note, pair in shown_notes
        ]
        bouncing = [
            {"name": b.person.name, "email": b.person.email, "pair_id": ", ".join(pair_ids)}
            for b, pair_ids in all_bouncing[index][: bouncing_shares[index]]  # bouncing longest first
        ]
        rounds.append(
            {
                "round": _round_fields(part, at),
                "counts": {
                    "pairs": len(each.started),
                    "active": len(each.running)
                    - len(each.never_started)
                    - len(each.inactive_30)
                    - len(each.inactive_45),
                    "never_started": len(each.never_started),
                    "inactive_30": len(each.inactive_30),
                    "inactive_45": len(each.inactive_45),
                    "one_sided": len(each.one_sided),
                    "bouncing": len(all_bouncing[index]),
                    "paused": len(each.paused),
                    "low_ratings": len(each.low_ratings),
                    "contact_requests": len(each.contact_requests),
                    "comments": len(noted[index]),
                },
                "never_started": [row(p) for p in rows.never_started],
                "inactive_30": [row(p) for p in rows.inactive_30],
                "inactive_45": [row(p) for p in rows.inactive_45],
                "one_sided": [row(p) for p in rows.one_sided],
                "paused": [row(p) for p in rows.paused],
                "low_ratings": checkin_rows(rows.low_ratings),
                "contact_requests": checkin_rows(rows.contact_requests),
                "comments": comments,
                "bouncing": bouncing,
                "chart": _chart(calendar, each.started, activity),
            }
        )
    csv_filename = f"pairs-{calendar.local_date(at).isoformat()}.csv"
    totals = {
        name: sum(section["counts"][name] for section in rounds)  # type: ignore[index]
        for name in ("pairs", "active", "contact_requests")
    }
    context: dict[str, object] = {
        "week_of": calendar.local_date(at),
        "counts": totals,  # of every section, for the subject
        "rounds": rounds,
        "csv_filename": csv_filename,
    }
    data = pairs_csv(parts, found, figures, state.checkins, at)
    return Summary(context, Attachment(csv_filename, "text/csv", data))


def _round_fields(part: RoundPart, at: datetime) -> dict[str, object]:
    """What a section's heading says of its round: id, dates, its month at `at` (or that it ended)."""
    own = part.calendar
    today = own.local_date(at)
    month = max(1, sum(1 for n in range(own.months) if add_months(own.starts_on, n) <= today))
    return {
        "id": own.round_id,
        "starts_on": own.starts_on,
        "ends_on": own.ends_on,
        "month": min(month, own.months),
        "months": own.months,
        "ended": part.ended,
    }


def _chart(calendar: Calendar, started: Sequence[PairState], activity: LiaisonActivity) -> dict[str, object]:
    """Contacts per pair per week (weeks starting Monday, local time), from the week the
    section's first pair started (the figures' weeks may start earlier, with an earlier round)
    up to the week of `at`, for the section's charted pairs in the order chosen."""
    if activity.weeks_from is None or not started:
        return {"weeks": [], "rows": []}
    first = min(pair.started_on for pair in started)
    first_monday = max(first - timedelta(days=first.weekday()), activity.weeks_from)
    skipped = (first_monday - activity.weeks_from).days // 7
    count = max((calendar.local_date(activity.at) - first_monday).days // 7 + 1, 0)
    weeks = [first_monday + timedelta(weeks=n) for n in range(count)]
    by_id = {pair.pair_id: pair for pair in started}
    rows = [
        {
            "pair_id": pair_id,
            # Someone known by address only is shown by it, never as an empty name.
            "mentor_name": pair.mentor.name or pair.mentor.email,
            "mentee_name": pair.mentee.name or pair.mentee.email,
            "cells": _before_start_blank(cells[skipped:], (pair.started_on - first_monday).days // 7),
        }
        for pair_id, cells in activity.chart.items()
        if (pair := by_id.get(pair_id)) is not None
    ]
    return {"weeks": weeks, "rows": rows}


def _before_start_blank(cells: Sequence[int], start_week: int) -> list[int | None]:
    """The weeks before the pair's first are None (blank in the chart, not "no contact"), unless
    a contact was logged there all the same."""
    return [None if week < start_week and count == 0 else count for week, count in enumerate(cells)]


def pairs_csv(
    parts: Sequence[RoundPart],
    found: Sequence[Sections],
    figures: Mapping[str, PairFigures],
    checkins: Sequence[CheckinRow],
    at: datetime,
) -> bytes:
    """One line per pair the summary is about, round by round, in roster order: its round, who,
    status, which lists it is in (`active` when none), days since the last contact, contacts by
    direction, latest rating."""
    ratings = _latest_ratings(checkins, at)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for part, each in zip(parts, found, strict=True):
        categories: dict[str, list[str]] = {}
        for name, pairs in (
            ("never_started", each.never_started),
            ("inactive_45", each.inactive_45),
            ("inactive_30", each.inactive_30),
            ("one_sided", each.one_sided),
            ("paused", each.paused),
            ("low_rating", [pair for _, pair in each.low_ratings]),
            ("asking_for_you", [pair for _, pair in each.contact_requests]),
        ):
            for pair in pairs:
                categories.setdefault(pair.pair_id, []).append(name)
        round_cell = spreadsheet_safe(part.calendar.round_id)
        for pair in each.started:
            figure = figures.get(pair.pair_id)
            cells: list[object] = [
                round_cell,
                # The roster's pair_id beside its round, as `status` and `export` give it (and no
                # longer than the pair's key: the round column costs round "1"'s pairs 2 bytes).
                spreadsheet_safe(roster_pair_id(pair.pair_id)),  # the roster's words; the rest are ours or numbers
                spreadsheet_safe(pair.mentor.name or pair.mentor.email),
                spreadsheet_safe(pair.mentee.name or pair.mentee.email),
                pair.status,
                " ".join(categories.get(pair.pair_id, ["active"])),
                (at - figure.last_contact).days if figure else "",
                figure.mentor_to_mentee if figure else 0,
                figure.mentee_to_mentor if figure else 0,
                ratings.get(pair.pair_id, ""),
            ]
            writer.writerow(cells)
    return buffer.getvalue().encode("utf-8")


def _latest_ratings(checkins: Sequence[CheckinRow], at: datetime) -> dict[str, int]:
    latest_rated: dict[str, tuple[tuple[int, datetime], int]] = {}
    for reply in checkins:
        if reply.rating is not None and reply.received_at <= at:
            order = (reply.month, reply.received_at)
            if reply.pair_id not in latest_rated or order >= latest_rated[reply.pair_id][0]:
                latest_rated[reply.pair_id] = (order, reply.rating)
    return {pair_id: rating for pair_id, (_, rating) in latest_rated.items()}


def _checkin_concerns(
    pairs: Sequence[PairState], checkins: Sequence[CheckinRow], at: datetime
) -> tuple[list[tuple[CheckinRow, PairState]], list[tuple[CheckinRow, PairState]]]:
    """From the mentors' check-in replies: the pairs whose latest rating is low, and the mentors who
    asked (in the last 45 days) for the liaison to get in touch; in roster order."""
    window = at - timedelta(days=CONTACT_REQUEST_DAYS)
    low: list[tuple[CheckinRow, PairState]] = []
    asked: list[tuple[CheckinRow, PairState]] = []
    by_pair: dict[str, list[CheckinRow]] = {}
    for reply in sorted(checkins, key=lambda c: (c.month, c.received_at)):
        if reply.received_at <= at:
            by_pair.setdefault(reply.pair_id, []).append(reply)
    for pair in pairs:
        replies = by_pair.get(pair.pair_id, [])
        rated = [c for c in replies if c.rating is not None]
        if rated and (rated[-1].rating or 0) <= LOW_RATING:
            low.append((rated[-1], pair))
        wanting = [c for c in replies if c.wants_contact and c.received_at >= window]
        if wanting:
            asked.append((wanting[-1], pair))
    return low, asked
