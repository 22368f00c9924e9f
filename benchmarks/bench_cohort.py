"""Cohort runs on Dask against calling the same step functions in a plain loop.

Each case runs ``sportsmed.cohort.run_cohort(..., force=True)`` on a pre-started
``LocalCluster`` of 1 or 2 worker processes (its start-up is timed separately and printed) and,
as the peer, :func:`sportsmed.cohort.execute_item` (the step function plus writing its arrays)
in a plain loop in this process. Both report seconds per item; the Dask side's is its compute
phase (first submit to last record written) over the items; the per-run costs (plan: manifest,
input hashes, records; connect; tables) are printed. Speed-up = loop / Dask; items/s = 1 / Dask.

    .venv/bin/python benchmarks/run.py -k cohort -o /tmp/cohort.md
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from pathlib import Path

from harness import Case

N_ATHLETES = 6
MRI_SPACING_MM = 0.5   # 168^3 label maps: items of about a second or more
_state: dict = {}


def _study() -> Path:
    if "study" not in _state:
        from sportsmed import cohort

        root = Path(tempfile.mkdtemp(prefix="sportsmed-bench-cohort-"))
        atexit.register(shutil.rmtree, root, True)
        _state["root"] = root
        _state["study"] = cohort.make_synthetic_study(N_ATHLETES, root / "study", seed=3, mri_spacing_mm=MRI_SPACING_MM)
    return _state["study"]


def _cluster(workers: int) -> str:
    key = f"cluster{workers}"
    if key not in _state:
        from distributed import LocalCluster

        t0 = time.perf_counter()
        c = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                         silence_logs=40)
        from distributed import Client

        with Client(c) as client:   # the workers import sportsmed once, as the first task would
            client.run(lambda: __import__("sportsmed.cohort"))
        print(f"    LocalCluster of {workers} worker(s) started (sportsmed imported) in "
              f"{time.perf_counter() - t0:.2f} s", flush=True)
        atexit.register(c.close)
        _state[key] = c
    return _state[key].scheduler_address


def _setup(step: str, workers: int):
    def setup():
        from sportsmed import cohort

        manifest = cohort.read_manifest(_study())
        addr = _cluster(workers)
        out = _state["root"] / f"out-{step}-{workers}"
        loop_out = _state["root"] / f"loop-{step}"
        items = cohort.plan_items(manifest, [step], b"benchmark-secret-0123456789")
        specs = [{"step": step, "entry": it.entry, "item_id": it.item_id, "out": str(loop_out), "kernel_threads": 1,
                  "params": {"missing": "zero", "load": "daily_load", "cartilage": "femoral_cartilage",
                             "bone": "femur", "bates_threshold_deg": 4.6}} for it in items]
        return {"manifest": manifest, "addr": addr, "out": out, "step": step, "specs": specs}
    return setup


def _ours(d):
    from sportsmed import cohort

    s = cohort.run_cohort(d["manifest"], d["out"], steps=[d["step"]], scheduler=d["addr"], force=True,
                          secret=_state["root"] / "secret")
    assert s.computed == len(d["specs"]) and s.failed == 0
    t = s.timings
    print(f"    run of {s.computed} items: {s.seconds:.2f} s = plan {t['plan_s']:.2f} + connect {t['connect_s']:.2f} + "
          f"compute {t['compute_s']:.2f} ({s.computed / t['compute_s']:.2f} items/s) + tables {t['tables_s']:.2f}",
          flush=True)
    # per item: from the first submit to the last result recorded (the per-run costs are printed)
    return t["compute_s"] / s.computed


def _theirs(d):
    import sportsmed
    from sportsmed import cohort

    saved = sportsmed.num_threads()
    t0 = time.perf_counter()
    for spec in d["specs"]:
        r = cohort.execute_item(spec)
        assert r["status"] == "ok", r
    dt = (time.perf_counter() - t0) / len(d["specs"])
    sportsmed.set_num_threads(saved)
    return dt


def _agree(a, b):
    assert a > 0 and b > 0


def _check_tables(step: str, workers: int):
    """The Dask run's table holds the values the plain loop computes (checked once per case)."""
    def agree(a, b):
        import numpy as np

        from sportsmed import cohort

        _agree(a, b)
        d = _state.get("last")
        df = cohort.read_table(_state["root"] / f"out-{step}-{workers}", step)
        loop = [cohort.execute_item(spec)["rows"][0] for spec in _setup(step, workers)()["specs"][:2]]
        col = "thickness_mean_mm" if step == "mri" else "jump_height_m"
        assert np.isin(np.round([r[col] for r in loop], 12), np.round(df[col].to_numpy(float), 12)).all(), d
    return agree


CASES = [
    Case(f"cohort run, {N_ATHLETES} knee MRI items, 168³ at 0.5 mm (thickness + regions + map), {w} worker(s), "
         "per item",
         "the same step functions in a plain loop (one process)", _setup("mri", w), _ours, _theirs,
         _check_tables("mri", w), threads=1, repeat=3, reported=True)
    for w in (1, 2)
] + [
    Case(f"cohort run, {2 * N_ATHLETES} drop-jump items (features), {w} worker(s), per item",
         "the same step functions in a plain loop (one process)", _setup("motion", w), _ours, _theirs,
         _check_tables("motion", w), threads=1, repeat=3, reported=True)
    for w in (1, 2)
]

NOTES = """
Cohort runs (`bench_cohort.py`; rows above). Measured on the project's shared 2-core machine
while other engineers built and tested (load average 13-18): read them as rough figures, not
as this code's best. sportsmed = `cohort.run_cohort` on a pre-started `LocalCluster`, seconds
per item from the first submit to the last record written; peer = `cohort.execute_item` (the
step function plus writing its NIfTI map) in a plain loop; best of 3 runs each.

- Items/s (2026-12-06): knee MRI items at 0.5 mm (~1.5-3 s each): 0.31/s with 1 worker,
  0.40/s with 2; drop-jump items (~4-7 ms each): 27/s with 1 worker, 55/s with 2.
- Overhead per item against the plain loop: +0.19 s (+6 %) on the MRI items with 1 worker
  (3.21 s against 3.02 s); the loop itself moved between 1.4 and 3.0 s per item from one
  round to the next, so the < 5 % goal can be neither confirmed nor refuted on this machine.
- Tiny items: 14-30 ms of overhead per drop jump (2 and 1 workers). Measured beside it: a Dask task round trip of
  an empty function ~18 ms per task with 200 in flight (~39 ms one at a time) and the
  atomic, fsync'd item record ~12 ms. Scheduling and the durable per-item record dominate;
  batching small items into one task would amortise both (not done).
- Per-run costs (not per item): LocalCluster start 3-8 s (workers import sportsmed), manifest
  hashing and record checks ~1-5 s for 1000 items, tables 14-23 s for 1000 items (the
  workload and risk tables have 73,000 rows each).
- The full study, once (`sportsmed cohort synthetic -n 200 -o study --corrupt 1`, then
  `sportsmed cohort run study/manifest.toml -o results`, timed with `/usr/bin/time`): 200
  athletes × (2 drop jumps + 1 knee MRI at 1 mm + 1 year of loads) = 1000 items on the default
  LocalCluster (2 workers × 1 thread): **252 s wall** (cluster 4.1 s, items 226.8 s, tables
  13.8 s); 999 items ok, the 1 corrupt C3D one failure row (FormatError). Re-run: 40.7 s,
  999 items skipped, the failed one retried. Squad report: 12.4 s. Generating the study took
  740 s (written one athlete at a time then; the generator now uses a process pool).
"""
