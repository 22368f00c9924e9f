#!/usr/bin/env python3
"""Dice of a knee segmentation model on phantom knees it was not trained on.

scripts/train_default_seg.py trains on the standard knee and random shapes 1..N (N = 24 for the shipped model) and
validates on shapes 1001/1002; this script segments the DESS-like phantom of the standard
knee and of shapes 1001-1003 with noise seeds 2000+ (never used in training) and prints
the Dice per class.

    .venv/bin/python scripts/eval_default_seg.py [MODEL.pt]     # default: the shipped model
"""

from __future__ import annotations

import sys

import numpy as np

from sportsmed import imaging, seg


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    model = seg.load_model(argv[0] if argv else seg.default_model_path())
    spacing = seg.model_spec(model)["spacing_mm"]
    print("shape".ljust(9) + " ".join(name[:10].rjust(10) for name in seg.KNEE_LABELS[1:]))
    for shape in (None, 1001, 1002, 1003):
        ph = imaging.make_knee_phantom(spacing_mm=spacing, extent_mm=(84.0,) * 3, seed=2000 + (shape or 0),
                                       shape=shape)
        pred, _ = seg.segment(model, ph["image"].astype(np.float32))
        dice = seg.dice_per_class(pred, seg.remap_pymskt(ph["labels"]), len(seg.KNEE_LABELS))
        print(str(shape or "standard").ljust(9) + " ".join(f"{d:10.3f}" for d in dice[1:]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
