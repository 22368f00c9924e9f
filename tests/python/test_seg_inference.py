"""Issue 15, inference: the optimised TorchScript path equals PyTorch (and real MONAI when its
source is at hand), clinical inputs (thick sagittal slices, any storage order) come back on
their own grid in the right place, and roi= segments a box around the knee."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import sportsmed

if not {"seg", "imaging"} <= set(sportsmed.available_pillars()):
    pytest.skip("needs the seg and imaging pillars", allow_module_level=True)

from sportsmed import imaging, seg  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "benchmarks"))

# A small U-Net with everything the CPU rewrite touches: a 1-channel first convolution,
# instance norm + leaky ReLU, a stride-2 convolution, a 2×2×2 stride-2 transposed
# convolution with bias (rewritten as 1×1 + interleave), a skip concatenation, a biasless
# transposed convolution (rewritten too) and a 1×1 head; plus a transposed convolution the
# rewrite must leave alone (kernel 3, padding 1, output padding 1, as MONAI's UNet).
EXPORT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import torch
    sys.path.insert(0, {here!r})
    from reference_sliding_window import sliding_window, zscore

    torch.manual_seed(3)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Conv3d(1, 6, 3, padding=1)
            self.n = torch.nn.InstanceNorm3d(6, affine=True)
            self.down = torch.nn.Conv3d(6, 8, 3, stride=2, padding=1)
            self.up = torch.nn.ConvTranspose3d(8, 6, 2, stride=2)
            self.up_nobias = torch.nn.ConvTranspose3d(8, 6, 2, stride=2, bias=False)
            self.up_other = torch.nn.ConvTranspose3d(8, 6, 3, stride=2, padding=1, output_padding=1)
            self.head = torch.nn.Conv3d(24, 3, 1)

        def forward(self, x):
            s = torch.nn.functional.leaky_relu(self.n(self.a(x)), 0.01)
            d = torch.relu(self.down(s))
            return self.head(torch.cat([self.up(d), self.up_nobias(d), self.up_other(d), s], 1))

    out = {out!r}
    net = torch.jit.script(Net().eval())
    net.save(out + "/unet.pt")
    json.dump({{"format": "sportsmed-seg", "version": 1, "architecture": "torchscript", "in_channels": 1,
               "labels": ["background", "a", "b"], "patch_size": [8, 8, 8], "spacing_mm": [1, 1, 1],
               "normalization": "zscore"}}, open(out + "/unet.json", "w"))
    image = np.random.default_rng(4).normal(3.0, 2.0, size=(19, 13, 17)).astype(np.float32)
    np.save(out + "/image.npy", image)
    with torch.no_grad():
        logits = sliding_window(net, zscore(torch.from_numpy(image)[None]), [8, 8, 8], overlap=0.5)
    np.save(out + "/probs.npy", torch.softmax(logits, 0).numpy())
""")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("torchscript_unet")
    script = out / "export.py"
    script.write_text(EXPORT.format(here=str(HERE), out=str(out)))
    subprocess.run(["/usr/bin/python3", str(script)], check=True, timeout=300)
    return out


def test_optimised_torchscript_equals_pytorch(exported):
    """The frozen, rewritten network (transposed convolutions as 1×1 + interleave, every
    convolution on oneDNN) gives PyTorch's sliding-window probabilities, whatever the batch
    (batches of 2 and 3 cross slab boundaries; a last lone window joins the batch before)."""
    model = seg.load_model(exported / "unet.pt")
    image = np.load(exported / "image.npy")
    ref = np.load(exported / "probs.npy")
    for batch in (0, 1, 2, 3):
        for low_memory in (True, False):
            labels, probs = seg.segment(model, image, probabilities=True, batch_size=batch, low_memory=low_memory)
            np.testing.assert_allclose(probs, ref, atol=1e-5)
            np.testing.assert_array_equal(labels, ref.argmax(0))
    with pytest.raises(sportsmed.InvalidArgument, match="batch_size"):
        seg.segment(model, image, batch_size=-1)


def test_equals_real_monai_sliding_window_inference(exported):
    """Against MONAI's own sliding_window_inference (source from $SPORTSMED_MONAI_SRC or
    /tmp/monai; skipped without it): same roi, overlap, Gaussian σ = 0.125·roi."""
    from bench_seg import monai_source

    src = monai_source()
    if src is None:
        pytest.skip("MONAI's source not found (SPORTSMED_MONAI_SRC or /tmp/monai)")
    code = textwrap.dedent(f"""
        import sys, numpy as np, torch
        sys.path.insert(0, {str(src)!r}); sys.path.insert(0, {str(HERE)!r})
        from monai.inferers import sliding_window_inference
        from reference_sliding_window import zscore
        net = torch.jit.load({str(exported / 'unet.pt')!r}).eval()
        image = np.load({str(exported / 'image.npy')!r})
        x = zscore(torch.from_numpy(image)[None])[None]
        with torch.no_grad():
            out = sliding_window_inference(x, [8, 8, 8], 2, net, overlap=0.5, mode="gaussian", sigma_scale=0.125)
        np.save({str(exported / 'monai.npy')!r}, torch.softmax(out[0], 0).numpy())
    """)
    subprocess.run(["/usr/bin/python3", "-c", code], check=True, timeout=600)
    _, probs = seg.segment(seg.load_model(exported / "unet.pt"), np.load(exported / "image.npy"), probabilities=True)
    np.testing.assert_allclose(probs, np.load(exported / "monai.npy"), atol=1e-5)


# ---- roi= -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def threshold(tmp_path_factory):
    """A TorchScript 1×1 convolution: label 1 wherever the intensity is > 0 (normalization none)."""
    out = tmp_path_factory.mktemp("threshold")
    code = textwrap.dedent(f"""
        import json, torch
        conv = torch.nn.Conv3d(1, 2, 1)
        with torch.no_grad():
            conv.weight[:] = torch.tensor([-1.0, 1.0]).reshape(2, 1, 1, 1, 1)
            conv.bias.zero_()
        torch.jit.script(conv).save({str(out / 'm.pt')!r})
        json.dump({{"format": "sportsmed-seg", "version": 1, "architecture": "torchscript", "in_channels": 1,
                   "labels": ["background", "bright"], "patch_size": [8, 8, 8], "spacing_mm": [1, 1, 1],
                   "normalization": "none"}}, open({str(out / 'm.json')!r}, "w"))
    """)
    subprocess.run(["/usr/bin/python3", "-c", code], check=True, timeout=300)
    return seg.load_model(out / "m.pt")


def test_roi_auto_boxes_the_largest_structure_with_its_margin(threshold):
    image = -np.ones((60, 50, 40), np.float32)
    image[20:45, 10:30, 5:25] = 1.0   # the "knee": 25×20×20 voxels of 2 mm³ = 20 cm³
    image[2:4, 45:47, 36:38] = 1.0    # a stray speck the first pass also labels
    spacing = (1.0, 2.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = seg.segment(threshold, image, spacing_mm=spacing, roi="auto", roi_margin_mm=6.0,
                             probabilities=True)
    labels, probs = result
    r = result.roi
    assert r["found"] and r["mode"] == "auto"
    # bounding box [20, 45) × [10, 30) × [5, 25) grown by 6 mm = 6, 3, 6 voxels, clipped
    assert r["lo"] == [14, 7, 0] and r["hi"] == [51, 33, 31]
    assert r["knee_mm3"] == pytest.approx(25 * 20 * 20 * 2.0)
    assert r["fraction"] == pytest.approx(37 * 26 * 31 / (60 * 50 * 40), abs=1e-4)
    inside = np.zeros(image.shape, bool)
    inside[14:51, 7:33, 0:31] = True
    np.testing.assert_array_equal(labels, ((image > 0) & inside).astype(np.uint8))  # the speck is outside
    np.testing.assert_array_equal(probs[0][~inside], 1.0)
    np.testing.assert_allclose(probs.sum(0), 1.0, atol=1e-6)


def test_roi_auto_without_a_knee_segments_everything_and_warns(threshold):
    image = -np.ones((30, 30, 30), np.float32)
    image[3:6, 3:6, 3:6] = 1.0  # 27 mm³: below ROI_MIN_KNEE_MM3
    with pytest.warns(seg.RoiWarning, match="found no knee"):
        result = seg.segment(threshold, image, roi="auto")
    assert not result.roi["found"] and result.roi["fraction"] == 1.0
    np.testing.assert_array_equal(result.labels, (image > 0).astype(np.uint8))  # never silently empty


def test_explicit_roi_box_on_the_input_axes(threshold):
    image = np.where(np.indices((20, 16, 12)).sum(0) % 3 == 0, 1.0, -1.0).astype(np.float32)
    g = imaging.Geometry([20, 16, 12], [1.0, 1.0, 1.0])
    g2 = imaging.Geometry([20, 16, 12], [1.0, 1.0, 1.0], [0, 0, 0], np.diag([-1.0, 1.0, -1.0]))  # RPI storage
    for geometry in (None, g, g2):
        result = seg.segment(threshold, image, roi=([2, 3, 4], [15, 16, 10]), geometry=geometry)
        expected = np.zeros(image.shape, np.uint8)
        expected[2:15, 3:16, 4:10] = (image[2:15, 3:16, 4:10] > 0)
        np.testing.assert_array_equal(result.labels, expected)
        assert result.roi["lo"] == [2, 3, 4] and result.roi["hi"] == [15, 16, 10]
    for geometry in (None, g, g2):  # a box beyond the image is refused, never clipped
        with pytest.raises(sportsmed.InvalidArgument, match="not a non-empty box inside the image"):
            seg.segment(threshold, image, roi=([0, 0, 0], [21, 5, 5]), geometry=geometry)
        with pytest.raises(sportsmed.InvalidArgument, match="not a non-empty box inside the image"):
            seg.segment(threshold, image, roi=([-1, 0, 0], [5, 5, 5]), geometry=geometry)
    with pytest.raises(sportsmed.InvalidArgument, match="roi"):
        seg.segment(threshold, image, roi="knee")


# ---- clinical inputs with the shipped model ------------------------------------------------

@pytest.fixture(scope="module")
def model():
    return seg.load_model(seg.default_model_path())


@pytest.fixture(scope="module")
def thick_sagittal(model):
    """The phantom (shape 1003, unseen in training) acquired as 3.5 mm sagittal slices of
    0.5 × 0.5 mm: the 0.5 mm phantom averaged over 7 slices along L-R (partial volume, as an
    acquisition), its labels resampled label-aware onto that grid as the reference."""
    fine = imaging.make_knee_phantom(spacing_mm=(0.5, 0.5, 0.5), extent_mm=(84.0, 84.0, 84.0), seed=11, shape=1003)
    img = np.asarray(fine["image"], np.float32)
    n = img.shape[0] // 7 * 7
    thick = img[:n].reshape(n // 7, 7, *img.shape[1:]).mean(1).astype(np.float32)
    g = fine["geometry"]
    corner = np.asarray(g.to_world(-0.5 * np.ones((1, 3))), float).ravel()
    spacing = np.array([3.5, 0.5, 0.5])
    geom = imaging.Geometry(list(thick.shape), spacing, corner + np.asarray(g.direction) @ (0.5 * spacing),
                            g.direction)
    truth = seg.remap_pymskt(imaging.resample_labels(fine["labels"], g, geom))
    return thick, geom, truth, fine


def test_thick_sagittal_slices_segment_on_their_own_grid(model, thick_sagittal):
    thick, geom, truth, fine = thick_sagittal
    labels, _ = seg.segment(model, thick, geometry=geom)
    assert labels.shape == thick.shape
    dice = seg.dice_per_class(labels, truth, len(seg.KNEE_LABELS))
    # The same knee at the model's own 1 mm, segmented in the canonical orientation and
    # brought onto the thick grid label-aware: the thick-slice result is about as good.
    iso = imaging.make_knee_phantom(spacing_mm=(1.0, 1.0, 1.0), extent_mm=(84.0, 84.0, 84.0), seed=11, shape=1003)
    ref, _ = seg.segment(model, np.asarray(iso["image"], np.float32), geometry=iso["geometry"])
    ref_on_thick = imaging.resample_labels(ref, iso["geometry"], geom)
    dice_ref = seg.dice_per_class(ref_on_thick, truth, len(seg.KNEE_LABELS))
    for k in (1, 2, 3):  # bones: in the right place on the input grid
        assert dice[k] > 0.85, (k, dice)
        assert dice[k] > dice_ref[k] - 0.06, (k, dice, dice_ref)


@pytest.mark.parametrize("perm, flips", [((2, 0, 1), (1, -1, 1)), ((1, 2, 0), (-1, 1, -1))])
def test_thick_slices_in_any_storage_order_give_the_same_labels(model, thick_sagittal, perm, flips):
    from test_seg_orientation import stored_as

    thick, geom, _, _ = thick_sagittal
    ref, _ = seg.segment(model, thick, geometry=geom)
    image, g2 = stored_as(thick, geom, perm, flips)
    labels, _ = seg.segment(model, image, geometry=g2)
    assert labels.shape == image.shape
    # stored back in the reference order, voxel for voxel the same (reorientation is exact)
    back, bgeom = imaging.reorient(labels, g2, imaging.orientation_code(geom))
    assert bgeom.same_grid(geom, 1e-6)
    np.testing.assert_array_equal(back, ref)


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason="today's shipped model paints soft tissue far from the knee as bone at this "
                   "field of view (issue 15: femur Dice 0.11 here), so its first pass finds 'knee' everywhere and the "
                   "box is the whole volume; expected to pass with the retrained model")
def test_roi_auto_on_a_large_field_of_view(model):
    """A 160 mm field of view (the knee in the middle, tibial shaft and fibula to the edge):
    the box holds the whole knee, covers a fraction of the volume, and the labels inside
    match the whole-volume segmentation's as well as the truth."""
    anatomy = imaging.knee_shape(1003)
    anatomy["tibia_shaft_radius"] = 0.5 * anatomy["tibia_ay"]
    ph = imaging.make_knee_phantom(spacing_mm=(1.0, 1.0, 1.0), extent_mm=(160.0,) * 3, seed=11, shape=anatomy)
    image, geom = np.asarray(ph["image"], np.float32), ph["geometry"]
    truth = seg.remap_pymskt(ph["labels"])
    result = seg.segment(model, image, geometry=geom, roi="auto")
    r = result.roi
    assert r["found"] and r["fraction"] < 0.6
    lo, hi = imaging.bounding_box((np.isin(truth, [4, 5, 6, 7])).astype(np.uint8))  # cartilage and menisci
    assert all(a >= b for a, b in zip(lo, r["lo"])) and all(a < b for a, b in zip(hi, r["hi"]))
    d = seg.dice_per_class(result.labels, truth, len(seg.KNEE_LABELS))
    assert d[1] > 0.9 and d[4] > 0.7, d


def test_roi_auto_with_the_shipped_pair_finds_the_knee(model):
    """With a context model the first pass is the context model's (its 144 mm window sees the
    joint): on a 160 mm field of view the box holds every cartilage and meniscus voxel, covers
    about half the volume, and the pair segments better inside it than over the whole volume
    (the fine model's false bone and cartilage far from the knee are outside). Measured: box
    0.498 of the volume; femur 0.62 -> 0.82, femoral cartilage 0.09 -> 0.23, tibial 0.45 -> 0.68
    (scripts/measure_seg_roi.py phantom --context)."""
    context = seg.load_model(seg.default_context_model_path())
    anatomy = imaging.knee_shape(1003)
    anatomy["tibia_shaft_radius"] = 0.5 * anatomy["tibia_ay"]
    ph = imaging.make_knee_phantom(spacing_mm=(1.0, 1.0, 1.0), extent_mm=(160.0,) * 3, seed=11, shape=anatomy)
    image, geom = np.asarray(ph["image"], np.float32), ph["geometry"]
    truth = seg.remap_pymskt(ph["labels"])
    result = seg.segment(model, image, geometry=geom, roi="auto", context_model=context)
    r = result.roi
    assert r["found"] and 0.3 < r["fraction"] < 0.6, r
    lo, hi = imaging.bounding_box((np.isin(truth, [4, 5, 6, 7])).astype(np.uint8))  # cartilage and menisci
    assert all(a >= b for a, b in zip(lo, r["lo"])) and all(a < b for a, b in zip(hi, r["hi"]))
    whole = seg.segment(model, image, geometry=geom, context_model=context).labels
    d_roi = seg.dice_per_class(result.labels, truth, len(seg.KNEE_LABELS))
    d_whole = seg.dice_per_class(whole, truth, len(seg.KNEE_LABELS))
    for k in (1, 4, 5):  # femur, femoral and tibial cartilage
        assert d_roi[k] > d_whole[k] + 0.05, (seg.KNEE_LABELS[k], d_roi, d_whole)


def test_mirroring_follows_the_models_mirror_axes():
    """segment(mirror=True) averages over the flips along the sidecar's mirror_axes only: a
    model mirrored left-right (axis 0) gives the mirror image of its result for an image
    flipped along axis 0, not along axis 2; a model naming none (every axis) for both; a
    model trained with flips along axis 0 records them, and flip axes outside the spatial
    axes are refused."""
    rng = np.random.default_rng(3)
    img = rng.standard_normal((16, 16, 16)).astype(np.float32)
    for axes, equivariant in (([0], (0,)), (None, (0, 1, 2))):
        m = seg.create_model(seg.unet_spec(["bg", "a", "b"], (16, 16, 16), (1, 1, 1), base_features=4, levels=2,
                                           mirror_axes=axes), seed=1)
        assert seg.model_spec(m).get("mirror_axes") == axes
        ref = seg.segment(m, img, mirror=True, probabilities=True).probabilities
        for axis in (0, 2):
            flipped = seg.segment(m, np.flip(img, axis).copy(), mirror=True, probabilities=True).probabilities
            close = np.allclose(np.flip(flipped, axis + 1), ref, atol=1e-5)
            assert close == (axis in equivariant), (axes, axis)
    m = seg.create_model(seg.unet_spec(["bg", "a"], (8, 8, 8), (1, 1, 1), base_features=4, levels=2), seed=1)
    lab = (img[:8, :8, :8] > 0).astype(np.uint8)
    seg.train(m, [img[:8, :8, :8]], [lab], epochs=1, iterations_per_epoch=1, batch_size=1, flip_axes=[0])
    with pytest.raises(sportsmed.InvalidArgument, match="flip_axes has 3"):
        seg.train(m, [img[:8, :8, :8]], [lab], epochs=1, iterations_per_epoch=1, batch_size=1, flip_axes=[3])
