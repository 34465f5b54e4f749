"""The coordinators' daily digest: questions, bounces, undeliverable mail, unknown senders,
letters to decide and forged replies, only on days when something needs them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone

from ....store.planner_state import Bounce, PairState, PlannerState
from .calendar import Calendar, round_month
from .due import DueMail, committee_members, template_context


def digest_moments(calendar: Calendar, state: PlannerState, now: datetime) -> Iterable[datetime]:
    """The next digest time, if the digest then would have something to say.

    Whether it would is known now: with the same state (anything new changes the program plan's
    fingerprint, and the program is planned again), the digest at that time is what
    `plan_digest` says of it now. So a quiet program is not looked at daily, only one with
    something waiting (a question, a letter to decide, a bounce since the last digest).
    """
    today = calendar.local_date(now)
    next_time = calendar.at(today, calendar.schedule.digest_time)
    if next_time <= now:
        next_time = calendar.at(today + timedelta(days=1), calendar.schedule.digest_time)
    return (next_time,) if next(plan_digest(calendar, state, next_time), None) is not None else ()


def plan_digest(calendar: Calendar, state: PlannerState, now: datetime) -> Iterator[DueMail]:
    """Daily, only when something needs the coordinators: one mail to each, so that each has a
    reply address of their own to answer with commands."""
    if not calendar.coordinators or not state.pairs:
        return
    today = calendar.local_date(now)
    due = calendar.at(today, calendar.schedule.digest_time)
    if due > now:
        due = calendar.at(today - timedelta(days=1), calendar.schedule.digest_time)
    day = calendar.local_date(due).isoformat()
    coordinators = [person for role, person in committee_members(calendar, state) if role == "coordinator"]
    keys = {person.email: f"digest:{day}:{person.email}" for person in coordinators}
    if all(key in state.sent_keys for key in keys.values()):
        return
    since = state.last_digest_at or datetime.min.replace(tzinfo=timezone.utc)

    def new(moment: datetime) -> bool:
        return since <= moment < due

    questions = [q for q in state.questions if q.received_at < due]
    bounces = [b for b in latest_per_address(state.bounces) if new(b.at)]
    failures = [f for f in state.failures if new(f.since)]
    unknown = _count_by_address((sender.email, sender.at) for sender in state.unknown_senders if new(sender.at))
    spoofed = _count_by_address((attempt.email, attempt.at) for attempt in state.spoofed if new(attempt.at))
    letters = sorted((r for r in state.letter_requests if r.requested_at < due), key=lambda r: r.request_id)
    pairs = {pair.pair_id: pair for pair in state.pairs if letters}
    if not (questions or bounces or failures or unknown or spoofed or letters):
        return  # only when something needs them

    def local(moment: datetime) -> datetime:
        # Shown in the program's zone, which `when` names ("15:17 EST"): a coordinator in New
        # York reads "20:17 UTC" as a time of her own day, or has to work it out.
        return moment.astimezone(calendar.zone)

    content = dict(
        day=calendar.local_date(due),
        questions=[
            {"name": q.person.name, "email": q.person.email, "received_at": local(q.received_at)} for q in questions
        ],
        bounces=[
            {"name": b.person.name, "email": b.person.email, "pair_id": ", ".join(b.pair_ids), "at": local(b.at)}
            for b in bounces
        ],
        failed_deliveries=[
            {"key": f.key, "kind": f.kind, "to": f.to, "reason": f.reason, "since": local(f.since)} for f in failures
        ],
        unknown_senders=[{"email": u["email"], "count": u["count"]} for u in unknown],
        letter_requests=[
            {
                "request_id": r.request_id,
                "name": r.person.name,
                "email": r.person.email,
                "pair_id": r.pair_id,
                "requested_at": local(r.requested_at),
                "approve": f"approve letter {r.request_id}",
                "decline": f"decline letter {r.request_id}",
                # Where the pair is, so that a coordinator can judge a letter asked for in month 2.
                **_letter_pair(calendar, pairs.get(r.pair_id), due),
                "contacts": r.contacts,
            }
            for r in letters
        ],
        spoofed=[{**attempt, "last": local(attempt["last"])} for attempt in spoofed],  # type: ignore[arg-type]
    )
    for coordinator in coordinators:
        yield DueMail(
            key=keys[coordinator.email],
            kind="digest",
            due_at=due,
            to=(coordinator,),
            context=template_context(calendar, coordinator, "coordinator", **content),
            reply_person=coordinator.person_id,
            reference="digest",
            to_committee=True,
            forwards=tuple(q.question_id for q in questions),
        )


def _letter_pair(calendar: Calendar, pair: PairState | None, due: datetime) -> dict[str, object]:
    month, months, completed = round_month(calendar, pair, due) if pair else (0, 0, False)
    return {"month": month, "months": months, "completed": completed}


def _count_by_address(seen: Iterable[tuple[str, datetime]]) -> list[dict[str, object]]:
    """[{email, count, last}] per address, by address."""
    counts: dict[str, int] = {}
    last: dict[str, datetime] = {}
    for email, at in seen:
        counts[email] = counts.get(email, 0) + 1
        last[email] = max(at, last.get(email, at))
    return [{"email": email, "count": counts[email], "last": last[email]} for email in sorted(counts)]


def latest_per_address(bounces: Sequence[Bounce]) -> list[Bounce]:
    by_address: dict[str, Bounce] = {}
    for bounce in sorted(bounces, key=lambda b: b.at):
        by_address[bounce.person.email] = bounce
    return list(by_address.values())
