"""The letter of recognition: a one-page A4 PDF, opened again with pypdf and read back.

Pure: no servers, no store. Where poppler-utils' `pdftoppm` is installed, page 1 is also drawn as
a PNG and copied to tests/screenshots/ (ignored by git), so that a person can look at it.
"""

from __future__ import annotations

import inspect
import os
import io
import re
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import FrozenInstanceError, fields, replace
from datetime import date, datetime, timezone
from pathlib import Path

import pypdf
import pytest

from conftest import require_tool

from mentormail.daemon.mail import letters
from mentormail.daemon.mail.letters import LetterError, LetterFacts, letter_pdf
from mentormail.daemon.mail.render import Renderer, TemplateError

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PROGRAM = "New Librarians Mentoring Round 2026–27"
SIOBHAN = "Siobhán O'Connor"
JOSE = "José Álvarez Núñez"
LAYLA = "ليلى حداد"
NOA = "נועה כהן"
MENTORS = [SIOBHAN, JOSE, LAYLA, NOA]
# What the letter must never say: the mentee (the relationship is confidential) and anything from
# the pair's mail. There is no parameter to pass them through; the tests make sure it stays so.
MENTEES = {SIOBHAN: LAYLA, JOSE: NOA, LAYLA: SIOBHAN, NOA: JOSE}
MAIL_CANARY = "CANARY-7f3a91-subject-of-a-private-mail"


def facts(mentor: str = SIOBHAN, **changes: object) -> LetterFacts:
    base = LetterFacts(
        program_name=PROGRAM,
        mentor_name=mentor,
        round_starts_on=date(2026, 8, 31),
        round_ends_on=date(2027, 5, 31),
        issued_on=date(2027, 6, 7),
        signatory="The mentoring coordinators",
        program_address="mentoring@example.org",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def read(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    """The page's text as a reader would copy it: Arabic presentation forms and no-break spaces
    folded (NFKC), and line breaks and runs of spaces as single spaces."""
    raw = "\n".join(page.extract_text() for page in read(pdf).pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", raw))


def says(text: str, phrase: str) -> bool:
    """Whether `text` has `phrase`, spaces aside: pypdf puts the space on the wrong side of a
    right-to-left run ("recognises  ليلى حدادfor"), which a reader's eye does not see."""
    return re.sub(r"\s+", "", phrase) in re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {mentor: letter_pdf(facts(mentor)) for mentor in MENTORS}


@pytest.mark.parametrize("mentor", MENTORS)
def test_letter_states_program_mentor_dates_and_the_relationship(rendered: dict[str, bytes], mentor: str) -> None:
    text = text_of(rendered[mentor])
    assert PROGRAM in text
    assert mentor in text
    assert says(text, f"This letter recognises {mentor} for serving as a volunteer mentor in {PROGRAM}")
    assert "from 31 August 2026 to 31 May 2027" in text
    assert says(text, f"{mentor} maintained the mentoring relationship throughout the round")
    assert says(text, f"We are grateful to {mentor} for this generous service to the profession.")
    assert "7 June 2027" in text  # the date of issue
    assert "The mentoring coordinators" in text and "mentoring@example.org" in text


def test_a_letter_issued_during_the_round_says_only_what_is_true_that_day() -> None:
    # Approved in month 2 (issue 10: it said "from 31 August 2026 to 31 May 2027 ... throughout the round").
    text = text_of(letter_pdf(facts(issued_on=date(2026, 10, 26))))
    assert "since 31 August 2026, in a round that runs until 31 May 2027" in text
    assert "As of 26 October 2026" in text
    assert "throughout the round" not in text and "to 31 May 2027" not in text
    # Issued on the round's last day, it states the whole round.
    assert "throughout the round" in text_of(letter_pdf(facts(issued_on=date(2027, 5, 31))))


def test_the_letters_mail_during_the_round_thanks_for_service_so_far() -> None:
    context = {
        "program": {"name": PROGRAM, "address": "mentoring@example.org", "coordinators": [], "liaison": None},
        "recipient": {"name": SIOBHAN, "email": "s@example.org", "role": "mentor"},
        "starts_on": date(2026, 8, 31),
        "ends_on": date(2027, 5, 31),
        "issued_on": date(2026, 10, 26),
    }
    mail = Renderer().render("recognition_letter", context)
    flat = " ".join(mail.text.split())
    assert "since Monday 31 August 2026." in flat and "31 May 2027" not in flat
    assert mail.html is not None and "since Monday 31 August 2026." in " ".join(mail.html.split())
    ended = Renderer().render("recognition_letter", {**context, "issued_on": date(2027, 6, 7)})
    assert "from Monday 31 August 2026 to Monday 31 May 2027." in " ".join(ended.text.split())


@pytest.mark.parametrize("mentor", MENTORS)
def test_letter_never_names_the_mentee(rendered: dict[str, bytes], mentor: str) -> None:
    text = text_of(rendered[mentor])
    assert MENTEES[mentor] not in text
    assert MAIL_CANARY not in text
    assert "does not name the mentee" in text


def test_nothing_but_names_dates_and_the_program_address_can_reach_a_letter() -> None:
    """Structural: no field for a mentee, a subject, a message or a note; no other parameter."""
    assert [(field.name, field.type) for field in fields(LetterFacts)] == [
        ("program_name", "str"),
        ("mentor_name", "str"),
        ("round_starts_on", "date"),
        ("round_ends_on", "date"),
        ("issued_on", "date"),
        ("signatory", "str"),
        ("program_address", "str"),
    ]
    assert list(inspect.signature(letter_pdf).parameters) == ["facts", "renderer"]
    with pytest.raises(TypeError):
        LetterFacts(**{**vars(facts()), "mentee_name": LAYLA})  # type: ignore[arg-type]
    with pytest.raises(FrozenInstanceError):
        facts().mentor_name = MAIL_CANARY  # type: ignore[misc]


def test_a_template_cannot_name_the_mentee_either(tmp_path: Path) -> None:
    """The template's context is the facts: a program's own wording asking for more is an error."""
    (tmp_path / "_letter.txt.j2").write_text(
        "Subject: Letter of recognition\n\n{{ mentor_name }} mentored {{ mentee_name }}.\n", encoding="utf-8"
    )
    with pytest.raises(TemplateError, match=r"^_letter\.txt\.j2 line 3: 'mentee_name' is undefined$"):
        letter_pdf(facts(), Renderer(tmp_path))


@pytest.mark.parametrize("mentor", MENTORS)
def test_a_valid_one_page_a4_pdf(rendered: dict[str, bytes], mentor: str) -> None:
    pdf = rendered[mentor]
    assert pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF")
    reader = read(pdf)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    assert reader.metadata is not None and reader.metadata.title == f"Letter of recognition: {mentor}"


def test_same_facts_same_bytes(rendered: dict[str, bytes]) -> None:
    again = letter_pdf(facts(SIOBHAN))
    assert again == rendered[SIOBHAN]
    created = read(again).metadata.creation_date  # type: ignore[union-attr]
    assert created == datetime(2027, 6, 7, 12, 0, tzinfo=timezone.utc)
    later = letter_pdf(facts(SIOBHAN, issued_on=date(2027, 6, 8)))
    assert later != again and "8 June 2027" in text_of(later)


def test_right_to_left_names_are_shaped_and_in_reading_order(rendered: dict[str, bytes]) -> None:
    """Without a shaping engine fpdf2 would write "ليلى" as four unjoined letters, left to right.

    pypdf reads right-to-left runs back into logical order, so the name comes back as written only
    if it was drawn right to left; and the Arabic letters are drawn in their joining forms.
    """
    raw = read(rendered[LAYLA]).pages[0].extract_text()
    assert "\ufedf\ufef4\ufee0\ufef0" in raw  # lam initial, yeh medial, lam medial, alef maksura final
    assert "\ufea3\ufeaa\ufe8d\ufea9" in raw  # hah initial, dal final, alef isolated, dal isolated
    assert LAYLA not in raw and LAYLA in unicodedata.normalize("NFKC", raw)
    assert NOA in read(rendered[NOA]).pages[0].extract_text()  # Hebrew has no joining forms
    salam = read(letter_pdf(facts("عبد السلام"))).pages[0].extract_text()
    assert "\ufedf\ufeb4\ufefc\ufee1" in salam  # lam initial, seen medial, lam-alef ligature final, meem isolated


def test_a_name_is_never_split_across_lines(rendered: dict[str, bytes]) -> None:
    for mentor in MENTORS:
        lines = read(rendered[mentor]).pages[0].extract_text().splitlines()
        folded = [unicodedata.normalize("NFKC", line) for line in lines]
        assert sum(line.count(mentor) for line in folded) == 3, mentor


def test_a_template_override_changes_the_wording(tmp_path: Path) -> None:
    (tmp_path / "_letter.txt.j2").write_text(
        "Subject: Certificate of mentoring\n\n"
        "Dear colleague,\n\n"
        "{{ mentor_name }} kept in touch with a mentee of {{ program_name }}\n"
        "between {{ round_starts_on.isoformat() }} and {{ round_ends_on.isoformat() }}.\n\n"
        "Yours faithfully,\n",
        encoding="utf-8",
    )
    text = text_of(letter_pdf(facts(JOSE), Renderer(tmp_path)))
    assert "Certificate of mentoring" in text and "Letter of recognition" not in text
    assert f"{JOSE} kept in touch with a mentee of {PROGRAM} between 2026-08-31 and 2027-05-31." in text
    assert "Yours faithfully," in text and "To whom it may concern" not in text
    # The letterhead, the date and the signature block are the layout's, whatever the wording.
    assert "mentoring@example.org" in text and "7 June 2027" in text and "The mentoring coordinators" in text


def test_a_right_to_left_letter_is_right_aligned(tmp_path: Path) -> None:
    (tmp_path / "_letter.txt.j2").write_text(
        "Subject: שבח והוקרה\n\nמכתב זה מוקיר את {{ mentor_name }} על ההנחיה ב{{ program_name }}.\n",
        encoding="utf-8",
    )
    pdf = letter_pdf(facts(NOA, program_name="תוכנית החונכות"), Renderer(tmp_path))
    positions: list[tuple[float, str]] = []

    def visit(text: str, _cm: object, tm: list[float], _font: object, _size: object) -> None:
        if text.strip():
            positions.append((tm[4], text))

    text = read(pdf).pages[0].extract_text(visitor_text=visit)
    assert NOA in unicodedata.normalize("NFKC", text) and "שבח והוקרה" in text
    hebrew = [x for x, run in positions if "\u0590" <= run.strip()[0] <= "\u05ff"]
    assert hebrew and min(hebrew) > 70 * 72 / 25.4, "right-to-left lines start well right of the left margin"


def test_wrong_facts_are_refused_with_the_field_named() -> None:
    with pytest.raises(LetterError, match=r"^round_ends_on \(2026-08-31\) must be after round_starts_on"):
        facts(round_ends_on=date(2026, 8, 31))
    with pytest.raises(LetterError, match=r"^mentor_name: must be a non-empty string"):
        facts(mentor_name="  ")
    with pytest.raises(LetterError, match=r"^mentor_name: must be one line"):
        facts(mentor_name="Ana\nDear committee, please also")
    with pytest.raises(LetterError, match=r"^issued_on: must be a date, not str"):
        facts(issued_on="2027-06-07")


def test_a_character_the_font_lacks_is_an_error_not_a_blank(tmp_path: Path) -> None:
    expected = (
        r"^mentor_name: the font \(fonts-dejavu-core\) cannot show '王' \(U\+738B\), '芳' \(U\+82B3\) in '王芳'; "
    )
    with pytest.raises(LetterError, match=expected):
        letter_pdf(facts("王芳"))
    (tmp_path / "_letter.txt.j2").write_text("Subject: 感谢信\n\nThank you, {{ mentor_name }}.\n", encoding="utf-8")
    with pytest.raises(
        LetterError, match=r"^_letter\.txt\.j2: the font \(fonts-dejavu-core\) cannot show '信' \(U\+4FE1\)"
    ):
        letter_pdf(facts(), Renderer(tmp_path))


def test_a_missing_font_names_the_debian_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(letters, "FONT_DIR", tmp_path)
    with pytest.raises(LetterError, match=r"DejaVuSans\.ttf is missing: install the Debian package fonts-dejavu-core"):
        letter_pdf(facts())


@pytest.mark.parametrize("mentor", [SIOBHAN, LAYLA])
def test_page_drawn_as_an_image(rendered: dict[str, bytes], mentor: str, tmp_path: Path) -> None:
    """Drawn by poppler, to be looked at: tests/screenshots/letter-*.png after a run."""
    pdftoppm = require_tool("pdftoppm")  # Debian's poppler-utils, installed by .ci/run
    source = tmp_path / "letter.pdf"
    source.write_bytes(rendered[mentor])
    subprocess.run([pdftoppm, "-r", "72", "-png", "-singlefile", source, tmp_path / "letter"], check=True, timeout=60)
    png = tmp_path / "letter.png"
    from test_screenshots import distinct_rows

    width, height, rows = distinct_rows(png)
    assert width in (595, 596) and height == 842  # A4 at 72 dpi
    assert rows > 100, f"only {rows} distinct scanlines; is the page blank?"
    SCREENSHOTS.mkdir(exist_ok=True)
    shutil.copyfile(png, SCREENSHOTS / f"letter-{MENTORS.index(mentor) + 1}.png")


def test_same_bytes_in_another_process() -> None:
    """Nothing depends on hash order or the clock: another interpreter, another hash seed, same PDF."""
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from test_letters import facts, LAYLA\n"
        "from mentormail.daemon.mail.letters import letter_pdf\n"
        "sys.stdout.buffer.write(letter_pdf(facts(LAYLA)))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent)],
        capture_output=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert result.stdout == letter_pdf(facts(LAYLA))
