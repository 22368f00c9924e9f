"""``sportsmed cohort``: a whole study through one resumable pipeline (Dask), and the squad report.

    sportsmed cohort synthetic -n 200 -o study/ [--seed 0] [--corrupt 1] [--labelled K] [--mri-extent MM]
    sportsmed cohort run study/manifest.toml -o results/ [--steps motion,seg,mri,t2] [--scheduler tcp://host:8786]
                         [--workers N] [--force] [--strict] [--risk-model m.json] [--secret FILE] [--keep-ids]
                         [--seg-model m.pt] [--seg-context c.pt | --seg-no-context] [--seg-mirror]
                         [--seg-keep-largest]
    sportsmed cohort status results/ [--json]
    sportsmed cohort report results/ -o squad.html

Exit status of ``run``: 0 even when items failed (they are listed) unless ``--strict``, then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import InvalidArgument
from ._grammar import add_output


def _progress_mode(args) -> str:
    mode = getattr(args, "progress", None)
    if mode in ("none", "bar", "log"):
        return mode
    return "bar" if sys.stderr.isatty() else "none"


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _quiet_dask() -> None:
    import logging

    for name in ("distributed", "distributed.diskutils"):
        logging.getLogger(name).setLevel(logging.WARNING)


def cmd_run(args) -> int:
    from ..cohort import run_cohort

    _quiet_dask()
    steps = [s.strip() for s in args.steps.split(",") if s.strip()] if args.steps else None
    params = {"seg_mirror": args.seg_mirror, "seg_keep_largest": args.seg_keep_largest}
    if args.seg_model:
        params["seg_model"] = args.seg_model
    if args.seg_context and args.seg_no_context:
        raise InvalidArgument("cohort run: --seg-context and --seg-no-context given; give one")
    if args.seg_context or args.seg_no_context:
        params["seg_context"] = "none" if args.seg_no_context else args.seg_context
    if args.seg_context_weight is not None:
        params["seg_context_weight"] = args.seg_context_weight
    try:
        s = run_cohort(args.manifest, args.output, steps=steps, scheduler=args.scheduler, workers=args.workers,
                       force=args.force, risk_model=args.risk_model, secret=args.secret, keep_ids=args.keep_ids,
                       progress=_progress_mode(args), log=_log, kernel_threads=args.kernel_threads, params=params)
    except KeyboardInterrupt:
        print("sportsmed cohort run: interrupted; the items that finished are kept, run the same command again "
              "to resume", file=sys.stderr)
        return 130
    print(f"{s.items} items: {s.computed} computed, {s.skipped} unchanged (skipped), {s.failed} failed "
          f"in {s.seconds:.1f} s; tables in {s.output / 'tables'}")
    t = s.timings
    print(f"  time: plan {t['plan_s']:.1f} s, cluster {t['connect_s']:.1f} s, items {t['compute_s']:.1f} s, "
          f"tables {t['tables_s']:.1f} s")
    for f in s.failures:
        print(f"  failed: {f['item']}: {f['error_type']}: {f['error']}")
    return 1 if (args.strict and s.failed) else 0


def cmd_status(args) -> int:
    from ..cohort import cohort_status

    st = cohort_status(args.output)
    if args.json:
        print(json.dumps(st, indent=1))
        return 0
    summ = st.get("summary") or {}
    print(f"state: {st['state']} (started {st['started']}, finished {st.get('finished') or '—'}); "
          f"sportsmed {st['sportsmed_version']}; steps: {', '.join(st.get('steps') or [])}")
    if summ:
        print(f"last run: {summ.get('items')} items, {summ.get('computed')} computed, {summ.get('skipped')} skipped, "
              f"{summ.get('failed')} failed")
    for step, c in st["records"].items():
        print(f"  {step}: {c.get('ok', 0)} ok, {c.get('failed', 0)} failed (records on disk)")
    for f in st["failures"]:
        print(f"  failed: {f['item']} ({f.get('error_type', '')})")
    if st["state"] != "complete":
        print("the last run did not finish: `sportsmed cohort run` again resumes it")
    return 0


def cmd_synthetic(args) -> int:
    from ..cohort import make_synthetic_study

    path = make_synthetic_study(args.n, args.output, seed=args.seed, corrupt=args.corrupt,
                                mri_spacing_mm=args.mri_spacing, days=args.days,
                                progress=_progress_mode(args), workers=args.workers, labelled=args.labelled,
                                mri_extent_mm=args.mri_extent)
    print(f"wrote a synthetic study of {args.n} athletes to {args.output}: {path.name} (and manifest.csv, "
          "risk_model.json)")
    return 0


def cmd_report(args) -> int:
    from ..cohort._report import squad_report

    out = squad_report(args.results, args.output, change_deg=args.change_deg)
    print(f"squad report written to {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from ..cohort._report import CHANGE_DEG

    p = sub.add_parser("cohort", help="a whole study or squad through one resumable pipeline (Dask); squad report")
    cs = p.add_subparsers(dest="cohort_command", metavar="SUBCOMMAND")
    cs.required = True

    r = cs.add_parser("run", help="run the pipeline's steps over a manifest's items (resumable)")
    r.add_argument("manifest", help="study manifest (.csv or .toml): athlete_id, session_date, task, path")
    add_output(r, "output folder (tables, arrays, run.json)", required=True, type=Path)
    r.add_argument("--steps", default=None,
                   help="comma-separated steps: motion, dynamics, seg, mri, t2, workload, risk (default: all but "
                        "dynamics; risk when a model is known; seg is added when mri or t2 needs its labels)")
    r.add_argument("--scheduler", default=None,
                   help="address of an existing Dask scheduler, tcp://host:8786 (default: $SPORTSMED_DASK_SCHEDULER, "
                        "else a LocalCluster on this machine)")
    r.add_argument("--workers", type=int, default=None, help="LocalCluster worker processes (default: the cores)")
    r.add_argument("--kernel-threads", type=int, default=1, metavar="N",
                   help="threads of the C++ kernels in each task (default: 1, as Dask runs one task per worker "
                        "thread and a LocalCluster has one worker thread per core); raise it for workers started "
                        "with fewer threads than their machine's cores")
    r.add_argument("--force", action="store_true", help="recompute every item, even unchanged ones")
    r.add_argument("--strict", action="store_true", help="exit with status 1 when an item failed")
    r.add_argument("--risk-model", default=None, help="risk model (sportsmed risk train) for the risk step")
    r.add_argument("--secret", default=None,
                   help="file of the study's pseudonymisation secret, outside the output folder (default: "
                        "$SPORTSMED_COHORT_SECRET, else cohort.secret beside the manifest; created if absent)")
    r.add_argument("--keep-ids", action="store_true", help="write the manifest's athlete ids, not pseudonyms")
    r.add_argument("--seg-model", default=None, metavar="MODEL",
                   help="segmentation model of the seg step (.pt with its .json sidecar; default: the shipped knee "
                        "model)")
    r.add_argument("--seg-context", default=None, metavar="MODEL",
                   help="seg: the cascade's coarse context model (default: the shipped one with the shipped model, "
                        "none with --seg-model; as mri segment --context)")
    r.add_argument("--seg-no-context", action="store_true", help="seg: the model alone, no context model")
    r.add_argument("--seg-context-weight", type=float, default=None, metavar="W",
                   help="seg: the context model's share of the bones' mass (default 0.5; mri segment "
                        "--context-weight)")
    r.add_argument("--seg-mirror", action="store_true",
                   help="seg: average over the eight axis flips (better tibial cartilage, 8x the time; default: off)")
    r.add_argument("--seg-keep-largest", action="store_true",
                   help="seg: keep the largest piece of each one-structure class (the model's sidecar names them)")
    r.set_defaults(handler=cmd_run)

    s = cs.add_parser("status", help="what a cohort output folder holds (resumable state, failures)")
    s.add_argument("output", type=Path)
    s.add_argument("--json", action="store_true")
    s.set_defaults(handler=cmd_status)

    g = cs.add_parser("synthetic", help="write a synthetic study: C3D drop jumps, knee MRI (label map, image, "
                                        "multi-echo series), training logs")
    g.add_argument("-n", type=int, default=20, help="athletes (default: %(default)s)")
    add_output(g, "study folder", required=True, type=Path)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--corrupt", type=int, default=0, metavar="K",
                   help="zero the header of K drop-jump files (to see a failure row)")
    g.add_argument("--mri-spacing", type=float, default=1.0, help="knee MRI voxel size, mm (default: 1)")
    g.add_argument("--mri-extent", type=float, default=None, metavar="MM",
                   help="knee MRI field of view, mm (default: the phantom's, 84; the model segments at 1 mm, so a "
                        "smaller one is faster)")
    g.add_argument("--labelled", type=int, default=None, metavar="K",
                   help="athletes whose label map is in the manifest (default: half, rounded up); the others' "
                        "thickness and T2 come from the seg step")
    g.add_argument("--days", type=int, default=365, help="days of training log (default: 365)")
    g.add_argument("--workers", type=int, default=None, help="processes writing athletes (default: the cores)")
    g.set_defaults(handler=cmd_synthetic)

    rp = cs.add_parser("report", help="the squad report (offline HTML) of a cohort output folder")
    rp.add_argument("results", type=Path, help="cohort output folder")
    add_output(rp, "HTML to write (default: %(default)s)", default=Path("squad.html"), type=Path)
    rp.add_argument("--change-deg", type=float, default=CHANGE_DEG,
                    help="peak knee abduction change counted as a change between screenings (default: %(default)s)")
    rp.set_defaults(handler=cmd_report)
