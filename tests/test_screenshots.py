"""The HTML parts, looked at in a real browser: Debian's Chromium, headless, takes a screenshot of each.

The PNGs are also copied to tests/screenshots/ (ignored by git) so that a person can look at them
after a run. Skipped when chromium is missing, unless MENTORMAIL_REQUIRE_SERVERS=1 (CI).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from conftest import require_tool
from mentormail.daemon.mail.render import Renderer
from test_templates import KINDS, PAIRS, RIGHT_TO_LEFT, WEEKS, contexts

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
WIDTH, HEIGHT = 1000, 1400
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by PNG colour type


def screenshot(chromium: str, html: Path, png: Path, profile: Path) -> None:
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--screenshot={png}",
        html.as_uri(),
    ]
    # HOME too, so that nothing of the browser's lands in the real home directory.
    env = {**os.environ, "HOME": str(profile)}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0 and png.exists(), f"chromium exited {result.returncode}: {result.stderr[-2000:]}"


def distinct_rows(png: Path) -> tuple[int, int, int]:
    """(width, height, distinct scanlines) of a PNG, checking its structure on the way.

    A blank page compresses to a few identical scanlines; a rendered mail has hundreds of distinct
    ones. Counting filtered scanlines needs only zlib, not an image library.
    """
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    position, header, compressed = len(PNG_SIGNATURE), b"", bytearray()
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
        position += 12 + length
    else:
        pytest.fail("no IEND chunk: truncated PNG")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert interlace == 0, "interlaced PNGs are not expected from chromium"
    stride = 1 + width * CHANNELS[colour] * depth // 8
    pixels = zlib.decompress(bytes(compressed))
    assert len(pixels) == stride * height
    return width, height, len({pixels[row * stride : (row + 1) * stride] for row in range(height)})


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_tool("chromium")


@pytest.mark.parametrize("kind", KINDS)
def test_html_part_renders_in_chromium(chromium: str, kind: str, tmp_path: Path) -> None:
    html = Renderer().render(kind, contexts()[kind]).html
    assert html is not None
    page = tmp_path / f"{kind}.html"
    page.write_text(html, encoding="utf-8")
    png = tmp_path / f"{kind}.png"
    screenshot(chromium, page, png, tmp_path / "profile")
    width, height, rows = distinct_rows(png)
    assert (width, height) == (WIDTH, HEIGHT)
    assert rows > 150, f"{kind}: only {rows} distinct scanlines; is the page blank?"
    SCREENSHOTS.mkdir(exist_ok=True)
    shutil.copyfile(png, SCREENSHOTS / png.name)


def test_survey_results_chart_is_drawn(chromium: str, tmp_path: Path) -> None:
    """The results' bar chart is table cells with a background: look for its bars' colours on the page."""
    html = Renderer().render("survey_results", contexts()["survey_results"]).html
    assert html is not None
    page = tmp_path / "survey_results.html"
    page.write_text(html, encoding="utf-8")
    png = tmp_path / "survey_results_chart.png"
    screenshot(chromium, page, png, tmp_path / "profile")
    found = colours(png)
    for bar in ("#1f6f86", "#7fb7c9", "#f2b27e", "#3f7f93", "#d9712b"):  # scale 5 and 4, scale 2, choice, no
        rgb = tuple(int(bar[i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in found, f"no bar of colour {bar} on the page"


def colours(png: Path) -> set[tuple[int, int, int]]:
    """The RGB colours of a PNG's pixels (8-bit RGB or RGBA, as chromium writes), undoing the row filters."""
    data = png.read_bytes()
    position, header, compressed = len(PNG_SIGNATURE), b"", bytearray()
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            compressed += body
        position += 12 + length
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6), f"unexpected PNG format: depth {depth}, colour type {colour}"
    step = CHANNELS[colour]
    stride = width * step
    raw = zlib.decompress(bytes(compressed))
    previous = bytearray(stride)
    found: set[tuple[int, int, int]] = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        found.update(tuple(line[i : i + 3]) for i in range(0, stride, step))  # type: ignore[misc]
        previous = line
    return found


def test_screenshot_data_is_what_the_issue_asks_for() -> None:
    """The liaison summary is looked at with 8 pairs and 20 weeks, with right-to-left names."""
    chart = contexts()["liaison_summary"]["chart"]
    assert len(chart["rows"]) == len(PAIRS) == 8 and len(chart["weeks"]) == len(WEEKS) == 20
    names = {row["mentor_name"] for row in chart["rows"]} | {row["mentee_name"] for row in chart["rows"]}
    assert set(RIGHT_TO_LEFT) <= names
    assert contexts()["topic"]["recipient"]["name"] in RIGHT_TO_LEFT
    # The survey results: every kind of question, and free-text answers in right-to-left scripts.
    results = contexts()["survey_results"]
    assert {q["kind"] for q in results["questions"]} == {"scale", "yesno", "choice", "text"}
    texts = next(q["texts"] for q in results["questions"] if q["kind"] == "text")
    assert any("\u0600" <= c <= "\u06ff" for t in texts for c in t) and any(
        "\u0590" <= c <= "\u05ff" for t in texts for c in t
    )
