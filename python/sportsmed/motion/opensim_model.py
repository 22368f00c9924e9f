"""OpenSim models (``.osim``, OpenSim 4 format): bodies, joints, forward kinematics, and
inverse dynamics of the whole model from an inverse-kinematics ``.mot`` and ground reactions.

What it reads: the BodySet (mass, centre of mass, inertia about the centre of mass in the body
frame), the JointSet (CustomJoint with its SpatialTransform — LinearFunction, Constant,
SimmSpline, NaturalCubicSpline, PiecewiseLinearFunction, Polynomial, MultiplierFunction —,
PinJoint, SliderJoint, WeldJoint, FreeJoint, BallJoint, with their PhysicalOffsetFrames), the
MarkerSet and gravity. Any other joint or function type is refused with a FormatError naming
it; nothing is approximated silently. OpenSim 3.x files (joints inside bodies) are refused:
OpenSim 4 converts them when it opens and saves them.

Inverse dynamics (:func:`opensim_inverse_dynamics`) follows what OpenSim's
InverseDynamicsTool computes — the generalised force of every coordinate that, with gravity
and the external loads, produces the model's motion — by Newton–Euler on the tree: each body's
inertial wrench ``m (a − g)``, ``I α + ω × I ω`` (world frame), the wrench a joint transmits to
its child subtree is the subtree's sum minus the external loads on it, and a coordinate's
generalised force is that wrench's power on the coordinate's partial velocity (the child
frame's translational and angular velocity per unit ``q̇``, from the joint's transform by
central differences). Coupled coordinates (the knee translations of gait2392 are splines of
the knee angle) are therefore handled exactly, and the ground→pelvis coordinates give the
residual forces and moments. Coordinates are low-pass filtered (zero-lag Butterworth, 4th
order, reflective padding; OpenSim uses an FIR filter) and interpolated by quintic splines
(OpenSim: quintic GCV splines); velocities and accelerations of the bodies are central
differences (0.1 ms) of the kinematics along the splines — a spline with continuous third
derivative, so the differences converge as h²; a cubic's jumps at the knots would bias them
by O(h).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np

__all__ = ["OpenSimModel", "read_osim", "opensim_inverse_dynamics", "read_opensim_storage"]


def _errors():
    from .. import FormatError, InvalidArgument

    return FormatError, InvalidArgument


def _vec(text, n, where):
    FormatError, _ = _errors()
    try:
        values = [float(v) for v in (text or "").split()]
    except ValueError:
        raise FormatError(f"{where}: '{text}' is not {n} numbers") from None
    if len(values) != n:
        raise FormatError(f"{where}: '{text}' is not {n} numbers")
    return np.array(values)


# ----------------------------------------------------------------------------- functions


class _Function:
    """An OpenSim Function of one variable: value and first derivative."""

    def __call__(self, x):
        raise NotImplementedError


class _Constant(_Function):
    def __init__(self, value):
        self.value = float(value)

    def __call__(self, x):
        return np.full(np.shape(x), self.value)


class _Linear(_Function):
    def __init__(self, slope, intercept):
        self.slope, self.intercept = float(slope), float(intercept)

    def __call__(self, x):
        return self.slope * np.asarray(x, dtype=float) + self.intercept


class _Polynomial(_Function):
    def __init__(self, coefficients):
        self.c = np.asarray(coefficients, dtype=float)  # highest power first (OpenSim's order)

    def __call__(self, x):
        return np.polyval(self.c, np.asarray(x, dtype=float))


class _PiecewiseLinear(_Function):
    def __init__(self, x, y):
        self.x, self.y = np.asarray(x, float), np.asarray(y, float)

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        # OpenSim extrapolates linearly with the end segments' slopes
        out = np.interp(x, self.x, self.y)
        lo, hi = x < self.x[0], x > self.x[-1]
        if lo.any():
            s = (self.y[1] - self.y[0]) / (self.x[1] - self.x[0])
            out[lo] = self.y[0] + s * (x[lo] - self.x[0])
        if hi.any():
            s = (self.y[-1] - self.y[-2]) / (self.x[-1] - self.x[-2])
            out[hi] = self.y[-1] + s * (x[hi] - self.x[-1])
        return out


class _CubicSpline(_Function):
    """Cubic spline through (x, y). ``ends="fmm"`` (SimmSpline): the third derivative at each end
    equals that of the cubic through the four end points (Forsythe, Malcolm & Moler 1977, the
    routine SIMM and OpenSim's SimmSpline use; fewer than four points: natural); ``"natural"``
    (NaturalCubicSpline): zero second derivative at the ends. Outside the knots the end cubic
    is extended linearly with the end slope, as OpenSim's splines do."""

    def __init__(self, x, y, ends):
        x, y = np.asarray(x, float), np.asarray(y, float)
        n = x.size
        h = np.diff(x)
        d = np.diff(y) / h
        A = np.zeros((n, n))
        r = np.zeros(n)
        for i in range(1, n - 1):
            A[i, i - 1], A[i, i], A[i, i + 1] = h[i - 1], 2 * (h[i - 1] + h[i]), h[i]
            r[i] = 6 * (d[i] - d[i - 1])
        if ends == "fmm" and n >= 4:
            def third_difference(xs, ys):
                d1 = np.diff(ys) / np.diff(xs)
                d2 = np.diff(d1) / (xs[2:] - xs[:-2])
                return (d2[1] - d2[0]) / (xs[3] - xs[0])

            A[0, 0], A[0, 1], r[0] = -1.0, 1.0, 6 * h[0] * third_difference(x[:4], y[:4])
            A[-1, -2], A[-1, -1], r[-1] = -1.0, 1.0, 6 * h[-1] * third_difference(x[-4:], y[-4:])
        else:
            A[0, 0] = A[-1, -1] = 1.0
        self.x, self.y, self.h = x, y, h
        self.m = np.linalg.solve(A, r) if n > 2 else np.zeros(n)

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        xs, ys, h, m = self.x, self.y, self.h, self.m
        i = np.clip(np.searchsorted(xs, x) - 1, 0, xs.size - 2)
        t0, t1 = x - xs[i], xs[i + 1] - x
        val = (m[i] * t1 ** 3 + m[i + 1] * t0 ** 3) / (6 * h[i]) + (ys[i] / h[i] - m[i] * h[i] / 6) * t1 \
            + (ys[i + 1] / h[i] - m[i + 1] * h[i] / 6) * t0
        lo, hi = x < xs[0], x > xs[-1]
        if lo.any():
            s0 = (ys[1] - ys[0]) / h[0] - h[0] * (2 * m[0] + m[1]) / 6
            val[lo] = ys[0] + s0 * (x[lo] - xs[0])
        if hi.any():
            s1 = (ys[-1] - ys[-2]) / h[-1] + h[-1] * (m[-2] + 2 * m[-1]) / 6
            val[hi] = ys[-1] + s1 * (x[hi] - xs[-1])
        return val


class _Multiplier(_Function):
    def __init__(self, inner, scale):
        self.inner, self.scale = inner, float(scale)

    def __call__(self, x):
        return self.scale * self.inner(x)


def _parse_function(elem, where):
    FormatError, _ = _errors()
    tag = elem.tag
    if tag == "Constant":
        return _Constant(_vec(elem.findtext("value"), 1, where)[0])
    if tag == "LinearFunction":
        c = _vec(elem.findtext("coefficients"), 2, where)
        return _Linear(c[0], c[1])
    if tag == "Polynomial":
        return _Polynomial([float(v) for v in (elem.findtext("coefficients") or "").split()])
    if tag in ("SimmSpline", "NaturalCubicSpline", "PiecewiseLinearFunction"):
        x = [float(v) for v in (elem.findtext("x") or "").split()]
        y = [float(v) for v in (elem.findtext("y") or "").split()]
        if len(x) != len(y) or len(x) < 2 or np.any(np.diff(x) <= 0):
            raise FormatError(f"{where}: {tag} needs ≥ 2 increasing x with as many y")
        if tag == "PiecewiseLinearFunction":
            return _PiecewiseLinear(x, y)
        return _CubicSpline(x, y, "fmm" if tag == "SimmSpline" else "natural")
    if tag == "MultiplierFunction":
        holder = elem.find("function")
        inner = list(holder) if holder is not None else []
        if len(inner) != 1:
            raise FormatError(f"{where}: MultiplierFunction without one inner function")
        scale = float(elem.findtext("scale") or 1.0)
        return _Multiplier(_parse_function(inner[0], where), scale)
    raise FormatError(f"{where}: function type {tag} is not supported (supported: Constant, LinearFunction, "
                      "Polynomial, SimmSpline, NaturalCubicSpline, PiecewiseLinearFunction, MultiplierFunction)")


# ----------------------------------------------------------------------------- model


def _rot(axis, angle):
    """Rotation matrices (…, 3, 3) about a unit axis by angles (…)."""
    a = np.asarray(axis, float) / np.linalg.norm(axis)
    angle = np.asarray(angle, dtype=float)
    c, s = np.cos(angle), np.sin(angle)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    eye = np.eye(3)
    return eye + s[..., None, None] * K + (1 - c)[..., None, None] * (K @ K)


def _xyz_body_fixed(angles):
    x, y, z = angles
    return _rot([1, 0, 0], x) @ _rot([0, 1, 0], y) @ _rot([0, 0, 1], z)


@dataclass
class Body:
    name: str
    mass: float
    com: np.ndarray          # m, in the body frame
    inertia: np.ndarray      # 3×3 about the COM, body frame, kg·m²


@dataclass
class _Axis:
    rotation: bool
    axis: np.ndarray
    coordinates: list
    function: _Function | None   # None: the identity of one coordinate (Pin/Slider/Free/Ball joints)


@dataclass
class Joint:
    name: str
    kind: str
    parent: str                  # body name or "ground"
    child: str
    parent_offset: tuple         # (R, p) of the joint's parent frame in the parent body
    child_offset: tuple          # (R, p) of the joint's child frame in the child body
    axes: list = field(default_factory=list)   # rotations first (body-fixed sequence), then translations
    coordinates: list = field(default_factory=list)

    def transform(self, q: dict):
        """(R, p) of the child frame in the parent frame for coordinate arrays ``q`` (N,)."""
        n = len(next(iter(q.values()))) if q else 1
        R = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
        p = np.zeros((n, 3))
        for ax in self.axes:
            if ax.function is None:
                value = q[ax.coordinates[0]]
            elif ax.coordinates:
                value = ax.function(q[ax.coordinates[0]])
            else:
                value = ax.function(np.zeros(n))
            value = np.broadcast_to(value, (n,))
            if ax.rotation:
                R = R @ _rot(ax.axis, value)
            else:
                p = p + value[:, None] * (ax.axis / np.linalg.norm(ax.axis))
        return R, p


@dataclass
class OpenSimModel:
    """An OpenSim model: bodies, joints (one per non-ground body, a tree), markers, gravity."""

    name: str
    path: str
    bodies: dict
    joints: dict                 # by child body name
    coordinates: list            # in model order
    rotational: dict             # coordinate → True (radians) / False (metres)
    markers: dict                # name → (body, location)
    gravity: np.ndarray

    def forward_kinematics(self, q: dict):
        """World poses {body: (R (N,3,3), p (N,3))} for coordinate arrays ``q`` (radians and metres;
        missing coordinates take 0). Ground is the identity."""
        n = len(next(iter(q.values())))
        full = {c: np.asarray(q.get(c, np.zeros(n)), dtype=float) for c in self.coordinates}
        poses = {"ground": (np.broadcast_to(np.eye(3), (n, 3, 3)), np.zeros((n, 3)))}
        for body in self._order():
            j = self.joints[body]
            Rp, pp = poses[j.parent]
            Rpf, ppf = j.parent_offset
            Rcm, pcm = j.child_offset
            Rj, pj = j.transform(full)
            R_F = Rp @ Rpf
            o_F = pp + np.einsum("nij,j->ni", Rp, ppf)
            R_M = R_F @ Rj
            o_M = o_F + np.einsum("nij,nj->ni", R_F, pj)
            R_B = R_M @ Rcm.T
            o_B = o_M - np.einsum("nij,j->ni", R_B, pcm)
            poses[body] = (R_B, o_B)
        return poses

    def marker_positions(self, q: dict):
        """World positions (N, 3) of every model marker, by name."""
        poses = self.forward_kinematics(q)
        out = {}
        for name, (body, loc) in self.markers.items():
            R, p = poses[body]
            out[name] = p + np.einsum("nij,j->ni", R, loc)
        return out

    def _order(self):
        order, placed = [], {"ground"}
        pending = list(self.joints)
        while pending:
            progressed = False
            for body in list(pending):
                if self.joints[body].parent in placed:
                    order.append(body)
                    placed.add(body)
                    pending.remove(body)
                    progressed = True
            if not progressed:
                FormatError, _ = _errors()
                raise FormatError(f"'{self.path}': bodies {pending} do not connect to ground through joints")
        return order

    def subtree(self, body):
        out, frontier = [body], [body]
        while frontier:
            b = frontier.pop()
            for child, j in self.joints.items():
                if j.parent == b:
                    out.append(child)
                    frontier.append(child)
        return out


def _frame_target(name):
    return name.strip().rstrip("/").split("/")[-1]


def read_osim(path) -> OpenSimModel:
    """Reads an OpenSim 4 ``.osim`` model. Raises FormatError for unreadable files, OpenSim 3.x
    files and joint or function types this reader does not implement (named)."""
    FormatError, _ = _errors()
    path = os.fspath(path)
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise FormatError(f"read_osim: cannot read '{path}': {exc}") from None
    model = root.find("Model")
    if model is None:
        raise FormatError(f"read_osim: '{path}' holds no <Model>")
    if model.find("JointSet") is None:
        raise FormatError(f"read_osim: '{path}' has no JointSet: an OpenSim 3.x model (joints inside bodies); "
                          "open and save it in OpenSim 4 first")
    where = f"read_osim '{path}'"
    gravity = _vec(model.findtext("gravity") or "0 -9.80665 0", 3, f"{where} gravity")
    bodies = {}
    for b in model.iter("Body"):
        name = b.get("name")
        inertia = _vec(b.findtext("inertia"), 6, f"{where} body {name} inertia")
        I = np.array([[inertia[0], inertia[3], inertia[4]], [inertia[3], inertia[1], inertia[5]],
                      [inertia[4], inertia[5], inertia[2]]])
        mass = float(b.findtext("mass") or "nan")
        if not (mass >= 0):
            raise FormatError(f"{where}: body {name} has no valid mass")
        bodies[name] = Body(name, mass, _vec(b.findtext("mass_center"), 3, f"{where} body {name} mass_center"), I)
    joints, coordinates, rotational = {}, [], {}
    jointset = model.find("JointSet")
    objects = jointset.find("objects") if jointset.find("objects") is not None else jointset
    supported = ("CustomJoint", "PinJoint", "SliderJoint", "WeldJoint", "FreeJoint", "BallJoint")
    for j in objects:
        if not isinstance(j.tag, str):
            continue
        name = j.get("name")
        if j.tag not in supported:
            raise FormatError(f"{where}: joint '{name}' is a {j.tag}; supported: {', '.join(supported)}")
        frames = {}
        holder = j.find("frames")
        for f in (holder if holder is not None else []):
            if f.tag != "PhysicalOffsetFrame":
                continue
            fname = f.get("name")
            R = _xyz_body_fixed(_vec(f.findtext("orientation") or "0 0 0", 3, f"{where} frame {fname}"))
            frames[fname] = (_frame_target(f.findtext("socket_parent") or ""), R,
                             _vec(f.findtext("translation") or "0 0 0", 3, f"{where} frame {fname}"))

        def resolve(socket):
            target = _frame_target(j.findtext(socket) or "")
            if target in frames:
                body, R, p = frames[target]
                return body, (R, p)
            if target in bodies or target == "ground":
                return target, (np.eye(3), np.zeros(3))
            raise FormatError(f"{where}: joint '{name}' {socket} '{target}' is neither a body nor one of its frames")

        parent, parent_offset = resolve("socket_parent_frame")
        child, child_offset = resolve("socket_child_frame")
        coords = [c.get("name") for c in j.iter("Coordinate")]
        joint = Joint(name, j.tag, parent, child, parent_offset, child_offset, coordinates=coords)
        if j.tag == "CustomJoint":
            st = j.find("SpatialTransform")
            if st is None:
                raise FormatError(f"{where}: CustomJoint '{name}' has no SpatialTransform")
            by_name = {ta.get("name"): ta for ta in st.iter("TransformAxis")}
            for axis_name in ("rotation1", "rotation2", "rotation3", "translation1", "translation2", "translation3"):
                ta = by_name.get(axis_name)
                if ta is None:
                    continue
                used = (ta.findtext("coordinates") or "").split()
                if len(used) > 1:
                    raise FormatError(f"{where}: joint '{name}' {axis_name} depends on {len(used)} coordinates")
                funcs = [e for e in ta if isinstance(e.tag, str) and e.tag not in ("coordinates", "axis")]
                func = _parse_function(funcs[0], f"{where} joint {name} {axis_name}") if funcs else \
                    (_Linear(1.0, 0.0) if used else _Constant(0.0))
                joint.axes.append(_Axis(axis_name.startswith("rotation"),
                                        _vec(ta.findtext("axis"), 3, f"{where} joint {name} {axis_name}"), used, func))
                for c in used:
                    rotational[c] = rotational.get(c, False) or axis_name.startswith("rotation")
        elif j.tag == "PinJoint":
            joint.axes.append(_Axis(True, np.array([0.0, 0, 1]), coords[:1], None))
            rotational[coords[0]] = True
        elif j.tag == "SliderJoint":
            joint.axes.append(_Axis(False, np.array([1.0, 0, 0]), coords[:1], None))
            rotational[coords[0]] = False
        elif j.tag in ("FreeJoint", "BallJoint"):
            # body-fixed X-Y-Z rotations (OpenSim's Euler angles for these joints), then translations
            for k, c in enumerate(coords[:3]):
                joint.axes.append(_Axis(True, np.eye(3)[k], [c], None))
                rotational[c] = True
            for k, c in enumerate(coords[3:6]):
                joint.axes.append(_Axis(False, np.eye(3)[k], [c], None))
                rotational[c] = False
        if child in joints:
            raise FormatError(f"{where}: body '{child}' is the child of two joints (closed loops are not supported)")
        if child not in bodies:
            raise FormatError(f"{where}: joint '{name}' moves '{child}', which is not a body")
        joints[child] = joint
        coordinates.extend(coords)
    markers = {}
    for m in model.iter("Marker"):
        body = _frame_target(m.findtext("socket_parent_frame") or m.findtext("body") or "")
        if body in bodies or body == "ground":
            markers[m.get("name")] = (body, _vec(m.findtext("location"), 3, f"{where} marker {m.get('name')}"))
    out = OpenSimModel(model.get("name") or "", path, bodies, joints, coordinates, rotational, markers, gravity)
    out._order()  # validates the tree
    return out


# ----------------------------------------------------------------------------- storage files


def read_opensim_storage(path):
    """An OpenSim ``.mot``/``.sto`` as a pandas DataFrame indexed by time, with
    ``attrs["in_degrees"]`` (the header's inDegrees; True when the header says yes)."""
    import pandas as pd

    from . import read_mot

    table = read_mot(os.fspath(path))
    labels = list(table.labels)
    FormatError, _ = _errors()
    if "time" not in labels:
        raise FormatError(f"read_opensim_storage: '{path}' has no time column")
    data = np.asarray(table.data, dtype=float)
    df = pd.DataFrame(data, columns=labels).set_index("time")
    df.attrs["in_degrees"] = bool(table.in_degrees)
    return df


# ----------------------------------------------------------------------------- inverse dynamics


def _lowpass_reflect(x, rate_hz, cutoff_hz):
    from . import butter, filtfilt

    n = x.size
    pad = min(n - 1, int(round(rate_hz)))  # one second (or the whole series) of odd reflection
    padded = np.concatenate([2 * x[0] - x[pad:0:-1], x, 2 * x[-1] - x[-2:-pad - 2:-1]])
    b, a = butter(4, cutoff_hz / (rate_hz / 2.0))
    return np.asarray(filtfilt(list(b), list(a), padded))[pad:pad + n]


def _vee(S):
    return np.stack([S[..., 2, 1] - S[..., 1, 2], S[..., 0, 2] - S[..., 2, 0], S[..., 1, 0] - S[..., 0, 1]], -1) / 2


def check_radians(values, name: str, what: str = "rotational coordinates") -> None:
    """Refuses angles a file declares in radians (``inDegrees=no``) that are in degrees: joint
    angles whose peaks (median over the coordinates) pass π cannot be radians of a human joint,
    while the same motion in degrees peaks at tens. ``values``: samples × coordinates."""
    FormatError, _ = _errors()
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return
    with np.errstate(all="ignore"):
        peaks = np.nanmax(np.abs(x.reshape(x.shape[0], -1)), axis=0)
    peaks = peaks[np.isfinite(peaks)]
    if peaks.size and float(np.median(peaks)) > np.pi:
        raise FormatError(f"'{name}' says inDegrees=no but its {what} peak at a median {np.median(peaks):.4g} "
                          "(beyond π: no human joint turns so far in radians): the values look like degrees; "
                          "correct the header to inDegrees=yes")


def _external_wrenches(model, grf_mot, external_loads, times, warnings=None):
    """{body: (force (N,3), moment about the ground origin (N,3))} from an OpenSim ExternalLoads XML
    and its GRF .mot (forces and points expressed in ground). Outside the .mot's time span the
    loads are zero (never its first or last sample held), with a message in ``warnings``."""
    FormatError, InvalidArgument = _errors()
    try:
        root = ET.parse(os.fspath(external_loads)).getroot()
    except (ET.ParseError, OSError) as exc:
        raise FormatError(f"opensim_inverse_dynamics: cannot read the ExternalLoads file '{external_loads}': "
                          f"{exc}") from None
    table = read_opensim_storage(grf_mot)
    t = table.index.to_numpy()
    outside = (times < t[0] - 1e-9) | (times > t[-1] + 1e-9) if t.size else np.ones(times.size, bool)
    if outside.any() and warnings is not None:
        warnings.append(f"'{grf_mot}' covers {t[0]:g}-{t[-1]:g} s but the motion runs {times[0]:g}-{times[-1]:g} s: "
                        f"no ground reaction is applied at the {int(outside.sum())} samples outside it")
    out = {}
    for f in root.iter("ExternalForce"):
        if (f.findtext("isDisabled") or "false").strip().lower() == "true":
            continue
        body = (f.findtext("applied_to_body") or "").strip()
        if body not in model.bodies:
            raise FormatError(f"'{external_loads}': force '{f.get('name')}' is applied to '{body}', not a body of the model")
        for tag in ("force_expressed_in_body", "point_expressed_in_body"):
            if (f.findtext(tag) or "ground").strip() != "ground":
                raise InvalidArgument(f"'{external_loads}': force '{f.get('name')}' {tag} is not ground "
                                      "(only forces and points expressed in ground are supported)")
        ids = {k: (f.findtext(k + "_identifier") or "").strip() for k in ("force", "point", "torque")}

        def columns(stem, required):
            names = [stem + a for a in "xyz"]
            if all(n in table.columns for n in names):
                return np.column_stack([np.where(outside, 0.0, np.interp(times, t, table[n].to_numpy()))
                                        for n in names])
            if required:
                raise FormatError(f"'{grf_mot}': no columns {names} for force '{f.get('name')}'")
            return np.zeros((times.size, 3))

        force = columns(ids["force"], True)
        point = columns(ids["point"], True) if ids["point"] else np.zeros((times.size, 3))
        torque = columns(ids["torque"], False) if ids["torque"] else np.zeros((times.size, 3))
        F, M = out.get(body, (np.zeros((times.size, 3)), np.zeros((times.size, 3))))
        out[body] = (F + force, M + np.cross(point, force) + torque)
    return out


def opensim_inverse_dynamics(model, coordinates, grf_mot=None, external_loads=None, cutoff_hz: float = 6.0,
                             time_range=None, step_s: float = 1e-4):
    """Generalised forces of every coordinate of ``model`` (a path or :class:`OpenSimModel`)
    along the motion in ``coordinates`` (an IK ``.mot``: degrees when its header says
    ``inDegrees=yes``), with the ground reactions of ``grf_mot`` applied as ``external_loads``
    (an OpenSim ExternalLoads XML) says — the quantity OpenSim's InverseDynamicsTool writes.

    Returns a DataFrame indexed by time (the coordinate file's samples within ``time_range``)
    with columns ``<coordinate>_moment`` (N·m) for rotational and ``<coordinate>_force`` (N)
    for translational coordinates, OpenSim's names. ``attrs["units"]`` per column;
    ``attrs["warnings"]`` lists coordinates missing from the file (held at 0).
    """
    import pandas as pd

    FormatError, InvalidArgument = _errors()
    if not isinstance(model, OpenSimModel):
        model = read_osim(model)
    table = read_opensim_storage(coordinates)
    t = table.index.to_numpy()
    if t.size < 8 or np.any(np.diff(t) <= 0):
        raise FormatError(f"opensim_inverse_dynamics: '{coordinates}' needs ≥ 8 increasing time samples")
    rate = (t.size - 1) / (t[-1] - t[0])
    steps = np.diff(t)
    if cutoff_hz and np.max(np.abs(steps - 1.0 / rate)) > 0.01 / rate:
        raise InvalidArgument(f"opensim_inverse_dynamics: '{coordinates}' is not uniformly sampled (steps "
                              f"{steps.min():.4g}–{steps.max():.4g} s): a low-pass filter needs one rate; "
                              "resample it, or give cutoff_hz=0 for coordinates filtered already")
    if cutoff_hz and not (0 < cutoff_hz < rate / 2):
        raise InvalidArgument(f"opensim_inverse_dynamics: cut-off {cutoff_hz} Hz is not below Nyquist ({rate / 2:.1f} Hz)")
    warnings = []
    from scipy.interpolate import make_interp_spline

    if not table.attrs["in_degrees"]:
        check_radians(table[[c for c in model.coordinates if model.rotational.get(c, False) and c in table.columns]]
                      .to_numpy(dtype=float), os.fspath(coordinates) if isinstance(coordinates, (str, os.PathLike))
                      else "coordinates")
    splines = {}
    for c in model.coordinates:
        if c in table.columns:
            x = table[c].to_numpy(dtype=float)
            if model.rotational.get(c, False) and table.attrs["in_degrees"]:
                x = np.deg2rad(x)
        else:
            x = np.zeros(t.size)
            warnings.append(f"coordinate {c} is not in '{coordinates}': held at 0")
        if cutoff_hz:
            x = _lowpass_reflect(x, rate, cutoff_hz)
        splines[c] = make_interp_spline(t, x, k=5)  # C⁴: smooth 2nd differences (OpenSim: quintic GCV)
    keep = np.ones(t.size, bool)
    if time_range is not None:
        keep = (t >= time_range[0] - 1e-9) & (t <= time_range[1] + 1e-9)
    times = t[keep]
    h = float(step_s)
    offsets = (-2, -1, 0, 1, 2)
    poses = {}
    for k in offsets:
        q = {c: s(times + k * h) for c, s in splines.items()}
        poses[k] = model.forward_kinematics(q)
    g = model.gravity
    # inertial wrench of each body minus gravity, about the ground origin
    wrench = {}
    for name, body in model.bodies.items():
        if name not in model.joints:
            continue
        R = {k: poses[k][name][0] for k in offsets}
        com = {k: poses[k][name][1] + np.einsum("nij,j->ni", R[k], body.com) for k in offsets}
        acc = (com[1] - 2 * com[0] + com[-1]) / h ** 2

        def omega(k):
            dR = (R[k + 1] - R[k - 1]) / (2 * h)
            return _vee(dR @ np.swapaxes(R[k], 1, 2))

        w = omega(0)
        alpha = (omega(1) - omega(-1)) / (2 * h)
        I_world = R[0] @ body.inertia @ np.swapaxes(R[0], 1, 2)
        F = body.mass * (acc - g)
        Iw = np.einsum("nij,nj->ni", I_world, w)
        M = np.cross(com[0], F) + np.einsum("nij,nj->ni", I_world, alpha) + np.cross(w, Iw)
        wrench[name] = (F, M)
    if grf_mot is not None or external_loads is not None:
        if grf_mot is None or external_loads is None:
            raise InvalidArgument("opensim_inverse_dynamics: give both grf_mot= and external_loads=")
        for name, (F, M) in _external_wrenches(model, grf_mot, external_loads, times, warnings).items():
            if name in wrench:
                wf, wm = wrench[name]
                wrench[name] = (wf - F, wm - M)
    cols, units = {}, {}
    base = {c: splines[c](times) for c in model.coordinates}
    for child, joint in model.joints.items():
        sub = model.subtree(child)
        F = sum(wrench[b][0] for b in sub)
        M = sum(wrench[b][1] for b in sub)
        R0, o0 = poses[0][child]
        for c in joint.coordinates:
            step = 1e-6
            plus = model.forward_kinematics({**base, c: base[c] + step})[child]
            minus = model.forward_kinematics({**base, c: base[c] - step})[child]
            v = (plus[1] - minus[1]) / (2 * step)
            w = _vee(((plus[0] - minus[0]) / (2 * step)) @ np.swapaxes(R0, 1, 2))
            M_o = M - np.cross(o0, F)
            tau = np.einsum("ni,ni->n", F, v) + np.einsum("ni,ni->n", M_o, w)
            name = f"{c}_moment" if model.rotational.get(c, False) else f"{c}_force"
            cols[name], units[name] = tau, "N·m" if model.rotational.get(c, False) else "N"
    df = pd.DataFrame(cols, index=pd.Index(times, name="time"))
    df.attrs["units"] = units
    df.attrs["warnings"] = warnings
    df.attrs["cutoff_hz"] = float(cutoff_hz)
    return df
