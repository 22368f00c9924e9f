"""BIDS-style JSON sidecars of images (``knee.nii.gz`` -> ``knee.json``): echo times of
multi-echo series, shared by the ``mri`` commands and the cohort's T2 step."""

from __future__ import annotations

from pathlib import Path


def sidecar_path(path) -> Path:
    """``knee.nii.gz`` → ``knee.json`` (the sidecar dcm2niix writes in the BIDS manner)."""
    p = Path(path)
    for suffix in (".nii.gz", ".nii", ".nrrd", ".nhdr"):
        if p.name.lower().endswith(suffix):
            return p.with_name(p.name[: -len(suffix)] + ".json")
    return p.with_suffix(".json")


def sidecar_echo_times(path):
    """Echo times (ms) a sidecar records (``EchoTimes_ms``, or BIDS ``EchoTime`` in s), or None."""
    side = sidecar_path(path)
    if not side.is_file():
        return None
    from .._io import load_json_file
    from .._schema import List, Num, Obj, OneOf, check

    doc = load_json_file(side, "echo-time sidecar")
    positive = Num(lo=1e-9)
    check(doc, Obj({"EchoTimes_ms?": List(positive, min_len=1),
                    "EchoTime?": OneOf(positive, List(positive, min_len=1))}, extra=True), "echo-time sidecar", side)
    if "EchoTimes_ms" in doc:
        return [float(t) for t in doc["EchoTimes_ms"]]
    if "EchoTime" in doc:
        te = doc["EchoTime"]
        return [float(t) * 1000.0 for t in (te if isinstance(te, list) else [te])]
    return None
