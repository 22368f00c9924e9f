"""Traffic-light criteria of the screening report: published thresholds, their sources,
what a flag means and what to do about it.

A :class:`Criterion` grades one measured value into green / amber / red by half-open
bands, or grey ("not assessed") when the value is missing, not finite or outside the
physically plausible range: **a flag is never green for a value it could not trust**.
Where a band's edge is this report's convention rather than a published number, the
criterion says so in ``threshold``.

Sources (as cited on each flag):

* Bates NA et al. 2020, Orthop J Sports Med 8(10):2325967120957646 — knee abduction at
  initial contact of a drop vertical jump ≥ 4.6° identified later ACL injury (78 %
  sensitivity, 83 % specificity; 205 female high-school athletes).
* Myer GD et al. 2011 (online 2010), Br J Sports Med 45(4):245–252 — high knee abduction
  moment during the drop vertical jump, > 25.25 N·m, as the surrogate of ACL injury risk
  (after Hewett TE et al. 2005, Am J Sports Med 33(4):492–501).
* Padua DA et al. 2009, Am J Sports Med 37(10):1996–2002 (Landing Error Scoring System) —
  a knee flexion displacement under 45° from initial contact to peak flexion is a scored
  error (a stiff landing).
* Grindem H et al. 2016, Br J Sports Med 50(13):804–808 — limb symmetry index ≥ 90 % as
  the return-to-sport criterion (strength and hop tests).
* Gabbett TJ 2016, Br J Sports Med 50(5):273–280 — acute:chronic workload ratio
  0.8–1.3 "sweet spot", ≥ 1.5 "danger zone" (contested: Impellizzeri FM et al. 2020,
  Int J Sports Physiol Perform 15(6):907–913).

None of these is a diagnosis: screening tests of this kind separate groups on average but
classify individuals poorly (Bahr 2016, Br J Sports Med 50:776–780; Krosshaug et al. 2016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Sequence

GREEN, AMBER, RED, GREY = "green", "amber", "red", "grey"

BATES_2020 = "Bates et al. 2020, Orthop J Sports Med 8(10):2325967120957646"
MYER_2011 = "Myer et al. 2011, Br J Sports Med 45(4):245-252 (after Hewett et al. 2005, Am J Sports Med 33:492)"
PADUA_2009 = "Padua et al. 2009, Am J Sports Med 37(10):1996-2002 (Landing Error Scoring System)"
GRINDEM_2016 = "Grindem et al. 2016, Br J Sports Med 50(13):804-808"
GABBETT_2016 = ("Gabbett 2016, Br J Sports Med 50(5):273-280; contested by Impellizzeri et al. 2020, "
                "Int J Sports Physiol Perform 15(6):907-913")


@dataclass(frozen=True)
class Band:
    """Values v with ``lo <= v < hi`` get ``status`` (``lo``/``hi`` may be ±inf). With
    ``closed="right"`` the band is ``lo < v <= hi`` (for thresholds published as "> x")."""

    status: str
    lo: float
    hi: float
    closed: str = "left"

    def contains(self, v: float) -> bool:
        if self.closed == "left":
            return self.lo <= v < self.hi
        return self.lo < v <= self.hi


@dataclass(frozen=True)
class Flag:
    """One graded measure of the verdict (see :meth:`Criterion.grade`)."""

    key: str
    label: str
    status: str
    value: Optional[float]
    value_text: str
    threshold: str
    source: str
    meaning: str
    action: str
    reason: str = ""

    def as_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "status": self.status, "value": self.value,
                "value_text": self.value_text, "threshold": self.threshold, "source": self.source,
                "meaning": self.meaning, "action": self.action, "reason": self.reason}


@dataclass(frozen=True)
class Criterion:
    """A measure graded by bands.

    Parameters
    ----------
    key : machine name (``knee_abduction_ic_left``)
    label : plain label with its unit ("Knee abduction at initial contact, left (°)")
    unit : unit shown after the value
    bands : the bands; a value in none of them is an error of the criterion (they must
        cover the plausible range)
    plausible : (low, high) physically plausible range; outside it the flag is grey
    plausible_why : why values outside the range are not believed
    threshold, source, meaning : shown on the flag
    actions : status → what to do
    decimals : digits shown
    """

    key: str
    label: str
    unit: str
    bands: Sequence[Band]
    plausible: tuple
    plausible_why: str
    threshold: str
    source: str
    meaning: str
    actions: dict = field(default_factory=dict)
    decimals: int = 1

    def format(self, value: float) -> str:
        """``value`` with ``decimals`` digits, or more where fewer would show a band's edge
        that the value is not (1.3049 under "green 0.8–1.3" shows as 1.305, not 1.30):
        the number shown and the colour must agree."""
        return f"{self._digits(value)} {self.unit}".strip()

    def _digits(self, value: float) -> str:
        v = float(value)
        if not math.isfinite(v):
            return f"{v}"
        edges = {e for b in self.bands for e in (b.lo, b.hi) if math.isfinite(e) and e != v}
        d = max(self.decimals, 0)
        for d in range(d, d + 7):
            text = f"{v:.{d}f}"
            if float(text) not in edges:
                return text
        return repr(v)  # the shortest text that reads back as v

    def implausible(self, value: Optional[float]) -> Optional[str]:
        """Why ``value`` is not believed, or None when it is a finite value in range."""
        if value is None or not math.isfinite(value):
            return "not measured"
        lo, hi = self.plausible
        if not lo <= value <= hi:
            return (f"{self.format(value)} is outside the plausible {lo:g}–{hi:g} {self.unit} "
                    f"({self.plausible_why})")
        return None

    def grade(self, value: Optional[float], missing_reason: str = "") -> Flag:
        """The flag of ``value``: grey when it is None/NaN (``missing_reason`` says why) or
        implausible, else the status of the band that holds it."""
        v = None if value is None else float(value)
        base = dict(key=self.key, label=self.label, threshold=self.threshold, source=self.source,
                    meaning=self.meaning)
        if v is None or not math.isfinite(v):
            return Flag(status=GREY, value=None, value_text="–", action=self.actions.get(GREY, ""),
                        reason=missing_reason or "not measured", **base)
        why = self.implausible(v)
        if why is not None:
            return Flag(status=GREY, value=v, value_text=self.format(v) + " (implausible)",
                        action="Check the recording and the processing before reading this measure.",
                        reason=why, **base)
        for band in self.bands:
            if band.contains(v):
                return Flag(status=band.status, value=v, value_text=self.format(v),
                            action=self.actions.get(band.status, ""), **base)
        raise ValueError(f"{self.key}: no band holds {v}")  # the bands must cover the plausible range


_INF = math.inf
_SIDES = {"left": "left", "right": "right"}


def knee_abduction_ic(side: str) -> Criterion:
    return Criterion(
        key=f"knee_abduction_ic_{side}", label=f"Knee abduction at initial contact, {side} (°)", unit="°",
        bands=[Band(GREEN, -_INF, 4.6), Band(RED, 4.6, _INF)], plausible=(-30.0, 30.0),
        plausible_why="beyond ±30° the knee model or the marker labels are wrong, not the knee",
        threshold="red ≥ 4.6° valgus, green below", source=BATES_2020,
        meaning="Valgus (knee collapsing inward) at the instant the foot lands. In 205 female high-school "
                "athletes, ≥ 4.6° identified those who later ruptured an ACL with 78 % sensitivity and 83 % "
                "specificity; a screening flag, not a diagnosis.",
        actions={GREEN: "No action from this measure.",
                 RED: "Neuromuscular landing training (hip abductor and external rotator strength, "
                      "knee-over-toe landing cues); re-test in 6–8 weeks.",
                 GREY: "Record a drop vertical jump with 3-D motion capture."})


def peak_knee_abduction_moment(side: str) -> Criterion:
    return Criterion(
        key=f"peak_knee_abduction_moment_{side}", label=f"Peak knee abduction moment, {side} (N·m)", unit="N·m",
        bands=[Band(GREEN, -_INF, 25.25, "right"), Band(RED, 25.25, _INF, "right")], plausible=(-300.0, 300.0),
        plausible_why="landing moments beyond 300 N·m exceed what knees withstand",
        threshold="red > 25.25 N·m (external abduction moment), green at or below", source=MYER_2011,
        meaning="The frontal-plane load that strains the ACL during landing. Above 25.25 N·m is the "
                "high-load group in which prospective studies found the ACL injuries.",
        actions={GREEN: "No action from this measure.",
                 RED: "Neuromuscular training aimed at frontal-plane knee control; athletes with high "
                      "abduction moments respond most to it. Re-test after the programme.",
                 GREY: "Needs a drop jump with force plates (centre of pressure) and a lower-body model "
                       "for inverse dynamics."})


def knee_flexion_excursion(side: str) -> Criterion:
    return Criterion(
        key=f"knee_flexion_excursion_{side}", label=f"Knee flexion excursion, {side} (°)", unit="°",
        bands=[Band(AMBER, -_INF, 45.0), Band(GREEN, 45.0, _INF)], plausible=(5.0, 150.0),
        plausible_why="a drop landing bends the knee by tens of degrees; outside this the contact window "
                      "or the angles are wrong",
        threshold="amber < 45° (a stiff landing, a LESS error), green ≥ 45°", source=PADUA_2009,
        meaning="How far the knee bends from touchdown to its deepest point: a soft landing absorbs the "
                "impact over a longer time; a stiff one loads the knee ligaments more.",
        actions={GREEN: "No action from this measure.",
                 AMBER: "Coach soft landings (bend hips and knees, 'land quietly'); combine with the valgus "
                        "flags before acting.",
                 GREY: "Record a drop vertical jump with force plates to time the contact."})


def landing_force_symmetry() -> Criterion:
    return Criterion(
        key="landing_force_lsi", label="Landing force symmetry, weaker/stronger leg (%)", unit="%",
        bands=[Band(RED, -_INF, 80.0), Band(AMBER, 80.0, 90.0), Band(GREEN, 90.0, _INF)],
        plausible=(20.0, 100.0),
        plausible_why="below 20 % one foot was barely on its plate: a plate assignment or a one-legged landing",
        threshold="green ≥ 90 % (published criterion); amber 80–90 % and red < 80 % are this report's "
                  "grading of the shortfall",
        source=GRINDEM_2016,
        meaning="Peak vertical ground reaction force of the less-loaded leg as a percentage of the other "
                "(limb symmetry index). Below 90 % one leg is protected or weaker.",
        actions={GREEN: "No action from this measure.",
                 AMBER: "Re-test; if it persists, assess single-leg strength and hop symmetry.",
                 RED: "Assess the weaker leg (strength, pain, history of injury) before full return to "
                      "jumping and cutting.",
                 GREY: "Needs the vertical force under each foot (two plates or a GRF .mot)."},
        decimals=0)


def acwr() -> Criterion:
    return Criterion(
        key="acwr", label="Acute:chronic workload ratio, last day (7 d / 28 d)", unit="", decimals=2,
        bands=[Band(AMBER, -_INF, 0.8), Band(GREEN, 0.8, 1.3, "left"), Band(AMBER, 1.3, 1.5), Band(RED, 1.5, _INF)],
        plausible=(0.0, 10.0),
        plausible_why="a ratio beyond 10 means an empty chronic window, not a training spike",
        threshold="green 0.8–1.3, amber < 0.8 or 1.3–1.5, red ≥ 1.5", source=GABBETT_2016,
        meaning="This week's load against the last four weeks' average. A spike well above what the "
                "athlete is used to was associated with more injuries; the evidence is observational and "
                "disputed, so read it as a prompt to look at the plan.",
        actions={GREEN: "Load is in line with what the athlete is prepared for.",
                 AMBER: "Review the plan: build load gradually (below 0.8 the athlete is detraining; "
                        "1.3–1.5 is a steep increase).",
                 RED: "Reduce this week's load or spread it; avoid further spikes until the chronic load "
                      "catches up.",
                 GREY: "Needs at least 28 consecutive days of training load."})


def cartilage_region_ratio(region: str = "") -> Criterion:
    where = f" ({region})" if region else ""
    return Criterion(
        key="cartilage_thinnest_region", label=f"Thinnest cartilage region vs its plate's mean{where} (%)",
        unit="%", decimals=0,
        bands=[Band(RED, -_INF, 50.0), Band(AMBER, 50.0, 75.0), Band(GREEN, 75.0, _INF)],
        plausible=(5.0, 300.0),
        plausible_why="a region under 5 % of its plate is a labelling gap, not cartilage",
        threshold="this report's convention (no published cut-off): amber < 75 %, red < 50 % of the "
                  "plate's mean; thickness varies by region in healthy knees (Eckstein et al. 2006, "
                  "Osteoarthritis Cartilage 14:974)",
        source="regional nearest-surface thickness of this knee (sportsmed imaging)",
        meaning="A region much thinner than the rest of the same cartilage plate can be focal cartilage "
                "loss — or a segmentation error. It compares the knee with itself, not with a population.",
        actions={GREEN: "No regional thinning beyond the knee's own variation.",
                 AMBER: "Have a radiologist look at this region on the images.",
                 RED: "Have a radiologist review the region (focal defect or segmentation error?) before "
                      "loading decisions.",
                 GREY: "Needs a knee label map with femoral and tibial cartilage and bones, with names."})


def drop_jump_criteria() -> list[Criterion]:
    """The drop-jump criteria in the order of the verdict."""
    out = []
    for side in ("left", "right"):
        out.append(knee_abduction_ic(side))
    for side in ("left", "right"):
        out.append(peak_knee_abduction_moment(side))
    for side in ("left", "right"):
        out.append(knee_flexion_excursion(side))
    out.append(landing_force_symmetry())
    return out


def limb_symmetry_index(left: float, right: float) -> float:
    """Smaller / larger × 100 (%), NaN when either is missing or not positive."""
    if not (math.isfinite(left) and math.isfinite(right)) or left <= 0 or right <= 0:
        return math.nan
    return 100.0 * min(left, right) / max(left, right)


def overall(flags: Sequence[Flag]) -> str:
    """The worst assessed status (red > amber > green); grey when nothing was assessed."""
    order = {RED: 3, AMBER: 2, GREEN: 1}
    graded = [f.status for f in flags if f.status in order]
    return max(graded, key=order.get) if graded else GREY
