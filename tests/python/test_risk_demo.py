"""The risk section of the demo report is built from the synthetic squad."""

from __future__ import annotations

import re

import pytest

risk = pytest.importorskip("sportsmed.risk")


def test_demo_section_reports_models_baselines_and_oracle(tmp_path):
    from sportsmed.report import Report
    from sportsmed.risk import _demo

    report = Report("t")
    stages = []
    _demo.build(report, tmp_path, lambda f, s: stages.append(f) or True)
    html = report.to_html()
    assert "oracle AUC" in html and "athlete identity" in html and "random (LEAKS)" in html
    # workload, reliability + decision curve, risk over time, explanation (its own chart)
    assert html.count("<img") == 4
    # reliability over quantile bins: near-equal row counts per bin, as sklearn's quantile strategy
    bins = [c for s in report.to_json()["sections"] for c in s["items"]
            if c["type"] == "table" and c["caption"].startswith("Reliability per quantile bin")][0]["rows"]
    counts = [r[2] for r in bins if r[0] == "logistic"]
    assert len(counts) >= 8 and max(counts) - min(counts) <= 0.02 * sum(counts)
    assert stages[-1] == 1.0
    # the grouped logistic AUC in the table is within 0.02 of the oracle shown next to it
    oracle = float(re.search(r"oracle AUC \(true hazard\)</dt><dd>([0-9.]+)", html).group(1))
    auc = float(re.search(r"<td class=\"text\">grouped</td><td class=\"text\">logistic</td><td>([0-9.]+)", html).group(1))
    assert abs(auc - oracle) < 0.02
    loaded = risk.RiskModel.load(tmp_path / "risk_model.json")
    assert loaded.features == _demo.FEATURES
