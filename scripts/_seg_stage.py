"""One training stage of a knee segmentation model, shared by scripts/train_default_seg.py and
scripts/train_knee_seg.py: SynthSeg-style training with a progress bar and a wall-time limit
(the weights after the last full epoch are kept), the Dice per validation image, and the model
saved with its knee sidecar."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional, Sequence

import sportsmed
from sportsmed import seg


def train_stage(model, train_maps, val_images, val_labels, synthesis: dict, checkpoint: Path,
                max_minutes: Optional[float], mininterval: float = 0.1, **options):
    """Returns (history, stopped_early or None, minutes); resumes from ``checkpoint``."""
    from tqdm import tqdm

    bar = tqdm(total=1000, desc="train", unit="‰", mininterval=mininterval)
    t0 = time.time()

    def progress(fraction: float, stage: str) -> bool:
        bar.set_postfix_str(stage, refresh=False)
        bar.update(int(1000 * fraction) - bar.n)
        return max_minutes is None or (time.time() - t0) / 60 < max_minutes

    stopped_early = None
    try:
        history = seg.train_synthetic(model, train_maps, val_images, val_labels, synthesis=synthesis,
                                      progress=progress, checkpoint=str(checkpoint), resume=True, **options)
    except sportsmed.Cancelled as e:  # the wall-time limit: the weights after the last full epoch
        stopped_early = str(e)
        state = checkpoint.parent / (checkpoint.name + ".state.json")
        history = json.loads(state.read_text())["history"] if state.exists() else []
    bar.close()
    return history, stopped_early, (time.time() - t0) / 60


def validation_table(model, names: Sequence[str], images, labels) -> list:
    """Dice per class (4 decimals) of every validation image, one row each."""
    table = []
    for name, img, lab in zip(names, images, labels):
        pred, _ = seg.segment(model, img)
        dice = seg.dice_per_class(pred, lab, len(seg.KNEE_LABELS))
        table.append({"validation": name, **{c: round(d, 4) for c, d in zip(seg.KNEE_LABELS[1:], dice[1:])}})
    return table


def save_knee_model(model, out: Path, spacing: float, notes: dict, **fields) -> None:
    """Saves ``model`` to ``out`` with its sidecar: the grid trained on (an --init model may
    differ), the knee classes' post-processing (one-piece classes, anchors, attached labels),
    ``fields`` (e.g. ``mirror_axes``, ``context_groups``) and ``notes`` as JSON."""
    spec = seg.model_spec(model)
    spec["spacing_mm"] = [float(spacing)] * 3
    spec["single_component_labels"] = seg.KNEE_SINGLE_COMPONENT_LABELS
    spec["component_anchors"] = seg.KNEE_COMPONENT_ANCHORS
    spec["attached_labels"] = seg.KNEE_ATTACHED_LABELS
    spec.update(fields)
    spec["notes"] = json.dumps(notes)
    model.save(str(out))
    # Rewrite the sidecar with the notes (the spec is data; the weights are unchanged).
    out.with_suffix(".json").write_text(json.dumps(spec, indent=2) + "\n")
