"""The screening report as a reader gets it: opened in headless Chromium (no console
errors, no failed requests, every image decoded, the headings and table-of-contents anchors
there, an A4 print with a page per section), and its JSON twin holding every number shown.

The report is built once per module (the synthetic athlete without the QA appendix,
~15 s). Screenshots go to $SPORTSMED_SCREENSHOT_DIR when set (e.g. docs/screenshots to
refresh the README's), else to a temporary folder.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import sportsmed

from browser import chromium_or_skip, open_page

EXPECTED_HEADINGS = ["Verdict", "Evidence: drop vertical jump", "Evidence: knee MRI", "Evidence: training load",
                     "Methods and quality assurance"]


@pytest.fixture(scope="module")
def synthetic_screen(tmp_path_factory):
    if set(sportsmed.available_pillars()) < {"motion", "imaging", "risk"}:
        pytest.skip("the screening report test needs the motion, imaging and risk pillars")
    from sportsmed.screen import build_screen

    folder = tmp_path_factory.mktemp("screen")
    report = build_screen(qa=False)
    html = report.save(folder / "screen.html")
    doc = json.loads(report.save_json(folder / "screen.json").read_text(encoding="utf-8"))
    return report, html, doc


def screenshot_dir(tmp_path: Path) -> Path:
    d = Path(os.environ.get("SPORTSMED_SCREENSHOT_DIR") or tmp_path)
    d.mkdir(parents=True, exist_ok=True)
    return d


class Cells(HTMLParser):
    """Text of every <td> and <dd> in document order (the numbers tables and key-figure
    lists show)."""

    def __init__(self):
        super().__init__()
        self.cells, self._buf = [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "dd"):
            self._buf = []

    def handle_endtag(self, tag):
        if tag in ("td", "dd") and self._buf is not None:
            self.cells.append("".join(self._buf))
            self._buf = None

    def handle_data(self, data):
        if self._buf is not None:
            self._buf.append(data)


NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$")


def shown(value, fmt):
    """How the report formats a JSON value (see sportsmed.report._format_cell)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return fmt.format(value)
    return None


def test_json_twin_holds_every_number_shown(synthetic_screen):
    _, html, doc = synthetic_screen
    parser = Cells()
    parser.feed(html.read_text(encoding="utf-8"))
    html_numbers = [c for c in parser.cells if NUMBER.match(c.strip())]
    json_numbers = []
    for sec in doc["sections"]:
        for item in sec["items"]:
            if item["type"] == "table":
                for row in item["rows"]:
                    json_numbers += [s for s in (shown(v, item["float_format"]) for v in row) if s is not None]
            elif item["type"] == "metrics":
                json_numbers += [s for s in (shown(v, item["float_format"]) for v in item["values"].values())
                                 if s is not None]
    assert len(html_numbers) > 40
    assert html_numbers == json_numbers  # the same numbers, in the same order
    # the verdict's values are in the twin too, as numbers
    flags = [i for s in doc["sections"] for i in s["items"] if i["type"] == "flags"][0]["flags"]
    assert [f["status"] for f in flags] == [f["status"] for f in doc["data"]["flags"]]
    graded = [f for f in flags if f["status"] != "grey"]
    assert graded and all(isinstance(f["value"], float) for f in graded)


def test_report_reads_as_a_coach_needs(synthetic_screen):
    _, html, doc = synthetic_screen
    page = html.read_text(encoding="utf-8")
    headings = [s["title"] for s in doc["sections"]]
    assert headings == EXPECTED_HEADINGS  # verdict first, QA last
    # plain labels, no snake_case feature names in the clinical part
    clinical = page.split("Methods and quality assurance</h2>")[0]
    assert "knee_abduction_ic_deg" not in clinical and "Knee abduction at initial contact, left (°)" in clinical
    assert "RMSE" not in clinical  # developer metrics live in the appendix
    # the synthetic athlete's knee valgus motion (a few hundredths of a cm) is flagged, not shown as normal
    rows = [r for s in doc["sections"] for i in s["items"] if i["type"] == "table"
            for r in i["rows"] if str(r[0]).startswith("Knee valgus motion")]
    assert rows and all(r[-1].startswith("implausible") and r[1] < 0.2 for r in rows)
    assert page.count('<tr class="implausible">') >= len(rows)


def test_report_in_headless_chromium(synthetic_screen, tmp_path):
    chromium_or_skip()
    _, html, doc = synthetic_screen
    out = screenshot_dir(tmp_path)
    page = open_page(html, screenshot=out / "screening_report.png", pdf=tmp_path / "screening_report.pdf")
    assert page.console_errors == []
    assert page.failed_requests == []
    figures = sum(1 for s in doc["sections"] for i in s["items"] if i["type"] == "figure")
    assert len(page.images) == figures >= 3
    assert all(img.loaded and img.width > 0 and img.height > 0 for img in page.images), page.images
    h2 = [text for tag, text in page.headings if tag == "h2"]
    assert h2 == ["Contents", *EXPECTED_HEADINGS]
    # every table-of-contents link resolves to an element of the page
    anchors = [link[1:] for link in page.links if link.startswith("#")]
    assert len(anchors) == len(EXPECTED_HEADINGS) and set(anchors) <= set(page.ids)
    # A4 print: a page break before each section after the first, so at least a page per section
    assert page.pdf_pages is not None and page.pdf_pages >= len(EXPECTED_HEADINGS)
    assert (tmp_path / "screening_report.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "screening_report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_full_demo_in_headless_chromium(tmp_path):
    """The demo (screen without inputs, with the QA appendix: squad model, segmentation)."""
    chromium_or_skip()
    if set(sportsmed.available_pillars()) < {"motion", "imaging", "risk"}:
        pytest.skip("the demo test needs the motion, imaging and risk pillars")
    from sportsmed.demo import run_demo

    html = run_demo(tmp_path / "demo.html", tmp_path, json_out=tmp_path / "demo.json")
    out = screenshot_dir(tmp_path)
    page = open_page(html, screenshot=out / "demo_report.png")
    assert page.console_errors == [] and page.failed_requests == []
    assert page.images and all(img.loaded and img.width > 0 for img in page.images)
    h2 = [text for tag, text in page.headings if tag == "h2"]
    assert h2[:6] == ["Contents", *EXPECTED_HEADINGS]
    assert any(t.startswith("QA: workload injury-risk model") for t in h2)
    doc = json.loads((tmp_path / "demo.json").read_text())
    captions = [i["caption"] for s in doc["sections"] for i in s["items"] if i["type"] == "table"]
    assert "Reliability per quantile bin (equal numbers of rows)" in captions
    assert (tmp_path / "synthetic_drop_jump.c3d").exists()
