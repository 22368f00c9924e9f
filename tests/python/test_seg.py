"""The seg pillar from Python: TorchScript import equals PyTorch, bad input, training."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

import sportsmed

if "seg" not in sportsmed.available_pillars():
    pytest.skip("the seg pillar is not built", allow_module_level=True)

from sportsmed import seg  # noqa: E402

HERE = Path(__file__).resolve().parent

EXPORT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import torch
    sys.path.insert(0, {here!r})
    from reference_sliding_window import sliding_window, zscore

    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Conv3d(1, 6, 3, padding=1)
            self.b = torch.nn.Conv3d(6, 3, 3, padding=1)

        def forward(self, x):
            return self.b(torch.nn.functional.leaky_relu(self.a(x), 0.01))

    net = Net().eval()
    scripted = torch.jit.script(net)
    out = {out!r}
    scripted.save(out + "/net.pt")
    json.dump({{"format": "sportsmed-seg", "version": 1, "architecture": "torchscript", "in_channels": 1,
               "labels": ["background", "a", "b"], "patch_size": [8, 8, 8], "spacing_mm": [1, 1, 1],
               "normalization": "zscore"}}, open(out + "/net.json", "w"))
    rng = np.random.default_rng(1)
    image = rng.normal(3.0, 2.0, size=(13, 10, 17)).astype(np.float32)
    np.save(out + "/image.npy", image)
    logits = sliding_window(scripted, zscore(torch.from_numpy(image)[None]), [8, 8, 8], overlap=0.5)
    np.save(out + "/probs.npy", torch.softmax(logits, 0).numpy())
    small = image[:5, :6, :7].copy()
    np.save(out + "/small.npy", small)
    threshold = torch.nn.Conv3d(1, 2, 1)
    with torch.no_grad():
        threshold.weight[:] = torch.tensor([-1.0, 1.0]).reshape(2, 1, 1, 1, 1)
        threshold.bias.zero_()
    torch.jit.script(threshold).save(out + "/threshold.pt")
    json.dump({{"format": "sportsmed-seg", "version": 1, "architecture": "torchscript", "in_channels": 1,
               "labels": ["background", "bright"], "patch_size": [8, 8, 8], "spacing_mm": [1, 1, 1],
               "normalization": "none"}}, open(out + "/threshold.json", "w"))
    np.save(out + "/small_probs.npy",
            torch.softmax(sliding_window(scripted, zscore(torch.from_numpy(small)[None]), [8, 8, 8]), 0).numpy())
""")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("torchscript")
    # Debian's python3-torch, in its own process: the export side knows nothing of sportsmed.
    script = out / "export.py"  # a file: torch.jit.script reads the module's source
    script.write_text(EXPORT.format(here=str(HERE), out=str(out)))
    subprocess.run(["/usr/bin/python3", str(script)], check=True, timeout=300)
    return out


def test_torchscript_model_equals_pytorch(exported):
    model = seg.load_model(exported / "net.pt")
    assert seg.model_spec(model)["architecture"] == "torchscript"
    image = np.load(exported / "image.npy")
    for low_memory in (True, False):
        labels, probs = seg.segment(model, image, probabilities=True, low_memory=low_memory, batch_size=3)
        ref = np.load(exported / "probs.npy")
        np.testing.assert_allclose(probs, ref, atol=1e-5)
        np.testing.assert_array_equal(labels, ref.argmax(0))
    # A volume smaller than the patch is padded, not refused.
    _, small = seg.segment(model, np.load(exported / "small.npy"), probabilities=True)
    np.testing.assert_allclose(small, np.load(exported / "small_probs.npy"), atol=1e-5)


def test_keep_largest_component_and_resampling(exported, tmp_path):
    from scipy import ndimage

    model = seg.load_model(exported / "threshold.pt")  # label 1 wherever the intensity is > 0
    image = -np.ones((20, 18, 16), np.float32)
    image[2:10, 2:10, 2:10] = 1.0  # big blob
    image[14:17, 12:15, 11:14] = 1.0  # small blob
    labels, _ = seg.segment(model, image)
    np.testing.assert_array_equal(labels, (image > 0).astype(np.uint8))
    kept, _ = seg.segment(model, image, keep_largest_component=True)
    components, n = ndimage.label(image > 0, structure=np.ones((3, 3, 3)))
    largest = np.argmax(np.bincount(components.ravel())[1:]) + 1
    assert n == 2
    np.testing.assert_array_equal(kept, (components == largest).astype(np.uint8))
    # Restricted to labels: label 1 listed -> filtered; a model naming no single-component
    # label -> "model" filters nothing; a label outside the model's classes -> typed error.
    listed, _ = seg.segment(model, image, keep_largest_component=[1])
    np.testing.assert_array_equal(listed, kept)
    unnamed, _ = seg.segment(model, image, keep_largest_component="model")
    np.testing.assert_array_equal(unnamed, labels)
    with pytest.raises(sportsmed.InvalidArgument, match="keep_largest_labels has 2"):
        seg.segment(model, image, keep_largest_component=[2])
    with pytest.raises(ValueError, match="keep_largest_component"):
        seg.segment(model, image, keep_largest_component="largest")
    # The same network with a sidecar naming label 1 as one structure.
    (tmp_path / "named.pt").write_bytes((exported / "threshold.pt").read_bytes())
    sidecar = json.loads((exported / "threshold.json").read_text())
    (tmp_path / "named.json").write_text(json.dumps({**sidecar, "single_component_labels": [1]}))
    named = seg.load_model(tmp_path / "named.pt")
    assert seg.model_spec(named)["single_component_labels"] == [1]
    by_model, _ = seg.segment(named, image, keep_largest_component="model")
    np.testing.assert_array_equal(by_model, kept)

    # An image at 2 mm on a 1 mm model: resampled to the model's grid and back.
    z, y, x = np.meshgrid(*[np.arange(s) for s in (20, 18, 16)], indexing="ij")
    smooth = (np.sin(z / 3.0) + np.cos(y / 4.0) * np.sin(x / 5.0)).astype(np.float32)
    truth = (smooth > 0).astype(np.uint8)
    for probabilities in (False, True):
        out, probs = seg.segment(model, smooth, spacing_mm=(2.0, 2.0, 2.0), probabilities=probabilities)
        assert out.shape == smooth.shape
        assert np.mean(out == truth) > 0.97  # differs only next to the zero crossing
        if probabilities:
            assert probs.shape == (2,) + smooth.shape
            np.testing.assert_allclose(probs.sum(0), 1.0, atol=1e-5)
    with pytest.raises(sportsmed.InvalidArgument, match="input spacing must be positive"):
        seg.segment(model, smooth, spacing_mm=(2.0, 0.0, 2.0))


def test_bad_input_gives_typed_errors(exported, tmp_path):
    model = seg.load_model(exported / "net.pt")
    image = np.load(exported / "image.npy")
    with pytest.raises(sportsmed.InvalidArgument, match="channels"):
        seg.segment(model, np.stack([image, image]))
    bad = image.copy()
    bad[1, 2, 3] = np.nan
    with pytest.raises(sportsmed.InvalidArgument, match="NaN"):
        seg.segment(model, bad)
    lonely = tmp_path / "lonely.pt"
    lonely.write_bytes((exported / "net.pt").read_bytes())
    with pytest.raises(sportsmed.NotFound, match="no sidecar"):
        seg.load_model(lonely)
    sidecar = json.loads((exported / "net.json").read_text())
    sidecar["labels"] = ["background", "a", "b", "c"]
    (tmp_path / "lonely.json").write_text(json.dumps(sidecar))
    wrong = seg.load_model(lonely)
    with pytest.raises(sportsmed.InvalidArgument, match="returned 3 classes but the model names 4"):
        seg.segment(wrong, image)
    with pytest.raises(sportsmed.FormatError, match="version 7"):
        (tmp_path / "lonely.json").write_text(json.dumps(dict(sidecar, version=7)))
        seg.load_model(lonely)


def test_helpers_match_reference():
    import sys

    sys.path.insert(0, str(HERE))
    from reference_sliding_window import importance_map, window_starts

    for size, patch, step in [(10, 4, 0.5), (11, 4, 0.5), (160, 64, 0.5), (97, 32, 0.25), (5, 8, 0.5)]:
        assert seg.window_starts(size, patch, step) == window_starts(size, patch, 1 - step)
    np.testing.assert_allclose(seg.gaussian_importance_map([8, 6, 5]), importance_map([8, 6, 5]).numpy(), rtol=1e-6)


def test_training_from_python_reports_progress_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.zeros((16, 16, 16), np.uint8)
    labels[4:12, 4:12, 3:8] = 1
    labels[4:12, 4:12, 9:14] = 2
    image = (labels * 0.6 + rng.normal(0, 0.05, labels.shape)).astype(np.float32)
    model = seg.create_model(seg.unet_spec(["background", "left", "right"], (16, 16, 16), (1, 1, 1),
                                           base_features=8, levels=2, single_component_labels=[1, 2],
                                           fragment_join_groups=[[1, 2]], component_anchors=[[1, 2]]), seed=0)
    stages = []
    history = seg.train(model, [image], [labels], [image], [labels], epochs=2, iterations_per_epoch=30,
                        learning_rate=3e-3, augment=False, progress=lambda f, s: stages.append((f, s)),
                        checkpoint=str(tmp_path / "ck.pt"))
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[-1]["val_dice"][1] > 0.9 and history[-1]["val_dice"][2] > 0.9
    assert stages[-1][0] == pytest.approx(1.0) and stages[-1][1].startswith("epoch 2/2 loss")
    reloaded = seg.load_model(tmp_path / "ck.pt")
    assert seg.model_spec(reloaded)["single_component_labels"] == [1, 2]
    assert seg.model_spec(reloaded)["fragment_join_groups"] == [[1, 2]]
    assert seg.model_spec(reloaded)["component_anchors"] == [[1, 2]]
    pred, _ = seg.segment(reloaded, image, keep_largest_component="model")
    dice = seg.dice_per_class(pred, labels, 3)
    assert min(dice[1:]) > 0.9
    with pytest.raises(sportsmed.InvalidArgument, match="unknown option 'epoch'"):
        seg.train(model, [image], [labels], epoch=3)
    with pytest.raises(sportsmed.InvalidArgument, match="label 2 but the model has 2 classes"):
        two = seg.create_model(seg.unet_spec(["bg", "x"], (16, 16, 16), levels=2, base_features=4))
        seg.train(two, [image], [labels], epochs=1, iterations_per_epoch=1)


def test_synthesis_is_seeded_and_differs_between_seeds():
    labels = np.zeros((20, 20, 20), np.uint8)
    labels[5:15, 5:15, 5:15] = 1
    labels[8:12, 8:12, 8:12] = 2
    a, la = seg.synthesize(labels, 3)
    b, _ = seg.synthesize(labels, 3)
    c, _ = seg.synthesize(labels, 4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32 and la.dtype == np.uint8 and a.shape == labels.shape
    assert a.min() == pytest.approx(0.0, abs=1e-6) and a.max() == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(sportsmed.InvalidArgument, match="unknown option"):
        seg.synthesize(labels, 1, rotation=3)


def test_load_label_map_keeps_volumes_and_world_positions(shared_data):
    """The real knee map (0.365 x 0.365 x 0.7 mm, oblique, a right knee) on a 1 mm LPS grid:
    per-label volumes and world centroids agree with the file's own (read back through
    its geometry), and flip_lr mirrors the x axis only."""
    from sportsmed import imaging

    path = shared_data("mri/knee_labels_pymskt.nrrd")
    src = imaging.read_image(str(path))
    original = np.asarray(src.array).astype(np.uint8)
    voxel_mm3 = float(np.prod(src.geometry.spacing))
    out = seg.load_label_map(str(path), (1.0, 1.0, 1.0))
    flipped = seg.load_label_map(str(path), (1.0, 1.0, 1.0), flip_lr=True)
    np.testing.assert_array_equal(flipped, out[::-1])
    labels, geom = imaging.reorient(original, src.geometry, "LPS")
    corner = np.asarray(geom.to_world(-0.5 * np.ones(3)), float).ravel()
    for k in (1, 5, 6, 7, 9):  # cartilage, bones, a meniscus
        mask = original == k
        vol_ref = mask.sum() * voxel_mm3
        assert out.shape == tuple(int(round(n * s)) for n, s in zip(geom.shape, geom.spacing))
        assert (out == k).sum() * 1.0 == pytest.approx(vol_ref, rel=0.06 if k in (1, 9) else 0.02)
        ref_centroid = np.asarray(src.geometry.to_world(np.argwhere(mask).mean(0)), float).ravel()
        ijk = np.argwhere(out == k).mean(0)  # 1 mm grid with the reoriented direction cosines
        centroid = corner + geom.direction @ (ijk + 0.5)
        np.testing.assert_allclose(centroid, ref_centroid, atol=0.5)


def test_intensity_prior_is_the_class_statistics():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=(10, 12, 14))
    image = rng.normal(size=labels.shape) + labels
    prior = seg.intensity_prior(image, labels, 4, 0.3)
    assert prior["prior_probability"] == 0.3
    for k in range(3):  # numpy on the same voxels
        assert prior["prior_means"][k] == pytest.approx(np.mean(image[labels == k]), abs=1e-12)
        assert prior["prior_stds"][k] == pytest.approx(np.std(image[labels == k]), abs=1e-12)
    assert prior["prior_means"][3] == 0.0 and prior["prior_stds"][3] == 0.0  # absent class
    img, _ = seg.synthesize(labels.astype(np.uint8), 1, deform=False, **prior)  # accepted by the generator
    assert img.shape == labels.shape


def _block_reference(labels: np.ndarray, means: np.ndarray, f: int):
    """numpy: block means of the class means; the labels at the block centres (odd f) or
    the block modes (even f, ties to the lower label)."""
    shape = tuple(n // f for n in labels.shape)
    crop = labels[tuple(slice(0, n * f) for n in shape)]
    split = crop.reshape(shape[0], f, shape[1], f, shape[2], f).transpose(0, 2, 4, 1, 3, 5).reshape(*shape, -1)
    image = means[split].mean(-1)
    if f % 2:
        out = crop[f // 2::f, f // 2::f, f // 2::f]
    else:
        counts = np.stack([(split == k).sum(-1) for k in range(int(labels.max()) + 1)], -1)
        out = counts.argmax(-1).astype(np.uint8)
    return (image - image.min()) / (image.max() - image.min()), out


@pytest.mark.parametrize("f", [2, 3])
def test_partial_volume_synthesis_averages_fine_blocks(f):
    """With deformation, texture, blur, bias, gamma and noise off, a label map at f times
    the output resolution gives the block averages of the class intensities and the
    central labels (odd f) or block modes (even f), as numpy computes them; shapes that f
    does not divide are cut."""
    rng = np.random.default_rng(f)
    labels = np.zeros((13 * f + 1, 9 * f, 11 * f), np.uint8)  # the first axis is not a multiple of f
    z, y, x = np.indices(labels.shape)
    labels[(z - 7 * f) ** 2 + (y - 4 * f) ** 2 + (x - 5 * f) ** 2 < (3.3 * f) ** 2] = 1
    labels[z < 2.6 * f] = 2
    labels[rng.random(labels.shape) < 0.02] = 3  # isolated voxels: ties and minority labels
    means = np.array([0.1, 0.8, 0.35, 0.6])
    off = dict(deform=False, max_blur_sigma_vox=0.0, bias_std=0.0, gamma_std=0.0, max_noise=0.0,
               prior_means=list(means), prior_stds=[0.0] * 4, prior_probability=1.0, prior_mean_jitter=0.0)
    image, out = seg.synthesize(labels, 5, partial_volume=f, **off)
    ref_image, ref_labels = _block_reference(labels, means, f)
    assert image.shape == out.shape == ref_labels.shape == (13, 9, 11)
    np.testing.assert_array_equal(out, ref_labels)
    np.testing.assert_allclose(image, ref_image, atol=1e-5)
    assert 0.0 < ((image > 1e-3) & (image < 1 - 1e-3) & (out == 0)).mean()  # mixed voxels exist
    # f = 1 is the plain generator; the deformed path keeps the coarse shape.
    plain, plain_labels = seg.synthesize(labels, 5, partial_volume=1, **off)
    np.testing.assert_array_equal(plain_labels, labels)
    deformed, deformed_labels = seg.synthesize(labels, 5, partial_volume=f)
    assert deformed.shape == deformed_labels.shape == (13, 9, 11)
    # An identity transform drawn on the coarse grid and interpolated to the fine one
    # (non-cubic, so a swapped axis would show) leaves the labels where they were.
    still = {**off, "deform": True, "max_rotation_deg": 0.0, "min_scale": 1.0, "max_scale": 1.0,
             "elastic_std_vox": 0.0}
    same, same_labels = seg.synthesize(labels, 5, partial_volume=f, **still)
    np.testing.assert_array_equal(same_labels, ref_labels)
    np.testing.assert_allclose(same, ref_image, atol=1e-5)
    with pytest.raises(sportsmed.InvalidArgument, match="partial_volume must be 1..4"):
        seg.synthesize(labels, 5, partial_volume=0)
    with pytest.raises(sportsmed.InvalidArgument, match="smaller than the partial-volume factor"):
        seg.synthesize(labels[:, :1], 5, partial_volume=f)


@pytest.mark.parametrize("k", [1, 4])
def test_background_classes_split_only_the_background_into_smooth_regions(k):
    """With every other randomness off, the image is one constant per intensity class: each
    label keeps a single value (the prior's means, up to the final linear rescale) and the
    background takes between 2 and k values in large regions for k > 1 (one value for
    k = 1); the labels are not changed."""
    labels = np.zeros((40, 36, 44), np.uint8)
    z, y, x = np.indices(labels.shape)
    labels[(z - 20) ** 2 + (y - 18) ** 2 + (x - 22) ** 2 < 8**2] = 1
    labels[z < 6] = 2
    means = [0.1, 0.8, 0.35]
    off = dict(deform=False, max_blur_sigma_vox=0.0, bias_std=0.0, gamma_std=0.0, max_noise=0.0, min_std=0.0,
               max_std=0.0, prior_means=means, prior_stds=[0.0] * 3, prior_probability=1.0, prior_mean_jitter=0.0)
    image, out = seg.synthesize(labels, 9, background_classes=k, **off)
    np.testing.assert_array_equal(out, labels)
    v1, v2 = np.unique(image[labels == 1]), np.unique(image[labels == 2])
    assert v1.size == v2.size == 1
    a = (v1[0] - v2[0]) / (means[1] - means[2])  # the rescale's slope and offset
    b = v1[0] - a * means[1]
    background, counts = np.unique(np.round(image[labels == 0], 5), return_counts=True)
    if k == 1:
        np.testing.assert_allclose(background, [a * means[0] + b], atol=1e-5)
        plain, _ = seg.synthesize(labels, 9, **off)
        np.testing.assert_array_equal(plain, image)  # k = 1 is the generator without the option
    else:
        assert 2 <= background.size <= k
        assert np.isclose(background, a * means[0] + b, atol=1e-4).any()  # region 0 keeps the prior's mean
        assert counts.min() > 0.01 * (labels == 0).sum()  # regions, not speckle
    with pytest.raises(sportsmed.InvalidArgument, match="background_classes must be 1..16"):
        seg.synthesize(labels, 9, background_classes=0)


def test_background_prior_gives_the_background_regions_the_tables_tissue_signals():
    """With background_prior_means, the extra background regions of a prior-drawn sample take
    the candidates' values of the sample's table (here two tables of two candidates each, no
    jitter: every region is one of its table's two values), region 0 keeps the prior's
    background mean, the labels keep theirs; bad lengths are refused."""
    labels = np.zeros((40, 36, 44), np.uint8)
    z, y, x = np.indices(labels.shape)
    labels[(z - 20) ** 2 + (y - 18) ** 2 + (x - 22) ** 2 < 8**2] = 1
    off = dict(deform=False, max_blur_sigma_vox=0.0, bias_std=0.0, gamma_std=0.0, max_noise=0.0, min_std=0.0,
               max_std=0.0, prior_probability=1.0, prior_mean_jitter=0.0, background_classes=6)
    tables = {"prior_means": [0.1, 0.5, 0.2, 0.6], "prior_stds": [0.0] * 4, "prior_tables": 2,
              "background_prior_means": [0.9, 0.3, 0.0, 1.0], "background_prior_stds": [0.0] * 4}
    seen = set()
    for seed in range(6):
        image, out = seg.synthesize(labels, seed, **off, **tables)
        np.testing.assert_array_equal(out, labels)
        v1 = np.unique(image[labels == 1])
        assert v1.size == 1
        background = np.unique(np.round(image[labels == 0], 5))
        # the final rescale maps [min, max] to [0, 1]: undo it with the table's known values
        for t, (bg0, label1, cands) in enumerate([(0.1, 0.5, (0.9, 0.3)), (0.2, 0.6, (0.0, 1.0))]):
            values = sorted({bg0, label1, *cands})
            lo, hi = values[0], values[-1]
            scaled = {round((v - lo) / (hi - lo), 4) for v in (bg0, *cands)}
            if np.isclose(v1[0], (label1 - lo) / (hi - lo), atol=1e-4) and \
                    all(min(abs(b - s) for s in scaled) < 1e-3 for b in background):
                seen.add(t)
                assert background.size >= 2  # regions beyond region 0 took candidate values
                break
        else:
            raise AssertionError(f"seed {seed}: background {background} not from one table's candidates")
    assert seen == {0, 1}  # both tables drawn over the seeds
    with pytest.raises(sportsmed.InvalidArgument, match="background_prior_means"):
        seg.synthesize(labels, 0, **off, **(tables | {"background_prior_stds": [0.0] * 3}))
    with pytest.raises(sportsmed.InvalidArgument, match="multiple of prior_tables"):
        seg.synthesize(labels, 0, **off, **(tables | {"background_prior_means": [0.9] * 3,
                                                      "background_prior_stds": [0.0] * 3}))


@pytest.mark.parametrize("f", [1, 3])
def test_crop_synthesises_one_whole_voxel_box_of_the_map(f):
    """A crop is a box of the map at a whole-output-voxel offset: with every other
    randomness off, the output equals the numpy reference of exactly one such box of a
    random label map; an axis no longer than the crop is kept whole; different seeds move
    the box."""
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 4, size=(14 * f, 6 * f, 12 * f)).astype(np.uint8)
    means = np.array([0.1, 0.8, 0.35, 0.6])
    off = dict(deform=False, max_blur_sigma_vox=0.0, bias_std=0.0, gamma_std=0.0, max_noise=0.0,
               prior_means=list(means), prior_stds=[0.0] * 4, prior_probability=1.0, prior_mean_jitter=0.0)
    offsets = []
    for seed in (1, 2, 3):
        image, out = seg.synthesize(labels, seed, partial_volume=f, crop=8, **off)
        assert out.shape == image.shape == (8, 6, 8)
        found = []
        for a in range(0, 14 * f - 8 * f + 1, f):
            for c in range(0, 12 * f - 8 * f + 1, f):
                ref_image, ref_labels = _block_reference(labels[a:a + 8 * f, :, c:c + 8 * f], means, f)
                if np.array_equal(out, ref_labels):
                    found.append((a, c))
                    np.testing.assert_allclose(image, ref_image, atol=1e-5)
        assert len(found) == 1
        offsets.append(found[0])
    assert len(set(offsets)) > 1
    with pytest.raises(sportsmed.InvalidArgument, match="crop must be >= 0"):
        seg.synthesize(labels, 1, crop=-1)


def _linear_resize(a, shape):
    """torch.nn.functional.interpolate(mode="(tri)linear", align_corners=False) in NumPy/SciPy:
    source coordinate (o + ½)·in/out − ½, clamped at 0, edge samples repeated."""
    from scipy.ndimage import map_coordinates

    axes = [np.maximum((np.arange(o) + 0.5) * (i / o) - 0.5, 0.0) for i, o in zip(a.shape, shape)]
    grid = np.meshgrid(*axes, indexing="ij")
    return map_coordinates(a.astype(np.float64), grid, order=1, mode="nearest")


def test_resampled_labels_are_the_argmax_of_resampled_probabilities(exported):
    """One path whatever is asked for: the image is smoothed where it is shrunk (σ = (f − 1)/2
    voxels) and resized linearly to the model's grid, the model-grid probabilities are resized
    linearly back and the labels are their argmax — the same labels with and without
    probabilities=True. Re-derived here with SciPy."""
    from scipy.ndimage import gaussian_filter1d

    model = seg.load_model(exported / "net.pt")
    rng = np.random.default_rng(5)
    image = gaussian_filter1d(rng.normal(size=(14, 20, 36)), 1.5, axis=2).astype(np.float32)
    spacing = (2.0, 1.5, 0.5)  # model at 1 mm: two axes upsampled, one shrunk by 2
    labels, _ = seg.segment(model, image, spacing_mm=spacing)
    labels_p, probs = seg.segment(model, image, spacing_mm=spacing, probabilities=True)
    np.testing.assert_array_equal(labels, labels_p)
    target = tuple(int(round(s * sp)) for s, sp in zip(image.shape, spacing))
    smoothed = gaussian_filter1d(image.astype(np.float64), sigma=0.5, axis=2, mode="nearest", truncate=4.0)
    on_model = _linear_resize(smoothed, target).astype(np.float32)
    _, model_probs = seg.segment(model, on_model, probabilities=True)
    expected = np.stack([_linear_resize(p, image.shape) for p in model_probs])
    expected /= expected.sum(0, keepdims=True)
    np.testing.assert_allclose(probs, expected, atol=2e-4)
    top2 = np.sort(expected, axis=0)[-2:]
    clear = (top2[1] - top2[0]) > 1e-3
    np.testing.assert_array_equal(labels[clear], expected.argmax(0)[clear])


@pytest.mark.parametrize("w", [0.0, 0.5, 1.0])
def test_combine_context_mixes_the_groups_mass_and_splits_it_as_the_context_does(w):
    rng = np.random.default_rng(3)
    detail = rng.dirichlet(np.ones(5), size=(4, 3, 2)).transpose(3, 0, 1, 2).astype(np.float32)
    context = rng.dirichlet(np.ones(5), size=(4, 3, 2)).transpose(3, 0, 1, 2).astype(np.float32)
    context[1:4, 0, 0, 0] = 0.0  # the context gives the group nothing here: detail's own split
    context[:, 0, 0, 0] /= context[:, 0, 0, 0].sum()
    out = seg.combine_context(detail, context, [[1, 2, 3]], mass_weight=w)
    np.testing.assert_allclose(out.sum(0), 1.0, atol=1e-5)
    mass = (1 - w) * detail[1:4].sum(0) + w * context[1:4].sum(0)
    np.testing.assert_allclose(out[1:4].sum(0), mass, rtol=1e-5, atol=1e-7)
    share = out[1:4] / np.maximum(out[1:4].sum(0), 1e-30)
    ref = context[1:4] / np.maximum(context[1:4].sum(0), 1e-30)
    ref[:, 0, 0, 0] = detail[1:4, 0, 0, 0] / detail[1:4, 0, 0, 0].sum() if w < 1 else 0.0  # w 1: no mass there
    np.testing.assert_allclose(share, ref, rtol=1e-4, atol=1e-7)
    rest = detail[[0, 4]] * (1 - mass) / (1 - detail[1:4].sum(0))  # the others in detail's proportions
    np.testing.assert_allclose(out[[0, 4]], rest, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(seg.combine_context(detail, detail, [[1, 2], [3, 4]], mass_weight=w), detail,
                               rtol=1e-5, atol=1e-7)
    with pytest.raises(sportsmed.InvalidArgument, match="shapes differ"):
        seg.combine_context(detail, context[:, :2], [[1, 2]])
    with pytest.raises(sportsmed.InvalidArgument, match="label 2 is not a foreground label"):
        seg.combine_context(detail, context, [[1, 2], [2, 3]])


def test_segment_with_a_context_model_is_the_argmax_of_the_combined_probabilities():
    names = ["background", "a", "b", "c"]
    spec = seg.unet_spec(names, (16, 16, 16), (1, 1, 1), base_features=4, levels=2, single_component_labels=[1, 2, 3])
    fine = seg.create_model(spec, seed=1)
    coarse = seg.create_model(seg.unet_spec(names, (16, 16, 16), (2, 2, 2), base_features=4, levels=2,
                                            context_groups=[[1, 2, 3]]), seed=2)
    assert seg.model_spec(coarse)["context_groups"] == [[1, 2, 3]]
    image = np.random.default_rng(0).normal(size=(20, 24, 18)).astype(np.float32)
    _, p_fine = seg.segment(fine, image, probabilities=True, spacing_mm=(1, 1, 1))
    _, p_coarse = seg.segment(coarse, image, probabilities=True, spacing_mm=(1, 1, 1))
    combined = seg.combine_context(p_fine, p_coarse, [[1, 2, 3]])  # the default weight 0.5
    labels, probs = seg.segment(fine, image, probabilities=True, spacing_mm=(1, 1, 1), context_model=coarse)
    np.testing.assert_allclose(probs, combined, atol=1e-6)
    np.testing.assert_array_equal(labels, np.argmax(combined, 0))
    assert (labels != np.argmax(p_fine, 0)).any()  # the context changed which of a, b, c
    kept, none = seg.segment(fine, image, spacing_mm=(1, 1, 1), context_model=coarse, keep_largest_component="model")
    assert none is None
    from sportsmed import imaging
    np.testing.assert_array_equal(kept, imaging.keep_largest_component_per_label(labels, 26, [1, 2, 3]))
    w0 = seg.segment(fine, image, spacing_mm=(1, 1, 1), context_model=coarse, context_mass_weight=0.0)[0]
    np.testing.assert_array_equal(w0, np.argmax(seg.combine_context(p_fine, p_coarse, [[1, 2, 3]], 0.0), 0))
    # the model as its own context changes nothing
    same = seg.segment(fine, image, spacing_mm=(1, 1, 1), context_model=fine, context_groups=[[1, 2, 3]])[0]
    np.testing.assert_array_equal(same, seg.segment(fine, image, spacing_mm=(1, 1, 1))[0])
    with pytest.raises(sportsmed.InvalidArgument, match="names no context_groups"):
        seg.segment(fine, image, context_model=fine)
    # no spacing and no geometry: the image is on the (fine) model's grid, as without a context model
    np.testing.assert_array_equal(seg.segment(fine, image, context_model=coarse)[0], labels)
    # both models resampled (an anisotropic grid): the labels are those of the returned
    # probabilities, which are the combination of the two models' own (one path, with or without
    # probabilities), and they sum to 1
    aniso = np.array([0.7, 1.3, 1.1])  # any sequence, an array too
    l1, p1 = seg.segment(fine, image, probabilities=True, spacing_mm=aniso, context_model=coarse)
    l0, none = seg.segment(fine, image, spacing_mm=aniso, context_model=coarse)
    assert none is None
    np.testing.assert_array_equal(l0, l1)
    np.testing.assert_array_equal(l1, np.argmax(p1, 0))
    np.testing.assert_allclose(p1.sum(0), 1.0, atol=1e-5)
    pf = seg.segment(fine, image, probabilities=True, spacing_mm=aniso)[1]
    pc = seg.segment(coarse, image, probabilities=True, spacing_mm=aniso)[1]
    np.testing.assert_allclose(p1, seg.combine_context(pf, pc, [[1, 2, 3]]), atol=1e-5)
    with pytest.raises(sportsmed.InvalidArgument, match="without a context_model"):
        seg.segment(fine, image, context_groups=[[1, 2]])
    with pytest.raises(sportsmed.InvalidArgument, match="batch_size must be >= 0"):  # checked for a cascade too
        seg.segment(fine, image, context_model=coarse, batch_size=-1)
    with pytest.raises(sportsmed.InvalidArgument, match="context group needs two or more labels"):
        seg.segment(fine, image, context_model=coarse, context_groups=[[1]])
    other = seg.create_model(seg.unet_spec(["background", "x", "y", "z"], (16, 16, 16), base_features=4, levels=2,
                                           context_groups=[[1, 2]]))
    with pytest.raises(sportsmed.InvalidArgument, match="labels .* differ"):
        seg.segment(fine, image, context_model=other)


def _detached_reference(labels: np.ndarray, rows) -> np.ndarray:
    """remove_detached_components by scipy: 26-connected pieces, 3×3×3 dilation of the supports."""
    from scipy import ndimage

    out = labels.copy()
    cube = np.ones((3, 3, 3), bool)
    for label, *supports in rows:
        pieces, n = ndimage.label(out == label, cube)
        near = ndimage.binary_dilation(np.isin(out, supports), cube)
        touching = np.unique(pieces[near & (pieces > 0)])
        out[(pieces > 0) & ~np.isin(pieces, touching)] = 0
    return out


def test_attached_labels_remove_the_pieces_off_their_supports():
    from sportsmed import imaging

    rng = np.random.default_rng(3)
    labels = (rng.random((30, 26, 22)) < 0.5).astype(np.uint8)  # label 1: noise of many pieces
    labels[rng.random(labels.shape) < 0.08] = 2
    labels[rng.random(labels.shape) < 0.04] = 3
    rows = [[3, 2], [2, 1]]
    got = imaging.remove_detached_components(labels, rows)
    np.testing.assert_array_equal(got, _detached_reference(labels, rows))
    # any storage order: permuted and flipped axes give the permuted and flipped result
    moved = np.ascontiguousarray(np.transpose(labels, (2, 0, 1))[::-1, :, ::-1])
    np.testing.assert_array_equal(imaging.remove_detached_components(moved, rows),
                                  np.transpose(got, (2, 0, 1))[::-1, :, ::-1])
    assert (got != labels).any() and (got == 0).sum() > (labels == 0).sum()

    names = ["background", "a", "b", "c"]
    spec = seg.unet_spec(names, (16, 16, 16), (1, 1, 1), base_features=4, levels=2, single_component_labels=[1],
                         attached_labels=[[2, 1], [3, 1, 2]])
    assert seg.model_spec(seg.create_model(spec))["attached_labels"] == [[2, 1], [3, 1, 2]]
    model = seg.create_model(spec, seed=4)
    image = rng.normal(size=(24, 20, 18)).astype(np.float32)
    plain = seg.segment(model, image)[0]
    kept = imaging.keep_largest_component_per_label(plain, 26, [1])
    want = _detached_reference(kept, [[2, 1], [3, 1, 2]])
    assert (want != kept).any()  # the random network's output has detached pieces to remove
    np.testing.assert_array_equal(seg.segment(model, image, keep_largest_component="model")[0], want)
    # the sidecar's rows apply only with "model"
    np.testing.assert_array_equal(seg.segment(model, image, keep_largest_component=[1])[0], kept)
    bad = dict(spec, attached_labels=[[2, 2]])
    with pytest.raises(sportsmed.FormatError, match="attached_labels row"):
        seg.create_model(bad)


def test_spacing_may_be_any_sequence():
    """spacing_mm as a numpy array (a geometry's ``spacing``) is taken as the same list (it
    raised 'truth value of an array is ambiguous' before session 15)."""
    m = seg.create_model(seg.unet_spec(["background", "a"], (16, 16, 16), (1, 1, 1), base_features=4, levels=2),
                         seed=2)
    image = np.random.default_rng(1).normal(size=(20, 18, 22)).astype(np.float32)
    want = seg.segment(m, image, spacing_mm=(1.0, 2.0, 0.5))[0]
    np.testing.assert_array_equal(seg.segment(m, image, spacing_mm=np.array([1.0, 2.0, 0.5]))[0], want)
    np.testing.assert_array_equal(seg.segment(m, image, spacing_mm=[])[0], seg.segment(m, image)[0])
