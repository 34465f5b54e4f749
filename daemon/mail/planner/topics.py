"""The monthly discussion topic, to each member of a pair."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ....store.planner_state import PairState, PlannerState
from .calendar import Calendar, latest, monthly
from .due import DueMail, is_running, members, person_fields, template_context


def plan_topics(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    """The month's topic, the latest only: a pair welcomed late starts with topic 1, a month later
    comes topic 2; after downtime the topics missed are skipped, not sent in a burst."""
    for pair in state.pairs:
        if not is_running(pair) or not calendar.topics:
            continue
        moments = monthly(calendar, pair)
        months, occurrences = len(moments), moments[: len(calendar.topics)]  # as topic_moments gives them
        current = latest(occurrences, now)
        if current is None:
            continue
        topic = calendar.topics[current]
        for role, person in members(pair):
            yield DueMail(
                key=f"topic:pair-{pair.pair_id}:month-{current + 1}:{role}",
                kind="topic",
                due_at=occurrences[current],
                to=(person,),
                context=template_context(
                    calendar,
                    person,
                    role,
                    month=current + 1,
                    months=months,  # the pair's months in the round: fewer for a pair that began late
                    topic={
                        "title": topic.title,
                        "prompts": list(topic.prompts),
                        "resources": [{"title": title, "url": url} for title, url in topic.resources],
                    },
                    partner=person_fields(pair.partner(person)),
                ),
                pair_id=pair.pair_id,
                reply_person=person.person_id,
                reference=f"topic-{current + 1}",
            )


def topic_moments(calendar: Calendar, pair: PairState, now: datetime) -> list[datetime]:
    """The month's topic goes out on the day of the month the pair was welcomed (its first day)."""
    return monthly(calendar, pair)[: len(calendar.topics)]
