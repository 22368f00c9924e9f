#!/usr/bin/env python3
"""roi="auto" against the whole volume with the shipped model (issue 15): CPU seconds at one
thread, the box found, Dice of both against the truth and of one against the other.

    .venv/bin/python scripts/measure_seg_roi.py phantom real [--context]

--context: the shipped pair (as mri segment runs it); roi="auto"'s first pass is then the
context model's.

phantom: knee shape 1003 (unseen in training) with a tibial shaft, 84 and 160 mm fields of
view at 1 mm; real: the pymskt label map (right knee, mirrored) synthesised by seg.synthesize.
"""
import sys
import time
import warnings

import numpy as np

import sportsmed
from sportsmed import imaging, seg

sportsmed.set_num_threads(1)
m = seg.load_model(seg.default_model_path())
ctx = seg.load_model(seg.default_context_model_path()) if "--context" in sys.argv else None
K = len(seg.KNEE_LABELS)
def run(name, image, geom, truth):
    t = time.perf_counter(); c = time.process_time()
    full, _ = seg.segment(m, image, geometry=geom, context_model=ctx)
    tf = time.process_time() - c; wf = time.perf_counter() - t
    t = time.perf_counter(); c = time.process_time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = seg.segment(m, image, geometry=geom, roi="auto", context_model=ctx)
    tr = time.process_time() - c; wr = time.perf_counter() - t
    df = seg.dice_per_class(full, truth, K); dr = seg.dice_per_class(res.labels, truth, K)
    agree = seg.dice_per_class(res.labels, full, K)
    r = res.roi
    print(f"{name}: shape {image.shape}; full cpu {tf:.1f} s (wall {wf:.1f}); roi cpu {tr:.1f} s "
          f"(wall {wr:.1f}, first pass {r.get('first_pass_s')} s wall); found {r['found']} box "
          f"{r['lo']}..{r['hi']} fraction {r['fraction']}; warnings {[str(x.message) for x in w]}", flush=True)
    print("   dice vs truth full:", [round(v, 3) for v in df[1:]], flush=True)
    print("   dice vs truth roi: ", [round(v, 3) for v in dr[1:]], flush=True)
    print("   dice roi vs full:  ", [round(v, 3) for v in agree[1:]], flush=True)
which = [a for a in sys.argv[1:] if a != "--context"]
if "phantom" in which:
    for extent in (84.0, 160.0):
        anatomy = imaging.knee_shape(1003)
        anatomy["tibia_shaft_radius"] = 0.5 * anatomy["tibia_ay"]
        ph = imaging.make_knee_phantom(spacing_mm=(1.0,) * 3, extent_mm=(extent,) * 3, seed=11, shape=anatomy)
        run(f"phantom shape 1003, {extent:g} mm FOV at 1 mm (tibial shaft)", np.asarray(ph["image"], np.float32),
            ph["geometry"], seg.remap_pymskt(ph["labels"]))
if "real" in which:
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[2] / "shared/data/mri/knee_labels_pymskt.nrrd"
    lab = seg.remap_pymskt(seg.load_label_map(path, (1.0, 1.0, 1.0), flip_lr=True))
    img, syn_lab = seg.synthesize(lab, 5, deform=False)
    g = imaging.Geometry(list(lab.shape), [1.0, 1.0, 1.0])
    run("real pymskt map (right knee flipped), synthesised, 1 mm", np.asarray(img, np.float32), g, np.asarray(syn_lab))
