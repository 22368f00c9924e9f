"""The imaging demo section builds on the phantom and reports errors within the acceptance."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("sportsmed.imaging")
pytest.importorskip("matplotlib")


def test_demo_section_builds_with_figures_and_small_errors(tmp_path):
    from sportsmed.imaging import _demo
    from sportsmed.report import Report

    report = Report("t")
    stages = []
    _demo._build(report, tmp_path, lambda f, s: stages.append(s) or True)
    html = report.to_html()
    assert "QA: knee MRI phantom against its truth" in html
    assert html.count("data:image/png;base64") == 3
    assert stages[-1] == "imaging done"
    # Table cells: mean abs thickness errors (mm) and T2 errors (%) must meet the acceptance.
    tables = re.findall(r"<table>.*?</table>", html, re.S)
    cells = [[c for c in re.findall(r"<td[^>]*>([^<]*)</td>", t)] for t in tables]
    thickness = cells[0]
    maes = [float(thickness[i]) for i in range(4, len(thickness), 6)]
    assert len(maes) == 3 and max(maes) <= 0.25  # half of the 0.5 mm voxel
    regions = cells[1]  # region, points, mean, SD, mean local: 6 femoral + 2 tibial rows
    assert len(regions) == 8 * 5
    means = [float(regions[i]) for i in range(2, len(regions), 5)]
    assert all(1.4 < m < 2.8 for m in means)  # the phantom's thickness range
    t2 = cells[2]
    errors = [abs(float(t2[i])) for i in range(4, len(t2), 5)]
    assert len(errors) == 3 and max(errors) <= 1.0
