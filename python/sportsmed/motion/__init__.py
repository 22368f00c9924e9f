"""Motion capture: C3D/TRC/MOT files, trials as numpy/pandas, filtering, joint angles.

The compiled kernels live in :mod:`sportsmed._core.motion`; this package re-exports them
and adds pandas conveniences.
"""

from __future__ import annotations

from .._pillars import require_pillar

require_pillar("motion")

from .._core.motion import *  # noqa: E402,F401,F403
from .._core.motion import Trial  # noqa: E402


def points_frame(trial: Trial):
    """Marker trajectories as a pandas DataFrame.

    Returns
    -------
    pandas.DataFrame
        One row per frame (index: time in s), columns a MultiIndex (marker, axis) with axis
        in x, y, z, values in ``trial.point_units``; NaN where a marker is missing.
    """
    import numpy as np
    import pandas as pd

    pts = trial.points
    columns = pd.MultiIndex.from_product([trial.point_labels, ["x", "y", "z"]], names=["marker", "axis"])
    time = (trial.first_frame - 1 + np.arange(trial.n_frames)) / trial.point_rate_hz if trial.point_rate_hz else None
    return pd.DataFrame(pts.reshape(pts.shape[0], -1), index=pd.Index(time, name="time_s"), columns=columns)


def analogs_frame(trial: Trial):
    """Analog channels as a pandas DataFrame (rows: samples, index: time in s)."""
    import numpy as np
    import pandas as pd

    n = trial.analogs.shape[0]
    time = (trial.first_frame - 1) / trial.point_rate_hz + np.arange(n) / trial.analog_rate_hz \
        if trial.analog_rate_hz and trial.point_rate_hz else None
    return pd.DataFrame(trial.analogs, index=pd.Index(time, name="time_s"), columns=list(trial.analog_labels))


def events_frame(trial: Trial):
    """Events as a pandas DataFrame with columns label, context, time_s, description."""
    import pandas as pd

    return pd.DataFrame([{"label": e.label, "context": e.context, "time_s": e.time_s,
                          "description": e.description} for e in trial.events],
                        columns=["label", "context", "time_s", "description"])


def mot_frame(table):
    """An OpenSim :class:`MotTable` as a pandas DataFrame indexed by its time column."""
    import pandas as pd

    df = pd.DataFrame(table.data, columns=list(table.labels))
    return df.set_index("time") if "time" in df.columns else df


def features_frame(features):
    """Feature tuples (name, value, unit) as a pandas DataFrame with columns feature, value, unit."""
    import pandas as pd

    return pd.DataFrame(list(features), columns=["feature", "value", "unit"])


ANGLE_COLUMNS = [f"{joint}_{comp}" for joint in ("hip", "knee", "ankle")
                 for comp in ("flexion_deg", "abduction_deg", "rotation_deg")]


def angles_frame(angles, rate_hz: float, first_frame: int = 1):
    """Frames × 9 Plug-in Gait angles as a DataFrame (index: time in s, columns: ANGLE_COLUMNS).

    The second column of each joint keeps Plug-in Gait's sign (varus/adduction positive)."""
    import numpy as np
    import pandas as pd

    time = (first_frame - 1 + np.arange(len(angles))) / rate_hz
    return pd.DataFrame(np.asarray(angles), index=pd.Index(time, name="time_s"), columns=ANGLE_COLUMNS)


def drop_jump_analysis(synthetic=None, seed: int = 1):
    """Runs the drop-jump pipeline on the synthetic athlete (or a given SyntheticDropJump).

    Returns
    -------
    dict
        ``synthetic`` (the generated trial and truth), ``angles_left``/``angles_right``
        (DataFrames, degrees) and ``features`` (DataFrame with units).
    """
    s = synthetic if synthetic is not None else synthesize_drop_jump(seed=seed)  # noqa: F405
    t = s.trial
    left = model_angles(t, s.model, "L")  # noqa: F405
    right = model_angles(t, s.model, "R")  # noqa: F405
    feats = drop_jump_features(left, right, t.point_rate_hz, t.analogs[:, 0], t.analogs[:, 1],  # noqa: F405
                               t.analog_rate_hz, s.body_mass_kg)
    return {"synthetic": s, "angles_left": angles_frame(left, t.point_rate_hz),
            "angles_right": angles_frame(right, t.point_rate_hz), "features": features_frame(feats)}


def cycle_summary(x, strikes, points: int = 101):
    """Mean and standard deviation over time-normalised cycles.

    Parameters
    ----------
    x : array (frames, channels) or (frames,)
    strikes : frame indices of one foot's strikes (at least two)

    Returns
    -------
    pandas.DataFrame
        Index: percent of cycle (0 … 100); columns ``mean_<k>`` and ``sd_<k>`` per channel
        (sample standard deviation, ddof=1; NaN with a single cycle).
    """
    import numpy as np
    import pandas as pd

    c = normalize_cycles(np.asarray(x, dtype=float), list(strikes), points)  # noqa: F405
    mean = c.mean(axis=0)
    sd = c.std(axis=0, ddof=1) if c.shape[0] > 1 else np.full_like(mean, np.nan)
    cols = {}
    for k in range(c.shape[2]):
        cols[f"mean_{k}"] = mean[:, k]
        cols[f"sd_{k}"] = sd[:, k]
    return pd.DataFrame(cols, index=pd.Index(np.linspace(0, 100, points), name="percent_cycle"))
