"""Motion capture: C3D/TRC/MOT files, trials as numpy/pandas, filtering, joint angles.

The compiled kernels live in :mod:`sportsmed._core.motion`; this package re-exports them
and adds pandas conveniences.
"""

from __future__ import annotations

from .._pillars import require_pillar

require_pillar("motion")

from .._core.motion import *  # noqa: E402,F401,F403
from .._core.motion import Trial  # noqa: E402
from .._core import motion as _motion  # noqa: E402
from .._paths import wrap_file_functions  # noqa: E402

wrap_file_functions(globals(), _motion)  # readers and writers take os.PathLike too


def points_frame(trial: Trial):
    """Marker trajectories as a pandas DataFrame.

    Returns
    -------
    pandas.DataFrame
        One row per frame (index: time in s), columns a MultiIndex (marker, axis) with axis
        in x, y, z, values in ``trial.point_units``; NaN where a marker is missing.
    """
    import pandas as pd

    pts = trial.points
    columns = pd.MultiIndex.from_product([trial.point_labels, ["x", "y", "z"]], names=["marker", "axis"])
    time = trial.times_s if trial.point_rate_hz else None
    return pd.DataFrame(pts.reshape(pts.shape[0], -1), index=pd.Index(time, name="time_s"), columns=columns)


def analogs_frame(trial: Trial):
    """Analog channels as a pandas DataFrame (rows: samples, index: time in s)."""
    import numpy as np
    import pandas as pd

    n = trial.analogs.shape[0]
    time = (trial.first_frame - 1) / trial.point_rate_hz + trial.time_offset_s + np.arange(n) / trial.analog_rate_hz \
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


def angles_frame(angles, rate_hz: float, first_frame: int = 1, side: str | None = None):
    """Frames × 9 Plug-in Gait angles as a DataFrame (index: time in s, columns: ANGLE_COLUMNS,
    prefixed ``left_``/``right_`` when ``side`` is given: ``left_knee_flexion_deg``).

    The second column of each joint keeps Plug-in Gait's sign (varus/adduction positive)."""
    import numpy as np
    import pandas as pd

    columns = ANGLE_COLUMNS
    if side is not None:
        prefix = {"l": "left_", "left": "left_", "r": "right_", "right": "right_"}.get(str(side).lower())
        if prefix is None:
            from .. import InvalidArgument

            raise InvalidArgument(f"angles_frame: side must be L, R, left or right, got {side!r}")
        columns = [prefix + c for c in ANGLE_COLUMNS]
    time = (first_frame - 1 + np.arange(len(angles))) / rate_hz
    return pd.DataFrame(np.asarray(angles), index=pd.Index(time, name="time_s"), columns=columns)


def drop_jump_analysis(synthetic=None, seed: int = 1):
    """Runs the drop-jump pipeline on the synthetic athlete (or a given SyntheticDropJump).

    Returns
    -------
    dict
        ``synthetic`` (the generated trial and truth), ``angles_left``/``angles_right``
        (DataFrames, degrees), ``centres_left``/``centres_right`` (frames × 9 hip, knee,
        ankle joint centres, mm), ``features`` (DataFrame with units) and ``processed``
        (the trial with the angles and joint centres as output points, see
        :func:`with_model_outputs`).
    """
    s = synthetic if synthetic is not None else synthesize_drop_jump(seed=seed)  # noqa: F405
    t = s.trial
    left = model_angles(t, s.model, "L")  # noqa: F405
    right = model_angles(t, s.model, "R")  # noqa: F405
    centres_left = model_joint_centres(t, s.model, "L")  # noqa: F405
    centres_right = model_joint_centres(t, s.model, "R")  # noqa: F405
    feats = drop_jump_features(left, right, t.point_rate_hz, t.analogs[:, 0], t.analogs[:, 1],  # noqa: F405
                               t.analog_rate_hz, s.body_mass_kg, centres_left, centres_right)
    return {"synthetic": s, "angles_left": angles_frame(left, t.point_rate_hz),
            "angles_right": angles_frame(right, t.point_rate_hz), "centres_left": centres_left,
            "centres_right": centres_right, "features": features_frame(feats),
            "processed": with_model_outputs(t, left, right, centres_left, centres_right)}


def cycle_summary(x, strikes, points: int = 101, names=None, side: str | None = None):
    """Mean and standard deviation over time-normalised cycles, with labelled columns.

    Parameters
    ----------
    x : pandas.DataFrame (frames × channels, its column names name the channels), or an
        array (frames, channels) or (frames,)
    strikes : frame indices of one foot's strikes (at least two)
    names : names of the channels of an array (default: the DataFrame's columns; for an
        array of 9 channels, :data:`ANGLE_COLUMNS` — the layout of
        :func:`plugin_gait_angles_from_axes` and :func:`model_angles`; for one channel, ``value``)
    side : "L"/"left" or "R"/"right" to prefix the names with ``left_``/``right_``

    Returns
    -------
    pandas.DataFrame
        Index: percent of cycle (0 … 100); columns ``<name>_mean`` and ``<name>_sd`` per
        channel, e.g. ``left_knee_flexion_deg_mean`` (sample standard deviation, ddof=1;
        NaN with a single cycle).

    Raises
    ------
    InvalidArgument
        When an array of several channels (not 9) comes without names, or names and
        channels differ in number.
    """
    import numpy as np
    import pandas as pd

    from .. import InvalidArgument

    if isinstance(x, pd.DataFrame):
        names = list(names) if names is not None else [str(c) for c in x.columns]
        x = x.to_numpy(dtype=float)
    arr = np.asarray(x, dtype=float)
    k = 1 if arr.ndim == 1 else arr.shape[1]
    if names is None:
        if k == len(ANGLE_COLUMNS):
            names = ANGLE_COLUMNS
        elif k == 1:
            names = ["value"]
        else:
            raise InvalidArgument(f"cycle_summary: {k} channels without names; pass names=[...] or a DataFrame")
    names = [str(n) for n in names]
    if len(names) != k:
        raise InvalidArgument(f"cycle_summary: {len(names)} names for {k} channels")
    if side is not None:
        prefix = {"l": "left_", "left": "left_", "r": "right_", "right": "right_"}.get(str(side).lower())
        if prefix is None:
            raise InvalidArgument(f"cycle_summary: side must be L, R, left or right, got {side!r}")
        names = [n if n.startswith(prefix) else prefix + n for n in names]
    c = normalize_cycles(arr, list(strikes), points)  # noqa: F405
    mean = c.mean(axis=0)
    sd = c.std(axis=0, ddof=1) if c.shape[0] > 1 else np.full_like(mean, np.nan)
    cols = {}
    for j, name in enumerate(names):
        cols[f"{name}_mean"] = mean[:, j]
        cols[f"{name}_sd"] = sd[:, j]
    return pd.DataFrame(cols, index=pd.Index(np.linspace(0, 100, points), name="percent_cycle"))


#: Marker names of the OpenSim gait2392 marker set (subject01 static/walk trials).
GAIT2392_MARKERS = {
    "LASI": "L.ASIS", "RASI": "R.ASIS", "SACR": "V.Sacral",
    "L": {"knee_lat": "L.Knee.Lat", "knee_med": "L.Knee.Med", "ankle_lat": "L.Ankle.Lat",
          "ankle_med": "L.Ankle.Med", "thigh": ["L.Thigh.Upper", "L.Thigh.Front", "L.Thigh.Rear"],
          "shank": ["L.Shank.Upper", "L.Shank.Front", "L.Shank.Rear"]},
    "R": {"knee_lat": "R.Knee.Lat", "knee_med": "R.Knee.Med", "ankle_lat": "R.Ankle.Lat",
          "ankle_med": "R.Ankle.Med", "thigh": ["R.Thigh.Upper", "R.Thigh.Front", "R.Thigh.Rear"],
          "shank": ["R.Shank.Upper", "R.Shank.Front", "R.Shank.Rear"]},
}


#: Marker names of the AddBiomechanics Expert1 lab set (static1/DJ1/walking1 trials). "HJC"
#: names the lab's hip joint centre virtual markers stored in the trials (see
#: :func:`cluster_model_from_static`, ``hip_joint_centre="markers"``).
ADDBIO_MARKERS = {
    "LASI": "L.ASIS", "RASI": "r.ASIS", "SACR": ["L.PSIS", "r.PSIS"],
    "HJC": {"L": "L_HJC", "R": "R_HJC"},
    "L": {"knee_lat": "L_knee", "knee_med": "L_mknee", "ankle_lat": "L_ankle", "ankle_med": "L_mankle",
          "thigh": ["L_thigh1", "L_thigh2", "L_thigh3", "L_thigh4"],
          "shank": ["L_shank_antsup", "L_sh2", "L_sh3"]},
    "R": {"knee_lat": "r_knee", "knee_med": "r_mknee", "ankle_lat": "r_ankle", "ankle_med": "r_mankle",
          "thigh": ["r_thigh1", "r_thigh2", "r_thigh3", "r_thigh4", "r_thigh5"],
          "shank": ["r_shank_antsup", "r_sh2", "r_sh3", "r_sh4"]},
}

#: Generic OpenSim pelvis geometries, metres in the model's pelvis frame (x anterior,
#: y superior, z right): the right ASIS marker, the sacrum (gait2392: its V.Sacral marker;
#: LaiUhlrich2022: the midpoint of its PSIS markers) and the right hip joint centre (the
#: femur's origin). gait2392: Delp et al. (1990) geometry with the markers of the model's
#: scale marker set (OpenSim Gait2392_Simbody example). LaiUhlrich2022: the pelvis and hip
#: joint of Rajagopal et al. (2016) with the fixed ASIS/PSIS markers of AddBiomechanics'
#: LaiUhlrich2022 preset (the marker set of the Expert1 lab data).
OPENSIM_PELVIS = {
    "gait2392": {"asis": (0.02, 0.03, 0.128), "sacrum": (-0.16, 0.04, 0.0), "hip": (-0.0707, -0.0661, 0.0835)},
    "laiuhlrich2022": {"asis": (0.028, 0.01, 0.128), "sacrum": (-0.154, 0.025, 0.0),
                       "hip": (-0.056276, -0.078490, 0.077260)},
}


def opensim_pelvis_geometry(model: str, inter_asis_mm: float, asis_sacrum_mm: float):
    """An OpenSim model's pelvis expressed against its own ASIS and sacrum markers.

    In the Plug-in Gait pelvis frame (origin mid-ASIS, x from the sacrum to mid-ASIS, y left,
    z up) the model's hip joint centre and the direction of its pelvis x axis follow from
    :data:`OPENSIM_PELVIS`, scaled as OpenSim scales a body: one factor, the mean of the
    subject's inter-ASIS and mid-ASIS-to-sacrum distances over the model's.

    Returns
    -------
    (hip, tilt_rad)
        ``hip``: the left hip joint centre (mm; negate y for the right); ``tilt_rad``: the angle
        by which the model's pelvis x axis is raised (anterior end up, in the sagittal plane)
        from the sacrum-to-mid-ASIS line (gait2392 3.2 degrees, LaiUhlrich2022 4.7 degrees:
        their sacrum markers sit above their ASIS markers).
    """
    import numpy as np

    if model not in OPENSIM_PELVIS:
        from .._core import InvalidArgument

        raise InvalidArgument(f"model '{model}' is not one of {sorted(OPENSIM_PELVIS)}")
    asis, sacrum, hip = (np.asarray(OPENSIM_PELVIS[model][k], dtype=float) for k in ("asis", "sacrum", "hip"))
    mid = np.array([asis[0], asis[1], 0.0])
    width, depth = 2.0 * asis[2], float(np.linalg.norm(mid - sacrum))
    scale = 0.5 * (inter_asis_mm / (1000.0 * width) + asis_sacrum_mm / (1000.0 * depth))
    # The Plug-in Gait axes in model coordinates: x (sacrum -> mid-ASIS), z (its superior
    # perpendicular in the sagittal plane); y (left) is the model's -z.
    ant = (mid - sacrum) / depth
    up = np.array([-ant[1], ant[0], 0.0])
    d = (hip - mid) * 1000.0 * scale  # the right hip (model z > 0) ...
    left_hip = np.array([d @ ant, d[2], d @ up])  # ... mirrored: the left hip at y = +d_z
    return left_hip, float(np.arctan2(-ant[1], ant[0]))  # model x axis: x_pg·ant_x + z_pg·(-ant_y)


def cluster_model_from_static(static, names=GAIT2392_MARKERS, marker_radius_mm: float = 7.0,
                              convention: str = "plugin_gait", hip_joint_centre: str | None = None):
    """Calibrates a pelvis/thigh/shank cluster model from a static trial.

    Anatomical frames (Plug-in Gait axes: x anterior, y left, z proximal) are built on the
    mean static pose: the pelvis from the ASIS and sacrum, the femur from the hip centre and
    the epicondyles, the tibia from the knee centre and the malleoli. The technical cluster
    markers are then expressed in those frames.

    ``names`` maps the roles to labels (see :data:`GAIT2392_MARKERS`, :data:`ADDBIO_MARKERS`);
    "SACR" may list several markers (their mean is the sacrum).

    ``convention`` chooses the pelvis definition, which sets the zero of hip flexion and,
    through the hip joint centre, the femur's long axis (so knee flexion too):

    - ``"plugin_gait"``: the pelvis x axis along sacrum → mid-ASIS, the hip joint centre by
      Davis (1991) with the leg length taken as ASIS to medial malleolus (Plug-in Gait, ISB).
    - ``"gait2392"`` or ``"laiuhlrich2022"``: the pelvis of that OpenSim model placed on the
      ASIS and sacrum markers as the model carries them (:func:`opensim_pelvis_geometry`):
      its hip joint centre (gait2392: about 35 mm posterior of Davis's) and its x axis (raised
      3.2 or 4.7 degrees from the sacrum → mid-ASIS line). These models' femur and tibia long
      axes run hip centre → epicondyle midpoint and knee → malleolus midpoint (their knee and
      ankle markers sit within a few millimetres of those lines), as here, so with the
      model's pelvis the hip and knee flexion compare with the model's inverse kinematics.

    ``hip_joint_centre`` overrides the convention's hip centre: ``"davis"``, ``"harrington"``
    (Harrington et al. 2007 on pelvis width and depth), ``"model"`` (the OpenSim model's, the
    default of those conventions) or ``"markers"``, the mean static position of the virtual
    markers ``names["HJC"]`` (e.g. a functional hip centre stored in the trial).

    Returns
    -------
    list of SegmentTemplate
        Segments "PEL", "LFE", "LTI", "RFE", "RTI" for :func:`fit_segment`; the femur and
        tibia carry their proximal joint centre (``proximal_joint_mm``) for
        :func:`model_joint_centres`.
    """
    import numpy as np

    from .._core import InvalidArgument

    if convention != "plugin_gait" and convention not in OPENSIM_PELVIS:
        raise InvalidArgument(f"convention '{convention}' is not 'plugin_gait', 'gait2392' or 'laiuhlrich2022'")
    method = hip_joint_centre or ("model" if convention in OPENSIM_PELVIS else "davis")
    if method not in ("davis", "harrington", "model", "markers"):
        raise InvalidArgument(f"hip_joint_centre '{hip_joint_centre}' is not 'davis', 'harrington', 'model' or "
                              "'markers'")
    if method == "model" and convention not in OPENSIM_PELVIS:
        raise InvalidArgument("hip_joint_centre='model' needs an OpenSim convention ('gait2392', 'laiuhlrich2022')")
    if method == "markers" and "HJC" not in names:
        raise InvalidArgument("hip_joint_centre='markers' needs names['HJC'] = {'L': label, 'R': label}")

    # The templates, the marker radius and Davis's regression are in mm: a static trial in
    # metres (TRC "Units m") is converted, never read as mm.
    if static.point_units != "mm":
        static = convert_units(static, "mm")  # noqa: F405
    mean = lambda label: np.nanmean(static.marker(label), axis=0)  # noqa: E731
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731

    def frame(origin, lateral_left, proximal):
        z = unit(proximal - origin)
        y = unit(lateral_left - np.dot(lateral_left, z) * z)
        return np.stack([np.cross(y, z), y, z], axis=1)

    def template(segment, labels, rot, origin):
        t = SegmentTemplate()  # noqa: F405
        t.segment, t.markers = segment, list(labels)
        t.local_mm = np.array([rot.T @ (mean(label) - origin) for label in labels])
        return t

    sacral = names["SACR"] if isinstance(names["SACR"], (list, tuple)) else [names["SACR"]]
    la, ra = mean(names["LASI"]), mean(names["RASI"])
    sacr = np.mean([mean(label) for label in sacral], axis=0)
    po = 0.5 * (la + ra)
    py = unit(la - ra)
    pz = unit(np.cross(po - sacr, py))
    marker_pelvis = np.stack([np.cross(py, pz), py, pz], axis=1)  # sacrum -> mid-ASIS x axis
    inter_asis = float(np.linalg.norm(la - ra))
    depth = float(np.linalg.norm(marker_pelvis.T @ (po - sacr)))
    pel = marker_pelvis
    if convention in OPENSIM_PELVIS:  # the model's pelvis: x raised (anterior end up)
        g_hip, g_tilt = opensim_pelvis_geometry(convention, inter_asis, depth)
        c, s = np.cos(g_tilt), np.sin(g_tilt)
        px = c * marker_pelvis[:, 0] + s * marker_pelvis[:, 2]
        pel = np.stack([px, py, np.cross(px, py)], axis=1)
    model = [template("PEL", [names["LASI"], names["RASI"], *sacral], pel, po)]
    for side in ("L", "R"):
        n = names[side]
        kl, km, al, am = (mean(n[k]) for k in ("knee_lat", "knee_med", "ankle_lat", "ankle_med"))
        sgn = 1.0 if side == "L" else -1.0
        if method == "davis":
            leg = float(np.linalg.norm((la if side == "L" else ra) - am))
            hjc = po + marker_pelvis @ davis_hip_joint_centre_mm(leg, inter_asis, marker_radius_mm, side == "L")
        elif method == "harrington":
            hjc = po + marker_pelvis @ harrington_hip_joint_centre(inter_asis, depth, side == "L")  # noqa: F405
        elif method == "model":
            hjc = po + marker_pelvis @ (g_hip * np.array([1.0, sgn, 1.0]))
        else:
            hjc = mean(names["HJC"][side])
        kjc, ajc = 0.5 * (kl + km), 0.5 * (al + am)
        fem = frame(kjc, sgn * (kl - km), hjc)
        tib = frame(ajc, sgn * (al - am), kjc)
        model.append(template(side + "FE", n["thigh"], fem, kjc))
        model[-1].proximal_joint_mm = fem.T @ (hjc - kjc)
        model.append(template(side + "TI", n["shank"], tib, ajc))
        model[-1].proximal_joint_mm = tib.T @ (kjc - ajc)
    return model


def davis_hip_joint_centre_mm(leg_length_mm: float, inter_asis_mm: float, marker_radius_mm: float, left: bool):
    """Davis et al. (1991) hip joint centre in the pelvis frame (mm), ASIS–trochanter by regression."""
    import numpy as np

    c = 0.115 * leg_length_mm - 15.3
    d = 0.1288 * leg_length_mm - 48.56 + marker_radius_mm
    return np.array([c * np.cos(0.5) * np.sin(0.314) - d * np.cos(0.314),
                     (1.0 if left else -1.0) * (inter_asis_mm / 2 - c * np.sin(0.5)),
                     -c * np.cos(0.5) * np.cos(0.314) - d * np.sin(0.314)])


def hip_knee_angles(trial, model, side: str, cutoff_hz: float = 6.0, max_gap: int = 20):
    """Plug-in Gait hip and knee angles (frames × 6, degrees) from a cluster model.

    Markers are gap-filled and low-pass filtered (cutoff corrected for the double pass),
    segments fitted with :func:`fit_segment`, angles from :func:`plugin_gait_angles`."""
    import numpy as np

    if trial.point_units != "mm":  # the model's templates are in mm
        trial = convert_units(trial, "mm")  # noqa: F405
    clean = Trial()
    clean.point_labels = list(trial.point_labels)
    clean.point_rate_hz = trial.point_rate_hz
    pts = trial.points
    flat = lowpass(fill_gaps_spline(pts.reshape(pts.shape[0], -1), max_gap),  # noqa: F405
                   trial.point_rate_hz, cutoff_hz, 2, True)
    clean.points = flat.reshape(pts.shape)
    seg = {t.segment: t for t in model}
    fit = lambda name: fit_segment(clean, seg[name])[:, :9].reshape(-1, 3, 3)  # noqa: E731,F405
    pel, fem, tib = fit("PEL"), fit(side + "FE"), fit(side + "TI")
    return np.hstack([plugin_gait_angles(pel, fem, side, "hip"),  # noqa: F405
                      plugin_gait_angles(fem, tib, side, "knee")])  # noqa: F405


def feature_table(trials, task: str = "drop_jump", body_mass_kg: float | None = None, gait_events: str = "auto",
                  progress=None, vertical_axis: str = "auto", kinetics: bool = False, mp=None,
                  moment_frame: str = "distal"):
    """Features of many trials as one table.

    Parameters
    ----------
    trials : list of paths (.c3d, .trc) or dict {name: Trial}
        Files are read and processed in parallel in C++ (:func:`batch_features`); a file
        that fails gets a row of NaN and its message in the ``error`` column.
    task : "drop_jump" or "gait" (see :func:`trial_features`)
    body_mass_kg : for the drop jump's force features; None: PROCESSING:Bodymass of a C3D
    gait_events : "auto", "stored" or "zeni"
    vertical_axis : "auto" (read from the data and, for a C3D, POINT:Y_SCREEN) or "+z", "+y", ...
    kinetics : also the joint-moment features of :func:`kinetic_features` (C3D files with force
        plates; the body mass from ``body_mass_kg``, ``mp`` (a Vicon .mp) or PROCESSING:Bodymass;
        moments in ``moment_frame``: "distal" (Plug-in Gait's default), "proximal" or "jcs", as
        :func:`inverse_dynamics`). A trial whose moments cannot be computed keeps its other
        features, NaN moments and the reason in ``warnings``. For gait, when the knee adduction
        moment peaks in the tibia and femur frames differ by more than 0.1 N·m/kg (a rotated
        knee mixes the sagittal moment into the frontal one), ``warnings`` says so: they are
        then a statement about the frame as much as the knee.

    Returns
    -------
    pandas.DataFrame
        Index ``trial``; one float column per feature (names end with their unit), an
        ``error`` column (empty string when the trial succeeded) and a ``warnings`` column
        (what the numbers rest on that a reader should check: gaps read as missing, a
        replaced heel marker, a turned vertical axis, angles outside the human range ...;
        joined by "; "). ``df.attrs["units"]`` maps every feature column to its unit
        ("deg", "s", "m", "BW", "ratio", ...).
    """
    import os

    mass = 0.0 if body_mass_kg is None else float(body_mass_kg)
    if isinstance(trials, dict):
        names, rows, errors, warnings = [], [], [], []
        for name, trial in trials.items():
            names.append(str(name))
            try:
                feats, warns = trial_features(trial, task, mass, gait_events, 0.2, vertical_axis,  # noqa: F405
                                              with_warnings=True)
                rows.append(feats)
                errors.append("")
                warnings.append("; ".join(warns))
            except (ValueError, KeyError, RuntimeError) as exc:
                rows.append([])
                errors.append(str(exc))
                warnings.append("")
        table = make_feature_table(names, rows, errors, warnings)  # noqa: F405
    else:
        table = batch_features([os.fspath(p) for p in trials], task, mass, gait_events, 0.2, progress,  # noqa: F405
                               vertical_axis)
    df = feature_table_frame(table)
    if kinetics:
        df = _add_kinetic_features(df, trials, task, body_mass_kg, mp, moment_frame)
    return df


#: Knee adduction moment peaks (N·m/kg) that differ more than this between the tibia and femur
#: frames are reported: the frame then decides the number.
KAM_FRAME_SPREAD_NM_PER_KG = 0.1


def _add_kinetic_features(df, trials, task, body_mass_kg, mp, frame="distal"):
    import os

    import numpy as np

    sources = trials.items() if isinstance(trials, dict) else [(os.fspath(p), p) for p in trials]
    units = dict(df.attrs.get("units", {}))
    rows = {}
    for name, source in sources:
        notes = []
        try:
            if not isinstance(source, (str, os.PathLike)) or not os.fspath(source).lower().endswith(".c3d"):
                raise ValueError("joint moments need a C3D file with force plates")
            dyn = inverse_dynamics(source, body_mass_kg=body_mass_kg, mp=mp, frame=frame)
            feats, feat_units, notes = kinetic_features(dyn, task)
            notes = list(dyn.attrs.get("warnings", [])) + notes
            if task.replace("-", "_").lower() == "gait":
                spread = {}
                for other in ("distal", "proximal"):
                    o = feats if other == frame else kinetic_features(
                        inverse_dynamics(source, body_mass_kg=body_mass_kg, mp=mp, frame=other), task)[0]
                    spread[other] = o
                keys = [k for k in feats if "kam_" in k and "peak" in k]
                worst = max((abs(spread["distal"][k] - spread["proximal"][k]) for k in keys
                             if np.isfinite(spread["distal"][k]) and np.isfinite(spread["proximal"][k])), default=0.0)
                if worst > KAM_FRAME_SPREAD_NM_PER_KG:
                    notes.append(f"the knee adduction moment peaks differ by up to {worst:.2f} N·m/kg between the "
                                 f"tibia (distal) and femur (proximal) frames (a rotated knee); these are in the "
                                 f"{frame} frame: state it with them")
            units.update(feat_units)
            rows[str(name)] = feats
        except Exception as exc:  # noqa: BLE001  (one trial's failure is its row's note, never the table's)
            rows[str(name)] = {}
            notes = [f"joint moments not computed: {exc}"]
        if notes:
            row = df.index.get_loc(str(name))
            old = df["warnings"].iloc[row]
            df.iloc[row, df.columns.get_loc("warnings")] = "; ".join([old] + notes if old else notes)
    names = [n for n in units if n not in df.attrs.get("units", {})]
    for n in names:
        df[n] = [rows.get(str(i), {}).get(n, np.nan) for i in df.index]
    order = [c for c in df.columns if c not in ("error", "warnings")] + ["error", "warnings"]
    df = df[order]
    df.attrs["units"] = units
    return df


def feature_table_frame(table):
    """A :class:`FeatureTable` as a pandas DataFrame (see :func:`feature_table`)."""
    import pandas as pd

    df = pd.DataFrame(table.values, index=pd.Index(list(table.trials), name="trial"), columns=list(table.names))
    df["error"] = list(table.errors)
    df["warnings"] = list(table.warnings)
    df.attrs["units"] = dict(zip(table.names, table.units))
    return df


def write_feature_csv(df, path, precision: int | None = None) -> None:
    """Writes a feature table as CSV with ``name [unit]`` column headers (written to a
    temporary name, then renamed).

    ``precision``: significant digits of the numbers (None, the default: every digit, a
    lossless round trip; the CLI writes 7, the float32 resolution of the samples)."""
    from .._io import write_csv_atomic

    units = df.attrs.get("units", {})
    write_csv_atomic(df.rename(columns={c: f"{c} [{units[c]}]" for c in df.columns if c in units}), path,
                     float_format=f"%.{int(precision)}g" if precision else None)


def read_feature_csv(path):
    """Reads a CSV written by :func:`write_feature_csv` back into a DataFrame with
    ``attrs["units"]``."""
    import pandas as pd

    df = pd.read_csv(path, index_col=0, keep_default_na=False, na_values=[""])
    units, names = {}, {}
    for c in df.columns:
        if c.endswith("]") and " [" in c:
            name, unit = c[:-1].split(" [", 1)
            names[c], units[name] = name, unit
    df = df.rename(columns=names)
    for text in ("error", "warnings"):
        if text in df.columns:
            df[text] = df[text].fillna("").astype(str)
    df.attrs["units"] = units
    return df


def with_model_outputs(trial, angles_left, angles_right, centres_left=None, centres_right=None):
    """A copy of ``trial`` with model outputs stored as Plug-in Gait stores them: points
    ``[LR]HipAngles``, ``[LR]KneeAngles``, ``[LR]AnkleAngles`` (degrees, frames × 9 per side
    in) and, when given, ``[LR]HJC``, ``[LR]KJC``, ``[LR]AJC`` (frames × 9 per side)."""
    out = convert_units(trial, trial.point_units)  # noqa: F405  (a copy)
    for side, ang, cen in (("L", angles_left, centres_left), ("R", angles_right, centres_right)):
        for k, joint in enumerate(("Hip", "Knee", "Ankle")):
            out.set_marker(f"{side}{joint}Angles", ang[:, 3 * k:3 * k + 3])
        if cen is not None:
            for k, name in enumerate(("HJC", "KJC", "AJC")):
                out.set_marker(f"{side}{name}", cen[:, 3 * k:3 * k + 3])
    return out


def grf_table(trial, name: str = "GRF"):
    """A trial's force plates as an OpenSim external-loads table (:class:`MotTable`).

    Columns ``time`` then, per plate k (1-based), ``ground_force_k_vx/vy/vz`` (N, the
    reaction on the body: vertical up positive), ``ground_force_k_px/py/pz`` (centre of
    pressure, m, 0 where unloaded) and ``ground_torque_k_x/y/z`` (N·m: what the plate's wrench
    leaves once the force acts at the centre of pressure — the free moment, about the lab's
    vertical — computed in the lab frame from the plate's force and moment, so that
    cop × force + torque is the plate's whole reaction moment about the origin), lab frame, at
    the analog rate.
    """
    import numpy as np

    if not trial.force_plates:
        raise ValueError("grf_table: the trial has no force plates")
    n = trial.analogs.shape[0]
    to_m = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}[trial.point_units]
    cols, labels = [(trial.first_frame - 1) / trial.point_rate_hz + trial.time_offset_s
                    + np.arange(n) / trial.analog_rate_hz], ["time"]
    for k, plate in enumerate(trial.force_plates, start=1):
        force = np.asarray(plate.force, dtype=float)
        sign = -1.0 if abs(np.nanmin(force[:, 2])) > abs(np.nanmax(force[:, 2])) else 1.0
        cop = np.nan_to_num(np.asarray(plate.cop, dtype=float) * to_m)
        # The reaction's moment about the origin, from the plate's own (lab-frame) moment about
        # its surface centre, less the force's moment at the centre of pressure. (The plate's
        # `free_moment` is about the plate's own vertical axis, which points down into many
        # plates: its sign is not the lab's.)
        centre = np.asarray(plate.corners, dtype=float).mean(axis=0) * to_m
        reaction = np.nan_to_num(sign * force)
        whole = np.nan_to_num(sign * np.asarray(plate.moment, dtype=float) * 1e-3) + np.cross(centre, reaction)
        torque = np.where(np.abs(reaction[:, 2:3]) > 0, whole - np.cross(cop, reaction), 0.0)
        for block, stem in ((sign * force, f"ground_force_{k}_v"), (cop, f"ground_force_{k}_p"),
                            (torque, f"ground_torque_{k}_")):
            for a, axis in enumerate("xyz"):
                cols.append(block[:, a])
                labels.append(stem + axis)
    table = MotTable()  # noqa: F405
    table.name = name
    table.labels = labels
    table.data = np.column_stack(cols)
    table.header = {"version": "1", "nRows": str(n), "nColumns": str(len(labels)), "inDegrees": "no"}
    return table


def _grf_sides_from_external_loads(path) -> dict:
    """{force stem: "L"/"R"} from an OpenSim ExternalLoads XML (applied_to_body names the
    foot's body: calcn_r, toes_l, foot_r ...)."""
    import xml.etree.ElementTree as ET

    from .. import FormatError

    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise FormatError(f"attach_grf_mot: cannot read the ExternalLoads file '{path}': {exc}") from None
    sides = {}
    for force in root.iter("ExternalForce"):
        body = (force.findtext("applied_to_body") or "").strip().lower()
        stem = (force.findtext("force_identifier") or "").strip()
        if not stem:
            continue
        side = "R" if body.endswith(("_r", "right")) else "L" if body.endswith(("_l", "left")) else None
        if side is None:
            raise FormatError(f"attach_grf_mot: '{path}' applies {stem} to body '{body}', not a left or right foot")
        sides[stem] = side
    return sides


def attach_grf_mot(trial, mot_path, external_loads=None, assignment=None):
    """A copy of a marker-only trial (e.g. a TRC) with the vertical ground reaction of each
    foot from an OpenSim GRF .mot, as analog channels ``Fz_L`` and ``Fz_R`` (N, up positive),
    so that the drop-jump features can use it.

    Parameters
    ----------
    trial : Trial
        The markers; its times (``trial.times_s``) place the forces.
    mot_path : path of the GRF .mot (columns ``<stem>vx/vy/vz``, e.g. ``ground_force_vx`` and
        ``1_ground_force_vx``, N, OpenSim's ground frame).
    external_loads : optional path of the OpenSim ExternalLoads XML that applies each force
        to a body (``calcn_r``...): it decides the feet.
    assignment : optional dict {stem: "L" or "R"} (stem as in the .mot, e.g. "1_ground_force_v").

    Without either, stems that name their side (``r_``/``l_``/``right``/``left``) decide;
    otherwise the assignment is refused (never guessed). The vertical axis of the .mot is the
    force component that carries the body weight (largest mean magnitude); the forces are
    linearly interpolated to the marker times at the .mot's own rate rounded to a multiple of
    the marker rate, and are 0 outside the .mot's time span.

    Raises
    ------
    FormatError : the .mot has no force columns, or a stem without side.
    InvalidArgument : the feet cannot be told, or the trial has no marker rate.
    """
    import re

    import numpy as np

    from .. import FormatError, InvalidArgument

    if not trial.point_rate_hz:
        raise InvalidArgument("attach_grf_mot: the trial has no marker rate")
    table = read_mot(str(mot_path))  # noqa: F405
    labels = list(table.labels)
    if "time" not in labels:
        raise FormatError(f"attach_grf_mot: '{mot_path}' has no time column")
    data = np.asarray(table.data, dtype=float)
    time = data[:, labels.index("time")]
    stems = [lab[:-1] for lab in labels if lab.endswith("vx") and lab[:-1] + "y" in labels and lab[:-1] + "z" in labels]
    if not stems:
        raise FormatError(f"attach_grf_mot: '{mot_path}' holds no force columns (<stem>vx, vy, vz)")
    if assignment is None and external_loads is not None:
        assignment = _grf_sides_from_external_loads(external_loads)
    if assignment is None:
        assignment = {}
        for stem in stems:
            low = stem.lower()
            if re.match(r"^(r|right)[_ ]", low) or "_r_" in low:
                assignment[stem] = "R"
            elif re.match(r"^(l|left)[_ ]", low) or "_l_" in low:
                assignment[stem] = "L"
            else:
                raise InvalidArgument(
                    f"attach_grf_mot: which foot stands on '{stem}' in '{mot_path}' is not said; pass the "
                    "ExternalLoads XML (external_loads=) or assignment={'" + stem + "': 'L' or 'R'}")
    missing = [s for s in stems if s not in assignment]
    if missing:
        raise InvalidArgument(f"attach_grf_mot: no foot given for {missing} (assignment covers {sorted(assignment)})")
    forces = {stem: data[:, [labels.index(stem + a) for a in "xyz"]] for stem in stems}
    weight_axis = int(np.argmax(sum(np.nanmean(np.abs(f), axis=0) for f in forces.values())))
    mot_rate = 1.0 / float(np.median(np.diff(time)))
    ratio = max(1, int(round(mot_rate / trial.point_rate_hz)))
    rate = ratio * trial.point_rate_hz
    t = trial.times_s[0] + np.arange(trial.n_frames * ratio) / rate
    channels = {"L": np.zeros(t.size), "R": np.zeros(t.size)}
    for stem, f in forces.items():
        vertical = f[:, weight_axis]
        sign = -1.0 if abs(np.nanmin(vertical)) > abs(np.nanmax(vertical)) else 1.0
        channels[assignment[stem]] += np.interp(t, time, np.nan_to_num(sign * vertical), left=0.0, right=0.0)
    out = convert_units(trial, trial.point_units)  # noqa: F405  (a copy)
    out.analogs = np.column_stack([channels["L"], channels["R"]])
    out.analog_labels = ["Fz_L", "Fz_R"]
    out.analog_units = ["N", "N"]
    out.analog_rate_hz = rate
    notes = [f"vertical ground reaction from '{mot_path}' (axis {'xyz'[weight_axis]} of the .mot, {mot_rate:.6g} Hz "
             f"→ {rate:.6g} Hz), feet: " + ", ".join(f"{s}→{assignment[s]}" for s in stems)]
    uncovered = int(np.sum((t < time[0] - 0.5 / mot_rate) | (t > time[-1] + 0.5 / mot_rate)))
    if uncovered:
        notes.append(f"the .mot spans {time[0]:.6g}–{time[-1]:.6g} s: {uncovered} force samples of the trial "
                     f"({t[0]:.6g}–{t[-1]:.6g} s) lie outside it and are 0")
    out.warnings = list(out.warnings) + notes
    return out


# --- CGM1 (Plug-in Gait lower body from markers) ---
def cgm1_angles(c3d, side: str, ankle_sequence: str = "auto", hip_joint_centre: str = "davis"):
    """CGM1 / Plug-in Gait hip, knee and ankle angles of one side from a C3D's markers and the
    anthropometrics of its PROCESSING group.

    Parameters
    ----------
    c3d : C3d
        A file read by :func:`read_c3d` with the Plug-in Gait lower-body markers.
    side : {"L", "R"}
    ankle_sequence : {"auto", "YXZ", "YZX"}
        The foot's decomposition: "auto" takes the one the file's stored ``*AnkleAngles``
        reproduce (else "YXZ", Vicon's documented convention, as Nexus and pyCGM2 store);
        "YZX" is the older VCM-style output (gait-pig.c3d).
    hip_joint_centre : {"davis", "harrington"}

    Returns
    -------
    pandas.DataFrame
        As :func:`angles_frame`: frames × 9 degrees, index time in s.
    """
    import numpy as np

    params = cgm1_parameters_from_c3d(c3d)  # noqa: F405
    params.ankle_sequence = ankle_sequence
    params.hip_joint_centre = hip_joint_centre
    out = cgm1(c3d.trial, params)  # noqa: F405
    angles = np.hstack([out[f"{side}{joint}Angles"] for joint in ("Hip", "Knee", "Ankle")])
    return angles_frame(angles, c3d.trial.point_rate_hz, c3d.trial.first_frame)


# --- inverse dynamics ---
_JOINTS = ("Hip", "Knee", "Ankle")


def read_vicon_mp(path) -> dict:
    """The ``$Name = value`` entries of a Vicon subject parameter file (``.mp`` / ``.vsk``-style
    text, e.g. ``$Bodymass = 66.2``) as ``{name: float or str}``.

    Raises
    ------
    NotFound : the file does not exist. FormatError : no ``$Name = value`` line in it.
    """
    import os
    import re

    from .. import FormatError, NotFound

    if not os.path.exists(path):
        raise NotFound(f"read_vicon_mp: no file '{path}'")
    out = {}
    with open(path, encoding="latin-1") as fh:
        for line in fh:
            m = re.match(r"\s*\$(\w+)\s*=\s*(\S+)", line)
            if m:
                try:
                    out[m.group(1)] = float(m.group(2))
                except ValueError:
                    out[m.group(1)] = m.group(2)
    if not out:
        raise FormatError(f"read_vicon_mp: '{path}' holds no '$Name = value' line")
    return out


def body_mass_from_c3d(c3d):
    """``PROCESSING:Bodymass`` (kg) of a C3D (Vicon Nexus, pyCGM2), or None when absent or ≤ 0."""
    for group, name in (("PROCESSING", "Bodymass"), ("PROCESSING", "BodyMass")):
        if not c3d.has_parameter(group, name):
            continue
        value = c3d.parameter(group, name)
        try:
            mass = float(value[0])
        except (TypeError, ValueError, IndexError):
            continue
        if mass > 0:
            return mass
    return None


def _grf_mot_loads(trial, mot_path, assignment):
    """Per-foot wrenches (force N, moment about the lab origin N·m, marker rate) from an
    OpenSim GRF .mot: columns <stem>vx/vy/vz (N), <stem>px/py/pz (m) and, when present,
    <prefix>ground_torque_x/y/z (N·m) with the stem's prefix; ``assignment`` maps each stem
    to "L" or "R"."""
    import numpy as np

    from .. import FormatError, InvalidArgument

    table = read_mot(str(mot_path))  # noqa: F405
    labels = list(table.labels)
    data = np.asarray(table.data, dtype=float)
    if "time" not in labels:
        raise FormatError(f"inverse_dynamics: '{mot_path}' has no time column")
    time = data[:, labels.index("time")]
    stems = [lab[:-1] for lab in labels if lab.endswith("vx") and lab[:-1] + "y" in labels]
    if not stems:
        raise FormatError(f"inverse_dynamics: '{mot_path}' holds no force columns (<stem>vx, vy, vz)")
    missing = [s for s in stems if s not in assignment]
    if missing:
        raise InvalidArgument(f"inverse_dynamics: no foot given for {missing} of '{mot_path}' "
                              "(grf_assignment={'stem': 'L' or 'R'} or an ExternalLoads XML)")
    t = np.asarray(trial.times_s, dtype=float)
    n = t.size
    loads = {"L": [np.zeros((n, 3)), np.zeros((n, 3))], "R": [np.zeros((n, 3)), np.zeros((n, 3))]}
    def get(name, required=True):
        if name in labels:
            return data[:, labels.index(name)]
        if required:
            raise FormatError(f"inverse_dynamics: '{mot_path}' has no column '{name}'")
        return np.zeros(time.size)

    for stem in stems:
        # OpenSim's names: the force identifier <stem> = "…ground_force_v" + x/y/z, its point
        # "…ground_force_p" + x/y/z, its torque "…ground_torque_" + x/y/z ("1_ground_force_v"
        # with "1_ground_torque_", "ground_force_1_v" with "ground_torque_1_")
        base = stem[:-1]
        f = np.column_stack([get(stem + a) for a in "xyz"])
        p = np.column_stack([get(base + "p" + a) for a in "xyz"])
        torque = base.replace("ground_force", "ground_torque") if "ground_force" in base else None
        tq = np.column_stack([get(torque + a, required=False) if torque else np.zeros(time.size) for a in "xyz"])
        wrench_f = np.nan_to_num(f)
        wrench_m = np.cross(np.nan_to_num(p), wrench_f) + np.nan_to_num(tq)
        fi = np.column_stack([np.interp(t, time, wrench_f[:, a], left=0.0, right=0.0) for a in range(3)])
        mi = np.column_stack([np.interp(t, time, wrench_m[:, a], left=0.0, right=0.0) for a in range(3)])
        side = assignment[stem]
        loads[side][0] += fi
        loads[side][1] += mi
    return loads


def inverse_dynamics(source, body_mass_kg: float | None = None, mp=None, table: str = "dempster",
                     cutoff_hz: float = 15.0, frame: str = "distal", convention: str = "internal",
                     grf=None, grf_assignment=None, external_loads=None, model: str = "auto",
                     force_threshold_n: float = 20.0, max_cop_distance_m: float = 0.10):
    """Lower-limb inverse dynamics (Newton–Euler, foot → shank → thigh) of both legs.

    Parameters
    ----------
    source : path of a .c3d, or a :class:`C3d`.
        Segment kinematics come from the stored Plug-in Gait axes (PELO…, LFEO…, LTIO…, LFOO…)
        or, without them, from the markers by the CGM1 and the file's PROCESSING group.
    body_mass_kg : kg; else ``$Bodymass`` of the Vicon ``mp`` file, else the C3D's
        ``PROCESSING:Bodymass``. None known raises :class:`sportsmed.InvalidArgument`.
    mp : optional path of a Vicon subject parameter file (``.mp``).
    table : ``"dempster"`` (Plug-in Gait; Winter 2009 Table 4.1), ``"de_leva_female"``,
        ``"de_leva_male"`` (de Leva 1996).
    cutoff_hz : one low-pass cut-off for marker-derived kinematics *and* forces (Kristianslund
        et al. 2012); 0 disables filtering (data filtered already, e.g. Plug-in Gait output).
    frame : ``"distal"`` (Plug-in Gait Nexus/Workstation), ``"proximal"``, ``"lab"`` or ``"jcs"``
        (the joint coordinate system: about the proximal segment's medio-lateral axis, the
        floating axis and the distal segment's long axis, by projection; Schache & Baker 2007).
    convention : ``"internal"`` (muscle moments, Plug-in Gait) or ``"external"``.
    grf, grf_assignment, external_loads : an OpenSim GRF .mot instead of the C3D's plates,
        with ``{stem: "L"|"R"}`` or the ExternalLoads XML saying which foot each force acts on.

    Returns
    -------
    pandas.DataFrame
        Index ``time_s``; columns ``LHipMoment_X``… (N·m; X sagittal: hip extensor, knee
        extensor, ankle plantarflexor positive when internal; Y frontal, Z transverse, the right
        side's Y and Z negated, as Plug-in Gait), ``LHipMomentNorm_X``… (N·m/kg),
        ``LHipForce_X``… (N, in the same frame), ``LHipPower``… (W), ``LHipPowerNorm``… (W/kg)
        and ``LPlate``/``RPlate`` (plate index, −1 swing, −2 unknown load: NaN results).
        ``attrs["units"]`` maps columns to units; ``attrs["warnings"]``, ``attrs["body_mass_kg"]``,
        ``attrs["model"]`` describe the run.
    """
    import os

    import numpy as np
    import pandas as pd

    from .. import InvalidArgument

    c3d = read_c3d(os.fspath(source)) if isinstance(source, (str, os.PathLike)) else source  # noqa: F405
    if convention not in ("internal", "external"):
        raise InvalidArgument(f"inverse_dynamics: convention '{convention}' is not internal or external")
    mass_source = "argument"
    if body_mass_kg is None and mp is not None:
        params = read_vicon_mp(os.fspath(mp))
        if "Bodymass" not in params:
            raise InvalidArgument(f"inverse_dynamics: '{mp}' has no $Bodymass")
        body_mass_kg, mass_source = float(params["Bodymass"]), f"$Bodymass of '{mp}'"
    if body_mass_kg is None:
        body_mass_kg, mass_source = body_mass_from_c3d(c3d), "PROCESSING:Bodymass"
    if body_mass_kg is None:
        raise InvalidArgument("inverse_dynamics: no body mass is known: the C3D has no PROCESSING:Bodymass; "
                              "give body_mass_kg= (CLI --body-mass KG) or a Vicon subject file (mp=, CLI --mp "
                              "subject.mp)")
    if not (np.isfinite(body_mass_kg) and body_mass_kg > 0):
        raise InvalidArgument(f"inverse_dynamics: the body mass ({mass_source}) is {body_mass_kg} kg: it must be a "
                              "positive number of kilograms")
    trial = c3d.trial
    cgm1_params = None
    try:
        cgm1_params = cgm1_parameters_from_c3d(c3d)  # noqa: F405
    except Exception:  # noqa: BLE001  (no PROCESSING group: only the stored axes can be used)
        cgm1_params = None
    screen = c3d.parameter("POINT", "Y_SCREEN") if c3d.has_parameter("POINT", "Y_SCREEN") else []
    kwargs = dict(table=table, cutoff_hz=float(cutoff_hz), frame=frame, external=convention == "external",
                  screen_y=str(screen[0]) if screen and isinstance(screen[0], str) else "",
                  force_threshold_n=float(force_threshold_n), max_cop_distance_m=float(max_cop_distance_m),
                  model=model, cgm1_parameters=cgm1_params)
    if grf is not None:
        if grf_assignment is None and external_loads is not None:
            grf_assignment = _grf_sides_from_external_loads(external_loads)
        if grf_assignment is None:
            raise InvalidArgument("inverse_dynamics: with grf=, say which foot each force acts on "
                                  "(grf_assignment= or external_loads=)")
        loads = _grf_mot_loads(trial, grf, grf_assignment)
        kwargs.update(left_force=loads["L"][0], left_moment=loads["L"][1], right_force=loads["R"][0],
                      right_moment=loads["R"][1])
    res = _motion._inverse_dynamics(trial, float(body_mass_kg), **kwargs)
    mass = float(body_mass_kg)
    cols, units = {}, {}
    for side in ("L", "R"):
        r = res[side]
        m, f, p = np.asarray(r["moments"]), np.asarray(r["forces"]), np.asarray(r["powers"])
        for j, joint in enumerate(_JOINTS):
            for a, axis in enumerate("XYZ"):
                name = f"{side}{joint}Moment_{axis}"
                cols[name], units[name] = m[:, 3 * j + a], "N·m"
                name = f"{side}{joint}MomentNorm_{axis}"
                cols[name], units[name] = m[:, 3 * j + a] / mass, "N·m/kg"
            for a, axis in enumerate("XYZ"):
                name = f"{side}{joint}Force_{axis}"
                cols[name], units[name] = f[:, 3 * j + a], "N"
            cols[f"{side}{joint}Power"], units[f"{side}{joint}Power"] = p[:, j], "W"
            cols[f"{side}{joint}PowerNorm"], units[f"{side}{joint}PowerNorm"] = p[:, j] / mass, "W/kg"
        cols[f"{side}Plate"], units[f"{side}Plate"] = np.asarray(r["plate"]), "index"
    df = pd.DataFrame(cols, index=pd.Index(np.asarray(trial.times_s, dtype=float), name="time_s"))
    df.attrs["units"] = units
    df.attrs["warnings"] = list(res["warnings"]) + _dynamics_range_warnings(df, mass, mass_source)
    df.attrs["body_mass_kg"] = mass
    df.attrs["body_mass_source"] = mass_source
    df.attrs["model"] = res["model"]
    df.attrs["vertical_axis"] = res["vertical_axis"]
    df.attrs["frame"], df.attrs["convention"], df.attrs["cutoff_hz"] = frame, convention, float(cutoff_hz)
    return df


#: Body masses (kg) inside which no warning is given: beyond them a mass is more likely a
#: typing or unit slip (grams, pounds) than an athlete.
BODY_MASS_RANGE_KG = (20.0, 250.0)
#: |joint moment| (N·m/kg) beyond any published hip, knee or ankle moment of gait, running or
#: landing (peaks reach ~3-4 N·m/kg in landing): larger values point at the body mass, the
#: plates or the vertical axis.
MOMENT_LIMIT_NM_PER_KG = 5.0


def _dynamics_range_warnings(df, mass: float, mass_source: str) -> list:
    """Warnings for a body mass or joint moments outside the physical range."""
    import numpy as np

    out = []
    lo, hi = BODY_MASS_RANGE_KG
    if not lo <= mass <= hi:
        out.append(f"body mass {mass:g} kg ({mass_source}) is outside {lo:g}-{hi:g} kg: check it (grams or pounds "
                   "for kg?); every moment in N·m/kg scales with it")
    norm = [c for c in df.columns if "MomentNorm" in c]
    if norm:
        peak = np.nanmax(np.abs(df[norm].to_numpy()), axis=0, initial=0.0)
        worst = int(np.argmax(peak))
        if peak[worst] > MOMENT_LIMIT_NM_PER_KG:
            t = df.index[int(np.nanargmax(np.abs(df[norm[worst]].to_numpy())))]
            out.append(f"{norm[worst]} reaches {peak[worst]:.1f} N·m/kg at {t:.3f} s, outside the physiological "
                       f"range (|M| <= {MOMENT_LIMIT_NM_PER_KG:g} N·m/kg): check the body mass, the force plates "
                       "(and their assignment to the feet) and the vertical axis")
    return out


def plugin_gait_stored_moments(c3d, body_mass_kg: float | None = None):
    """The Plug-in Gait moments a C3D stores (``[LR](Hip|Knee|Ankle)Moment`` points) in N·m/kg,
    as a DataFrame with columns like :func:`inverse_dynamics`'s ``...MomentNorm_X``.

    Vicon writes ``POINT:MOMENT_UNITS = Nmm`` although the values are N·mm per kg of body mass
    (PlugInC3D.c3d: the stored ``[LR]GroundReactionForce`` is the plate force / 66.2 kg, its
    .mp body mass; a walking knee moment in N·mm would be ~10⁵, the stored peaks are ~10³).
    The per-kg reading is taken when the largest stored moment is below 10⁴ (no adult's gait
    joint moment is below 10 N·m); otherwise the values are divided by ``body_mass_kg``
    (required then). ``attrs["note"]`` says which was decided.

    The frame and signs are Plug-in Gait's as stored: Workstation/Nexus files (PlugInC3D.c3d)
    match ``inverse_dynamics(frame="distal")``; the VCM-era gait-pig.c3d matches
    ``frame="proximal"`` with the knee's Z (rotation) moment negated.
    """
    import numpy as np
    import pandas as pd

    from .. import InvalidArgument

    trial = c3d.trial
    units = c3d.parameter("POINT", "MOMENT_UNITS")[0] if c3d.has_parameter("POINT", "MOMENT_UNITS") else "Nmm"
    scale = {"nmm": 1e-3, "n.mm": 1e-3, "nm": 1.0, "n.m": 1.0}.get(units.strip().lower(), 1e-3)
    cols = {}
    peak = 0.0
    for side in ("L", "R"):
        for joint in _JOINTS:
            label = f"{side}{joint}Moment"
            if not trial.has_marker(label):
                continue
            m = np.asarray(trial.marker(label), dtype=float)
            peak = max(peak, float(np.nanmax(np.abs(m))) if np.isfinite(m).any() else 0.0)
            for a, axis in enumerate("XYZ"):
                cols[f"{side}{joint}MomentNorm_{axis}"] = m[:, a] * scale
    per_kg = peak * scale < 10.0
    if per_kg:
        note = (f"POINT:MOMENT_UNITS says '{units}' but the largest stored moment is {peak:.4g} {units}: read as "
                f"{units}/kg (Vicon's Plug-in Gait convention)")
    else:
        if body_mass_kg is None:
            raise InvalidArgument("plugin_gait_stored_moments: the stored moments are absolute; give body_mass_kg")
        cols = {k: v / body_mass_kg for k, v in cols.items()}
        note = f"stored moments in {units}, divided by {body_mass_kg} kg"
    df = pd.DataFrame(cols, index=pd.Index(np.asarray(trial.times_s, dtype=float), name="time_s"))
    df.attrs["note"] = note
    return df


def rate_decimals(rate_hz: float) -> int:
    """Decimals that tell two samples at ``rate_hz`` apart (100 Hz: 3, 1000 Hz: 4; 6 without a rate)."""
    import math

    return max(3, int(math.ceil(math.log10(rate_hz))) + 1) if rate_hz and rate_hz > 0 else 6


def time_decimals(times) -> int:
    """Decimals that tell the samples of ``times`` (s) apart (:func:`rate_decimals` of their
    smallest step): a column of times written with them keeps every frame distinct whatever
    precision the values are written to."""
    import numpy as np

    t = np.asarray(times, dtype=float)
    steps = np.diff(t)
    step = float(np.min(steps)) if t.size > 1 and np.all(steps > 0) else 0.0
    return rate_decimals(1.0 / step) if step > 0 else 6


def write_dynamics_csv(df, path, precision: int | None = None) -> None:
    """Writes an :func:`inverse_dynamics` table as CSV with ``name [unit]`` headers, through a
    temporary file renamed into place (nothing half-written on failure).

    ``precision``: significant digits of the numbers (None, the default: every digit; the
    CLI writes 7, the float32 resolution of the C3D samples)."""
    import numpy as np
    import pandas as pd

    from .._io import write_csv_atomic

    units = df.attrs.get("units", {})
    out = df.rename(columns={c: f"{c} [{units[c]}]" for c in df.columns if c in units})
    if precision:  # the times keep the decimals that tell frames apart
        d = time_decimals(out.index)
        out.index = pd.Index([f"{v:.{d}f}" for v in np.asarray(out.index, dtype=float)], name=out.index.name)
    write_csv_atomic(out, path, float_format=f"%.{int(precision)}g" if precision else None)


from .opensim_model import OpenSimModel, opensim_inverse_dynamics, read_opensim_storage, read_osim  # noqa: E402,F401


def _contact_runs(plate):
    """[(start, stop)) index runs where a foot stands on a plate (plate index ≥ 0)."""
    import numpy as np

    on = np.asarray(plate) >= 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
    return list(zip(edges[::2], edges[1::2]))


def kinetic_features(dynamics, task: str = "drop_jump"):
    """Joint-moment features of a trial from its :func:`inverse_dynamics` table (internal
    moments, Plug-in Gait naming: ``Y`` frontal, positive = internal abductor (valgus) moment =
    external adductor (varus) moment, for both sides).

    Contacts the trial starts or ends in (standing on a box placed on a plate, a stance cut by
    the end of the recording) are left out with a warning: they are not whole contacts.

    Drop jump (the first whole contact of each foot, i.e. the landing from the box):
    ``{side}_peak_knee_abduction_moment`` — the largest *external* knee abduction (valgus)
    moment, −Y (N·m/kg; Hewett et al. 2005's prospective ACL predictor), and
    ``{side}_time_to_peak_knee_abduction_moment_s`` from the contact's first frame;
    ``{side}_peak_knee_extensor_moment`` (internal, X, N·m/kg); then ``knee_abduction_moment_symmetry``
    and ``knee_extensor_moment_symmetry`` (left / right peak).

    Gait (every stance on a plate): ``{side}_kam_first_peak`` and ``{side}_kam_second_peak`` —
    the external knee adduction moment (+Y, N·m/kg) maxima in the first and second half of
    stance, averaged over the stances — and ``{side}_kinetic_stances`` (count).

    Returns (features, units, warnings): a dict name → value (NaN when a side has no
    contact), a dict name → unit, and a list of what a reader should know.
    """
    import numpy as np

    from .. import InvalidArgument

    task = task.replace("-", "_").lower()
    if task in ("dvj",):
        task = "drop_jump"
    if task not in ("drop_jump", "gait"):
        raise InvalidArgument(f"kinetic_features: task '{task}' is not drop_jump or gait")
    t = np.asarray(dynamics.index, dtype=float)
    feats, units, warnings = {}, {}, []
    side_names = {"L": "left", "R": "right"}
    for side in ("L", "R"):
        name = side_names[side]
        y = dynamics[f"{side}KneeMomentNorm_Y"].to_numpy(dtype=float)
        x = dynamics[f"{side}KneeMomentNorm_X"].to_numpy(dtype=float)
        runs = _contact_runs(dynamics[f"{side}Plate"].to_numpy())
        runs = [(a, b) for a, b in runs if b - a >= 3]
        n = t.size
        cut = [(a, b) for a, b in runs if a == 0 or b == n]
        if cut:  # a contact the trial starts or ends in is not a whole landing or stance
            warnings.append(f"{name} foot: {len(cut)} contact(s) cut by the start or end of the trial left out "
                            "(e.g. standing on a box placed on a plate)")
            runs = [r for r in runs if r not in cut]
        if task == "drop_jump":
            keys = (f"{name}_peak_knee_abduction_moment", f"{name}_time_to_peak_knee_abduction_moment_s",
                    f"{name}_peak_knee_extensor_moment")
            for k, u in zip(keys, ("N·m/kg", "s", "N·m/kg")):
                feats[k], units[k] = float("nan"), u
            if not runs:
                warnings.append(f"{name} foot: no contact on a force plate: no knee moments")
                continue
            a, b = runs[0]
            external_abduction = -y[a:b]
            if np.all(np.isnan(external_abduction)):
                warnings.append(f"{name} foot: knee moments unknown over its first contact")
                continue
            i = int(np.nanargmax(external_abduction))
            feats[keys[0]] = float(external_abduction[i])
            feats[keys[1]] = float(t[a + i] - t[a])
            feats[keys[2]] = float(np.nanmax(x[a:b]))
        else:
            keys = (f"{name}_kam_first_peak", f"{name}_kam_second_peak", f"{name}_kinetic_stances")
            for k, u in zip(keys, ("N·m/kg", "N·m/kg", "count")):
                feats[k], units[k] = float("nan"), u
            first, second = [], []
            for a, b in runs:
                seg = y[a:b]
                if np.any(np.isnan(seg)):
                    continue
                half = (b - a) // 2
                first.append(np.max(seg[:half]))
                second.append(np.max(seg[half:]))
            feats[keys[2]] = float(len(first))
            if first:
                feats[keys[0]], feats[keys[1]] = float(np.mean(first)), float(np.mean(second))
            else:
                warnings.append(f"{name} foot: no complete stance on a force plate: no knee adduction moment")
    if task == "drop_jump":
        for what in ("knee_abduction_moment", "knee_extensor_moment"):
            key = f"{what}_symmetry"
            left = feats[f"left_peak_{what}"]
            right = feats[f"right_peak_{what}"]
            # a ratio of two peaks of one sign: a side whose peak is not positive has none
            ok = np.isfinite(left) and np.isfinite(right) and left > 0 and right > 0
            feats[key], units[key] = (left / right if ok else float("nan")), "ratio"
    limit = 5.0  # N·m/kg: beyond any published knee moment of landing or gait
    for k, v in feats.items():
        if units[k] == "N·m/kg" and np.isfinite(v) and abs(v) > limit:
            warnings.append(f"{k} = {v:.2f} N·m/kg is outside the physiological range (|M| ≤ {limit}): "
                            "check the body mass, the force plates and the vertical axis")
    return feats, units, warnings


def leg_segments(source, side: str, model: str = "auto"):
    """Segment kinematics of one leg of a C3D (path or :class:`C3d`) in SI units, as
    :func:`inverse_dynamics` uses them: ``hip``, ``knee``, ``ankle``, ``toe`` (N × 3, m) and the
    ``pelvis``, ``thigh``, ``shank``, ``foot`` frames (N × 9, row-major 3 × 3 per frame), from
    the stored Plug-in Gait axes or, without them, the CGM1 from markers (``model``)."""
    import os

    c3d = read_c3d(os.fspath(source)) if isinstance(source, (str, os.PathLike)) else source  # noqa: F405
    try:
        params = cgm1_parameters_from_c3d(c3d)  # noqa: F405
    except Exception:  # noqa: BLE001  (no PROCESSING group: only the stored axes can be used)
        params = None
    return _motion._leg_segments(c3d.trial, side, model, params)


def leg_inverse_dynamics(legs, loads, body_mass_kg, rate_hz: float, table: str = "dempster",
                         gravity=(0.0, 0.0, -9.81)):
    """Newton–Euler of one leg, or of many in parallel (C++ threads, the GIL released), from
    segment kinematics (:func:`leg_segments`, or your own: dicts of ``hip``/``knee``/``ankle``/
    ``toe`` N × 3 in m and ``thigh``/``shank``/``foot`` (and optionally ``pelvis``) N × 9
    frames) and the ground's wrench on each foot (dicts of ``force`` N × 3, N, and ``moment``
    N × 3 about the lab origin, N·m). Moments are internal, about the joint centres, in the lab
    frame (see ``include/sportsmed/motion/dynamics.hpp``).

    ``legs``/``loads``: one dict each, or equal-length lists; ``body_mass_kg``: one value or one
    per leg. Returns a dict (or a list of dicts) of ``{ankle,knee,hip}_{force,moment}`` (N × 3)
    and ``{ankle,knee,hip}_power`` (N; the hip's NaN without a pelvis frame)."""
    import numpy as np

    single = isinstance(legs, dict)
    legs_list = [legs] if single else list(legs)
    loads_list = [loads] if isinstance(loads, dict) else list(loads)
    masses = [float(m) for m in np.atleast_1d(np.asarray(body_mass_kg, dtype=float))]
    out = _motion._leg_inverse_dynamics_batch(legs_list, loads_list, table, masses, float(rate_hz),
                                              np.asarray(gravity, dtype=float))
    return out[0] if single else out


def write_dynamics(df, path, source=None, precision: int | None = None) -> None:
    """Writes an :func:`inverse_dynamics` table by the extension of ``path``:

    - ``.csv``: headers ``name [unit]`` (:func:`write_dynamics_csv`);
    - ``.mot``/``.sto``: an OpenSim storage file (time column, ``inDegrees=no``, every column's
      unit listed in the header), which OpenSim and :func:`read_mot` read;
    - ``.c3d``: ``source`` (the trial's C3D path or :class:`C3d`) with the moments, forces and
      powers added as analog channels, each with its unit (N·m, N·m/kg, N, W, W/kg), held over
      the analog samples of each frame — the trial's markers and analogs unchanged (units in
      ASCII: ``N.m``, ``N.m/kg``; unknown frames stay NaN, as in the table).

    ``precision``: significant digits in the text formats (None: every digit for CSV, 10 for
    .mot). Written atomically (a temporary file renamed into place)."""
    import os

    import numpy as np

    from .. import InvalidArgument
    from .._io import atomic_output

    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    # ASCII units in the binary and OpenSim formats (C3D strings are bytes): N·m → N.m
    units = {k: str(v).replace("·", ".") for k, v in df.attrs.get("units", {}).items()}
    columns = [c for c in df.columns if not c.endswith("Plate")]
    if ext == ".csv":
        write_dynamics_csv(df, path, precision=precision)
        return
    if ext in (".mot", ".sto"):
        digits = int(precision) if precision else 10
        data = np.column_stack([np.asarray(df.index, dtype=float)] + [df[c].to_numpy(dtype=float) for c in columns])
        with atomic_output(path) as f:
            f.write(f"{os.path.basename(path)}\nversion=1\nnRows={data.shape[0]}\nnColumns={data.shape[1]}\n"
                    "inDegrees=no\n")
            f.write("units: " + ", ".join(f"{c} [{units.get(c, '')}]" for c in columns) + "\n")
            f.write("endheader\n")
            f.write("\t".join(["time"] + columns) + "\n")
            td = time_decimals(data[:, 0])
            for row in data:
                f.write("\t".join([f"{row[0]:.{td}f}"] + ["nan" if not np.isfinite(v) else f"{v:.{digits}g}"
                                                          for v in row[1:]]) + "\n")
        return
    if ext == ".c3d":
        if source is None:
            raise InvalidArgument("write_dynamics: a .c3d output needs source= (the trial's C3D)")
        c3d = read_c3d(os.fspath(source)) if isinstance(source, (str, os.PathLike)) else source  # noqa: F405
        trial = c3d.trial
        n = trial.n_frames
        if len(df) != n:
            raise InvalidArgument(f"write_dynamics: the table has {len(df)} frames, the C3D {n}")
        rate = trial.point_rate_hz
        analogs = np.asarray(trial.analogs, dtype=float)
        if trial.analog_rate_hz > 0 and analogs.size:
            ratio = int(round(trial.analog_rate_hz / rate))
        else:
            ratio, analogs = 1, np.zeros((n, 0))
            trial.analog_rate_hz = rate
        added = np.repeat(np.column_stack([df[c].to_numpy(dtype=float) for c in columns]), ratio, axis=0)
        trial.analogs = np.column_stack([analogs[: added.shape[0]], added])
        trial.analog_labels = list(trial.analog_labels) + columns
        trial.analog_units = list(trial.analog_units) + [units.get(c, "") for c in columns]
        # The source's groups travel (FORCE_PLATFORM, SUBJECTS, PROCESSING ...): write_c3d
        # regenerates only POINT, ANALOG, TRIAL and EVENT from the trial. It writes by path:
        # next to the target, then renamed into place.
        c3d.trial = trial
        tmp = f"{path}.tmp{os.getpid()}"
        try:
            write_c3d(tmp, c3d)  # noqa: F405
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return
    raise InvalidArgument(f"write_dynamics: '{path}': the extension is not .csv, .mot, .sto or .c3d")
