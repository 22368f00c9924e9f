"""The main job: the screening report of the embedded synthetic athlete.

``sportsmed demo`` is :func:`sportsmed.screen.build_screen` with no input (the same code
path as ``sportsmed screen`` without inputs): the verdict and the evidence of the synthetic
athlete, and an appendix of checks against its known truth. Each pillar registers its
appendix builder with :func:`register_section` from ``sportsmed.<pillar>._demo``;
:func:`qa_sections` calls those of the pillars that are built.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from ._pillars import PillarNotAvailable, available_pillars
from .progress import ProgressCallback
from .report import Report

#: builder(report, workdir, progress) adds one or more sections to ``report``
SectionBuilder = Callable[[Report, Path, ProgressCallback], None]


@dataclass(frozen=True)
class DemoSection:
    pillar: str
    title: str
    build: SectionBuilder


_SECTIONS: list[DemoSection] = []


def register_section(pillar: str, title: str, build: SectionBuilder) -> None:
    """Adds an appendix section contributed by ``pillar`` (shown only when it is built)."""
    if not any(s.pillar == pillar and s.title == title for s in _SECTIONS):
        _SECTIONS.append(DemoSection(pillar, title, build))


def _load_pillar_sections() -> None:
    for pillar in available_pillars():
        try:
            importlib.import_module(f"sportsmed.{pillar}._demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"sportsmed.{pillar}._demo" and exc.name != f"sportsmed.{pillar}":
                raise  # a real missing dependency inside the pillar's demo


def sections() -> list[DemoSection]:
    """The registered sections whose pillar is part of this build."""
    _load_pillar_sections()
    built = set(available_pillars())
    return [s for s in _SECTIONS if s.pillar in built]


def qa_sections(report: Report, workdir: Path, progress: Optional[ProgressCallback] = None) -> None:
    """Adds the pillars' appendix sections (checks of the synthetic athlete against its truth)."""
    todo = sections()
    callback = progress or (lambda fraction, stage: True)
    for k, section in enumerate(todo):
        lo, hi = k / len(todo), (k + 1) / len(todo)
        section.build(report, workdir, lambda f, s, lo=lo, hi=hi: callback(lo + (hi - lo) * float(f), s))


def run_demo(out: Path, workdir: Path, progress: Optional[ProgressCallback] = None,
             json_out: Optional[Path] = None) -> Path:
    """Builds the screening report of the synthetic athlete into ``out`` (HTML) and, when
    given, its JSON twin into ``json_out``.

    Raises
    ------
    PillarNotAvailable
        When no pillar that contributes to the demo is part of this build.
    """
    from .screen import build_screen

    if not available_pillars():
        raise PillarNotAvailable(
            "the demo needs at least one pillar (motion, imaging/seg or risk) and none is part "
            "of this build yet; `sportsmed info` lists what is built"
        )
    report = build_screen(progress=progress, qa=True, workdir=workdir)
    if json_out is not None:
        report.save_json(json_out)
    return report.save(out)
