"""LibTorch is loaded only by what needs it (issue 18): `import sportsmed` and the motion,
imaging and risk commands run without it; seg and the neural risk models load it."""

from __future__ import annotations

import json
import subprocess
import sys


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


_LOADED = "any('libtorch' in line for line in open('/proc/self/maps'))"


def test_motion_imaging_and_risk_do_not_load_libtorch():
    res = _run(f"""
import json, sportsmed, sportsmed.motion, sportsmed.imaging, sportsmed.risk
from sportsmed.cli import main
before = {_LOADED}
sportsmed.risk.LogisticRegression  # a non-neural model
pillars = sportsmed.available_pillars()
print(json.dumps({{"loaded": before or {_LOADED}, "pillars": pillars}}))
""")
    assert res["loaded"] is False
    assert "seg" in res["pillars"]  # found without being loaded


def test_seg_and_neural_models_load_it_and_share_threads_and_errors():
    res = _run(f"""
import json, sportsmed
sportsmed.set_num_threads(3)
from sportsmed import seg, risk
loaded = {_LOADED}
from sportsmed import _torch
import torch  # Debian's python3-torch shares the same libtorch: its intra-op threads are ours
first = torch.get_num_threads()
sportsmed.set_num_threads(1)
second = torch.get_num_threads()
try:
    seg.load_model('/nonexistent/model.pt')
    kind = None
except sportsmed.Error as exc:
    kind = type(exc).__name__
print(json.dumps({{"loaded": loaded, "threads": [first, second], "error": kind,
                  "neural": risk.NeuralRiskModel.__module__, "info": sportsmed.build_info()["torch_version"]}}))
""")
    assert res["loaded"] is True
    assert res["threads"] == [3, 1]
    assert res["error"] == "NotFound"  # a C++ error of the LibTorch half maps to sportsmed's classes
    assert res["neural"].startswith("sportsmed._torch")
    assert res["info"].startswith("1.") or res["info"].startswith("2.")


def test_set_num_threads_is_capped():
    res = _run("""
import json, sportsmed
sportsmed.set_num_threads(10**6)
print(json.dumps({"n": sportsmed.num_threads()}))
""")
    assert res["n"] == 1024
