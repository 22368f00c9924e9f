"""Training by synthesis from real anatomy: label harmonisation by name, generation labels,
contrast tables, the diffeomorphic deformation, thick slices and knee flexion."""

from __future__ import annotations

import numpy as np
import pytest

import sportsmed

if "seg" not in sportsmed.available_pillars():
    pytest.skip("the seg pillar is not built", allow_module_level=True)

from scipy import ndimage  # noqa: E402

from sportsmed import imaging, seg  # noqa: E402
from sportsmed.imaging._labels import PYMSKT_LABEL_NAMES, read_label_mapping  # noqa: E402
from sportsmed.seg._harmonise import (  # noqa: E402
    CONTRASTS, TISSUES, add_cortex, flex_knee, harmonise, knee_class, tissue_type)

OFF = dict(deform=False, max_blur_sigma_vox=0.0, bias_std=0.0, gamma_std=0.0, max_noise=0.0, min_std=0.0, max_std=0.0)


def test_names_map_to_classes_whatever_the_numbering():
    """The same structures under three numberings and spellings give the same classes."""
    expected = {"femur": 1, "tibia": 2, "patella": 3, "femoral_cartilage": 4, "medial_tibial_cartilage": 5,
                "lateral_tibial_cartilage": 5, "patellar_cartilage": 4 + 2, "lateral_meniscus": 7,
                "medial_meniscus": 7, "fibula": 0, "anterior_cruciate_ligament": 0, "patellar_ligament": 0,
                "infrapatellar_fat_body": 0, "tibialis_anterior_muscle": 0, "Femur Bone": 1, "Left-Tibia": 2,
                "Tibial cartilage (medial)": 5, "popliteal_artery": 0, "femoral_artery": 0}
    for name, cls in expected.items():
        assert knee_class(name) == cls, name
    assert tissue_type("tibialis_nerve") == "nerve"  # not a bone because of "tibia"
    assert tissue_type("patellar_ligament") == "ligament"
    assert tissue_type("fibula") == "bone" and tissue_type("popliteal_vein") == "vessel"
    assert tissue_type("something unusual") == "other"

    rng = np.random.default_rng(0)
    a = rng.integers(0, 11, (6, 7, 8)).astype(np.uint8)
    perm = np.array([0, 95, 83, 85, 84, 86, 96, 98, 97, 81, 82], np.int16)  # SPL-like numbering
    names_b = {int(perm[k]): v for k, v in PYMSKT_LABEL_NAMES.items() if k}
    h = harmonise([(a, PYMSKT_LABEL_NAMES), (perm[a], names_b)])
    ca, cb = (np.asarray(h.output_classes)[m] for m in h.maps)
    np.testing.assert_array_equal(ca, cb)
    np.testing.assert_array_equal(ca, seg.remap_pymskt(a))  # the documented pymskt table
    np.testing.assert_array_equal(h.maps[0], h.maps[1])  # one global generation numbering
    assert h.names[h.maps[0][a == 8][0]] == "fibula" and h.tissues[h.maps[0][a == 8][0]] == "bone"


def test_spl_atlas_names_are_read_from_its_colour_table(shared_data):
    """Every one of the 48 named SPL structures lands in a class or its own generation label;
    the one unnamed value in the map is reported, not folded into a class."""
    names = read_label_mapping(shared_data("mri/spl_knee_atlas/knee.ctbl"))
    arr = np.asarray(imaging.read_image(shared_data("mri/spl_knee_atlas/seg.nrrd")).array)[::4, ::4, ::2]
    h = harmonise([(arr, names)])
    classes = np.asarray(h.output_classes)[h.maps[0]]
    for value, cls in ((95, 1), (96, 2), (98, 3), (83, 4), (84, 5), (85, 5), (86, 6), (81, 7), (82, 7), (97, 0),
                       (31, 0), (12, 0)):
        assert (classes[arr == value] == cls).all(), value
    assert (0, 3) in h.unnamed
    muscles = [g for g, t in enumerate(h.tissues) if t == "muscle"]
    assert len(muscles) == sum("muscle" in n for n in names.values()) == 14  # each muscle its own label
    assert len(set(h.maps[0][arr == 12].tolist()) | set(h.maps[0][arr == 13].tolist())) == 2


def test_generation_labels_draw_their_own_intensity_and_map_to_classes():
    """Two generation labels of one output class get different intensities (drawn from the
    chosen contrast table), and the returned labels are the output classes."""
    labels = np.zeros((20, 20, 20), np.uint8)
    labels[2:10] = 1
    labels[10:18] = 2  # both class 0 but different tissues
    labels[5:15, 5:15, 5:15] = 3
    lut = [0, 0, 0, 1]
    tables = [[0.1, 0.2, 0.9, 0.5], [0.3, 0.7, 0.1, 0.5]]
    seen = set()
    for seed in range(12):
        image, out = seg.synthesize(labels, seed, output_classes=lut, prior_means=sum(tables, []),
                                    prior_stds=[0.0] * 8, prior_tables=2, prior_probability=1.0,
                                    prior_mean_jitter=0.0, **OFF)
        np.testing.assert_array_equal(out, np.asarray(lut, np.uint8)[labels])
        v = [float(np.unique(image[labels == k])[0]) for k in range(4)]
        order = tuple(np.argsort(v))
        seen.add(order)
        assert order in (tuple(np.argsort(t)) for t in tables)
    assert len(seen) == 2  # both tables were drawn
    with pytest.raises(sportsmed.InvalidArgument, match="no output class"):
        seg.synthesize(labels, 0, output_classes=[0, 0, 0])
    with pytest.raises(sportsmed.InvalidArgument, match="do not split"):
        seg.synthesize(labels, 0, prior_means=[0.1] * 5, prior_stds=[0.0] * 5, prior_tables=2)


def test_contrast_tables_give_every_tissue_a_signal():
    h = harmonise([(np.array([[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]], np.uint8), PYMSKT_LABEL_NAMES)])
    opts = h.synthesis_options(0.5)
    assert opts["prior_tables"] == len(CONTRASTS)
    assert len(opts["prior_means"]) == len(CONTRASTS) * len(h.names)
    for table in CONTRASTS.values():
        assert len(table) == len(TISSUES) and all(0 <= v <= 1 for v in table)
    # fat suppression: marrow dark in PD-FS, bright in T1; fluid the reverse
    assert CONTRASTS["PD-FS"][TISSUES.index("bone")] < 0.3 < CONTRASTS["T1"][TISSUES.index("bone")]
    assert CONTRASTS["T1"][TISSUES.index("fluid")] < 0.3 < CONTRASTS["PD-FS"][TISSUES.index("fluid")]
    assert "background_prior_means" not in opts  # uniform background regions unless asked for
    fat_muscle = h.synthesis_options(0.5, background_tissues=("fat", "muscle"))
    expected = [v for t in CONTRASTS.values() for v in (t[TISSUES.index("fat")], t[TISSUES.index("muscle")])]
    assert fat_muscle["background_prior_means"] == pytest.approx(expected)  # two per table, in table order
    assert len(fat_muscle["background_prior_stds"]) == len(expected)
    image, _ = seg.synthesize(np.zeros((24, 24, 24), np.uint8), 0, background_classes=4, **fat_muscle)
    assert np.isfinite(image).all()
    with pytest.raises(sportsmed.InvalidArgument, match="unknown tissue types"):
        h.synthesis_options(0.5, background_tissues=("adipose",))


def test_velocity_field_deforms_without_tearing_or_folding():
    """A large integrated velocity field moves structures by several voxels, yet every label
    stays one piece (its largest component holds all but a few isolated voxels, the
    nearest-neighbour sampling's aliasing) and keeps a volume between 0.5 and 2 times its own
    (a folding or tearing map would split or lose structures); velocity 0 is the identity."""
    labels = np.zeros((40, 40, 40), np.uint8)
    z, y, x = np.indices(labels.shape)
    labels[(z - 20) ** 2 + (y - 20) ** 2 + (x - 20) ** 2 < 12**2] = 1
    labels[(z - 20) ** 2 + (y - 20) ** 2 + (x - 20) ** 2 < 6**2] = 2
    still = dict(OFF, deform=True, max_rotation_deg=0.0, min_scale=1.0, max_scale=1.0, elastic_std_vox=0.0)
    _, same = seg.synthesize(labels, 1, velocity_std_vox=0.0, **still)
    np.testing.assert_array_equal(same, labels)
    moved = 0.0
    for seed in range(3):
        _, out = seg.synthesize(labels, seed, velocity_std_vox=4.0, **still)
        for k in (1, 2):
            comp, n = ndimage.label(out == k)
            sizes = np.bincount(comp.ravel())[1:]
            assert sizes.max() > 0.99 * sizes.sum()
            assert 0.5 < (out == k).sum() / (labels == k).sum() < 2.0
        moved = max(moved, float((out != labels).mean()))
    assert moved > 0.02


def test_thick_slices_are_linear_between_slice_centres_along_one_axis():
    """With thick slices certain and all other randomness off, the image along exactly one
    axis is piecewise linear between slices (zero second differences away from the slice
    centres) and blurred; the labels are unchanged."""
    rng = np.random.default_rng(1)
    labels = (rng.random((30, 32, 34)) < 0.5).astype(np.uint8)
    labels = ndimage.binary_opening(labels, iterations=1).astype(np.uint8)
    opts = dict(OFF, prior_means=[0.2, 0.8], prior_stds=[0.0, 0.0], prior_probability=1.0, prior_mean_jitter=0.0,
                thick_slice_probability=1.0, min_slice_thickness_vox=4.0, max_slice_thickness_vox=4.0)
    image, out = seg.synthesize(labels, 3, **opts)
    np.testing.assert_array_equal(out, labels)
    flat = []
    for axis in range(3):
        d2 = np.abs(np.diff(image, n=2, axis=axis))
        flat.append(float((d2 < 1e-5).mean()))
    linear = int(np.argmax(flat))
    assert flat[linear] > 0.6  # 2 of every 4 inner points lie between two slice centres
    assert sorted(flat)[1] < 0.4  # the other axes are not interpolated
    with pytest.raises(sportsmed.InvalidArgument, match="thick slices"):
        seg.synthesize(labels, 3, thick_slice_probability=0.5, min_slice_thickness_vox=0.5)


def test_flexion_rotates_the_tibia_about_the_condyles_and_keeps_the_femur():
    """Flexing a phantom knee (LPS, 1.5 mm, tibia inside the field of view) by 20 degrees: the femur stays (Dice > 0.97), the
    tibia keeps its volume (within 3 %) and turns rigidly: its principal axis in the sagittal
    (y-z) plane turns by about 20 degrees, and its distal part moves posteriorly (+y)."""
    ph = imaging.make_knee_phantom(spacing_mm=(1.5,) * 3, extent_mm=(120.0,) * 3, supersampling=1, snr=0.0)
    h = harmonise([(ph["labels"], PYMSKT_LABEL_NAMES)])
    gen = h.maps[0]
    cls = np.asarray(h.output_classes)
    flexed = flex_knee(gen, h.output_classes, h.names, 20.0, 1.5)
    a, b = cls[gen], cls[flexed]
    femur_dice = 2 * ((a == 1) & (b == 1)).sum() / ((a == 1).sum() + (b == 1).sum())
    assert femur_dice > 0.97
    assert abs((b == 2).sum() / (a == 2).sum() - 1) < 0.03

    def sagittal_axis(mask):
        pts = np.argwhere(mask)[:, 1:].astype(float)  # (y, z)
        pts -= pts.mean(0)
        w, v = np.linalg.eigh(pts.T @ pts)
        axis = v[:, -1]
        return axis

    ua, ub = sagittal_axis(a == 2), sagittal_axis(b == 2)
    angle = abs(np.degrees(np.arctan2(ua[0] * ub[1] - ua[1] * ub[0], ua @ ub)))
    angle = min(angle, 180 - angle)  # an axis has no sign
    assert 16 < angle < 24
    # distal tibia moves posteriorly (+y): compare the lowest third's mean y
    za = np.argwhere(a == 2)
    zb = np.argwhere(b == 2)
    low_a = za[za[:, 2] < np.percentile(za[:, 2], 33)][:, 1].mean()
    low_b = zb[zb[:, 2] < np.percentile(zb[:, 2], 33)][:, 1].mean()
    assert low_b > low_a + 2  # voxels of 1.5 mm
    with pytest.raises(sportsmed.InvalidArgument, match="femur and a tibia"):
        flex_knee(np.zeros_like(gen), h.output_classes, h.names, 10.0, 1.5)


def test_cortex_is_a_shell_of_the_bone_class_and_no_cut_face():
    """add_cortex: the bone voxels within t 6-connected steps of another label become the
    bone's cortex label (same class, tissue cortical_bone; checked against scipy's taxicab
    distance transform); a bone cut by the border gets no shell on the cut face; every other
    label is untouched."""
    n = 32
    xx, yy, zz = np.meshgrid(*[np.arange(n)] * 3, indexing="ij")
    lab = np.zeros((n,) * 3, np.uint8)
    lab[(xx - 16) ** 2 + (yy - 16) ** 2 + (zz - 18) ** 2 <= 81] = 1  # femur: a ball inside
    lab[((xx - 16) ** 2 + (yy - 16) ** 2 <= 25) & (zz < 6)] = 2  # tibia: a rod cut by the z = 0 face
    lab[(xx - 16) ** 2 + (yy - 16) ** 2 + (zz - 18) ** 2 <= 9] = 3  # patella inside the ball (a bone in a bone)
    lab[0, 0, 0] = 8  # fibula: one voxel at a corner (it is all cut face but for its three inner faces)
    h = harmonise([(lab, PYMSKT_LABEL_NAMES)]).with_cortex()
    assert h.with_cortex() is h
    gen = h.maps[0]
    cls = np.asarray(h.output_classes)
    for t in (1, 2, 3):
        out = add_cortex(gen, h.cortex, t)
        np.testing.assert_array_equal(cls[out], cls[gen])  # the classes do not change
        for bone, shell in h.cortex.items():
            assert h.tissues[shell] == "cortical_bone" and h.names[shell] == h.names[bone] + "_cortex"
        femur = gen == 1
        depth = ndimage.distance_transform_cdt(np.pad(femur, 1), metric="taxicab")[1:-1, 1:-1, 1:-1]
        np.testing.assert_array_equal(out == h.cortex[1], femur & (depth <= t))
        rod = gen == 2
        assert (out[rod & (zz < 6 - t)] == 2).all()  # the cut face at z = 0 keeps marrow
        assert (out[rod & (zz == 5)] == h.cortex[2]).all()  # the rod's top is a surface
        assert (out[gen == 0] == 0).all()
    assert (add_cortex(gen, h.cortex, 0) == gen).all()
    with pytest.raises(sportsmed.InvalidArgument, match=">= 0"):
        add_cortex(gen, h.cortex, -1)
    # the cortex gives (almost) no signal in every MR-like table: darker than marrow and fat
    for table in CONTRASTS.values():
        c = table[TISSUES.index("cortical_bone")]
        assert c < 0.05 and c < table[TISSUES.index("bone")] and c < table[TISSUES.index("fat")]


def test_cross_anatomy_simulator_renders_a_signal_free_cortex():
    """scripts/eval_cross_anatomy.py: with --cortex-mm 1 the outer millimetre of a bone (Euclidean,
    on an anisotropic grid) loses its marrow signal, the deep marrow keeps it; same seed, so the
    random fields, bias and noise are the same with and without the cortex."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "eval_cross_anatomy", Path(__file__).resolve().parents[2] / "scripts" / "eval_cross_anatomy.py")
    sim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sim)
    spacing = np.array([0.5, 0.5, 1.0])
    shape = (48, 48, 24)
    world = np.stack(np.meshgrid(*[np.arange(n) * s for n, s in zip(shape, spacing)], indexing="ij"), -1)
    r = np.linalg.norm(world - np.array([12.0, 12.0, 12.0]), axis=-1)
    gen = (r <= 8.0).astype(np.uint8)  # generation label 1: a bone ball of radius 8 mm
    geom = imaging.Geometry(shape, spacing)
    tissues = ["background", "bone"]
    images = [sim.simulate(gen, tissues, geom, "T1", 1000.0, np.random.default_rng(0), cortex_mm=c) for c in (1.0, 0.0)]
    depth = ndimage.distance_transform_edt(gen, sampling=spacing)
    shell = (gen == 1) & (depth > 0.2) & (depth <= 0.8)
    deep = depth > 3.0
    with_cortex, without = images
    assert with_cortex[shell].mean() < 0.6 * without[shell].mean()  # T1: bright marrow, dark cortex
    np.testing.assert_allclose(with_cortex[deep], without[deep], rtol=0.02)
