"""Segmentation against PyTorch: sliding-window inference of one TorchScript model on a
384×384×160 knee-sized volume vs a Python implementation of MONAI's algorithm (Gaussian
mode, same overlap, full-volume float32 accumulation), and one U-Net training step vs
the same network written in Python PyTorch. Both sides use Debian's LibTorch 1.13."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import sportsmed
from harness import Case, MemoryCase

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from reference_sliding_window import sliding_window, zscore  # noqa: E402

from sportsmed import seg  # noqa: E402

SHAPE = (160, 384, 384)
PATCH = [64, 64, 64]
CLASSES = 8
_TMP = Path(tempfile.mkdtemp(prefix="sportsmed-bench-seg-"))


class LightNet(torch.nn.Module):
    """A small fully convolutional network: inference cost is then dominated by the
    window loop and accumulation, which is what the two implementations differ in."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Conv3d(1, 8, 3, padding=1)
        self.b = torch.nn.Conv3d(8, CLASSES, 1)

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


def _scripted():
    path = _TMP / "light.pt"
    if not path.exists():
        torch.manual_seed(0)
        torch.jit.script(LightNet().eval()).save(str(path))
        (_TMP / "light.json").write_text(json.dumps(seg.torchscript_sidecar(
            [f"c{i}" for i in range(CLASSES)], PATCH, (0.36, 0.36, 0.7))))
    return path


def _inference_setup():
    path = _scripted()
    rng = np.random.default_rng(0)
    image = rng.normal(100, 20, size=SHAPE).astype(np.float32)
    return seg.load_model(path), torch.jit.load(str(path)).eval(), image


def _ours(data):
    model, _, image = data
    labels, _ = seg.segment(model, image, step_fraction=0.5, batch_size=4)
    return labels


def _theirs(data):
    _, net, image = data
    logits = sliding_window(net, zscore(torch.from_numpy(image)[None]), PATCH, overlap=0.5)
    return logits.argmax(0).to(torch.uint8).numpy()


def _agree(ours, theirs):
    # Equal logits to ~1e-5 give equal argmax except on exact near-ties.
    assert np.mean(ours != theirs) < 1e-5, np.mean(ours != theirs)


# ---- one training step ----------------------------------------------------------------

class TorchUNet(torch.nn.Module):
    """The built-in U-Net's architecture (levels 4, base 16, 2 convs per stage)."""

    def __init__(self, base=16, levels=4, classes=CLASSES):
        super().__init__()
        f = [base << i for i in range(levels)]

        def stage(cin, cout, stride):
            return torch.nn.Sequential(
                torch.nn.Conv3d(cin, cout, 3, stride, 1), torch.nn.InstanceNorm3d(cout, affine=True),
                torch.nn.LeakyReLU(0.01, inplace=True),
                torch.nn.Conv3d(cout, cout, 3, 1, 1), torch.nn.InstanceNorm3d(cout, affine=True),
                torch.nn.LeakyReLU(0.01, inplace=True))

        self.enc = torch.nn.ModuleList([stage(1 if i == 0 else f[i - 1], f[i], 1 if i == 0 else 2)
                                        for i in range(levels)])
        self.up = torch.nn.ModuleList([torch.nn.ConvTranspose3d(f[i + 1], f[i], 2, 2) for i in reversed(range(levels - 1))])
        self.dec = torch.nn.ModuleList([stage(2 * f[i], f[i], 1) for i in reversed(range(levels - 1))])
        self.head = torch.nn.Conv3d(f[0], classes, 1)

    def forward(self, x):
        skips = []
        for e in self.enc:
            x = e(x)
            skips.append(x)
        for i, (u, d) in enumerate(zip(self.up, self.dec)):
            x = d(torch.cat([u(x), skips[-2 - i]], 1))
        return self.head(x)


def _dice_ce(logits, target):
    probs = torch.softmax(logits, 1)
    onehot = torch.nn.functional.one_hot(target, CLASSES).permute(0, 4, 1, 2, 3).float()
    dims = (2, 3, 4)
    dice = 1 - (2 * (probs * onehot).sum(dims) + 1e-5) / (probs.sum(dims) + onehot.sum(dims) + 1e-5)
    return dice.mean() + torch.nn.functional.cross_entropy(logits, target)


STEPS = 3


def _train_setup():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, CLASSES, size=(64, 64, 64)).astype(np.uint8)
    image = (labels + rng.normal(0, 0.3, labels.shape)).astype(np.float32)
    return image, labels


def _train_ours(data):
    image, labels = data
    model = seg.create_model(seg.unet_spec([f"c{i}" for i in range(CLASSES)], PATCH), seed=0)
    t0 = time.perf_counter()
    seg.train(model, [image], [labels], epochs=1, iterations_per_epoch=STEPS, batch_size=2, augment=False)
    return (time.perf_counter() - t0) / STEPS


def _train_theirs(data):
    image, labels = data
    torch.manual_seed(0)
    net = TorchUNet().train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
    x = torch.from_numpy((image - image.mean()) / image.std())[None, None].repeat(2, 1, 1, 1, 1)
    y = torch.from_numpy(labels.astype(np.int64))[None].repeat(2, 1, 1, 1)
    t0 = time.perf_counter()
    for _ in range(STEPS):
        loss = _dice_ce(net(x), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 12.0)
        opt.step()
    return (time.perf_counter() - t0) / STEPS


def _same_order(ours, theirs):
    assert ours > 0 and theirs > 0


CASES = [
    Case("sliding-window inference, TorchScript net, 160×384×384, 64³ windows, 50 % overlap",
         f"Python MONAI-algorithm loop, torch {torch.__version__}", _inference_setup, _ours, _theirs, _agree,
         threads=2, repeat=1),
    Case("U-Net training step (levels 4, base 16, batch 2 × 64³, AdamW), per step",
         f"same network in PyTorch {torch.__version__}", _train_setup, _train_ours, _train_theirs, _same_order,
         threads=2, repeat=1, reported=True),
]

_MEM_SETUP = f"""
import sys, numpy as np, torch
sys.path.insert(0, {str(Path(__file__).resolve().parents[1] / 'tests' / 'python')!r})
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
import bench_seg as b
model, net, image = b._inference_setup()
"""

MEMORY = [
    MemoryCase("peak memory of the inference above (RSS increase)",
               "Python MONAI-algorithm loop (full float32 buffer)",
               setup=_MEM_SETUP, ours="b._ours((model, net, image))", theirs="b._theirs((model, net, image))"),
]
