"""An independent Python implementation of MONAI's sliding-window inference (Gaussian
mode), used as the reference in tests and as the peer in benchmarks.

Follows monai.inferers.sliding_window_inference: windows at multiples of
int(roi × (1 − overlap)) with the last clamped to the end, each window's output
multiplied by a Gaussian importance map (σ = 0.125 × roi, maximum 1, zeros raised to
the smallest positive value) and accumulated in a full-volume float32 buffer together
with the sum of weights, then divided. The importance map is sampled (exp of the
squared distance), as sportsmed documents, rather than MONAI's erf-integrated kernel.
"""

from __future__ import annotations

import math

import torch


def window_starts(size: int, roi: int, overlap: float) -> list[int]:
    if size <= roi:
        return [0]
    interval = max(1, int(roi * (1 - overlap)))
    n = math.ceil((size - roi) / interval) + 1
    starts = []
    for i in range(n):
        s = min(i * interval, size - roi)
        if not starts or s != starts[-1]:
            starts.append(s)
    return starts


def importance_map(roi: list[int], sigma_scale: float = 0.125) -> torch.Tensor:
    # MONAI 1.x compute_importance_map(mode="gaussian"): centred at (r - 1) / 2, sigma =
    # sigma_scale * r, not normalised, floored at max(smallest weight, 1e-3).
    grids = torch.meshgrid(*[torch.arange(r, dtype=torch.float64) - (r - 1) / 2.0 for r in roi], indexing="ij")
    exponent = sum(g ** 2 / (2 * (sigma_scale * r) ** 2) for g, r in zip(grids, roi))
    m = torch.exp(-exponent)
    m = torch.clamp(m, min=max(m.min().item(), 1e-3))
    return m.float()


def zscore(image: torch.Tensor) -> torch.Tensor:
    """Per-channel z-score with the population standard deviation."""
    out = image.clone().float()
    for c in range(out.shape[0]):
        sd = out[c].std(unbiased=False)
        out[c] = (out[c] - out[c].mean()) / (sd if sd > 0 else 1.0)
    return out


@torch.no_grad()
def sliding_window(net, image: torch.Tensor, roi: list[int], overlap: float = 0.5) -> torch.Tensor:
    """image: (C, *spatial), already normalised. Returns averaged logits (K, *spatial)."""
    spatial = list(image.shape[1:])
    pad_before = [max(0, r - s) // 2 for s, r in zip(spatial, roi)]
    padded = [max(s, r) for s, r in zip(spatial, roi)]
    if padded != spatial:
        pads = []
        for d in reversed(range(len(spatial))):
            pads += [pad_before[d], padded[d] - spatial[d] - pad_before[d]]
        image = torch.nn.functional.pad(image, pads)
    weight = importance_map(roi)
    starts = [window_starts(s, r, overlap) for s, r in zip(padded, roi)]
    out, count = None, torch.zeros(padded)
    for corner in torch.cartesian_prod(*[torch.tensor(s) for s in starts]).reshape(-1, len(roi)).tolist():
        region = tuple(slice(c, c + r) for c, r in zip(corner, roi))
        logits = net(image[(slice(None),) + region][None])[0].float()
        if out is None:
            out = torch.zeros([logits.shape[0]] + padded)
        out[(slice(None),) + region] += logits * weight
        count[region] += weight
    out = out / count
    crop = tuple(slice(b, b + s) for b, s in zip(pad_before, spatial))
    return out[(slice(None),) + crop]
