"""Stubs of sportsmed._torch.risk (use the sportsmed.risk package)."""

from typing import Optional, TypedDict
import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

class NeuralParameterDict(TypedDict):
    name: str
    shape: list[int]
    values: F64

class NeuralRiskModel:
    n_inputs: int
    history: list[float]
    best_epoch: int
    fitted: bool
    architecture: str
    window_days: int
    def __init__(self, architecture: str = "mlp", hidden: list[int] = ..., window_days: int = 14,
                 channels: int = 16, kernel_size: int = 3, learning_rate: float = 3e-3,
                 weight_decay: float = 1e-4, batch_size: int = 512, max_epochs: int = 200, patience: int = 10,
                 validation_fraction: float = 0.2, pos_weight: float = 1.0, seed: int = 0,
                 device: str = "cpu") -> None: ...
    def fit(self, x: npt.ArrayLike, y: npt.ArrayLike, groups: npt.ArrayLike = ...) -> "NeuralRiskModel": ...
    def decision_function(self, x: npt.ArrayLike) -> F64: ...
    def predict_proba(self, x: npt.ArrayLike) -> F64: ...
    def integrated_gradients(self, x: npt.ArrayLike, baseline: npt.ArrayLike = ..., steps: int = 32) -> F64: ...
    def contributions(self, x: npt.ArrayLike) -> F64: ...
    def parameters(self) -> list[NeuralParameterDict]: ...
    def set_parameters(self, n_inputs: int, params: list[NeuralParameterDict]) -> None: ...
    def save(self, path: str) -> None: ...
    @staticmethod
    def load(path: str, device: str = "") -> "NeuralRiskModel": ...

