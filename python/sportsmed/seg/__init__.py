"""Knee MRI segmentation with U-Nets in LibTorch (the compiled core does the work).

A :class:`Model` is a network plus its spec (the JSON sidecar saved next to the
weights): labels, patch size, spacing and normalisation. Models are either the built-in
U-Net (nnU-Net style, trainable here) or a TorchScript network exported from PyTorch.

Typical use::

    from sportsmed import seg
    model = seg.create_model(seg.unet_spec(seg.KNEE_LABELS, patch_size=(64, 64, 64)))
    history = seg.train_synthetic(model, [label_map], [val_image], [val_labels], epochs=20)
    labels, probs = seg.segment(model, image, probabilities=True)

Images cross as numpy arrays (C order, float32), label maps as uint8. Arrays are on the
model's voxel grid (``spec["spacing_mm"]``), or on any grid given with ``spacing_mm=`` or
``geometry=``: ``segment`` then reorients and resamples to the model's grid and brings the
probabilities back (labels = their argmax on the input grid).
"""

from __future__ import annotations

import json
import warnings
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from .._pillars import require_pillar

require_pillar("seg")

from .._torch import seg as _seg  # noqa: E402  (loads LibTorch)

Model = _seg.Model
# Model.load / Model.save take os.PathLike too (the compiled methods take str).
from .._paths import accept_pathlike as _accept_pathlike  # noqa: E402

Model.load = staticmethod(_accept_pathlike(_seg.Model.load))
Model.save = _accept_pathlike(_seg.Model.save)
window_starts = _seg.window_starts
gaussian_importance_map = _seg.gaussian_importance_map
def dice_per_class(a, b, num_classes: int) -> list:
    """Dice per class 0..num_classes-1 of two label maps of one shape (NaN where a class is
    absent from both). Labels of any integer type are checked, never wrapped: a label beyond
    255, a fractional or negative value is refused (:func:`sportsmed.imaging.as_label_map`)."""
    from .. import imaging

    return _seg.dice_per_class(imaging.as_label_map(a, "dice_per_class: a"),
                               imaging.as_label_map(b, "dice_per_class: b"), int(num_classes))

#: The default model's classes, index = label id.
KNEE_LABELS = [
    "background", "femur", "tibia", "patella",
    "femoral_cartilage", "tibial_cartilage", "patellar_cartilage", "menisci",
]
#: Default classes that are one connected structure (femur, tibia, patella, femoral and
#: patellar cartilage); tibial cartilage and menisci are medial + lateral pieces.
KNEE_SINGLE_COMPONENT_LABELS = [1, 2, 3, 4, 6]
#: Default component anchors: each bone keeps the component that touches its cartilage most
#: (femur: femoral, tibia: tibial, patella: patellar cartilage), not the largest one: a fat
#: network labelled bone can be larger than the bone, it is not where the cartilage is.
KNEE_COMPONENT_ANCHORS = [[1, 4], [2, 5], [3, 6]]
#: Default context groups (sidecar ``context_groups`` of a coarse context model): the bones.
#: With ``segment(context_model=...)`` both models say how likely a voxel is bone; the context
#: model, which sees the whole joint in one window, says which bone.
KNEE_CONTEXT_GROUPS = [[1, 2, 3]]
#: Default attached labels (sidecar ``attached_labels``): with ``keep_largest_component="model"``
#: a piece of tibial cartilage that touches no tibia, or of menisci that touches no femur,
#: tibia or their cartilage, is removed — cartilage lies on its bone and a meniscus on the
#: tibial plateau. For the two classes in several pieces, which keeping the largest cannot
#: filter (the one-piece cartilages already keep the piece on their bone's side through the
#: bones' anchors; attaching them too would delete a patellar cartilage whose patella was
#: missed).
KNEE_ATTACHED_LABELS = [[5, 2], [7, 1, 2, 4, 5]]

#: pymskt knee label numbering (also the imaging phantom's) -> KNEE_LABELS index. Tibial
#: compartments merge, menisci merge, the fibula (8) becomes background.
PYMSKT_TO_KNEE = {0: 0, 1: 4, 2: 5, 3: 5, 4: 6, 5: 1, 6: 2, 7: 3, 8: 0, 9: 7, 10: 7}

ProgressCallback = Callable[[float, str], Optional[bool]]


def remap_pymskt(labels: np.ndarray) -> np.ndarray:
    """Maps a label map in the pymskt numbering to the default classes (:data:`PYMSKT_TO_KNEE`);
    labels outside the table become background."""
    lut = np.zeros(256, np.uint8)
    for src, dst in PYMSKT_TO_KNEE.items():
        lut[src] = dst
    return lut[np.asarray(labels, dtype=np.uint8)]


def intensity_prior(image: np.ndarray, labels: np.ndarray, num_classes: int, probability: float = 1.0) -> dict:
    """Synthesis options (for :func:`synthesize` / :func:`train_synthetic`) that draw a share
    ``probability`` of the samples' class intensities around the mean and std of each class
    of ``image`` (e.g. a phantom's DESS-like contrast); absent classes get mean 0, std 0."""
    image = np.asarray(image, float)
    labels = np.asarray(labels)
    means, stds = [], []
    for k in range(num_classes):
        values = image[labels == k]
        means.append(float(values.mean()) if values.size else 0.0)
        stds.append(float(values.std()) if values.size else 0.0)
    return {"prior_probability": float(probability), "prior_means": means, "prior_stds": stds}


def load_label_map(path: str, spacing_mm: Sequence[float], *, flip_lr: bool = False) -> np.ndarray:
    """A label map file (NIfTI, NRRD) on an isotropic grid for a model: reoriented exactly to
    LPS (axes x left, y posterior, z superior, as the imaging phantom), then resampled
    label-aware to ``spacing_mm`` over the same field of view, keeping the file's direction
    cosines (a small obliquity stays in the geometry, not in the voxels). ``flip_lr`` mirrors
    the x axis, e.g. to give a right knee the phantom's left-knee layout."""
    from .. import imaging

    src = imaging.read_image(path)
    labels, geom = imaging.reorient(imaging.as_label_map(src.array, str(path)), src.geometry, "LPS")
    spacing = np.asarray(spacing_mm, float)
    extent = np.asarray(geom.shape) * np.asarray(geom.spacing)
    shape = [max(1, int(round(e / s))) for e, s in zip(extent, spacing)]
    corner = np.asarray(geom.to_world(-0.5 * np.ones(3)), float).ravel()  # outer corner of voxel 0
    target = imaging.Geometry(shape, spacing, corner + geom.direction @ (0.5 * spacing), geom.direction)
    out = imaging.resample_labels(labels, geom, target)
    return np.ascontiguousarray(out[::-1]) if flip_lr else out


def _with_single(labels: Sequence[int], mirror_axes: Optional[Sequence[int]] = None,
                 groups: Sequence[Sequence[int]] = (), anchors: Sequence[Sequence[int]] = ()) -> dict:
    out = {"single_component_labels": [int(label) for label in labels]} if len(labels) else {}
    if len(groups):
        out["fragment_join_groups"] = [[int(label) for label in g] for g in groups]
    if len(anchors):
        out["component_anchors"] = [[int(label) for label in row] for row in anchors]
    if mirror_axes is not None:
        out["mirror_axes"] = [int(a) for a in mirror_axes]
    return out


def unet_spec(labels: Sequence[str], patch_size: Sequence[int], spacing_mm: Optional[Sequence[float]] = None, *,
              base_features: int = 16, levels: int = 4, max_features: int = 256, convs_per_stage: int = 2,
              deep_supervision: bool = False, in_channels: int = 1, normalization: str = "zscore",
              negative_slope: float = 0.01, notes: str = "",
              single_component_labels: Sequence[int] = (), orientation: str = "LPS",
              mirror_axes: Optional[Sequence[int]] = None,
              fragment_join_groups: Sequence[Sequence[int]] = (),
              component_anchors: Sequence[Sequence[int]] = (),
              context_groups: Sequence[Sequence[int]] = (),
              attached_labels: Sequence[Sequence[int]] = ()) -> dict:
    """Spec of a built-in U-Net.

    Parameters
    ----------
    labels : sequence of str
        Class names, index = class id; ``labels[0]`` is the background.
    patch_size : sequence of int
        Window size per spatial axis (2 or 3 axes), each a multiple of ``2**(levels-1)``.
    spacing_mm : sequence of float, optional
        Voxel spacing the network is trained at (recorded for users of the model).
    single_component_labels : sequence of int
        Labels that are one connected structure (``segment(keep_largest_component="model")``).
    fragment_join_groups : sequence of sequences of int
        Groups of those labels (e.g. the bones, ``[[1, 2, 3]]``) whose removed fragments join
        the one other label of the group they touch. Not in the knee defaults: on the real
        pymskt knee it gave a tibial shaft labelled femur back to the tibia (tibia Dice
        0.47 -> 0.76, PD-FS), on the SPL knee it gave fat labelled femur to the tibia
        (0.60 -> 0.44).
    component_anchors : sequence of sequences of int
        Rows of a label and its anchor labels (:data:`KNEE_COMPONENT_ANCHORS`): the label keeps
        its component that touches the anchors most, not the largest.
    context_groups : sequence of sequences of int
        Label groups whose member this model decides as the coarse first stage of a cascade
        (:data:`KNEE_CONTEXT_GROUPS`; ``segment(context_model=...)``).
    attached_labels : sequence of sequences of int
        Rows of a label and its supporting labels (:data:`KNEE_ATTACHED_LABELS`): with
        ``segment(keep_largest_component="model")`` a piece of the label touching none of its
        supports is removed.
    orientation : str
        Orientation code (L/R, P/A, S/I) of the training arrays; ``segment(geometry=...)``
        brings images to it ("LPS": the project's phantoms).
    mirror_axes : sequence of int, optional
        Spatial axes (in ``orientation``) of the random flips in training (pass the same to
        ``train``/``train_synthetic`` as ``flip_axes``) and of test-time mirroring
        (``segment(mirror=True)``); None: every axis. A knee model: ``[0]`` (left-right
        only, so that superior/inferior and anterior/posterior stay cues).
    """
    patch = [int(p) for p in patch_size]
    context = {"context_groups": [[int(v) for v in g] for g in context_groups]} if len(context_groups) else {}
    if len(attached_labels):
        context["attached_labels"] = [[int(v) for v in row] for row in attached_labels]
    return _with_single(single_component_labels, mirror_axes, fragment_join_groups, component_anchors) | context | {
        "format": "sportsmed-seg", "version": 1, "architecture": "unet",
        "in_channels": in_channels, "labels": list(labels), "patch_size": patch,
        "spacing_mm": [float(s) for s in spacing_mm] if spacing_mm is not None else [],
        "normalization": normalization, "notes": notes, "orientation": orientation,
        "unet": {"spatial_dims": len(patch), "in_channels": in_channels, "num_classes": len(labels),
                 "base_features": base_features, "max_features": max_features, "levels": levels,
                 "convs_per_stage": convs_per_stage, "negative_slope": negative_slope,
                 "deep_supervision": deep_supervision},
    }


def torchscript_sidecar(labels: Sequence[str], patch_size: Sequence[int], spacing_mm: Sequence[float] = (), *,
                        in_channels: int = 1, normalization: str = "zscore", notes: str = "",
                        single_component_labels: Sequence[int] = (), orientation: str = "LPS",
                        mirror_axes: Optional[Sequence[int]] = None,
                        fragment_join_groups: Sequence[Sequence[int]] = (),
                        component_anchors: Sequence[Sequence[int]] = ()) -> dict:
    """Sidecar document for a TorchScript network (write it as ``<model>.json``); ``orientation``,
    ``mirror_axes``, ``fragment_join_groups`` and ``component_anchors`` as in :func:`unet_spec`."""
    return _with_single(single_component_labels, mirror_axes, fragment_join_groups, component_anchors) | {
        "format": "sportsmed-seg", "version": 1, "architecture": "torchscript",
        "in_channels": in_channels, "labels": list(labels), "patch_size": [int(p) for p in patch_size],
        "spacing_mm": [float(s) for s in spacing_mm], "normalization": normalization, "notes": notes,
        "orientation": orientation}


def _shipped(file: str, what: str) -> str:
    """Path of a model file shipped in ``seg/models``; NotFound when this installation lacks it."""
    from pathlib import Path

    from .. import NotFound

    path = Path(__file__).with_name("models") / file
    if not path.exists():
        raise NotFound(f"the {what} {path} is not part of this installation")
    return str(path)


def default_model_path() -> str:
    """Path of the shipped default knee model (trained by scripts/train_default_seg.py).

    Raises
    ------
    sportsmed.NotFound
        If this installation does not contain it.
    """
    return _shipped("knee_unet.pt", "default segmentation model")


def default_context_model_path() -> str:
    """Path of the shipped context model: the coarse first stage (3 mm, 144 mm windows) of a
    cascade with the default model (``segment(model, image, context_model=...)``; the CLI
    ``mri segment`` uses it with the default model unless ``--no-context``). Trained on both
    real knees and the phantoms by scripts/train_knee_seg.py; its sidecar's notes hold the
    training and the cross-anatomy figures of the procedure.

    Raises
    ------
    sportsmed.NotFound
        If this installation does not contain it.
    """
    return _shipped("knee_context.pt", "default context model")


def create_model(spec: dict, seed: int = 0) -> Model:
    """A new built-in U-Net from :func:`unet_spec`, weights initialised from ``seed``."""
    return Model.create_from_json(json.dumps(spec), seed)


def load_model(path: str, device: str = "cpu") -> Model:
    """Loads ``path`` (weights or TorchScript) and its sidecar ``<stem>.json``."""
    return Model.load(str(path), device)


def model_spec(model: Model) -> dict:
    """The model's spec as a dict."""
    return json.loads(model.spec_json)


def model_caveats(model: Model) -> list[str]:
    """What the model's makers say its results are not good for (the sidecar's ``notes``, when
    JSON, key ``caveats``): ``mri segment`` prints each as a warning, the cohort's seg step
    adds them to its warnings. Empty when the sidecar says nothing."""
    try:
        notes = json.loads(model_spec(model).get("notes") or "null")
    except ValueError:  # free-text notes
        return []
    caveats = notes.get("caveats", []) if isinstance(notes, dict) else []
    return [str(c) for c in caveats] if isinstance(caveats, list) else [str(caveats)]


#: Margin (mm) that ``segment(..., roi="auto")`` adds on every side of the knee its first pass
#: finds: it covers tissue the coarse pass misses at the edges of bones and cartilage and
#: gives the windows at the box's border context (the shipped model's patch is 48 mm).
ROI_MARGIN_MM = 20.0
#: Labelled structures of the first pass closer than twice this (mm) count as one knee: the
#: joint space and the cartilage a coarse pass misses separate femur, tibia and patella.
ROI_JOIN_MM = 5.0
#: The first pass must find a connected structure of at least this volume (mm³; a knee's
#: bones at 84 mm field of view are several hundred cm³), else ``roi="auto"`` segments the
#: whole volume and warns.
ROI_MIN_KNEE_MM3 = 10000.0


class RoiWarning(UserWarning):
    """``roi="auto"`` found no knee and segmented the whole volume."""


class InputWarning(UserWarning):
    """The image is one the model cannot segment reliably: smaller than the model's window along
    an axis (the network sees mostly padding there), or its labels hold volumes no knee has
    (:func:`knee_volume_warnings`)."""


#: The most a whole adult knee structure holds (cm³): about two to three times the largest
#: volumes MRI studies of adult knees report (femoral cartilage ~7-13 cm³, tibial ~3-6,
#: patellar ~3-5, menisci ~4-8 together, the patella ~12-25). A larger segmented volume is an
#: image that is not a knee (or not at the scale its header says), never a finding.
KNEE_VOLUME_LIMITS_CM3 = {"patella": 60.0, "femoral_cartilage": 30.0, "tibial_cartilage": 15.0,
                          "patellar_cartilage": 12.0, "menisci": 20.0}


def knee_volume_warnings(labels: np.ndarray, spacing_mm: Sequence[float],
                         names: Optional[Sequence[str]] = None) -> list:
    """Warnings about a knee segmentation that no knee can produce: no bone at all, or a
    structure above :data:`KNEE_VOLUME_LIMITS_CM3`. ``names``: the class names in label order
    (default :data:`KNEE_LABELS`); other label sets get no check."""
    from .. import imaging

    names = list(names or KNEE_LABELS)
    if not {"femur", "tibia", "patella"} <= set(names):
        return []
    lab = np.asarray(labels, dtype=np.uint8)
    if lab.ndim == 3:  # counted in C++: no int64 copy of a clinical volume
        cm3 = np.asarray(imaging.label_volumes_mm3(lab, [float(s) for s in spacing_mm]), dtype=float) / 1000.0
    else:
        cm3 = np.bincount(lab.ravel(), minlength=256) * float(np.prod([float(s) for s in spacing_mm])) / 1000.0
    out = []
    if not any(cm3[names.index(b)] for b in ("femur", "tibia", "patella")):
        out.append("no femur, tibia or patella was found: the image may not show a knee (or not at the size its "
                   "header says)")
    for name, limit in KNEE_VOLUME_LIMITS_CM3.items():
        if name in names:
            volume = cm3[names.index(name)]
            if volume > limit:
                out.append(f"{name}: {volume:.1f} cm³ segmented, more than any adult knee holds (> {limit:g} cm³): "
                           "the image may not be a knee, or not at the scale its header says; do not use these "
                           "labels")
    return out


def _volume_checked(result: SegmentResult, spacing_mm: Sequence[float], model: Model) -> SegmentResult:
    """``result``, with :func:`knee_volume_warnings` of its labels given as :class:`InputWarning`s
    (a library caller is told, as the CLI's user is)."""
    for message in knee_volume_warnings(result.labels, spacing_mm, model_spec(model)["labels"]):
        warnings.warn(message, InputWarning, stacklevel=3)
    return result


def _check_input(image, shape_mm, model: Model) -> None:
    """Refuses an image the network cannot segment (NaN/inf voxels, no intensity variation) and
    warns (:class:`InputWarning`) when its field of view ``shape_mm`` is smaller than the
    model's window along an axis."""
    from .. import InvalidArgument

    a = np.asarray(image)
    if a.size == 0:
        raise InvalidArgument(f"segment: the image is empty (shape {a.shape})")
    if np.issubdtype(a.dtype, np.floating):
        bad = sum(int(np.count_nonzero(~np.isfinite(a[i:i + 16]))) for i in range(0, a.shape[0], 16))
        if bad:
            raise InvalidArgument(f"segment: the image contains {bad} NaN or infinite voxels of {a.size}: replace "
                                  "them (e.g. with the background value) first")
    lo, hi = a.min(), a.max()
    if lo == hi:
        raise InvalidArgument(f"segment: the image has no intensity variation (every voxel is {lo}): there is "
                              "nothing to segment")
    spec = model_spec(model)
    window = [p * s for p, s in zip(spec.get("patch_size", []), spec.get("spacing_mm") or [1.0] * 3)]
    if window and len(shape_mm) >= len(window) and min(shape_mm) < 0.9 * min(window):
        warnings.warn(f"the image covers {' x '.join(f'{v:.0f}' for v in shape_mm)} mm, less than the model's "
                      f"{min(window):.0f} mm window along at least one axis: the network sees mostly padding "
                      "there and the labels are unreliable", InputWarning, stacklevel=3)


class SegmentResult(tuple):
    """What :func:`segment` returns: unpacks as ``labels, probabilities``; ``.roi`` describes
    the region of interest used (None without ``roi``)."""

    roi: Optional[dict]

    def __new__(cls, labels, probabilities, roi=None):
        self = super().__new__(cls, (labels, probabilities))
        self.roi = roi
        return self

    @property
    def labels(self) -> np.ndarray:
        return self[0]

    @property
    def probabilities(self) -> Optional[np.ndarray]:
        return self[1]


def _checked_box(roi, shape: Sequence[int]) -> tuple[list, list]:
    """(lo, hi) voxel bounds of an explicit ``roi``, refused unless a non-empty box inside ``shape``."""
    from .. import InvalidArgument

    try:
        lo, hi = ([int(v) for v in b] for b in roi)
    except (TypeError, ValueError):
        raise InvalidArgument(f"segment: roi must be None, 'auto' or (lo, hi) voxel bounds, got {roi!r}") from None
    if len(lo) != 3 or len(hi) != 3 or any(not 0 <= a < b <= n for a, b, n in zip(lo, hi, shape)):
        raise InvalidArgument(f"segment: roi ({lo}, {hi}) is not a non-empty box inside the image {list(shape)}")
    return lo, hi


def _roi_box(model: Model, arr: np.ndarray, spacing: Sequence[float], run_first, roi, margin_mm: float) -> dict:
    """The region of interest of ``arr`` (channels first if 4-D) as a dict with ``lo``/``hi``
    (voxel bounds, ``hi`` exclusive) on its spatial axes; see :func:`segment`."""
    import time

    from .. import InvalidArgument, imaging

    shape = list(arr.shape[-3:])
    if not isinstance(roi, str):
        lo, hi = _checked_box(roi, shape)
        return {"mode": "box", "found": True, "lo": lo, "hi": hi}
    if roi != "auto":
        raise InvalidArgument(f"segment: roi must be None, 'auto' or (lo, hi) voxel bounds, got {roi!r}")
    if not np.isfinite(margin_mm) or margin_mm < 0:
        raise InvalidArgument(f"segment: roi_margin_mm must be >= 0, got {margin_mm}")
    t0 = time.perf_counter()
    coarse = (run_first(arr) > 0).astype(np.uint8)
    # The knee: the largest group of labelled structures, structures within 2·ROI_JOIN_MM of
    # each other joined (dilated by ROI_JOIN_MM, then only the labelled voxels kept); stray
    # false positives farther away are left out of the box.
    joined = imaging.keep_largest_component(imaging.dilate_ball(coarse, np.asarray(spacing, float), ROI_JOIN_MM))
    mask = coarse & joined
    voxel_mm3 = float(np.prod(spacing))
    found_mm3 = float(mask.sum()) * voxel_mm3
    info = {"mode": "auto", "margin_mm": float(margin_mm), "first_pass_s": round(time.perf_counter() - t0, 3),
            "knee_mm3": round(found_mm3, 1)}
    if found_mm3 < ROI_MIN_KNEE_MM3:
        msg = (f"segment: roi='auto' found no knee (largest structure {found_mm3 / 1000:.1f} cm³ < "
               f"{ROI_MIN_KNEE_MM3 / 1000:g} cm³): the whole volume is segmented")
        warnings.warn(msg, RoiWarning, stacklevel=3)
        return info | {"found": False, "lo": [0, 0, 0], "hi": shape, "warning": msg}
    (lo, hi) = imaging.bounding_box(mask)
    margin = [int(np.ceil(margin_mm / s - 1e-9)) for s in spacing]
    lo = [max(0, int(a) - m) for a, m in zip(lo, margin)]
    hi = [min(n, int(b) + 1 + m) for b, m, n in zip(hi, margin, shape)]
    return info | {"found": True, "lo": lo, "hi": hi}


def _segment_in_roi(model: Model, arr: np.ndarray, spacing: Sequence[float], run, roi, margin_mm: float,
                    probabilities: bool, progress) -> SegmentResult:
    """Segments the box :func:`_roi_box` chooses and pastes it into a background volume."""
    from .. import InvalidArgument

    if len(model_spec(model)["patch_size"]) != 3 or arr.ndim not in (3, 4):
        raise InvalidArgument(f"segment: roi needs a 3-D model and image, got an image of shape {arr.shape}")

    def first(a):
        # Cheap: windows without overlap (step 1: a fraction of the windows of step 0.5) and
        # without mirroring; only the knee's extent is used.
        sub = None if progress is None else (lambda f, stage: progress(f, "roi"))
        labels, _ = run(a, step_fraction=1.0, mirror=False, probabilities=False, keep=False, progress=sub,
                        context=False, attached=[], by_context=True)
        return labels

    info = _roi_box(model, arr, spacing, first, roi, margin_mm)
    box = tuple(slice(a, b) for a, b in zip(info["lo"], info["hi"]))
    spatial = arr.shape[-3:]
    info["shape"] = [b - a for a, b in zip(info["lo"], info["hi"])]
    info["fraction"] = round(float(np.prod(info["shape"])) / float(np.prod(spatial)), 4)
    labels_in, probs_in = run(np.ascontiguousarray(arr[(Ellipsis,) + box]))
    labels = np.zeros(spatial, np.uint8)
    labels[box] = labels_in
    probs = None
    if probabilities:
        probs = np.zeros((probs_in.shape[0],) + tuple(spatial), np.float32)
        probs[0] = 1.0  # outside the box: background
        probs[(slice(None),) + box] = probs_in
    return SegmentResult(labels, probs, info)


def segment(model: Model, image: np.ndarray, *, step_fraction: float = 0.5, batch_size: int = 0,
            mirror: bool = False, low_memory: bool = True, probabilities: bool = False,
            spacing_mm: Optional[Sequence[float]] = None,
            keep_largest_component: Union[bool, str, Sequence[int]] = False,
            progress: Optional[ProgressCallback] = None,
            geometry=None, roi=None, roi_margin_mm: float = ROI_MARGIN_MM,
            context_model: Optional[Model] = None,
            context_groups: Optional[Sequence[Sequence[int]]] = None,
            context_mass_weight: float = 0.5) -> SegmentResult:
    """Sliding-window segmentation.

    Parameters
    ----------
    image : ndarray, (spatial...) or (channels, spatial...)
        Intensities on the model's grid; converted to float32.
    step_fraction : float
        Window step as a fraction of the patch (MONAI overlap = 1 - step_fraction).
    batch_size : int
        Windows per network call; 0 (default) chooses: 1 on the CPU (fastest per window
        there once every convolution runs on oneDNN), 2 on a GPU.
    mirror : bool
        Average over the flips along the model's ``mirror_axes`` (test-time augmentation:
        2^k network passes for k axes; a model whose sidecar names none: every axis, 2^d).
    low_memory : bool
        Slab-wise accumulation (memory ∝ patch depth); same result as the full buffer.
    spacing_mm : sequence of float, optional
        The image's voxel size. When it differs from the model's, the image is resampled
        to the model's grid and the result brought back to the image's grid. Not given (and no
        ``geometry``), the image is on the model's grid — also for a ``context_model`` on
        another grid.
    keep_largest_component : bool, "model" or sequence of int
        Keep only the largest connected component (3-D, 26-connected) of every label (True),
        of the listed labels, or of the labels the model's sidecar names as one structure
        (``"model"``: its ``single_component_labels``; none when it names none). Removed
        voxels become background — except, with ``"model"``, fragments of a label in one of the
        sidecar's ``fragment_join_groups`` (the bones) that touch the kept part of exactly one
        other label of the group, and are smaller than their own label's kept part: they join
        that label. A label of the sidecar's ``component_anchors`` (a bone) keeps the component
        that touches its anchors (its cartilage) most instead of the largest. Then, with
        ``"model"``, every piece of a label of the sidecar's ``attached_labels`` that touches
        none of its supports is removed (tibial cartilage off the tibia, menisci off the
        femur, tibia and their cartilage: :data:`KNEE_ATTACHED_LABELS`).
    geometry : imaging.Geometry, optional
        The image's grid (from ``imaging.read_image(...).geometry``). Given, the image is
        first reoriented exactly (axis permutation and flips, no interpolation; an oblique
        grid takes its nearest axis-aligned frame) to the orientation the model was trained
        in (sidecar ``orientation``, "LPS" by default), its spacing taken from the geometry,
        and the result brought back onto the input grid. Without it the array is assumed to
        be in the model's orientation already — a permuted or flipped image then segments
        wrongly (recommended: always pass it).
    roi : None, "auto" or (lo, hi)
        Segment only a box of the image; voxels outside it are background (probability 1).
        ``"auto"``: a first pass of the network over the whole image (windows without
        overlap, no mirroring: a quarter to an eighth of the windows of a pass at step 0.5,
        1/30 to 1/60 of a mirrored one) finds the
        knee as the largest group of structures it labels (structures closer than
        2 × :data:`ROI_JOIN_MM` joined: femur, tibia and patella); the box is that group's
        bounding box grown by ``roi_margin_mm`` on every side (clipped to the image). With a
        ``context_model`` the first pass is the context model's alone (its window sees the
        whole joint; the fine model's may paint soft tissue as bone). If the
        first pass finds no structure of :data:`ROI_MIN_KNEE_MM3`, the whole volume is
        segmented with a :class:`RoiWarning` — never an empty result. ``(lo, hi)``: voxel
        bounds on the image's own axes, ``hi`` exclusive.
    roi_margin_mm : float
        Margin around the knee for ``roi="auto"`` (:data:`ROI_MARGIN_MM`).
    context_model : Model, optional
        A coarse model with the same labels whose window covers the whole joint (e.g. 48³
        voxels of 3 mm: 144 mm), as the first stage of a cascade. ``model`` (fine, e.g. 48 mm
        windows) cannot tell a long-bone shaft far from the joint from another one; the
        context model sees the joint. Both run on the same image (each on its own grid, its
        probabilities brought back to the input grid); every context group gets the two
        models' probabilities mixed by ``context_mass_weight``, split among its members as the
        context model splits it; the other classes keep ``model``'s proportions
        (:func:`combine_context`). Labels are the argmax, post-processed as above. Without
        ``geometry`` or ``spacing_mm`` the two models must share a grid.
    context_groups : sequence of sequences of int, optional
        The label groups whose member the context model decides; default: the context
        model's sidecar ``context_groups`` (:data:`KNEE_CONTEXT_GROUPS` in the knee
        scripts' sidecars); refused when neither names any.
    context_mass_weight : float
        The context model's share of each group's probability (0: ``model``'s alone). 0.5 was
        chosen on a training anatomy, never a test one: an SPL-trained pair on the SPL knee
        (independent simulator) gained mean bone Dice 0.75 -> 0.89 (PD-FS) and 0.86 -> 0.91
        (DESS) over 0 (only 0 and 0.5 were tried). The pymskt-trained pair on its own knee
        preferred 0 (its fine model is right there already; the 3 mm context blurs the
        boundaries). On the test knees 0.5 gave the higher bone Dice in both directions.

    Returns
    -------
    SegmentResult
        Unpacks as ``labels, probabilities``: labels (uint8, spatial shape) and
        probabilities (float32, (classes, spatial...)) or None. ``.roi`` is None without
        ``roi``, else a dict: ``lo``, ``hi`` (voxel bounds on the input's axes, ``hi``
        exclusive), ``shape``, ``fraction`` (share of the voxels inside), ``found`` (False
        when ``"auto"`` fell back to the whole volume, with ``warning``), ``mode``,
        ``margin_mm``, ``knee_mm3`` and ``first_pass_s`` for ``"auto"``.
    """
    if isinstance(keep_largest_component, str):
        if keep_largest_component != "model":
            raise ValueError("keep_largest_component: expected a bool, 'model' or labels, got "
                             f"{keep_largest_component!r}")
        only = [int(label) for label in model_spec(model).get("single_component_labels", [])]
        groups = [[int(label) for label in g] for g in model_spec(model).get("fragment_join_groups", [])]
        anchors = [[int(label) for label in r] for r in model_spec(model).get("component_anchors", [])]
        attached = [[int(label) for label in r] for r in model_spec(model).get("attached_labels", [])]
        keep = bool(only)
    elif isinstance(keep_largest_component, (bool, np.bool_)):
        keep, only, groups, anchors, attached = bool(keep_largest_component), [], [], [], []
    else:
        only, groups, anchors, attached = [int(label) for label in keep_largest_component], [], [], []
        keep = bool(only)

    cgroups = [[int(v) for v in g] for g in (context_groups or [])]
    # any sequence (a geometry's numpy spacing too); empty = not given
    spacing_mm = None if spacing_mm is None or len(spacing_mm) == 0 else [float(s) for s in spacing_mm]
    if context_model is not None and geometry is None and spacing_mm is None:
        spacing_mm = model_spec(model).get("spacing_mm") or None  # the image is on the model's grid

    def run(arr, spacing, **kw):
        o = {"step_fraction": step_fraction, "mirror": mirror, "probabilities": probabilities, "keep": keep,
             "progress": progress, "context": True, "attached": attached, "by_context": False} | kw
        if o["by_context"] and context_model is not None:  # roi="auto"'s first pass: the context model alone
            return _seg.segment(context_model, arr, o["step_fraction"], batch_size, False, low_memory, False,
                                list(spacing or []), False, [], o["progress"])
        return _seg.segment(model, arr, o["step_fraction"], batch_size, o["mirror"], low_memory, o["probabilities"],
                            list(spacing or []), o["keep"], only if o["keep"] else [], o["progress"],
                            groups if o["keep"] else [], anchors if o["keep"] else [],
                            context_model if o["context"] else None, cgroups if o["context"] else [],
                            float(context_mass_weight), o["attached"])

    def run_roi(arr, spacing):
        arr = np.asarray(arr, dtype=np.float32)
        grid = spacing if spacing else model_spec(model).get("spacing_mm") or [1.0] * 3
        return _segment_in_roi(model, arr, grid, lambda a, **kw: run(a, spacing, **kw), roi, roi_margin_mm,
                               probabilities, progress)

    if geometry is None:
        shape = np.shape(image)[-len(model_spec(model).get("patch_size", [0, 0, 0])):]
        grid = spacing_mm or model_spec(model).get("spacing_mm") or [1.0] * len(shape)
        _check_input(image, [n * float(g) for n, g in zip(shape, grid)], model)
        if roi is None:
            return _volume_checked(SegmentResult(*run(image, spacing_mm)), grid, model)
        return _volume_checked(run_roi(image, spacing_mm), grid, model)
    from .. import InvalidArgument, imaging

    arr = np.asarray(image, dtype=np.float32)
    if arr.ndim == 3:
        _check_input(arr, [n * float(g) for n, g in zip(arr.shape, geometry.spacing)], model)
    if arr.ndim != 3 or tuple(arr.shape) != tuple(geometry.shape):
        raise InvalidArgument(f"segment: geometry {tuple(geometry.shape)} does not describe an image of shape "
                              f"{arr.shape} (geometry= takes one 3-D image)")
    if spacing_mm is not None and not np.allclose(spacing_mm, geometry.spacing, rtol=1e-6):
        raise InvalidArgument(f"segment: spacing_mm {list(spacing_mm)} contradicts the geometry's "
                              f"{list(geometry.spacing)}")
    source_code = imaging.orientation_code(geometry)
    target_code = model_spec(model).get("orientation", "LPS")
    canon, cgeom = imaging.reorient(arr, geometry, target_code)
    canon = np.asarray(canon, dtype=np.float32)
    if roi is None:
        result = SegmentResult(*run(canon, list(cgeom.spacing)))
    elif isinstance(roi, str):
        result = run_roi(canon, list(cgeom.spacing))
    else:  # an explicit box is on the input's axes: its corners, reoriented, bound the same voxels
        box_lo, box_hi = _checked_box(roi, arr.shape)  # never clipped silently
        box = np.zeros(arr.shape, np.uint8)
        box[tuple(slice(a, b) for a, b in zip(box_lo, box_hi))] = 1
        cbox, _ = imaging.reorient(box, geometry, target_code)
        if not cbox.any():
            raise InvalidArgument(f"segment: roi {roi!r} is not a non-empty box inside the image {arr.shape}")
        lo, hi = imaging.bounding_box(np.asarray(cbox))
        spacing = list(cgeom.spacing)
        result = _segment_in_roi(model, canon, spacing, lambda a, **kw: run(a, spacing, **kw),
                                 ([int(v) for v in lo], [int(v) + 1 for v in hi]), roi_margin_mm, probabilities,
                                 progress)
    labels, probs = result
    back, bgeom = imaging.reorient(labels, cgeom, source_code)
    if not bgeom.same_grid(geometry, 1e-4):  # a permutation and flips are exact: this cannot differ
        raise InvalidArgument("segment: the result could not be brought back onto the input grid")
    if probs is not None:
        probs = np.stack([imaging.reorient(p, cgeom, source_code)[0] for p in probs]).astype(np.float32)
    info = result.roi
    if info is not None:  # the box back on the input's axes
        cb = np.zeros(canon.shape, np.uint8)
        cb[tuple(slice(a, b) for a, b in zip(info["lo"], info["hi"]))] = 1
        ib, _ = imaging.reorient(cb, cgeom, source_code)
        lo, hi = imaging.bounding_box(np.asarray(ib))
        info = info | {"lo": [int(v) for v in lo], "hi": [int(v) + 1 for v in hi],
                       "shape": [int(b) - int(a) + 1 for a, b in zip(lo, hi)]}
        if isinstance(roi, (tuple, list)):
            info["mode"] = "box"
    return _volume_checked(SegmentResult(np.asarray(back), probs, info), geometry.spacing, model)


def combine_context(detail: np.ndarray, context: np.ndarray, groups: Sequence[Sequence[int]],
                    mass_weight: float = 0.5, eps: float = 1e-6) -> np.ndarray:
    """Class probabilities of a two-stage cascade (channels first, same shape). Each group
    gets the mass ``(1 - mass_weight)`` × ``detail``'s total for it + ``mass_weight`` ×
    ``context``'s, split among its members in ``context``'s proportions (``detail``'s where
    ``context`` gives the group less than ``eps``); the other labels share what is left in
    ``detail``'s proportions. A voxel still sums to one."""
    return _seg.combine_context(detail, context, [[int(v) for v in g] for g in groups], float(mass_weight), eps)


def train(model: Model, images: Sequence[np.ndarray], labels: Sequence[np.ndarray],
          val_images: Sequence[np.ndarray] = (), val_labels: Sequence[np.ndarray] = (), *,
          progress: Optional[ProgressCallback] = None, **options: Any) -> list[dict]:
    """Trains on fixed labelled images. Options as ``sportsmed::seg::TrainOptions``
    (epochs, iterations_per_epoch, batch_size, learning_rate, optimizer, seed, device,
    checkpoint, resume, ...). Returns one dict per epoch (train_loss, val_dice, ...)."""
    return _seg.train(model, list(images), list(labels), list(val_images), list(val_labels), progress, **options)


def train_synthetic(model: Model, label_maps: Sequence[np.ndarray], val_images: Sequence[np.ndarray] = (),
                    val_labels: Sequence[np.ndarray] = (), *, synthesis: Optional[dict] = None,
                    progress: Optional[ProgressCallback] = None, **options: Any) -> list[dict]:
    """SynthSeg-style training (Billot et al. 2023): every sample is a new synthetic image
    drawn from one of ``label_maps`` with random contrast, deformation, blur, bias and
    noise (``synthesis`` overrides the ranges of ``sportsmed::seg::SynthOptions``)."""
    return _seg.train_synthetic(model, list(label_maps), list(val_images), list(val_labels), synthesis or {},
                                progress, **options)


def synthesize(labels: np.ndarray, seed: int, **options: Any) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic image from a label map: returns (image in [0, 1], deformed labels).

    The options are the fields of ``sportsmed::seg::SynthOptions`` (include/sportsmed/seg/synth.hpp):
    deformation (``deform``, ``max_rotation_deg``, ``min_scale``/``max_scale``, ``elastic_std_vox``,
    ``elastic_grid``), the intensity mixture (``min_mean``/``max_mean``, ``min_std``/``max_std``, the
    ``prior_*`` fields of :func:`intensity_prior`), ``max_blur_sigma_vox``, ``bias_std``, ``gamma_std``,
    ``max_noise``, ``partial_volume`` (the map at that many times the output resolution),
    ``background_classes`` (the unlabelled tissue split into random intensity regions), ``crop`` (a
    random box of that many output voxels per axis), ``output_classes`` (generation label -> returned
    class: structures that are not classes still draw their own intensity), ``prior_tables`` (several
    contrast tables in the prior, one drawn per sample), ``velocity_std_vox``/``velocity_grid`` (a
    diffeomorphic deformation: a random stationary velocity field integrated by scaling and squaring)
    and ``thick_slice_probability``/``min_slice_thickness_vox``/``max_slice_thickness_vox`` (one axis
    acquired with thick slices and interpolated back). :mod:`sportsmed.seg._harmonise` builds the
    generation labels and contrast tables from real label maps by their names."""
    return _seg.synthesize(labels, seed, **options)


__all__ = [
    "KNEE_ATTACHED_LABELS", "KNEE_COMPONENT_ANCHORS", "KNEE_CONTEXT_GROUPS", "KNEE_LABELS", "KNEE_SINGLE_COMPONENT_LABELS", "Model",
    "InputWarning", "KNEE_VOLUME_LIMITS_CM3", "ROI_JOIN_MM", "ROI_MARGIN_MM", "ROI_MIN_KNEE_MM3", "RoiWarning",
    "SegmentResult", "PYMSKT_TO_KNEE", "remap_pymskt", "combine_context", "create_model", "default_context_model_path",
    "default_model_path", "dice_per_class",
    "gaussian_importance_map", "intensity_prior", "knee_volume_warnings", "load_label_map", "load_model",
    "model_caveats", "model_spec", "segment", "synthesize", "torchscript_sidecar", "train", "train_synthetic", "unet_spec",
    "window_starts",
]
