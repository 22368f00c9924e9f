"""Type stubs of the compiled module sportsmed._torch, LibTorch's half of sportsmed (kept in
sync by a test)."""

from typing import TypedDict

__version__: str

class TorchBuildInfo(TypedDict):
    torch_version: str
    cuda_available: bool
    cuda_device_count: int

def set_num_threads(n: int) -> None: ...
def build_info() -> TorchBuildInfo: ...
