"""The HTML report framework: content round-trips, figures embed, nothing external."""

from __future__ import annotations

import base64
import io
import os
import re
import struct
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sportsmed.report import Report  # noqa: E402


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.headers, self.imgs, self.urls, self.tags = [], [], [], [], []
        self._in = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a["src"])
        for key in ("src", "href"):
            if key in a and not a[key].startswith("data:"):
                self.urls.append(a[key])
        self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "td":
            self.cells.append(data)
        elif self._in == "th":
            self.headers.append(data)


def make_report():
    rep = Report("Screening <athlete 7>", "session 2026-11-27")
    sec = rep.section("Drop jump")
    sec.text("Knee valgus & flexion: <script>alert(1)</script>")
    sec.metrics({"Peak vGRF (BW)": 3.14159, "Trials": np.int64(3)})
    sec.table(pd.DataFrame({"side": ["L", "R"], "angle_deg": [5.25, np.nan], "n": [1, 2]}),
              caption="per side")
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    sec.figure(fig, caption="a line")
    fig2, ax2 = plt.subplots(figsize=(2, 2))
    ax2.bar([0], [1])
    rep.section("SVG").figure(fig2, fmt="svg")
    return rep


def test_content_round_trips_and_is_escaped():
    page = make_report().to_html()
    c = Collector()
    c.feed(page)
    assert c.headers == ["side", "angle_deg", "n"]
    assert c.cells == ["L", "5.25", "1", "R", "–", "2"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.replace("&lt;script", "")
    assert "Screening &lt;athlete 7&gt;" in page
    assert "<dd>3.14</dd>" in page and "<dd>3</dd>" in page


def test_figures_are_embedded_and_nothing_is_fetched():
    page = make_report().to_html()
    c = Collector()
    c.feed(page)
    assert c.urls == []
    assert "link" not in c.tags and "script" not in c.tags
    assert len(c.imgs) == 1 and "svg" in c.tags
    png = base64.b64decode(c.imgs[0].split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert 200 < width < 500 and 100 < height < 350  # 3 x 2 inches at 110 dpi, tight bbox
    assert plt.get_fignums() == []  # figures are closed after embedding


def test_save_is_atomic_and_leaves_no_temporaries(tmp_path):
    out = make_report().save(tmp_path / "sub" / "report.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_bad_table_input_is_rejected():
    sec = Report("x").section("y")
    with pytest.raises(ValueError, match="different lengths"):
        sec.table({"a": [1, 2], "b": [1]})
    with pytest.raises(TypeError, match="expected a DataFrame"):
        sec.table(42)
    with pytest.raises(ValueError, match="fmt must be"):
        sec.figure(plt.figure(), fmt="jpg")
    plt.close("all")
