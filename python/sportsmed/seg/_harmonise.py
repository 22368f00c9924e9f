"""Label harmonisation and anatomy variation for training on real knee label maps.

Every label map that trains a model comes with its own numbering: the pymskt knee maps (and
the project's phantom) number 10 structures, the SPL knee atlas 48 from a colour table, a
user's map anything. Training reads the *names* of the labels from the data (a colour table,
a ``.labels.json`` sidecar, or an explicit mapping) and maps them, by one documented rule
set, onto the model's classes:

=====================  ===================================================================
model class            source names (lower case, words split at non-letters)
=====================  ===================================================================
femur                  a name made of ``femur`` (+ bone / left / right / distal words)
tibia                  likewise ``tibia``
patella                likewise ``patella``
femoral_cartilage      ``cartilage`` with ``femor``
tibial_cartilage       ``cartilage`` with ``tibi`` (medial, lateral, or both: one class)
patellar_cartilage     ``cartilage`` with ``patell``
menisci                ``menisc`` (medial, lateral, or both)
background             everything else
=====================  ===================================================================

Every structure that is *not* a model class keeps its own *generation label* (SynthSeg's
distinction between generation and segmentation labels): it draws its own random intensity
in every synthetic image (a muscle is not fat, a tendon is not a vessel) and is background in
the targets. Each generation label also has a tissue type read from its name (bone, fat,
muscle, ligament/tendon, fluid, vessel, nerve, other), which picks its intensity in the
MR-like contrast tables below. A label the names do not describe is kept as its own
"other" tissue and reported — never folded silently into a class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np

#: The model's classes (as ``sportsmed.seg.KNEE_LABELS``).
_CLASSES = ["background", "femur", "tibia", "patella", "femoral_cartilage", "tibial_cartilage",
            "patellar_cartilage", "menisci"]
_BONE_WORDS = {"bone", "left", "right", "l", "r", "distal", "proximal", "the"}

#: Tissue types, in the order of the contrast tables' columns.
TISSUES = ("background", "bone", "cartilage", "meniscus", "ligament", "muscle", "fat", "fluid", "vessel", "nerve",
           "other", "cortical_bone")
_CLASS_TISSUE = ["background", "bone", "bone", "bone", "cartilage", "cartilage", "cartilage", "meniscus"]

#: Relative signal (0..1) of each tissue type in four knee protocols, from the usual
#: appearance of knee MRI (fat-suppressed protocols: dark marrow and fat, bright fluid;
#: T1: bright marrow and fat, dark fluid; menisci, ligaments and tendons dark in all).
#: "background" is the unlabelled rest (a mixture; its regions also draw uniform values);
#: "bone" is the marrow, "cortical_bone" the cortex and subchondral plate (no signal: T2* well
#: under a millisecond), the shell :func:`add_cortex` carves out of every bone.
CONTRASTS = {
    #            bg    bone  cart  menis lig   muscl fat   fluid vess  nerve other cortex
    "DESS":     (0.20, 0.15, 0.75, 0.05, 0.05, 0.30, 0.10, 0.95, 0.60, 0.35, 0.30, 0.02),
    "PD-FS":    (0.20, 0.15, 0.55, 0.05, 0.08, 0.30, 0.10, 0.95, 0.50, 0.40, 0.30, 0.02),
    "T1":       (0.45, 0.85, 0.45, 0.05, 0.05, 0.35, 0.90, 0.20, 0.30, 0.40, 0.35, 0.02),
    "T2":       (0.40, 0.60, 0.30, 0.05, 0.05, 0.20, 0.70, 0.95, 0.50, 0.45, 0.30, 0.02),
    "PD":       (0.50, 0.80, 0.60, 0.08, 0.08, 0.40, 0.90, 0.70, 0.50, 0.50, 0.40, 0.03),
}
_CONTRAST_STD = 0.04


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def knee_class(name: str) -> int:
    """The model class (index into KNEE_LABELS) of a structure name; 0 for every other structure."""
    words = _words(name)
    text = "_".join(words)
    if "cartilage" in text:
        for stem, cls in (("femor", 4), ("tibi", 5), ("patell", 6)):
            if stem in text:
                return cls
        return 0
    if "menisc" in text:
        return 7
    for bone, cls in (("femur", 1), ("tibia", 2), ("patella", 3)):
        if bone in words and set(words) <= _BONE_WORDS | {bone}:
            return cls
    return 0


def tissue_type(name: str) -> str:
    """The tissue type of a structure name (one of :data:`TISSUES`)."""
    cls = knee_class(name)
    if cls:
        return _CLASS_TISSUE[cls]
    text = "_".join(_words(name))
    # Soft-tissue words first: "tibialis_nerve" is a nerve, "patellar_ligament" a ligament.
    rules = (("cartilage", "cartilage"), ("menisc", "meniscus"), ("ligament", "ligament"), ("tendon", "ligament"),
             ("tract", "ligament"), ("retinacul", "ligament"), ("muscle", "muscle"), ("artery", "vessel"),
             ("vein", "vessel"), ("vessel", "vessel"), ("nerve", "nerve"), ("fat", "fat"), ("fluid", "fluid"),
             ("effusion", "fluid"), ("bursa", "fluid"), ("cyst", "fluid"), ("marrow", "bone"), ("bone", "bone"))
    for key, tissue in rules:
        if key in text:
            return tissue
    if set(_words(name)) & {"femur", "tibia", "patella", "fibula"}:
        return "bone"
    return "other"


@dataclass
class Harmonised:
    """Label maps on one global generation numbering (see the module's documentation)."""

    maps: list  #: uint8 generation-label maps, one per input
    names: list = field(default_factory=list)  #: generation label -> structure name
    output_classes: list = field(default_factory=list)  #: generation label -> model class
    tissues: list = field(default_factory=list)  #: generation label -> tissue type
    unnamed: list = field(default_factory=list)  #: (map index, source label) without a name
    cortex: dict = field(default_factory=dict)  #: bone generation label -> its cortex's (with_cortex)

    def with_cortex(self) -> "Harmonised":
        """The same maps with one more generation label per bone: ``<bone>_cortex``, of the
        bone's class and tissue ``cortical_bone``, for :func:`add_cortex` to carve out of it.
        In MR the cortex and the subchondral plate give no signal whatever the protocol,
        while the marrow is as bright or as dark as fat: the dark rim is what separates a
        bone from fat beside it, so training images need it. The maps are not changed."""
        if self.cortex:
            return self
        names, classes, tissues = list(self.names), list(self.output_classes), list(self.tissues)
        cortex = {}
        for g, t in enumerate(self.tissues):
            if t == "bone":
                cortex[g] = len(names)
                names.append(f"{self.names[g]}_cortex")
                classes.append(self.output_classes[g])
                tissues.append("cortical_bone")
        if len(names) > 255:
            from .. import InvalidArgument

            raise InvalidArgument(f"with_cortex: {len(names)} generation labels exceed 255")
        return Harmonised(self.maps, names, classes, tissues, self.unnamed, cortex)

    def synthesis_options(self, probability: float, contrasts: Sequence[str] = tuple(CONTRASTS),
                          background_tissues: Sequence[str] = ()) -> dict:
        """``synthesize``/``train_synthetic`` options: the output classes, and one intensity
        prior per contrast of :data:`CONTRASTS` drawn for a share ``probability`` of samples.
        ``background_tissues`` (e.g. fat and muscle): tissue types whose signal in the drawn
        table the random regions of the unlabelled rest take in those samples
        (``background_prior_means``); none: those regions draw uniform values."""
        from .. import InvalidArgument

        bad = [t for t in background_tissues if t not in TISSUES]
        if bad:
            raise InvalidArgument(f"synthesis_options: unknown tissue types {bad}; known: {', '.join(TISSUES)}")
        means, stds, bg_means = [], [], []
        for c in contrasts:
            table = CONTRASTS[c]
            for t in self.tissues:
                means.append(float(table[TISSUES.index(t)]))
                stds.append(_CONTRAST_STD)
            bg_means += [float(table[TISSUES.index(t)]) for t in background_tissues]
        out = {"output_classes": [int(c) for c in self.output_classes], "prior_means": means, "prior_stds": stds,
               "prior_tables": len(contrasts), "prior_probability": float(probability)}
        if bg_means:
            out |= {"background_prior_means": bg_means, "background_prior_stds": [_CONTRAST_STD] * len(bg_means)}
        return out

    def table(self) -> list[dict]:
        """The mapping, one row per generation label (for sidecars and documentation)."""
        return [{"generation_label": g, "name": n, "class": _CLASSES[c], "tissue": t}
                for g, (n, c, t) in enumerate(zip(self.names, self.output_classes, self.tissues))]


def harmonise(maps: Sequence[tuple[np.ndarray, Mapping[int, str]]]) -> Harmonised:
    """Puts label maps with their own numberings and names on one generation numbering.

    ``maps``: (label array, {label: name}) pairs; the names come from the data (colour table,
    sidecar) — a map without them must be described by the caller, never guessed. Generation
    labels 0..7 are the model's classes (0: unlabelled tissue and any structure named
    "background"/"unlabelled"); every other structure name, across all maps, gets one
    generation label of its own (two maps naming "fibula" share it). A label present in a
    map but absent from its names becomes an "other" tissue of its own and is listed in
    ``unnamed``."""
    from .. import InvalidArgument

    names = list(_CLASSES)
    classes = list(range(len(_CLASSES)))
    tissues = list(_CLASS_TISSUE)
    index = {n: i for i, n in enumerate(_CLASSES)}
    out, unnamed = [], []
    for m, (labels, label_names) in enumerate(maps):
        labels = np.asarray(labels)
        if labels.dtype.kind not in "iu":
            raise InvalidArgument(f"harmonise: map {m} is not an integer label map ({labels.dtype})")
        present = np.unique(labels)
        lut = {}
        for value in present.tolist():
            if value == 0:
                lut[0] = 0
                continue
            name = label_names.get(int(value))
            if name is None:
                unnamed.append((m, int(value)))
                name = f"unnamed_{m}_{int(value)}"
            cls = knee_class(name)
            key = _CLASSES[cls] if cls else "_".join(_words(name))
            if key in ("background", "unlabelled", "unlabeled", "clear_label"):
                lut[value] = 0
                continue
            if key not in index:
                index[key] = len(names)
                names.append(key)
                classes.append(0)
                tissues.append(tissue_type(name) if name in label_names.values() else "other")
            lut[value] = index[key]
        if len(names) > 255:
            raise InvalidArgument(f"harmonise: {len(names)} generation labels exceed 255")
        table = np.zeros(int(present.max()) + 1, np.uint8)
        for value, g in lut.items():
            table[value] = g
        out.append(table[labels])
    return Harmonised(out, names, classes, tissues, unnamed)


def add_cortex(gen_labels: np.ndarray, cortex: Mapping[int, int], thickness_vox: int) -> np.ndarray:
    """A generation-label map whose bones have a cortical shell: every voxel of a bone label
    within ``thickness_vox`` voxels (6-connected steps, i.e. city-block distance) of a voxel of
    another label becomes the bone's cortex label (``cortex``: :attr:`Harmonised.cortex`). A
    bone cut by the map's border gets no shell on the cut face (the field of view is not a
    bone surface). Returns a new map; ``thickness_vox`` 0 returns a copy."""
    from scipy import ndimage

    from .. import InvalidArgument

    lab = np.asarray(gen_labels)
    if lab.ndim != 3:
        raise InvalidArgument(f"add_cortex: expected a 3-D label map, got {lab.ndim} axes")
    if thickness_vox < 0:
        raise InvalidArgument(f"add_cortex: thickness must be >= 0 voxels, got {thickness_vox}")
    out = lab.astype(np.uint8, copy=True)
    if thickness_vox == 0:
        return out
    ball = ndimage.generate_binary_structure(3, 1)
    for bone, shell_label in cortex.items():
        mask = lab == bone
        if not mask.any():
            continue
        box = tuple(slice(max(0, int(i.min()) - 1), int(i.max()) + 2) for i in np.nonzero(mask))
        m = mask[box]
        # outside the map counts as bone (border_value=1): no shell on a cut face
        inner = ndimage.binary_erosion(m, ball, iterations=int(thickness_vox), border_value=1)
        region = out[box]
        region[m & ~inner] = shell_label
    return out


def flex_knee(gen_labels: np.ndarray, output_classes: Sequence[int], names: Sequence[str], angle_deg: float,
              spacing_mm: float) -> np.ndarray:
    """The knee of a generation-label map (LPS axes, isotropic ``spacing_mm``) flexed by
    ``angle_deg`` (positive: flexion, the tibia rotating posteriorly).

    The tibia side (tibia, tibial cartilage, fibula) turns rigidly about a medio-lateral axis
    through the centre of the posterior femoral condyles (taken 20 mm proximal to the distal
    end of the femur and 20 mm anterior to its posterior surface there: the condyles'
    radius of curvature); the femur side (femur, femoral cartilage) stays. Between them the
    angle blends with the relative distance to the two sides (w = d_femur / (d_femur +
    d_tibia), smoothed over 2 mm outside the bones), so soft tissue, the patella and the
    menisci follow part of the motion and the map stays one piece. The blend is computed on a grid
    of about 1 mm and interpolated, so fine maps (partial-volume training) cost little more.
    """
    from scipy import ndimage

    from .. import InvalidArgument

    lab = np.asarray(gen_labels)
    if lab.ndim != 3:
        raise InvalidArgument(f"flex_knee: expected a 3-D label map, got {lab.ndim} axes")
    step = max(1, int(round(1.0 / spacing_mm)))
    coarse = lab[::step, ::step, ::step]
    h = spacing_mm * step
    cls = np.asarray(output_classes)[coarse]
    femur = (cls == 1) | (cls == 4)
    tibia = (cls == 2) | (cls == 5) | np.isin(coarse, [g for g, n in enumerate(names) if n in ("fibula", "fibula_cortex")])
    if not femur.any() or not tibia.any():
        raise InvalidArgument("flex_knee: the map needs a femur and a tibia")
    zf = np.nonzero(femur.any(axis=(0, 1)))[0]
    zt = np.nonzero(tibia.any(axis=(0, 1)))[0]
    up = 1.0 if zt.mean() < zf.mean() else -1.0  # +1 when superior is +z (LPS)
    z_end = zf.min() if up > 0 else zf.max()
    r = 20.0 / h
    slab = femur & (np.abs(np.arange(coarse.shape[2]) - z_end) <= r)[None, None, :]
    xs, ys, _ = np.nonzero(slab)
    centre = np.array([xs.mean(), ys.max() - r, z_end + up * r]) * step  # fine voxels
    d_f = ndimage.distance_transform_edt(~femur)
    d_t = ndimage.distance_transform_edt(~tibia)
    w = ndimage.gaussian_filter(d_f / np.maximum(d_f + d_t, 1e-6), 2.0 / h)
    w[tibia], w[femur] = 1.0, 0.0  # both sides rigid: the blend lies in the tissue between them
    w = w.astype(np.float64)  # map_coordinates would convert it on every call
    out = np.empty_like(lab, dtype=np.uint8)
    nx, ny, nz = lab.shape
    yy, zz = np.meshgrid(np.arange(ny, dtype=np.float64), np.arange(nz, dtype=np.float64), indexing="ij")
    y, z = yy - centre[1], zz - centre[2]
    chunk = max(1, 2_000_000 // (ny * nz))
    for x0 in range(0, nx, chunk):  # a few planes at a time: memory stays bounded
        xs = np.arange(x0, min(nx, x0 + chunk), dtype=np.float64)[:, None, None] + np.zeros_like(yy)
        src_y, src_z = np.broadcast_to(yy, xs.shape), np.broadcast_to(zz, xs.shape)
        for _ in range(4):  # the blend weight of the *source* point (fixed point): rigid inside the bones
            wx = ndimage.map_coordinates(w, [xs / step, src_y / step, src_z / step], order=1, mode="nearest")
            theta = -np.deg2rad(angle_deg) * wx * up  # pull-back: rotate output positions back
            c, s = np.cos(theta), np.sin(theta)
            src_y, src_z = centre[1] + c * y - s * z, centre[2] + s * y + c * z
        # nearest neighbour by rounding (exact for labels, no float copy of the map)
        iy, iz = np.rint(src_y).astype(np.int64), np.rint(src_z).astype(np.int64)
        inside = (iy >= 0) & (iy < ny) & (iz >= 0) & (iz < nz)
        ix = xs.astype(np.int64)
        block = np.zeros(xs.shape, np.uint8)
        block[inside] = lab[ix[inside], iy[inside], iz[inside]]
        out[x0:x0 + xs.shape[0]] = block
    return out
