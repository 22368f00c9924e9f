"""Stubs of sportsmed._torch.motion (use sportsmed.motion.anomaly: fit_baseline(scorer="ae"))."""

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

AUTOENCODER_FORMAT_VERSION: int

class CycleAutoencoder:
    fitted: bool
    history: list[float]
    channel_mean: F64
    channel_sd: F64
    channels: int
    points: int
    seed: int
    def __init__(self, channels: int, points: int = 101, filters: int = 16, latent: int = 8, kernel_size: int = 5,
                 learning_rate: float = 3e-3, batch_size: int = 32, seed: int = 0) -> None: ...
    def fit(self, x: npt.ArrayLike, epochs: int, learning_rate: float = 0.0, normalise: bool = True) -> "CycleAutoencoder": ...
    def reconstruct(self, x: npt.ArrayLike) -> F64: ...
    def score(self, x: npt.ArrayLike) -> F64: ...
    def error_map(self, x: npt.ArrayLike) -> F64: ...
    def clone(self) -> "CycleAutoencoder": ...
    def save(self, path: str) -> None: ...
    @staticmethod
    def load(path: str) -> "CycleAutoencoder": ...
