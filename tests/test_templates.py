"""The program's mail templates, rendered with realistic data: names with accents, apostrophes and
right-to-left scripts, as a real roster has them.

Pure: no servers, no store; `contexts()` is also what tests/test_screenshots.py renders.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mentormail.daemon.mail.render import (
    Renderer,
    RenderedMail,
    TemplateError,
    direction,
    heat,
    month_ruler,
    week_ruler,
    wrap,
)

ZONE = ZoneInfo("America/Chicago")
PROGRAM = {
    "name": "New Librarians Mentoring Round 2026–27",
    "address": "mentoring@example.org",
    "coordinators": ["coordinator@example.org", "r.okafor@example.org"],
    "liaison": "liaison@example.org",
}
SIOBHAN = {"name": "Siobhán O'Connor", "email": "siobhan.o'connor@library.example.ie"}
JOSE = {"name": "José Álvarez Núñez", "email": "jose.alvarez@biblioteca.example.es"}
ZOE = {"name": "Zoë Müller", "email": "zoe.mueller@ub.example.de"}
LAYLA = {"name": "ليلى حداد", "email": "layla.haddad@example.net"}
NOA = {"name": "נועה כהן", "email": "noa.cohen@example.co.il"}
BEN = {"name": "Ben O'Brien", "email": "ben.obrien@example.com"}
MARIE = {"name": "Marie-Claire d'Arcy", "email": "mc.darcy@example.fr"}
KWAME = {"name": "Kwame Mensah", "email": "kwame@example.org"}
ANA = {"name": "Ana Álvarez", "email": "ana@example.org"}
DEV = {"name": "Dev Patel", "email": "dev@example.org"}
CLEO = {"name": "Cléo Martin", "email": "cleo@example.net"}
EVE = {"name": "Eve Cohen", "email": "eve@example.com"}
TOMAS = {"name": "Tomás Ó Fearghail", "email": "tomas@example.ie"}
ELENI = {"name": "Eleni Papadopoulou", "email": "eleni@example.gr"}
PAIRS = [  # (pair_id, mentor, mentee): eight pairs, RTL names on both sides of the slash
    ("p1", SIOBHAN, LAYLA),
    ("p2", JOSE, NOA),
    ("p3", ZOE, BEN),
    ("p4", ANA, MARIE),
    ("p5", DEV, CLEO),
    ("p6", KWAME, EVE),
    ("p7", TOMAS, ELENI),
    ("p8", NOA, JOSE),
]
STARTS_ON = date(2026, 8, 31)
ENDS_ON = date(2027, 5, 31)
WEEK_OF = date(2027, 1, 11)
WEEKS = [STARTS_ON + timedelta(weeks=n) for n in range(20)]
# A fixed pattern per pair rather than random numbers: the test data is the same on every run.
CELLS = {  # one hex digit per week, "." for none
    "p1": "2121112101211221112.",
    "p2": "11.1..1.1..1....1...",
    "p3": "....................",
    "p4": "3423321433542314.391",
    "p5": "1.1.1.1.1.1.1.......",
    "p6": "1111111111111111111.",
    "p7": "2.....1.............",
    "p8": "1231.21.32.1.1221.1c",
}
ACCENTED = ["Siobhán O'Connor", "José Álvarez Núñez", "Zoë Müller"]
RIGHT_TO_LEFT = ["ليلى حداد", "נועה כהן"]
URL_OR_ADDRESS = re.compile(r"(https?://\S+|<?[^\s<>]+@[^\s<>]+>?)")


def participant(person: dict[str, str], role: str) -> dict[str, str]:
    return {**person, "role": role}


def pair_row(pair_id: str, days: int | None) -> dict[str, object]:
    _, mentor, mentee = next(p for p in PAIRS if p[0] == pair_id)
    return {
        "pair_id": pair_id,
        "mentor": mentor,
        "mentee": mentee,
        "days_since_contact": days,
        "last_contact": None if days is None else WEEK_OF - timedelta(days=days),
    }


def checkin_row(pair_id: str, days: int | None, month: int, rating: int | None, answered: date) -> dict[str, object]:
    received_at = datetime.combine(answered, datetime.min.time(), tzinfo=ZONE).replace(hour=19, minute=12)
    return {**pair_row(pair_id, days), "month": month, "rating": rating, "received_at": received_at,
            "received_on": answered}  # fmt: skip


SURVEY = {
    "title": "End-of-round feedback",
    "questions": [
        {
            "number": 1,
            "text": "Overall, how useful was the program to you?",
            "kind": "scale",
            "labels": ["Not at all", "A little", "Somewhat", "Very", "Extremely"],
        },
        {"number": 2, "text": "Would you take part in the program again?", "kind": "yesno", "labels": []},
        {
            "number": 3,
            "text": "How did you and your partner mostly keep in touch?",
            "kind": "choice",
            "labels": ["Email", "Phone or video calls", "In person", "A mix of these"],
        },
        {
            "number": 4,
            "text": "What one thing would have made the program more useful to you?",
            "kind": "text",
            "labels": [],
        },
    ],
}
# The committee's copy of the results, as the planner makes it: 11 of 16 invited answered.
RESULT_TEXTS = [
    "A shared calendar of the monthly topics, so that we could plan our calls around them.",
    "Être mis en relation plus tôt : le premier mois a passé vite.",
    "Honestly nothing — my mentor was wonderful and the prompts kept us going.",
    "More structure in the first month; we didn't know what to talk about at first.",
    "كان البرنامج مفيدًا جدًا، وأتمنى لو كانت هناك لقاءات جماعية.",
    "מפגש פתיחה משותף לכל הזוגות היה עוזר מאוד.",
]


def bars(kind: str, labels: list[str], counts: list[int]) -> list[dict[str, object]]:
    total, longest = sum(counts), max(counts)
    values = ["yes", "no"] if kind == "yesno" else [str(n) for n in range(1, len(labels) + 1)]
    return [
        {
            "value": value,
            "label": label,
            "count": count,
            "percent": round(100 * count / total),
            "width": round(100 * count / longest),
            "text_bar": "#" * max(round(30 * count / longest), 1) if count else "",
        }
        for value, label, count in zip(values, labels or values, counts)
    ]


def survey_results() -> dict[str, object]:
    questions = SURVEY["questions"]
    context: dict[str, object] = {
        "survey": {"id": "feedback", "title": SURVEY["title"], "audience": "both"},
        "closes_on": date(2027, 6, 14),
        "invited": 16,
        "responded": 11,
        "response_rate": 69,
        "questions": [
            {**questions[0], "id": "useful", "answered": 11, "texts": [],
             "bars": bars("scale", questions[0]["labels"], [0, 1, 2, 5, 3])},
            {**questions[1], "id": "again", "answered": 10, "texts": [],
             "bars": bars("yesno", ["yes", "no"], [9, 1])},
            {**questions[2], "id": "channel", "answered": 11, "texts": [],
             "bars": bars("choice", questions[2]["labels"], [6, 2, 0, 3])},
            {**questions[3], "id": "better", "answered": len(RESULT_TEXTS), "texts": RESULT_TEXTS, "bars": []},
        ],
        # Which side answered (a survey of both): the response, and each question again per side.
        "by_role": [{"role": "mentor", "invited": 8, "responded": 6}, {"role": "mentee", "invited": 8, "responded": 5}],
    }  # fmt: skip
    splits = {"useful": ([0, 0, 1, 3, 2], [0, 1, 1, 2, 1]), "again": ([6, 0], [3, 1]), "channel": ([3, 1, 0, 2], [3, 1, 0, 1])}
    for question in context["questions"]:  # type: ignore[attr-defined]
        if question["kind"] == "text":
            sides = [(RESULT_TEXTS[:4], []), (RESULT_TEXTS[4:], [])]
        else:
            labels = [bar["label"] for bar in question["bars"]]
            sides = [([], bars(question["kind"], labels, counts)) for counts in splits[question["id"]]]
        question["by_role"] = [
            {**question, "role": role, "texts": texts, "bars": side_bars,
             "answered": len(texts) or sum(bar["count"] for bar in side_bars)}
            for role, (texts, side_bars) in zip(("mentor", "mentee"), sides)
        ]  # fmt: skip
    return context


def one_round(section: dict[str, object]) -> dict[str, object]:
    """A liaison summary of one round's section, as the planner makes it for a program of one
    round: the section's counts are the whole summary's (the subject's) too."""
    return {**section, "rounds": [section]}


def contexts() -> dict[str, dict[str, object]]:
    """A realistic context for every kind, as the planner will pass it."""
    common = {"program": PROGRAM}
    chart_rows = [
        {
            "pair_id": pair_id,
            "mentor_name": mentor["name"],
            "mentee_name": mentee["name"],
            "cells": [int(c, 16) if c != "." else 0 for c in CELLS[pair_id]],
        }
        for pair_id, mentor, mentee in PAIRS
    ]
    return {
        "pairing": {
            **common,
            "recipient": participant(SIOBHAN, "mentor"),
            "mentor": SIOBHAN,
            "mentee": LAYLA,
            "pair_id": "p1",
            "starts_on": STARTS_ON,
            "ends_on": ENDS_ON,
        },
        "intro_reminder": {
            **common,
            "recipient": participant(JOSE, "mentor"),
            "mentor": JOSE,
            "mentee": NOA,
            "days_since_welcome": 8,
            "reminder_number": 2,
            "reminded_before": True,
            "last_reminder": True,
        },
        "topic": {
            **common,
            "recipient": participant(NOA, "mentee"),
            "month": 3,
            "months": 9,
            "topic": {
                "title": "Valuable professional resources",
                "prompts": [
                    "Which journals, blogs, podcasts or mailing lists does your mentor actually read, and why?",
                    "Which professional associations have been worth joining, and what did they give you?",
                    "How do you keep up with new tools without drowning in them?",
                ],
                "resources": [
                    {
                        "title": "ALA New Members Round Table: resources for new librarians",
                        "url": "https://www.example.org/new-members/resources-for-new-librarians-and-students",
                    },
                    {"title": "Code4Lib Journal", "url": "https://journal.code4lib.org/"},
                ],
            },
            "partner": JOSE,
        },
        "nudge": {
            **common,
            "recipient": participant(BEN, "mentee"),
            "partner": ZOE,
            "days_since_contact": 34,
        },
        "checkin": {
            **common,
            "recipient": participant(SIOBHAN, "mentor"),
            "mentee": LAYLA,
            "month": 4,
            "months": 9,
        },
        "liaison_summary": one_round({
            **common,
            # The planner knows the liaison and the coordinators by address only.
            "recipient": {"name": "", "email": "liaison@example.org", "role": "liaison"},
            "week_of": WEEK_OF,
            "counts": {
                "pairs": 8,
                "active": 4,
                "never_started": 1,
                "inactive_30": 1,
                "inactive_45": 1,
                "one_sided": 1,
                "bouncing": 1,
                "paused": 1,
                "low_ratings": 2,
                "contact_requests": 1,
                "comments": 2,
            },
            # From the mentors' check-ins: Noa (p8) asks for the liaison; Zoë and Dev rated low.
            "contact_requests": [checkin_row("p8", 5, 5, 3, date(2027, 1, 8))],
            "low_ratings": [
                checkin_row("p3", None, 5, 1, date(2027, 1, 7)),
                checkin_row("p5", 10, 4, 2, date(2026, 12, 16)),
            ],
            # What mentors wrote in this week's check-ins (Noa asks for the liaison).
            "comments": [
                {**checkin_row("p8", 5, 5, 3, date(2027, 1, 8)), "wants_contact": True,
                 "lines": ["Noa would like advice on asking for a raise.", "Could you call her?"]},
                {**checkin_row("p1", 2, 5, 5, date(2027, 1, 9)), "wants_contact": False,
                 "lines": ["Going well: we meet every other Tuesday."]},
            ],  # fmt: skip
            "never_started": [pair_row("p3", None)],
            "inactive_30": [pair_row("p2", 31)],  # as the planner makes it: not the 45+ pairs
            "inactive_45": [pair_row("p7", 46)],
            "one_sided": [pair_row("p5", 10)],
            "paused": [pair_row("p6", 12)],
            "bouncing": [{**BEN, "pair_id": "p3"}],
            "chart": {"weeks": WEEKS, "rows": chart_rows},
        }),  # fmt: skip
        "digest": {
            **common,
            "recipient": {"name": "", "email": "coordinator@example.org", "role": "coordinator"},
            "day": date(2026, 11, 3),
            "questions": [
                {**MARIE, "received_at": datetime(2026, 11, 2, 16, 5, tzinfo=ZONE)},
                {**LAYLA, "received_at": datetime(2026, 11, 3, 7, 48, tzinfo=ZONE)},
            ],
            "bounces": [{**BEN, "pair_id": "p3", "at": datetime(2026, 11, 2, 9, 30, tzinfo=ZONE)}],
            "failed_deliveries": [
                {
                    "key": "topic:pair-p3:month-2:mentee",
                    "kind": "topic",
                    "to": "old.address@retired.example.edu",
                    "reason": "550 5.1.1 <old.address@retired.example.edu>: Recipient address rejected: "
                    "User unknown in virtual mailbox table",
                    "since": datetime(2026, 10, 30, 9, 0, tzinfo=ZONE),
                }
            ],
            "unknown_senders": [
                {"email": "siobhan.personal@gmail.example.com", "count": 3},
                {"email": "newsletter@vendor.example.com", "count": 1},
            ],
            "letter_requests": [
                {
                    **SIOBHAN,
                    "request_id": 3,
                    "pair_id": "p1",
                    "requested_at": datetime(2026, 11, 2, 18, 40, tzinfo=ZONE),
                    "approve": "approve letter 3",
                    "month": 3,
                    "months": 9,
                    "completed": False,
                    "contacts": 4,
                    "decline": "decline letter 3",
                },
                {
                    **NOA,
                    "request_id": 4,
                    "pair_id": "p8",
                    "requested_at": datetime(2026, 11, 3, 6, 2, tzinfo=ZONE),
                    "approve": "approve letter 4",
                    "month": 9,
                    "months": 9,
                    "completed": True,
                    "contacts": 1,
                    "decline": "decline letter 4",
                },
            ],
            "spoofed": [
                {"email": "coordinator@example.org", "count": 2, "last": datetime(2026, 11, 2, 23, 51, tzinfo=ZONE)},
                {"email": "", "count": 1, "last": datetime(2026, 11, 2, 4, 10, tzinfo=ZONE)},
            ],
        },
        "survey": {
            **common,
            "recipient": participant(ZOE, "mentor"),
            "survey": SURVEY,
            "closes_on": date(2027, 6, 14),
            "pair_id": "p3",
            "ends_on": ENDS_ON,
            "ended": False,
        },
        "survey_reminder": {
            **common,
            "recipient": participant(LAYLA, "mentee"),
            "survey": SURVEY,
            "closes_on": date(2027, 6, 14),
            "pair_id": "p1",
            "ends_on": ENDS_ON,
            "ended": False,
        },
        "survey_results": {
            **common,
            # Staff have a name when the store knows one; the greeting copes without (see the digest).
            "recipient": {"name": "Róisín Okafor", "email": "r.okafor@example.org", "role": "coordinator"},
            **survey_results(),
        },
        "recognition_letter": {
            **common,
            "recipient": participant(TOMAS, "mentor"),
            "starts_on": STARTS_ON,
            "ends_on": ENDS_ON,
            "issued_on": ENDS_ON,
        },
        "reply": {
            **common,
            "recipient": participant(MARIE, "mentee"),
            "title": "End-of-round feedback: your answers",
            "intro": "Thank you, Marie-Claire. Here is what we understood from your reply:",
            "lines": [
                "1. 4 (Very)",
                "2. yes",
                "3. Phone or video calls",
                "4. Des rencontres en groupe « en présentiel ».",
            ],
        },
        "my_data": {
            **common,
            "recipient": participant(NOA, "participant"),
            "person": {**NOA, "aliases": ["noa@work.example.co.il"]},
            "pairs": [
                {"pair_id": "p2", "role": "mentee", "started_on": STARTS_ON, "status": "active",
                 "partner": {"name": JOSE["name"]}},
                {"pair_id": "p8", "role": "mentor", "started_on": STARTS_ON, "status": "paused",
                 "partner": {"name": ""}},
            ],
            "contacts": [
                {"pair_id": "p2", "month": "September 2026", "mentor_to_mentee": 3, "mentee_to_mentor": 2,
                 "email": 4, "phone": 1, "meeting": 0},
                {"pair_id": "p8", "month": "October 2026", "mentor_to_mentee": 1, "mentee_to_mentor": 0,
                 "email": 0, "phone": 0, "meeting": 1},
            ],
            "surveys": [
                {"title": "End-of-round feedback", "pair_id": "p2", "answered_on": ENDS_ON,
                 "answers": ["How useful was the round? 4", "Would you mentor next year? yes"]},
            ],
            "checkins": [
                {"pair_id": "p8", "month": 2, "rating": 4, "wants_contact": True,
                 "comment": "Nous avançons « lentement » mais sûrement.", "received_on": WEEK_OF},
            ],
            "letters": [{"pair_id": "p8", "requested_on": ENDS_ON, "status": "requested", "decided_on": None}],
            "bounced_on": None,
            "keep_days": 365,
        },
        "round_end": {
            **common,
            "recipient": participant(KWAME, "mentor"),
            "partner": EVE,
            "starts_on": STARTS_ON,
            "ends_on": ENDS_ON,
            "ended": False,
        },
    }


KINDS = sorted(contexts())
PARTICIPANT_KINDS = ["checkin", "intro_reminder", "nudge", "pairing", "round_end", "survey", "survey_reminder", "topic"]


@pytest.fixture(scope="module")
def rendered() -> dict[str, RenderedMail]:
    renderer = Renderer()
    return {kind: renderer.render(kind, context) for kind, context in contexts().items()}


class BalanceChecker(HTMLParser):
    """Tags must close in the order they opened; void elements never close. Collects the text too."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(html: str) -> BalanceChecker:
    checker = BalanceChecker()
    checker.feed(html)
    checker.close()
    assert not checker.errors, checker.errors
    assert not checker.stack, f"unclosed: {checker.stack}"
    return checker


def test_every_kind_has_a_template_and_a_context() -> None:
    assert Renderer().kinds() == KINDS
    assert KINDS == sorted(
        [
            "pairing",
            "intro_reminder",
            "topic",
            "nudge",
            "checkin",
            "liaison_summary",
            "digest",
            "survey",
            "survey_reminder",
            "survey_results",
            "round_end",
            "reply",
            "recognition_letter",
            "my_data",
        ]
    )


@pytest.mark.parametrize("kind", KINDS)
def test_subject_is_one_short_line(rendered: dict[str, RenderedMail], kind: str) -> None:
    subject = rendered[kind].subject
    assert subject and "\n" not in subject and subject == subject.strip()
    assert not subject.startswith("Subject")


@pytest.mark.parametrize("kind", KINDS)
def test_text_fits_a_terminal(rendered: dict[str, RenderedMail], kind: str) -> None:
    text = rendered[kind].text
    for line in text.splitlines():
        # Only an unbreakable URL or address may push a line past 78 columns.
        assert len(URL_OR_ADDRESS.sub("", line)) <= 78, line
        assert line == line.rstrip()
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert not text.startswith("\n")
    assert "\n\n\n" not in text, "more than one blank line in a row"


@pytest.mark.parametrize("kind", KINDS)
def test_text_is_not_html_escaped(rendered: dict[str, RenderedMail], kind: str) -> None:
    text = rendered[kind].text
    assert not re.search(r"&(#\d+|#x[0-9a-f]+|[a-z]+);", text, re.IGNORECASE), "HTML entities in plain text"
    assert "<bdi>" not in text


@pytest.mark.parametrize("kind", KINDS)
def test_html_is_well_formed_and_self_contained(rendered: dict[str, RenderedMail], kind: str) -> None:
    html = rendered[kind].html
    assert html is not None, "every participant mail and summary has an HTML part"
    checker = parse_html(html)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en" dir="ltr">' in html
    assert '<meta charset="utf-8">' in html
    # Mail clients strip <style>, block remote content and never run scripts: inline styles only.
    for forbidden in ("<style", "<link", "<script", "<img", "class=", "url("):
        assert forbidden not in html, forbidden
    for name, value in checker.attributes:
        if name == "href":
            assert value and value.startswith(("mailto:", "https://")), value
    title = rendered[kind].subject.replace("'", "&#39;")
    assert f"<title>{title}</title>" in html


def names_in(value: object) -> set[str]:
    """Every person's name anywhere in a context (the program's own name is not a person's)."""
    if isinstance(value, dict):
        keys = ("name", "mentor_name", "mentee_name")
        found = {v for k, v in value.items() if k in keys and v and value is not PROGRAM}
        return found.union(*(names_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(names_in(v) for v in value))
    return set()


@pytest.mark.parametrize("kind", KINDS)
def test_names_survive_in_both_parts(rendered: dict[str, RenderedMail], kind: str) -> None:
    """Every name in the context reaches both parts intact; in HTML each is isolated by <bdi>."""
    mail = rendered[kind]
    assert mail.html is not None
    html_text = "".join(parse_html(mail.html).text)
    names = names_in(contexts()[kind])
    assert names
    for name in names:
        assert name in mail.text, name
        assert name in html_text, name
        if "'" in name:
            assert name.replace("'", "&#39;") in mail.html, "apostrophes are escaped in HTML"
            assert name not in mail.html
    body = mail.html[mail.html.index("<body") :]  # <title> holds text only: no markup to isolate with
    for name in names & {*RIGHT_TO_LEFT, *ACCENTED}:
        for found in re.finditer(re.escape(name.replace("'", "&#39;")), body):
            assert body[: found.start()].endswith("<bdi>"), f"{name} is not isolated by <bdi>"


@pytest.mark.parametrize("kind", KINDS)
def test_greeting_never_has_an_empty_name(rendered: dict[str, RenderedMail], kind: str) -> None:
    """The liaison and coordinators have no names, only addresses; nobody is greeted with "Dear ,"."""
    mail = rendered[kind]
    assert mail.html is not None
    first_line = mail.text.splitlines()[0]
    assert re.fullmatch(r"(Dear \S.*|Hello),", first_line), first_line
    assert "Dear ," not in mail.html and "Dear <bdi></bdi>" not in mail.html


def test_apostrophes_in_plain_text_stay_apostrophes(rendered: dict[str, RenderedMail]) -> None:
    text = rendered["pairing"].text
    assert "Dear Siobhán O'Connor and ليلى حداد," in text
    assert "siobhan.o'connor@library.example.ie" in text
    html = rendered["pairing"].html
    assert html is not None
    assert 'href="mailto:siobhan.o&#39;connor@library.example.ie"' in html


@pytest.mark.parametrize("kind", PARTICIPANT_KINDS)
def test_participant_mail_reminds_the_one_thing_to_do(rendered: dict[str, RenderedMail], kind: str) -> None:
    mail = rendered[kind]
    assert mail.html is not None
    for part in (mail.text, " ".join("".join(parse_html(mail.html).text).split())):
        flat = " ".join(part.split())
        assert "CC or BCC" in flat
        assert PROGRAM["address"] in flat
        assert "call 30 min" in flat


def test_pairing_introduces_both_and_asks_the_mentor_to_write_first(rendered: dict[str, RenderedMail]) -> None:
    text = " ".join(rendered["pairing"].text.split())
    assert "Mentor: Siobhán O'Connor <siobhan.o'connor@library.example.ie>" in text
    assert "Mentee: ليلى حداد <layla.haddad@example.net>" in text
    assert "Siobhán O'Connor, please send ليلى حداد an introductory email within the next week" in text
    assert "at least once a month" in text
    assert "Monday 31 August 2026 to Monday 31 May 2027" in text


def test_intro_reminder_counts_and_escalates() -> None:
    renderer = Renderer()
    context = contexts()["intro_reminder"]
    first = renderer.render(
        "intro_reminder", {**context, "reminder_number": 1, "reminded_before": False, "last_reminder": False}
    )
    second = renderer.render("intro_reminder", context)
    assert first.subject.startswith("A reminder:") and second.subject.startswith("A second reminder:")
    # Counted from the welcome at the moment it is sent (issue 10: "began 7 days ago" was stale).
    assert "It is 8 days since we introduced you to נועה כהן" in " ".join(first.text.split())
    # The first reminder sent after downtime, when the second is the one due, is not "a second".
    late = renderer.render("intro_reminder", {**context, "reminded_before": False})
    assert late.subject.startswith("A reminder:") and "If something is getting in the way" in late.text
    assert "If something is getting in the way" not in first.text
    assert "If something is getting in the way" in second.text


def test_nudge_for_a_pair_that_never_corresponded() -> None:
    context = {**contexts()["nudge"], "days_since_contact": None}
    text = " ".join(Renderer().render("nudge", context).text.split())
    assert "not yet seen any contact between you and Zoë Müller" in text
    assert "days since" not in text


def test_topic_lists_prompts_and_resources(rendered: dict[str, RenderedMail]) -> None:
    mail = rendered["topic"]
    # The partner is named: a mentor of two mentees gets two topics a month (issue 10).
    assert mail.subject == "Month 3 of 9 with José Álvarez Núñez: Valuable professional resources"
    assert "    https://journal.code4lib.org/" in mail.text.splitlines()
    assert mail.html is not None and 'href="https://journal.code4lib.org/"' in mail.html
    empty = {**contexts()["topic"]}
    empty["topic"] = {"title": "Getting to know each other", "prompts": [], "resources": []}
    text = Renderer().render("topic", empty).text
    assert "Some questions" not in text and "Further reading" not in text


def test_checkin_shows_the_reply_format(rendered: dict[str, RenderedMail]) -> None:
    lines = rendered["checkin"].text.splitlines()
    assert lines[lines.index("    1. 4") + 1] == "    2. no"
    assert "our committee liaison" in rendered["checkin"].text
    without_liaison = {**contexts()["checkin"], "program": {**PROGRAM, "liaison": None}}
    text = Renderer().render("checkin", without_liaison).text
    assert "one of the coordinators" in text and "liaison" not in text


def test_survey_shows_numbered_answers_and_scale_labels(rendered: dict[str, RenderedMail]) -> None:
    mail = rendered["survey"]
    lines = mail.text.splitlines()
    for example in ("    1. 4", "    2. yes", "    3. 1"):
        assert example in lines
    for label in ("1 = Not at all", "5 = Extremely", "2 = Phone or video calls"):
        assert any(line.strip() == label for line in lines), label
    assert "yes or no" in mail.text
    assert "14 Jun 2027" in mail.subject
    assert "your mentee" in mail.text  # Zoë is a mentor; the survey's context names no partner


def test_round_end_invites_only_mentors_to_ask_for_a_letter(rendered: dict[str, RenderedMail]) -> None:
    assert 'the word "letter"' in " ".join(rendered["round_end"].text.split())
    mentee = {**contexts()["round_end"], "recipient": participant(EVE, "mentee"), "partner": KWAME}
    assert "letter" not in Renderer().render("round_end", mentee).text


def test_digest_lists_what_needs_coordinators(rendered: dict[str, RenderedMail]) -> None:
    mail = rendered["digest"]
    assert mail.subject == (
        "Coordinators' digest for 3 Nov 2026: 2 questions, 1 bounce, 1 undelivered mail, 2 unknown senders, "
        "2 letter requests, 3 forged replies"
    )
    text = " ".join(mail.text.split())
    assert "attached to this email" in text
    assert "Marie-Claire d'Arcy <mc.darcy@example.fr>, received 2 Nov 2026, 16:05 CST" in text
    assert "siobhan.personal@gmail.example.com 3 messages" in text
    quiet = {
        **contexts()["digest"],
        **dict.fromkeys(
            ["questions", "bounces", "failed_deliveries", "unknown_senders", "letter_requests", "spoofed"], []
        ),
    }
    assert "nothing new" in Renderer().render("digest", quiet).subject


def test_digest_gives_the_command_that_approves_each_letter(rendered: dict[str, RenderedMail]) -> None:
    mail = rendered["digest"]
    lines = mail.text.splitlines()
    # The command on a line of its own, to copy into a reply as it is.
    assert [line.strip() for line in lines if line.strip().startswith("approve letter")] == [
        "approve letter 3",
        "approve letter 4",
    ]
    text = " ".join(mail.text.split())
    # Where the pair is, so that the coordinator can judge (issue 10: a letter asked for in month 2).
    assert (
        "Siobhán O'Connor <siobhan.o'connor@library.example.ie>, mentor in pair p1 (month 3 of 9, 4 contacts logged), "
        "asked 2 Nov 2026, 18:40 CST" in text
    )
    assert "mentor in pair p8 (round completed, 1 contact logged)" in text
    assert '"decline letter N"' in text
    assert mail.html is not None
    html_text = " ".join("".join(parse_html(mail.html).text).split())
    assert "approve letter 3" in html_text and "approve letter 4" in html_text
    assert "Letters of recognition to approve (2)" in html_text
    assert "month 3 of 9, 4 contacts logged" in html_text


def test_digest_reports_forged_replies(rendered: dict[str, RenderedMail]) -> None:
    mail = rendered["digest"]
    text = " ".join(mail.text.split())
    assert "Forged or misused reply addresses (3)" in text
    assert "Someone tried to act with a forged or misused reply address" in text and "Nothing was changed." in text
    assert "coordinator@example.org 2 attempts" in text
    assert "(no sender address) 1 attempt" in text
    assert mail.html is not None
    html_text = " ".join("".join(parse_html(mail.html).text).split())
    assert "Someone tried to act with a forged or misused reply address" in html_text
    assert "(no sender address)" in html_text and 'href="mailto:coordinator@example.org"' in mail.html
    only_forged = {
        **contexts()["digest"],
        **dict.fromkeys(["questions", "bounces", "failed_deliveries", "unknown_senders", "letter_requests"], []),
    }
    assert Renderer().render("digest", only_forged).subject == "Coordinators' digest for 3 Nov 2026: 3 forged replies"


def test_liaison_summary_lists_pairs_needing_attention(rendered: dict[str, RenderedMail]) -> None:
    mail = rendered["liaison_summary"]
    assert mail.subject == "Weekly summary for the week of 11 Jan 2027: 4 of 8 pairs active, 1 mentor asking for you"
    text = mail.text
    assert "Never started (1)" in text and "no contact logged yet" in text
    assert "last contact 11 Dec 2026, 31 days ago" in text
    assert "Paused (1)" in text and "Bouncing addresses (1)" in text
    assert "One-sided (1)" in text
    assert mail.html is not None
    quiet = {**contexts()["liaison_summary"]}
    quiet.update(never_started=[], inactive_30=[], inactive_45=[], one_sided=[], paused=[], bouncing=[])
    assert "Nothing needs your attention this week." not in Renderer().render("liaison_summary", one_round(quiet)).text
    quiet.update(
        low_ratings=[], contact_requests=[], counts={**quiet["counts"], "low_ratings": 0, "contact_requests": 0}
    )
    quiet_mail = Renderer().render("liaison_summary", one_round(quiet))
    assert "Nothing needs your attention this week." in quiet_mail.text
    assert quiet_mail.subject == "Weekly summary for the week of 11 Jan 2027: 4 of 8 pairs active"


def test_liaison_summary_lists_check_in_concerns(rendered: dict[str, RenderedMail]) -> None:
    mail = rendered["liaison_summary"]
    lines = mail.text.splitlines()
    asking = lines[lines.index("Mentors asking you to get in touch (1)") :]
    assert asking[4:7] == [
        "  p8  נועה כהן <noa.cohen@example.co.il>, mentor",
        "      José Álvarez Núñez <jose.alvarez@biblioteca.example.es>, mentee",
        "      asked in the month 5 check-in, 8 Jan 2027; rated 3 of 5",
    ]
    low = lines[lines.index("Low ratings in check-ins (2)") :]
    assert "      rated 1 of 5 in the month 5 check-in, 7 Jan 2027" in low
    assert "      rated 2 of 5 in the month 4 check-in, 16 Dec 2026" in low
    assert "  Asking for you           1      Low check-in ratings     2" in lines
    assert mail.html is not None
    html_text = " ".join("".join(parse_html(mail.html).text).split())
    assert "Mentors asking you to get in touch (1)" in html_text and "Asked to hear from you" in html_text
    assert "Low ratings in check-ins (2)" in html_text and "Rated 1 of 5" in html_text
    assert "Month 4, 16 Dec 2026" in html_text


def test_survey_reminder_repeats_the_questions_and_the_closing_day(rendered: dict[str, RenderedMail]) -> None:
    mail = rendered["survey_reminder"]
    assert mail.subject == "A reminder: End-of-round feedback closes on 14 Jun 2027"
    lines = mail.text.splitlines()
    for example in ("    1. 4", "    2. yes", "    3. 1"):
        assert example in lines
    assert "     5 = Extremely" in lines
    assert "your mentor" in mail.text  # Layla is a mentee
    assert "please ignore this reminder" in " ".join(mail.text.split())


def test_survey_results_chart_in_text(rendered: dict[str, RenderedMail]) -> None:
    mail = rendered["survey_results"]
    assert mail.subject == "Survey results: End-of-round feedback: 11 of 16 answered (69%)"
    lines = mail.text.splitlines()
    words = " ".join(mail.text.split())
    assert "11 of the 16 participants invited answered: a response rate of 69% (6 of 8 mentors and 5 of 8 mentees)." in words
    # Each answer's bar: the label, as many "#" as its count deserves (30 for the most), the count.
    assert "   4 Very        " + "#" * 30 + " 5  (45%)" in lines
    assert "   2 A little    " + "#" * 6 + " 1  (9%)" in lines
    assert "   1 Not at all  0" in lines
    assert "   yes  " + "#" * 30 + " 9  (90%)" in lines and "   no   ### 1  (10%)" in lines
    assert "   In person             0" in lines
    # The free-text answers in full, in alphabetical order, with no names.
    answers = [line.strip() for line in lines if line.startswith("   - ")]
    assert answers[1] == "- Être mis en relation plus tôt : le premier mois a passé vite."
    assert "- كان البرنامج مفيدًا جدًا، وأتمنى لو كانت هناك لقاءات جماعية." in answers
    assert "- מפגש פתיחה משותף לכל הזוגות היה עוזר מאוד." in answers


def test_survey_results_chart_in_html(rendered: dict[str, RenderedMail]) -> None:
    html = rendered["survey_results"].html
    assert html is not None
    html_text = " ".join("".join(parse_html(html).text).split())
    assert "Survey results: End-of-round feedback" in html_text and "69%" in html_text
    # A bar is a table cell as wide as its count against the most frequent answer, and the number is printed.
    widths = re.findall(r'<td width="(\d+)%" title="(\d+)" style="height:20px;background-color:(#[0-9a-f]{6});', html)
    scale = widths[:4]  # "Not at all" has no answers and no bar
    assert [(w, n) for w, n, _ in scale] == [("20", "1"), ("40", "2"), ("100", "5"), ("60", "3")]
    assert len({shade for _, _, shade in scale}) == 4, "each scale value its own shade"
    assert ("100", "9") == widths[4][:2] and ("11", "1") == widths[5][:2]  # yes and no
    assert "5 (45%)" in html_text and "9 (90%)" in html_text
    # Free text: each answer in full, its direction found from its own text.
    answers = re.findall(r'<div dir="(\w+)" style="[^"]*border-(\w+):3px', html)
    assert answers == [("ltr", "left")] * 4 + [("rtl", "right")] * 2, "the rule stands where each answer starts"
    for text in RESULT_TEXTS:
        assert text.replace("'", "&#39;") in html
    assert "<bdi>Phone or video calls</bdi>" in html


def test_survey_results_when_nobody_answered() -> None:
    context = {**contexts()["survey_results"], "responded": 0, "response_rate": 0}
    mail = Renderer().render("survey_results", context)
    assert "0 of 16 answered (0%)" in mail.subject
    assert "Nobody answered" in mail.text and "####" not in mail.text
    assert mail.html is not None and "Nobody answered" in mail.html


def test_liaison_heat_map_text_has_one_character_per_week(rendered: dict[str, RenderedMail]) -> None:
    lines = rendered["liaison_summary"].text.splitlines()
    chart = lines[lines.index("Activity by week") :]
    ruler = next(line for line in chart if line.strip().startswith("1   5"))
    assert ruler.strip() == week_ruler(len(WEEKS))
    for pair_id, mentor, mentee in PAIRS:
        row = next(line for line in chart if line.startswith(f"  {pair_id}  "))
        cells = row.split()[1]
        assert len(cells) == len(WEEKS), row
        assert cells == "".join(heat(int(c, 16) if c != "." else 0) for c in CELLS[pair_id])
        # Week n's character sits under week n's number.
        assert row.index(cells) == ruler.index("1")
        assert row.endswith(f"{mentor['name']} / {mentee['name']}")


def test_liaison_heat_map_html_shades_by_count(rendered: dict[str, RenderedMail]) -> None:
    html = rendered["liaison_summary"].html
    assert html is not None
    # Each cell shows the text chart's symbol too: "." none, 1-9, "+" ten or more (issue 10).
    shades = re.findall(r'background-color:(#[0-9a-f]{6});color:#[0-9a-f]{6};">([.+1-9])</td>', html)
    by_count: dict[int, set[str]] = {}
    for shade, symbol in shades:
        count = {".": 0, "+": 10}[symbol] if symbol in ".+" else int(symbol)
        by_count.setdefault(min(count, 3), set()).add(shade)
    assert sorted(by_count) == [0, 1, 2, 3] and all(len(s) == 1 for s in by_count.values())
    assert len({next(iter(s)) for s in by_count.values()}) == 4, "four distinct shades"
    assert len(shades) == len(PAIRS) * len(WEEKS) + 5  # every cell, plus the five shaded in the key
    assert "Key:" in html and "ten or more" in html


def test_long_chart_keeps_lines_short() -> None:
    context = contexts()["liaison_summary"]
    weeks = [STARTS_ON + timedelta(weeks=n) for n in range(40)]
    rows = [
        {**row, "pair_id": f"pair-{n:03d}", "cells": [n % 5] * 40} for n, row in enumerate(context["chart"]["rows"])
    ]
    text = Renderer().render("liaison_summary", one_round({**context, "chart": {"weeks": weeks, "rows": rows}})).text
    chart = [line for line in text.splitlines() if line.startswith("  pair-")]
    assert len(chart) == 8
    assert all(len(line) <= 78 for line in chart), max(chart, key=len)
    assert all(line.endswith("…") or "/" in line for line in chart)


def test_missing_variable_names_it() -> None:
    context = contexts()["topic"]
    del context["partner"]
    # Named where it is used: the partial that names a person (`called`) when the template hands it on.
    with pytest.raises(TemplateError, match=r"^topic\.txt\.j2(, in _parts\.txt\.j2)? line \d+: 'partner' is undefined$"):
        Renderer().render("topic", context)


def test_missing_key_names_it() -> None:
    context = contexts()["pairing"]
    context["mentee"] = {"name": "ليلى حداد"}
    with pytest.raises(
        TemplateError, match=r"^pairing\.txt\.j2, in _parts\.txt\.j2 line \d+: .* no attribute 'email'$"
    ):
        Renderer().render("pairing", context)


def test_missing_variable_in_html_only_names_the_html_template(tmp_path: Path) -> None:
    (tmp_path / "nudge.html.j2").write_text("<p>{{ partner.nickname }}</p>\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"^nudge\.html\.j2 line 1: .*'nickname'"):
        Renderer(tmp_path).render("nudge", contexts()["nudge"])


def test_unknown_kind_and_bad_first_line(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"^letter\.txt\.j2: template 'letter\.txt\.j2' not found$"):
        Renderer().render("letter", {})
    (tmp_path / "nudge.txt.j2").write_text("Hello {{ recipient.name }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"^nudge\.txt\.j2: the first line must be 'Subject: \.\.\.'"):
        Renderer(tmp_path).render("nudge", contexts()["nudge"])
    (tmp_path / "nudge.txt.j2").write_text("Subject: {% if %}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"^nudge\.txt\.j2 line 1: "):
        Renderer(tmp_path).render("nudge", contexts()["nudge"])


def test_override_dir_replaces_one_template_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "nudge.txt.j2").write_text(
        "Subject: Hello from {{ program.name }}\n\nHi {{ recipient.name }}, write to {{ partner.name }}!   \n\n\n",
        encoding="utf-8",
    )
    (tmp_path / "thanks.txt.j2").write_text("Subject: Thanks\n\nThanks, {{ recipient.name }}.\n", encoding="utf-8")
    renderer = Renderer(tmp_path)
    nudge = renderer.render("nudge", contexts()["nudge"])
    assert nudge.subject == "Hello from New Librarians Mentoring Round 2026–27"
    assert nudge.text == "Hi Ben O'Brien, write to Zoë Müller!\n"
    # The built-in HTML part of the same kind still renders: the override replaced one file, not a kind.
    assert nudge.html is not None and "Zo\u00eb M\u00fcller" in nudge.html
    assert renderer.render("topic", contexts()["topic"]) == Renderer().render("topic", contexts()["topic"])
    assert renderer.kinds() == sorted([*KINDS, "thanks"])
    assert renderer.render("thanks", {"recipient": BEN}).html is None


def test_override_of_the_layout_applies_to_every_html_part(tmp_path: Path) -> None:
    (tmp_path / "_layout.html.j2").write_text(
        "<html><body>{% block body %}{% endblock %}<p>Our own footer</p></body></html>\n", encoding="utf-8"
    )
    html = Renderer(tmp_path).render("nudge", contexts()["nudge"]).html
    assert html is not None and "Our own footer" in html and "<!DOCTYPE" not in html


def test_wrap_reflows_paragraphs_and_lists_but_not_urls() -> None:
    url = "https://example.org/" + "a" * 80
    source = (
        "A first paragraph that goes on and on, well past the width we allow for a line of prose\n"
        "and continues here.\n\n- an item that is long enough to need a second line once it is wrapped at width\n"
        "  seventy-two\n- " + url + "\n3. numbered\n"
    )
    assert wrap(source).splitlines() == [
        "A first paragraph that goes on and on, well past the width we allow for",
        "a line of prose and continues here.",
        "",
        "- an item that is long enough to need a second line once it is wrapped",
        "  at width seventy-two",
        "- " + url,
        "3. numbered",
    ]
    assert wrap("no newline") == "no newline"


def test_rulers_line_up_with_weeks() -> None:
    assert week_ruler(12) == "1   5    10"
    assert week_ruler(3) == "1"
    # A round that starts on the last day of August: September, the first full month, gets the label.
    assert month_ruler(WEEKS[:10]) == " Sep Oct Nov"
    assert month_ruler([date(2026, 9, 7), date(2026, 9, 14), date(2026, 9, 21), date(2026, 9, 28)]) == "Sep"


def test_survey_results_long_answer_labels_keep_lines_short() -> None:
    context = survey_results()
    choice = context["questions"][2]
    choice["bars"] = [{**bar, "label": bar["label"] + ", or a messaging app such as Signal"} for bar in choice["bars"]]
    text = Renderer().render("survey_results", {**contexts()["survey_results"], **context}).text
    bar_lines = [line for line in text.splitlines() if "#" in line]
    assert len(bar_lines) == 9 and all(len(line) <= 78 for line in bar_lines), max(bar_lines, key=len)
    # Cut to 30 characters, with the bars still lined up.
    phone = next(line for line in bar_lines if line.startswith("   Phone"))
    email = next(line for line in bar_lines if line.startswith("   Email"))
    assert phone[3:33].endswith("…") and phone.index("#") == email.index("#") == 35


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Plus de rencontres", "ltr"),
        ("كان البرنامج مفيدًا", "rtl"),
        ("2027: מפגש פתיחה", "rtl"),  # digits and punctuation have no direction of their own
        ("«Zoom» بدلًا من الهاتف", "ltr"),  # the first strong letter decides, as dir="auto" does
        ("— 42 —", "ltr"),
    ],
)
def test_direction_follows_the_first_strong_letter(text: str, expected: str) -> None:
    assert direction(text) == expected


# --- people known by address only ------------------------------------------------------------


def nameless(value: object) -> object:
    """`value` with every person's name blank, as a pair made by address only has them (issue 10)."""
    if isinstance(value, dict):
        blanked = {key: nameless(item) for key, item in value.items()}
        if "email" in value and "name" in value:
            blanked["name"] = ""
        for key in ("mentor_name", "mentee_name"):
            if key in value:
                blanked[key] = ""
        return blanked
    if isinstance(value, list):
        return [nameless(item) for item in value]
    return value


# Where a name was left out: a greeting, a question or a list with nothing in it, two spaces or a
# space before punctuation where a name was. Counted against the same mail with names, so that
# a table's columns or a digest's own wording are not mistaken for a gap.
BLANK_NAME = (
    r"Dear\s*(<bdi>\s*</bdi>)?\s*,",
    r"\b(and|with|to|for|from|between)\s*(<bdi>\s*</bdi>)?\s*[,.:;?!)]",
    r"(?<=\S)  (?=\S)",
    r"(?<=\S) [,.:;?!]",
    r"\(\s*\)|<\s*>|<bdi>\s*</bdi>",
    r"(?m)^\s*[,.:;?!]",
)
SUBJECT_ENDS_WITHOUT_NAME = re.compile(r"\b(and|with|to|for|from|between)\s*$")


def gaps(text: str) -> dict[str, int]:
    return {pattern: len(re.findall(pattern, text)) for pattern in BLANK_NAME}


@pytest.mark.parametrize("kind", KINDS)
def test_every_template_reads_right_for_a_person_known_by_address_only(kind: str) -> None:
    renderer = Renderer()
    named, blank = renderer.render(kind, contexts()[kind]), renderer.render(kind, nameless(contexts()[kind]))
    assert blank.html is not None and named.html is not None
    for part in ("subject", "text", "html"):
        found, expected = gaps(getattr(blank, part)), gaps(getattr(named, part))
        assert all(found[p] <= expected[p] for p in BLANK_NAME), (part, getattr(blank, part))
    assert not SUBJECT_ENDS_WITHOUT_NAME.search(blank.subject), blank.subject
    assert re.fullmatch(r"(Dear \S.*|Hello.*),", blank.text.splitlines()[0]), blank.text.splitlines()[0]
