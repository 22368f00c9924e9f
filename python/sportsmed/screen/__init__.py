"""The athlete screening report: a verdict of traffic-light flags first, then the evidence.

:func:`build_screen` reads an athlete's drop-jump trial(s) (C3D with force plates, or a TRC
with an OpenSim GRF .mot), an optional knee MRI label map (and image) and an optional
training log, grades what it measured against published thresholds
(:mod:`sportsmed.screen.criteria`) and returns a :class:`~sportsmed.report.Report`:

1. **Verdict** — one card per criterion: green / amber / red, or grey "not assessed"
   with the reason (an input missing, a value implausible); what it means, what to do.
2. **Evidence** — per input, the measures with plain labels and units, each checked
   against a physically plausible range (implausible rows are shaded and never graded),
   and the figures.
3. **Methods and quality assurance** — processing notes and warnings, and for the
   embedded synthetic athlete the checks against its known truth (angle recovery,
   phantom thickness, the squad model's honest evaluation).

With no input at all it screens the embedded synthetic athlete (``sportsmed demo``).
``report.to_json()`` is the JSON twin of every number shown.
"""

from __future__ import annotations

from ._build import ScreenInputs, build_screen
from .criteria import AMBER, GREEN, GREY, RED, Band, Criterion, Flag, overall

__all__ = ["AMBER", "GREEN", "GREY", "RED", "Band", "Criterion", "Flag", "ScreenInputs", "build_screen", "overall"]
