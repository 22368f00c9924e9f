"""Which pillars this build of sportsmed provides.

A pillar is available when the compiled core binds its submodule
(``sportsmed._core.motion`` ...; seg: when the LibTorch extension ``sportsmed._torch`` is
installed, which is not loaded to find out). Front-ends (CLI, report, demo) ask here instead of
guessing, so that a missing pillar is reported plainly instead of pretended.
"""

from __future__ import annotations

from . import _core

#: pillar name -> (compiled submodule, what it does, tracking issue)
PILLARS: dict[str, tuple[str, str, int]] = {
    "motion": ("motion", "motion capture: C3D/TRC/MOT, joint angles, events, task features", 3),
    "imaging": ("imaging", "knee MRI: volumes, NIfTI/NRRD/DICOM, cartilage thickness, T2", 4),
    "seg": ("seg", "knee MRI segmentation with 3D U-Nets (LibTorch)", 5),
    "risk": ("risk", "injury risk: workload, models, leakage-free validation", 6),
}


class PillarNotAvailable(ImportError):
    """Raised when a pillar that this build does not contain is asked for."""


def _has_torch_part() -> bool:
    """True if the LibTorch extension (seg, neural risk models) is installed; it is not loaded."""
    import importlib.util

    return importlib.util.find_spec(__package__ + "._torch") is not None


def available_pillars() -> list[str]:
    """Names of the pillars compiled into this build (seg lives in sportsmed._torch)."""
    return [name for name, (sub, _, _) in PILLARS.items()
            if (_has_torch_part() if name == "seg" else hasattr(_core, sub))]


def require_pillar(name: str) -> None:
    """Raise :class:`PillarNotAvailable` with a plain message unless ``name`` is built."""
    if name not in PILLARS:
        raise ValueError(f"unknown pillar {name!r}; pillars are {sorted(PILLARS)}")
    if name not in available_pillars():
        sub, what, issue = PILLARS[name]
        raise PillarNotAvailable(
            f"the {name} pillar ({what}) is not part of sportsmed {_core.__version__} yet "
            f"(tracked in issue #{issue})"
        )
