"""Type stubs of sportsmed._core.motion (kept in sync by tests/python/test_stubs.py)."""

from typing import Dict, List, Tuple

import numpy as np
import numpy.typing as npt


class Event:
    label: str
    context: str
    time_s: float
    description: str
    def __init__(self, label: str = ..., time_s: float = ..., context: str = ..., description: str = ...) -> None: ...

class Trial:
    points: npt.NDArray[np.float64]
    residuals: npt.NDArray[np.float64]
    point_labels: List[str]
    point_descriptions: List[str]
    point_units: str
    point_rate_hz: float
    first_frame: int
    analogs: npt.NDArray[np.float64]
    analog_labels: List[str]
    analog_units: List[str]
    analog_rate_hz: float
    events: List[Event]
    @property
    def n_frames(self) -> int: ...
    @property
    def n_markers(self) -> int: ...
    def marker(self, label: str) -> npt.NDArray[np.float64]: ...
    def has_marker(self, label: str) -> bool: ...
    def set_marker(self, label: str, xyz: npt.ArrayLike) -> None: ...

class C3dParameter:
    name: str
    description: str
    type: int
    dims: List[int]
    locked: bool
    value: List[str] | List[float]

class C3dGroup:
    name: str
    description: str
    parameters: List[C3dParameter]

class C3d:
    processor: str
    float_storage: bool
    trial: Trial
    groups: List[C3dGroup]
    warnings: List[str]
    header_events: List[Tuple[str, float, bool]]
    camera_masks: npt.NDArray[np.uint8]
    def parameter(self, group: str, name: str) -> List[str] | List[float]: ...
    def has_parameter(self, group: str, name: str) -> bool: ...

class MotTable:
    name: str
    header: Dict[str, str]
    labels: List[str]
    data: npt.NDArray[np.float64]
    def __init__(self) -> None: ...
    @property
    def in_degrees(self) -> bool: ...
    def column(self, label: str) -> npt.NDArray[np.float64]: ...

def read_trc(path: str) -> Trial: ...
def write_trc(path: str, trial: Trial) -> None: ...
def read_mot(path: str) -> MotTable: ...
def write_mot(path: str, table: MotTable) -> None: ...
def read_c3d(path: str, allow_short_data: bool = True) -> C3d: ...
def write_c3d(path: str, c3d: C3d) -> None: ...
def write_trial_c3d(path: str, trial: Trial) -> None: ...
def convert_units(trial: Trial, units: str) -> Trial: ...
def strip_label_prefixes(trial: Trial) -> Trial: ...
