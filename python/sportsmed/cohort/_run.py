"""Runs a study's steps over its items on Dask, resumably, into one output folder.

Output folder layout::

    run.json                 the run manifest: sportsmed/dask versions, parameters, steps,
                             every item (id, key, input SHA-256, status, when computed)
    items/<step>/<id>.json   one record per item (rows or the typed error), written atomically
                             as each item finishes: what makes a killed run resumable
    arrays/<step>/<id>_<name>.nii.gz   large arrays (thickness maps) per item
    tables/<step>.csv, tables/<step>.h5   one table per step (CSV and HDF5, same content)
    tables/failures.csv      one row per failed item: step, item, error type, message

An item's key is the SHA-256 of its step (name, version), its input file's SHA-256 and the
parameters the step depends on (the risk model by its content). A re-run skips an item whose
record holds the same key and succeeded; ``force=True`` recomputes everything; failed items
are retried.

One code path: a ``dask.distributed`` client on a ``LocalCluster`` (workers = cores, one thread
each) unless ``scheduler`` (or ``$SPORTSMED_DASK_SCHEDULER``) names an existing scheduler.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import hmac
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

from ._manifest import Entry, Manifest, read_manifest
from ._steps import STEPS, StepInput

RUN_FORMAT = "sportsmed.cohort.run"
RECORD_FORMAT = "sportsmed.cohort.item"
FORMAT_VERSION = 1
SCHEDULER_ENV = "SPORTSMED_DASK_SCHEDULER"
SECRET_ENV = "SPORTSMED_COHORT_SECRET"


# -- pseudonyms -----------------------------------------------------------------------------------

def _pseudonymise(ids: Sequence[str], secret: bytes) -> list[str]:
    """The study pseudonym of each id (:func:`sportsmed.privacy.pseudonym`: ``sm_`` + 16 hex
    digits of HMAC-SHA256 under the study's secret)."""
    from ..privacy import pseudonym

    return [pseudonym(str(i), secret) for i in ids]


def load_secret(path: Union[str, os.PathLike], output: Path, create: bool = True) -> bytes:
    """The study's pseudonymisation secret (:func:`sportsmed.privacy.load_or_create_secret`:
    32 random bytes, mode 0600, created when absent and ``create``). A secret inside the
    output folder is refused: the outputs must not carry the key to their own ids."""
    from .. import InvalidArgument
    from ..privacy import load_or_create_secret

    if not create and not Path(path).exists():
        raise InvalidArgument(f"cohort: no secret at '{path}'")
    return load_or_create_secret(path, protects=output)


# -- hashing and items ----------------------------------------------------------------------------

def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Item:
    step: str
    item_id: str                 #: pseudonymous: <athlete pseudonym>_<date>_<8 hex of the path's HMAC>
    athlete: str                 #: pseudonym (or the manifest id with keep_ids)
    entry: Entry
    key: str = ""
    input_sha256: str = ""
    error: Optional[tuple[str, str]] = None   #: (type, message) found before running


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


def _scrub(message: str, entry: Entry, athlete: str, item_id: str) -> str:
    """An error message without the input's path or the athlete's identity."""
    for text in (str(entry.path), os.path.basename(entry.path)):
        message = message.replace(text, f"<{entry.task} {item_id}>")
    return message.replace(entry.athlete_id, athlete)


# -- on the worker --------------------------------------------------------------------------------

def _write_nifti_atomic(array, geometry, path: Path) -> None:
    import tempfile

    from .. import imaging

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".nii.gz", dir=path.parent)
    os.close(fd)
    try:
        imaging.write_image(imaging.Image(array, geometry), tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def execute_item(spec: dict) -> dict:
    """Runs one item (on a Dask worker or in-process): the step's rows or its typed error.
    Arrays go to ``spec['out']/arrays/<step>/`` as NIfTI, written atomically."""
    import sportsmed

    sportsmed.set_num_threads(int(spec.get("kernel_threads", 1)))
    step = STEPS[spec["step"]]
    entry: Entry = spec["entry"]
    inp = StepInput(entry.path, entry.athlete_id, entry.session_date, entry.body_mass_kg)
    t0 = time.perf_counter()
    started = _now()
    try:
        out = step.run(inp, spec["params"])
        arrays = {}
        for name, (array, geometry) in out.arrays.items():
            rel = Path("arrays") / step.name / f"{spec['item_id'].split('/')[-1]}_{name}.nii.gz"
            _write_nifti_atomic(array, geometry, Path(spec["out"]) / rel)
            arrays[name] = str(rel)
        result = {"status": "ok", "rows": out.rows, "arrays": arrays, "warnings": out.warnings}
    except (sportsmed.Error, OSError, ValueError, KeyError, RuntimeError) as exc:
        # typed failures of one item (a corrupt file, a missing force plate): recorded, the run goes on
        result = {"status": "failed", "error_type": type(exc).__name__, "error": str(exc)}
    result.update(started=started, seconds=time.perf_counter() - t0, computed_at=_now())
    return result


# -- the client -----------------------------------------------------------------------------------

@dataclass
class RunSummary:
    output: Path
    items: int
    computed: int
    skipped: int
    failed: int
    failures: list[dict]
    seconds: float
    dashboard: Optional[str]
    scheduler: str
    #: wall seconds per phase: plan (manifest, input hashes, records), connect (cluster start or
    #: connection), compute (first submit to last result recorded), tables (CSV/HDF5, run.json)
    timings: dict


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


@contextlib.contextmanager
def dask_client(scheduler: Optional[str] = None, workers: Optional[int] = None):
    """A ``dask.distributed.Client``: connected to ``scheduler`` (or $SPORTSMED_DASK_SCHEDULER)
    when given, else to a new ``LocalCluster`` of ``workers`` (default: cores) processes with one
    thread each, so that the GIL-free C++ kernels (set to one thread per task) fill the cores
    without oversubscribing them."""
    from distributed import Client, LocalCluster

    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address:
        from .. import Error

        try:
            client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise Error(f"cohort: cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or _cpu_count()
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as client:
        yield client


def _progress(mode: str, total: int):
    if mode == "bar" and total:
        from tqdm import tqdm

        return tqdm(total=total, desc="cohort", unit="item", file=sys.stderr)
    return None


def plan_items(manifest: Manifest, steps: Sequence[str], secret: bytes, keep_ids: bool = False) -> list[Item]:
    """The items of ``steps`` over the manifest's entries (ids pseudonymous unless keep_ids)."""
    athletes = sorted({e.athlete_id for e in manifest.entries})
    pseud = dict(zip(athletes, _pseudonymise(athletes, secret)))
    items = []
    for e in manifest.entries:
        for name in steps:
            if STEPS[name].task != e.task:
                continue
            p = pseud[e.athlete_id]
            tag = _pseudonymise([os.fspath(e.path)], secret)[0][3:11]
            who = e.athlete_id if keep_ids else p
            items.append(Item(name, f"{name}/{who}_{e.session_date or 'all'}_{tag}",
                              e.athlete_id if keep_ids else p, e))
    return items


def _resolve_steps(steps: Optional[Sequence[str]], manifest: Manifest, risk_model) -> list[str]:
    from .. import InvalidArgument

    if steps:
        unknown = [s for s in steps if s not in STEPS]
        if unknown:
            raise InvalidArgument(f"cohort: unknown step(s) {', '.join(unknown)}; steps are {', '.join(STEPS)}")
        if "risk" in steps and risk_model is None:
            raise InvalidArgument("cohort: the risk step needs a risk model (--risk-model, or risk_model in a TOML "
                                  "manifest)")
        return list(dict.fromkeys(steps))
    chosen = [s.name for s in STEPS.values() if s.default]
    if risk_model is None:
        chosen.remove("risk")
    return chosen


def _record_path(out: Path, item: Item) -> Path:
    return out / "items" / f"{item.item_id}.json"


def _load_record(path: Path) -> Optional[dict]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == RECORD_FORMAT else None


def run_cohort(manifest: Union[str, os.PathLike, Manifest], output: Union[str, os.PathLike],
               steps: Optional[Sequence[str]] = None, scheduler: Optional[str] = None,
               workers: Optional[int] = None, force: bool = False, risk_model=None,
               secret: Union[None, str, os.PathLike] = None, keep_ids: bool = False,
               params: Optional[dict] = None, progress: str = "none", kernel_threads: int = 1,
               log=None) -> RunSummary:
    """Runs ``steps`` (default: every default step that has its inputs) over the manifest's
    items into ``output``; see the module docstring for the layout.

    Parameters
    ----------
    scheduler : ``tcp://host:port`` of an existing Dask scheduler (else $SPORTSMED_DASK_SCHEDULER,
        else a LocalCluster of ``workers`` processes, default: the cores).
    force : recompute every item, even those whose key is unchanged.
    risk_model : path of a ``sportsmed risk train`` model for the risk step (else the TOML
        manifest's ``risk_model``; without one the risk step is left out by default).
    secret : file of the per-study pseudonymisation secret (else $SPORTSMED_COHORT_SECRET, else
        ``cohort.secret`` beside the manifest), created when absent; must lie outside ``output``.
    keep_ids : write the manifest's athlete ids instead of pseudonyms.
    progress : "bar" (tqdm over items), "log" (a line per item) or "none".
    kernel_threads : threads of the C++ kernels inside each task (``sportsmed.set_num_threads``);
        1 suits one worker thread per core (the LocalCluster's layout).
    """
    from .. import __version__
    from .._io import write_json_atomic

    t_start = time.perf_counter()
    m = manifest if isinstance(manifest, Manifest) else read_manifest(manifest)
    out = Path(output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    secret_path = Path(secret or os.environ.get(SECRET_ENV) or (m.path.parent / "cohort.secret"))
    key_bytes = load_secret(secret_path, out)
    rm = Path(risk_model).resolve() if risk_model else m.risk_model
    chosen = _resolve_steps(steps, m, rm)
    run_params = {"missing": "zero", "load": "daily_load", "cartilage": "femoral_cartilage", "bone": "femur",
                  "dynamics_cutoff_hz": 15.0}
    from ..risk import BATES_2020

    run_params["bates_threshold_deg"] = BATES_2020["threshold_deg"]
    run_params.update(params or {})
    key_params = dict(run_params)
    if rm is not None:
        run_params["risk_model"] = str(rm)
        try:
            key_params["risk_model"] = file_sha256(rm)
        except OSError as exc:
            from .. import NotFound

            raise NotFound(f"cohort: cannot read the risk model '{rm}': {exc.strerror or exc}") from None

    timings = {"plan_s": 0.0, "connect_s": 0.0, "compute_s": 0.0, "tables_s": 0.0}
    items = plan_items(m, chosen, key_bytes, keep_ids)
    hashes: dict[Path, str] = {}
    todo, skipped = [], []
    loaded: dict[str, dict] = {}
    for it in items:
        step = STEPS[it.step]
        if it.entry.path not in hashes:
            try:
                hashes[it.entry.path] = file_sha256(it.entry.path)
            except OSError as exc:
                hashes[it.entry.path] = ""
                it.error = ("NotFound", f"cannot read the input: {exc.strerror or exc}")
        it.input_sha256 = hashes[it.entry.path]
        material = {"step": step.name, "version": step.version, "input": it.input_sha256,
                    "session_date": it.entry.session_date, "body_mass_kg": it.entry.body_mass_kg,
                    "params": {k: key_params.get(k) for k in step.params}}
        it.key = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
        rec = None if force else _load_record(_record_path(out, it))
        if rec is not None and rec.get("key") == it.key and rec.get("status") == "ok":
            skipped.append(it)
            loaded[it.item_id] = rec
        else:
            todo.append(it)

    started = _now()
    run_doc = {"format": RUN_FORMAT, "format_version": FORMAT_VERSION, "sportsmed_version": __version__,
               "state": "running", "started": started, "manifest_sha256": file_sha256(m.path),
               "steps": chosen,
               "parameters": {**key_params, **({"risk_model_file": rm.name} if rm is not None else {})},
               "keep_ids": keep_ids,
               "pseudonyms": "ids" if keep_ids else "HMAC-SHA256 of the manifest's athlete_id with the study secret"}
    write_json_atomic(out / "run.json", {**run_doc, "items": []})

    computed: dict[str, dict] = {}
    dashboard, where = None, "none needed"
    timings["plan_s"] = time.perf_counter() - t_start
    bar = None

    def finish(it: Item, result: dict) -> None:
        if result.get("status") == "failed":
            result["error"] = _scrub(result.get("error", ""), it.entry, it.athlete, it.item_id)
        result["warnings"] = [_scrub(w, it.entry, it.athlete, it.item_id) for w in result.get("warnings") or []]
        rec = {"format": RECORD_FORMAT, "format_version": FORMAT_VERSION, "item": it.item_id, "step": it.step,
               "key": it.key, "athlete": it.athlete, "session_date": it.entry.session_date,
               "task": it.entry.task, "input_sha256": it.input_sha256, **result}
        path = _record_path(out, it)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, rec, indent=None)
        computed[it.item_id] = rec
        if bar is not None:
            bar.update(1)
        if progress == "log" and log is not None:
            log(f"{it.item_id}: {rec['status']}"
                + (f" ({rec['error_type']}: {rec['error']})" if rec["status"] == "failed" else ""))

    runnable = []
    for it in todo:
        if it.error is not None:
            finish(it, {"status": "failed", "error_type": it.error[0], "error": it.error[1], "computed_at": _now(),
                        "seconds": 0.0})
        else:
            runnable.append(it)
    try:
        if runnable:
            from distributed import as_completed

            t_connect = time.perf_counter()
            with dask_client(scheduler, workers) as client:
                t_compute = time.perf_counter()
                timings["connect_s"] = t_compute - t_connect
                where = client.scheduler.address if hasattr(client.scheduler, "address") else str(client)
                dashboard = getattr(client, "dashboard_link", None) if _has_dashboard(client) else None
                if log is not None:
                    import importlib.util

                    note = "" if importlib.util.find_spec("bokeh") else " (its pages need bokeh, not installed)"
                    log(f"dask scheduler {where}" + (f"; dashboard {dashboard}{note}" if dashboard else ""))
                bar = _progress(progress, len(runnable))   # after the cluster is up: items only
                futures = {}
                for it in runnable:
                    spec = {"step": it.step, "entry": it.entry, "item_id": it.item_id, "params": run_params,
                            "out": str(out), "kernel_threads": kernel_threads}
                    fut = client.submit(execute_item, spec, key=f"{it.item_id}-{it.key[:12]}", pure=False)
                    futures[fut.key] = (fut, it)
                for fut in as_completed([f for f, _ in futures.values()]):
                    it = futures[fut.key][1]
                    try:
                        result = fut.result()
                    except Exception as exc:  # noqa: BLE001  (a worker died or the task could not run)
                        result = {"status": "failed", "error_type": type(exc).__name__, "error": str(exc),
                                  "computed_at": _now(), "seconds": float("nan")}
                    finish(it, result)
                timings["compute_s"] = time.perf_counter() - t_compute
    finally:
        if bar is not None:
            bar.close()

    t_tables = time.perf_counter()
    records = []
    for it in items:
        rec = computed.get(it.item_id) or loaded.get(it.item_id) or _load_record(_record_path(out, it))
        if rec is None:
            continue
        records.append((it, rec))
    failures = write_tables(out, chosen, [r for _, r in records])
    timings["tables_s"] = time.perf_counter() - t_tables
    run_doc.update(state="complete", finished=_now(), scheduler=where, dashboard=dashboard,
                   seconds=time.perf_counter() - t_start, timings=timings,
                   summary={"items": len(items), "computed": len(computed), "skipped": len(skipped),
                            "failed": len(failures)},
                   items=[{"item": it.item_id, "step": it.step, "key": it.key, "input_sha256": it.input_sha256,
                           "status": rec["status"], "computed_at": rec.get("computed_at"),
                           "computed_in_this_run": it.item_id in computed,
                           **({"error_type": rec["error_type"]} if rec["status"] == "failed" else {})}
                          for it, rec in records])
    write_json_atomic(out / "run.json", run_doc)
    return RunSummary(out, len(items), len(computed), len(skipped), len(failures), failures,
                      time.perf_counter() - t_start, dashboard, where, timings)


def _has_dashboard(client) -> bool:
    try:
        return bool(client.scheduler_info().get("services", {}).get("dashboard"))
    except Exception:  # noqa: BLE001
        return False


# -- tables ---------------------------------------------------------------------------------------

ID_COLUMNS = ("athlete", "session_date", "item")


def step_table(records: Sequence[dict], step: str):
    """The rows of a step's successful records as one DataFrame, sorted (deterministic
    whatever order the items finished in)."""
    import pandas as pd

    rows = []
    for rec in records:
        if rec.get("step") != step or rec.get("status") != "ok":
            continue
        for row in rec.get("rows", []):
            base = {"athlete": rec["athlete"], "session_date": rec.get("session_date", ""), "item": rec["item"]}
            for name, rel in (rec.get("arrays") or {}).items():
                base[f"{name}_nifti"] = rel
            base["warnings"] = "; ".join(rec.get("warnings") or [])
            rows.append({**base, **row})
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    order = [c for c in ("athlete", "session_date", "item", "date") if c in df.columns]
    df = df.sort_values(order, kind="mergesort").reset_index(drop=True)
    front = [c for c in ID_COLUMNS if c in df.columns]
    return df[front + [c for c in df.columns if c not in front]]


def write_h5_table(df, path: Path) -> None:
    """Writes ``df`` as HDF5, one dataset per column (gzip), written to a temporary file and
    renamed. Text columns are fixed-length UTF-8 byte strings (attribute ``encoding``); column
    order is in the root's ``columns`` attribute."""
    import tempfile

    import h5py
    import numpy as np

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["columns"] = json.dumps(list(df.columns))
            f.attrs["format"] = "sportsmed.cohort.table"
            for col in df.columns:
                s = df[col]
                if s.dtype.kind in "fiub":
                    data = s.to_numpy()
                    f.create_dataset(col, data=data, compression="gzip" if len(data) > 64 else None)
                else:
                    # fixed-length UTF-8 bytes: unlike variable-length strings, they compress
                    data = np.array([("" if v is None or (isinstance(v, float) and v != v) else str(v)).encode()
                                     for v in s])
                    if data.dtype.itemsize == 0 or len(data) == 0:
                        data = data.astype("S1")
                    ds = f.create_dataset(col, data=data, compression="gzip" if len(data) > 64 else None)
                    ds.attrs["encoding"] = "utf-8"
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_h5_table(path: Union[str, os.PathLike]):
    """Reads a table written by :func:`write_h5_table` back into a DataFrame."""
    import h5py
    import numpy as np
    import pandas as pd

    with h5py.File(path, "r") as f:
        cols = json.loads(f.attrs["columns"])
        data = {}
        for c in cols:
            d = f[c]
            if d.dtype.kind == "S":
                data[c] = np.array([b.decode("utf-8") for b in d[...]], dtype=object)
            else:
                data[c] = d.asstr()[...] if h5py.check_string_dtype(d.dtype) else d[...]
    return pd.DataFrame(data, columns=cols)


def write_tables(out: Path, steps: Sequence[str], records: Sequence[dict]) -> list[dict]:
    """tables/<step>.csv and .h5 for each step, tables/failures.csv; returns the failures."""
    import pandas as pd

    from .._io import write_csv_atomic

    tables = out / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    for step in steps:
        df = step_table(records, step)
        write_csv_atomic(df, tables / f"{step}.csv", index=False)
        write_h5_table(df, tables / f"{step}.h5")
    failures = sorted(({"step": r["step"], "item": r["item"], "athlete": r["athlete"],
                        "session_date": r.get("session_date", ""), "task": r.get("task", ""),
                        "error_type": r.get("error_type", ""), "error": r.get("error", "")}
                       for r in records if r.get("status") == "failed"), key=lambda r: r["item"])
    write_csv_atomic(pd.DataFrame(failures, columns=["step", "item", "athlete", "session_date", "task",
                                                     "error_type", "error"]),
                     tables / "failures.csv", index=False)
    return failures


def cohort_status(output: Union[str, os.PathLike]) -> dict:
    """What an output folder holds: the run manifest's state and summary, plus a count of the
    item records on disk per step and status (an interrupted run has records but an old or
    'running' run.json)."""
    from .. import NotFound
    from .._io import load_json_file

    out = Path(output)
    if not (out / "run.json").exists():
        raise NotFound(f"cohort status: '{out}' holds no run.json (not a cohort output folder)")
    run = load_json_file(out / "run.json", "cohort status")
    counts: dict[str, dict[str, int]] = {}
    for path in sorted((out / "items").glob("*/*.json")):
        rec = _load_record(path)
        if rec is None:
            continue
        c = counts.setdefault(rec["step"], {"ok": 0, "failed": 0})
        c[rec["status"]] = c.get(rec["status"], 0) + 1
    return {"state": run.get("state"), "started": run.get("started"), "finished": run.get("finished"),
            "sportsmed_version": run.get("sportsmed_version"), "steps": run.get("steps"),
            "summary": run.get("summary"), "records": counts,
            "failures": [i for i in run.get("items", []) if i.get("status") == "failed"]}
