"""Runs a study's steps over its items on Dask, resumably, into one output folder.

Output folder layout::

    run.json                 the run manifest: sportsmed/dask versions, parameters, steps,
                             every item (id, key, input SHA-256, status, when computed)
    items/<step>/<id>.json   one record per item (rows or the typed error), written atomically
                             as each item finishes: what makes a killed run resumable
    arrays/<step>/<id>_<name>.nii.gz   large arrays per item (seg label maps with their
                             .labels.json names, thickness and T2 maps); their SHA-256 in the record
    tables/<step>.csv, tables/<step>.h5   one table per step (CSV and HDF5, same content)
    tables/failures.csv      one row per failed item: step, item, error type, message

An item's key is the SHA-256 of its step (name, version), its input file's SHA-256, the SHA-256
of every file read with it (its companions: the files beside it named ``<stem>.*``, such as a
label map's ``.labels.json`` or a series' echo-time ``.json``; the session's label map and its
companions for T2; a manifest ``label_names`` file) and the parameters the step depends on (the
risk model and the segmentation model by their content). An item's id is its athlete's pseudonym
(or, with ``keep_ids``, a file-name-safe form of the id), its date and a keyed hash of its path
relative to the manifest's folder: a study moved as a whole keeps its ids and records.
A re-run skips an item whose record holds the same key and succeeded and whose arrays are
still there; ``force=True`` recomputes everything; failed items are retried.

Dependencies (:attr:`Step.after`): a thickness item of a session without a label map reads the
seg item's label map, and a T2 item reads its session's label map or seg output. The SHA-256 of
that file is part of the dependent item's key, so it is planned when the upstream item is
skipped (its label map checked against the hash in its record) or decided when the upstream
item finishes: recomputed when the segmentation changed, skipped when it came out the same,
failed (``UpstreamFailed``) when the upstream item failed.

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
import re
import sys
import time
from dataclasses import dataclass, field
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
    """SHA-256 of a file; of a folder (a DICOM series), of its files' relative names and hashes."""
    if os.path.isdir(path):
        h = hashlib.sha256()
        for p in sorted(q for q in Path(path).rglob("*") if q.is_file()):
            h.update(f"{p.relative_to(path).as_posix()}\0{file_sha256(p)}\n".encode())
        return h.hexdigest()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Item:
    step: str
    item_id: str                 #: <step>/<athlete pseudonym>_<date>_<8 hex of the relative path's HMAC>
    athlete: str                 #: pseudonym (or the manifest id with keep_ids)
    entry: Entry
    key: str = ""
    input_sha256: str = ""
    error: Optional[tuple[str, str]] = None   #: (type, message) found before running
    #: the path the step reads instead of the entry's (a thickness item reads the seg output)
    path: Optional[Path] = None
    labels_path: Optional[Path] = None        #: a label map the step reads besides its input (t2)
    labels_names: Optional[Path] = None       #: the manifest's label_names file of that map
    labels_source: str = "label map"
    upstream: Optional["Item"] = None         #: the item whose output array this one reads
    upstream_array: str = ""                  #: that array's name
    #: SHA-256 of the inputs besides the main one, by role (part of the key)
    extra_sha256: dict = field(default_factory=dict)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


_IMAGE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".hdr", ".img")


def _stem(name: str) -> str:
    low = name.lower()
    for suffix in _IMAGE_SUFFIXES:
        if low.endswith(suffix):
            return name[: -len(suffix)]
    return os.path.splitext(name)[0]


def _companions(path: Path, listing: Optional[dict] = None) -> list[Path]:
    """The files beside ``path`` that share its stem (``knee.nii.gz``: ``knee.labels.json``,
    ``knee.json``; a ``.hdr``'s ``.img``, an ``.nhdr``'s data file): what a reader may open with
    it. ``listing`` caches each folder's names (a flat study folder is listed once)."""
    p = Path(path)
    if not p.is_file():
        return []
    names = None if listing is None else listing.get(p.parent)
    if names is None:
        try:
            names = sorted(os.listdir(p.parent))
        except OSError:
            names = []
        if listing is not None:
            listing[p.parent] = names
    prefix = _stem(p.name) + "."
    return [p.parent / n for n in names if n.startswith(prefix) and n != p.name and (p.parent / n).is_file()]


#: a word character, or a decimal point inside a number: what an id token must not touch
_ID_BEFORE = r"(?<!\w)(?<!\w[.])"
_ID_AFTER = r"(?![.]?\w)"


def _replace_id(message: str, athlete_id: str, athlete: str) -> str:
    """``message`` with the athlete's id replaced where it stands as a whole token (not inside
    another word or number). An id without a letter ("1", "0042") reads like a number of the
    message ("the trial has 1 plate(s)"): it becomes ``…``, not the pseudonym, so that no
    message pairs a pseudonym with a number that might be its id."""
    if not athlete_id or athlete_id == athlete:
        return message
    repl = athlete if any(c.isalpha() for c in athlete_id) else _REDACTED
    pattern = re.compile(_ID_BEFORE + re.escape(athlete_id) + _ID_AFTER)
    out, at = [], 0
    for m in _PROTECTED.finditer(message):   # the placeholders and pseudonyms already put in stay
        out += [pattern.sub(lambda _m: repl, message[at:m.start()]), m.group(0)]
        at = m.end()
    out.append(pattern.sub(lambda _m: repl, message[at:]))
    return "".join(out)


def _scrub(message: str, entry: Entry, athlete: str, item_id: str, others: Sequence[Path] = (),
           listing: Optional[dict] = None) -> str:
    """An error message without the inputs' paths or the athlete's identity: the inputs' paths
    and names, every path under an input's folder (its sidecars, a missing companion) and the
    folder itself (it may name the patient: ``MRN0012345_DOE/``), the names of the files beside
    the inputs that share their stem, and the athlete id as a whole token."""
    mine = f"<{entry.task} {item_id}>"
    theirs = f"<input of {item_id}>"
    paths = [Path(entry.path), *[Path(o) for o in others]]
    for text, repl in [(str(paths[0]), mine)] + [(str(o), theirs) for o in paths[1:]]:
        message = message.replace(text, repl)
    folders = sorted({str(p.parent) for p in paths if str(p.parent) not in ("", "/", ".")}, key=len, reverse=True)
    for folder in folders:
        f = re.escape(folder)
        # a quoted path under the folder: up to its closing quote (names may hold spaces)
        message = re.sub(r"(['\"])" + f + r"(?:[/\\][^'\"\n]*)?\1", lambda m: m.group(1) + theirs + m.group(1),
                         message)
        # unquoted: up to a space, quote or punctuation that ends a clause
        message = re.sub(f + r"(?:[/\\][^\s'\"<>:;,()\[\]]*)?(?![\w.-])", lambda _m: theirs, message)
    names = {os.path.basename(paths[0]): mine}
    for p in paths:
        names.setdefault(p.name, theirs)
        for c in _companions(p, listing):
            names.setdefault(c.name, theirs)
    for name, repl in sorted(names.items(), key=lambda kv: len(kv[0]), reverse=True):
        if name:
            message = message.replace(name, repl)
    for stem in {_stem(p.name) for p in paths if _stem(p.name)}:
        # a sidecar's name that does not exist (yet): knee.nrrd's "knee.labels.json"
        message = re.sub(r"(?<![\w.-])" + re.escape(stem) + r"\.\w[\w.-]*", lambda _m: theirs, message)
    return _replace_id(message, entry.athlete_id, athlete)


#: inputs larger than this are not read for their text (their messages' quoted spans go instead)
_REDACT_MAX_BYTES = 32 << 20
#: of a binary input, only this head is read for text (headers and parameter sections)
_BINARY_HEAD_BYTES = 256 << 10
_REDACTED = "…"
#: what sportsmed itself puts into a scrubbed message: placeholders of paths and pseudonyms
_PROTECTED = re.compile(r"<(?:input of|[a-z_]+) [\w./:+-]+>|sm_[0-9a-f]{16}")
_QUOTED = re.compile(r"(?<!\w)'[^'\n]*'(?!\w)|(?<!\w)\"[^\"\n]*\"(?!\w)")
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]+")


def _input_tokens(path: Path) -> Optional[set]:
    """The text fields of an input file (for a text file: its cells, split at separators and
    line ends; for a binary file: its runs of 4+ printable characters), or None when the
    file cannot be read that way (a folder, too large, unreadable)."""
    from .._core import FormatError
    from .._io import text_encoding

    try:
        if not os.path.isfile(path) or os.path.getsize(path) > _REDACT_MAX_BYTES:
            return None
        with open(path, "rb") as f:
            head = f.read(8192)
        try:
            encoding, binary = text_encoding(path, head), False
        except FormatError:  # binary: its text lives in its header (C3D parameters, NIfTI fields)
            encoding, binary = None, True
        with open(path, "rb") as f:
            raw = f.read(_BINARY_HEAD_BYTES if binary else -1)
    except OSError:
        return None
    try:
        text = raw.decode(encoding or "utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    fields = re.split(r"[\x00-\x1f,;|\x7f-\x9f\ufffd]+", text)
    tokens = set()
    for f in fields:
        f = f.strip().strip("\"'").strip()
        if len(f) >= (4 if binary else 2) and any(c.isalpha() for c in f):
            tokens.add(f)
    return tokens


def _redact_input_content(message: str, sources: Sequence[Path], cache: Optional[dict] = None) -> str:
    """``message`` without content of the input files (column headers, cell values, header
    bytes), for a run whose outputs carry pseudonyms only.

    Error messages of the readers quote what they found (``has no column 'athlete'
    (columns: date, Jane Doe)``), and a message's format cannot tell an expected name from
    a found one. So the inputs themselves say what to remove: every text field of an input
    file found in the message becomes ``…`` (the expected names and the message's wording
    stay unless the file holds them too). An input that cannot be read so (a folder, a
    file over 32 MiB) has every quoted span of the message removed instead. Unprintable
    characters (bytes of a binary file read as text) always go. The placeholders of paths
    and the pseudonyms (:func:`_scrub`) are kept."""
    if cache is None:
        cache = {}
    for p in sources:  # each input is read once per run
        if p not in cache:
            cache[p] = _input_tokens(p)
    token_sets = [cache[p] for p in sources]
    tokens = set().union(*[t for t in token_sets if t])
    quoted_too = any(t is None for t in token_sets)

    def clean(part: str) -> str:
        part = _UNPRINTABLE.sub(_REDACTED, part)
        for tok in sorted((t for t in tokens if t in part), key=len, reverse=True):
            part = re.sub(r"(?<!\w)" + re.escape(tok) + r"(?!\w)", _REDACTED, part)
        if quoted_too:
            part = _QUOTED.sub(lambda m: m.group(0)[0] + _REDACTED + m.group(0)[-1], part)
        return part

    out, at = [], 0
    for m in _PROTECTED.finditer(message):
        out += [clean(message[at:m.start()]), m.group(0)]
        at = m.end()
    out.append(clean(message[at:]))
    return "".join(out)


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
    labels = spec.get("labels_path")
    names = spec.get("label_names")
    inp = StepInput(Path(spec.get("path") or entry.path), entry.athlete_id, entry.session_date, entry.body_mass_kg,
                    Path(labels) if labels else None, spec.get("labels_source", "label map"), entry.knee_side,
                    Path(names) if names else None)
    t0 = time.perf_counter()
    started = _now()
    try:
        out = step.run(inp, spec["params"])
        arrays, shas = {}, {}
        for name, (array, geometry) in out.arrays.items():
            rel = Path("arrays") / step.name / f"{spec['item_id'].split('/')[-1]}_{name}.nii.gz"
            dest = Path(spec["out"]) / rel
            _write_nifti_atomic(array, geometry, dest)
            if name in out.label_names:
                from ..imaging import write_label_names

                write_label_names(dest, out.label_names[name])
            arrays[name] = str(rel)
            shas[name] = file_sha256(dest)
        result = {"status": "ok", "rows": out.rows, "arrays": arrays, "array_sha256": shas, "warnings": out.warnings}
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
    thread each (:func:`local_cluster`), so that the GIL-free C++ kernels (set to one thread per
    task) fill the cores without oversubscribing them."""
    from distributed import Client

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
    with local_cluster(workers) as cluster, Client(cluster) as client:
        yield client


#: environment variables Dask sets in the worker processes it spawns that the cohort's workers go without
DROPPED_WORKER_ENV = ("MALLOC_TRIM_THRESHOLD_",)
#: Dask's periodic housekeeping, slowed down for a LocalCluster of long, CPU-bound tasks: the event
#: loop health tick (20 ms), the workers' statistical profiler (a stack sample every 10 ms; the
#: dashboard's profile page), the memory monitor (100 ms) and the system monitor (500 ms)
LOCAL_CLUSTER_CONFIG = {"distributed.admin.tick.interval": "1s", "distributed.worker.profile.enabled": False,
                        "distributed.worker.memory.monitor-interval": "1s",
                        "distributed.admin.system-monitor.interval": "2s"}


def local_cluster(workers: Optional[int] = None):
    """A ``LocalCluster`` of ``workers`` (default: cores) single-threaded worker processes,
    set up so that an item costs what the same call costs in a plain Python process:

    - Dask starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (to hand memory back to the
      OS sooner). Setting it turns off glibc's dynamic mmap threshold, so every large transient
      array (LibTorch activations, distance maps) is mmapped and faulted in afresh: on a knee
      segmentation item, 3x the page faults and +0.8 s of system time per ~5 s item (+13 % of
      the item's thread CPU) against the same call in a plain process. These workers keep glibc's defaults, as any
      Python process has (OMP/MKL/OpenBLAS threads stay at 1, as Dask sets them).
    - :data:`LOCAL_CLUSTER_CONFIG`: an idle 2-worker cluster used ~7 % of a core (scheduler,
      nannies and client ~3 %, the two workers ~4 %) with Dask's defaults, ~1.5 % with these.
    """
    import dask
    from distributed import LocalCluster

    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
               if k not in DROPPED_WORKER_ENV}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ, **LOCAL_CLUSTER_CONFIG}):
        return LocalCluster(n_workers=workers or _cpu_count(), threads_per_worker=1, processes=True,
                            dashboard_address=":0", silence_logs=40)


def _progress(mode: str, total: int):
    if mode == "bar" and total:
        from tqdm import tqdm

        return tqdm(total=total, desc="cohort", unit="item", file=sys.stderr)
    return None


KNEE_TASKS = ("knee_mri", "knee_image", "knee_t2")


def plan_items(manifest: Manifest, steps: Sequence[str], secret: bytes, keep_ids: bool = False) -> list[Item]:
    """The items of ``steps`` over the manifest's entries (ids pseudonymous unless keep_ids),
    with their dependencies: a thickness item for each seg item of a session without a label
    map (reading its output), and each T2 item's labels (the session's label map, else its seg
    item's output). Upstream items come before the items that read them."""
    athletes = sorted({e.athlete_id for e in manifest.entries})
    pseud = dict(zip(athletes, _pseudonymise(athletes, secret)))
    base = manifest.path.parent

    def item(name: str, e: Entry, **kw) -> Item:
        p = pseud[e.athlete_id]
        # the path as the manifest's folder sees it: a study moved as a whole keeps its item ids
        try:
            rel = Path(os.path.relpath(e.path, base)).as_posix()
        except ValueError:   # another drive (Windows)
            rel = os.fspath(e.path)
        tag = _pseudonymise([rel], secret)[0][3:11]
        who = _file_safe(e.athlete_id) if keep_ids else p
        return Item(name, f"{name}/{who}_{e.session_date or 'all'}_{tag}", e.athlete_id if keep_ids else p, e, **kw)

    items, later = [], []
    sessions: dict[tuple[str, str], dict[str, list]] = {}
    for e in manifest.entries:
        if e.task in KNEE_TASKS:
            sessions.setdefault((e.athlete_id, e.session_date), {t: [] for t in KNEE_TASKS})[e.task].append(e)
    segs: dict[tuple[str, str], list[Item]] = {}
    for e in manifest.entries:
        for name in steps:
            if STEPS[name].task != e.task:
                continue
            it = item(name, e)
            (later if name == "t2" else items).append(it)
            if name == "seg":
                segs.setdefault((e.athlete_id, e.session_date), []).append(it)
    if "mri" in steps:
        for key, seg_items in segs.items():
            if sessions[key]["knee_mri"]:
                continue
            for up in seg_items:
                items.append(item("mri", up.entry, upstream=up, upstream_array="labels", labels_source="segmentation"))
        # one label map per session: of two, the report would show one and hide the other
        def where_all(entries: list) -> str:
            kind = "item" if manifest.path.suffix.lower() == ".toml" else "line"
            return f"{kind}s {', '.join(str(e.line) for e in entries)}"

        for it in items:
            if it.step != "mri":
                continue
            session = sessions[(it.entry.athlete_id, it.entry.session_date)]
            maps = session["knee_mri"] or (session["knee_image"] if it.upstream is not None else [])
            if len(maps) > 1:
                what = "label maps (knee_mri)" if session["knee_mri"] else "images to segment (knee_image)"
                it.error = ("InvalidArgument",
                            f"the knee session has {len(maps)} {what}, at manifest {where_all(maps)}: a session "
                            "has one; give the others "
                            "their own session_date (another scan) or leave them out")
    for it in later:
        session = sessions[(it.entry.athlete_id, it.entry.session_date)]
        maps, ups = session["knee_mri"], segs.get((it.entry.athlete_id, it.entry.session_date), [])
        if len(maps) == 1:
            it.labels_path, it.labels_names = maps[0].path, maps[0].label_names
        elif len(maps) > 1 or len(ups) > 1:
            it.error = ("InvalidArgument", f"the knee session has {len(maps)} label maps and {len(ups)} segmented "
                                           "images: T2 takes its labels from one")
        elif ups:
            it.upstream, it.upstream_array, it.labels_source = ups[0], "labels", "segmentation"
        elif session["knee_image"]:
            it.error = ("InvalidArgument", "the knee session's labels would come from its image's segmentation: "
                                           "run the seg step too")
        else:
            it.error = ("InvalidArgument", "the knee session has no label map (knee_mri) and no image (knee_image): "
                                           "per-region T2 needs labels")
        items.append(it)
    return items


def _file_safe(athlete_id: str) -> str:
    """``athlete_id`` as a part of a file name: itself when it holds only letters, digits, ``_``
    and ``-``; else those characters (others as ``-``) and 8 hex digits of its SHA-256, so that
    no id names a folder (``Team A/2``) or leaves the output (``../x``) and two ids stay apart."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", athlete_id):
        return athlete_id
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", athlete_id).strip("-")[:48] or "id"
    return f"{slug}-{hashlib.sha256(athlete_id.encode()).hexdigest()[:8]}"


def _resolve_steps(steps: Optional[Sequence[str]], manifest: Manifest, risk_model) -> list[str]:
    from .. import InvalidArgument

    if steps:
        unknown = [s for s in steps if s not in STEPS]
        if unknown:
            raise InvalidArgument(f"cohort: unknown step(s) {', '.join(unknown)}; steps are {', '.join(STEPS)}")
        if "risk" in steps and risk_model is None:
            raise InvalidArgument("cohort: the risk step needs a risk model (--risk-model, or risk_model in a TOML "
                                  "manifest)")
        chosen = list(dict.fromkeys(steps))
        # a thickness or T2 item of a session without a label map reads the seg step's output
        if "seg" not in chosen and any(s in chosen for s in ("mri", "t2")):
            maps = {(e.athlete_id, e.session_date) for e in manifest.entries if e.task == "knee_mri"}
            if any(e.task == "knee_image" and (e.athlete_id, e.session_date) not in maps for e in manifest.entries):
                chosen.insert(0, "seg")
        return chosen
    chosen = [s.name for s in STEPS.values() if s.default]
    if risk_model is None:
        chosen.remove("risk")
    # the MRI steps only where the study has their inputs (seg loads LibTorch, which a build may lack)
    tasks = {e.task for e in manifest.entries}
    return [s for s in chosen if s not in ("seg", "t2") or STEPS[s].task in tasks]


def _record_path(out: Path, item: Item) -> Path:
    return out / "items" / f"{item.item_id}.json"


def _load_record(path: Path) -> Optional[dict]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == RECORD_FORMAT else None


def _outputs_intact(out: Path, rec: dict, check_hash: bool) -> bool:
    """The record's arrays are on disk (and, with ``check_hash``, hold what the record says:
    an upstream item's output is read by the items downstream of it)."""
    shas = rec.get("array_sha256") or {}
    for name, rel in (rec.get("arrays") or {}).items():
        path = out / rel
        if not path.is_file():
            return False
        if check_hash:
            try:
                if shas.get(name) != file_sha256(path):
                    return False
            except OSError:
                return False
    return True


def _read_with(it: Item, listing: Optional[dict] = None) -> list[tuple[str, Path]]:
    """The files an item reads besides its main input, by role (their hashes are part of its key):
    the input's companions, the label map of a T2 item with its companions, the manifest's
    label_names file of the map the item reads."""
    files: list[tuple[str, Path]] = []
    if it.upstream is None or it.step == "t2":
        files += [(f"companion:{c.name}", c) for c in _companions(it.entry.path, listing)]
    if it.step == "mri" and it.upstream is None and it.entry.label_names is not None:
        files.append(("label_names", it.entry.label_names))
    if it.labels_path is not None and it.upstream is None:
        files += [(f"labels_companion:{c.name}", c) for c in _companions(it.labels_path, listing)]
        if it.labels_names is not None:
            files.append(("label_names", it.labels_names))
    return files


def _item_key(it: Item, key_params: dict) -> str:
    step = STEPS[it.step]
    material = {"step": step.name, "version": step.version, "input": it.input_sha256,
                "session_date": it.entry.session_date, "body_mass_kg": it.entry.body_mass_kg,
                "params": {k: key_params.get(k) for k in step.params}}
    if it.extra_sha256:
        material["inputs"] = dict(sorted(it.extra_sha256.items()))
    if it.entry.knee_side:
        material["knee_side"] = it.entry.knee_side
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _attach_upstream(it: Item, path: Path, sha: str) -> None:
    """Points a dependent item at its upstream item's output (its input, or its labels)."""
    if it.step == "mri":
        it.path, it.input_sha256 = path, sha
    else:
        it.labels_path, it.extra_sha256 = path, {**it.extra_sha256, "labels": sha}


def _model_sha256(path: str) -> str:
    """SHA-256 of a segmentation model's weights and its JSON sidecar together."""
    h = hashlib.sha256(file_sha256(Path(path)).encode())
    side = Path(path).with_suffix(".json")
    if side.is_file():
        h.update(file_sha256(side).encode())
    return h.hexdigest()


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
    from .. import InvalidArgument

    out = Path(output).resolve()
    blocker = next((p for p in (out, *out.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise InvalidArgument(f"cohort: the output folder '{output}' cannot be made: '{blocker}' is a file, not a "
                              "folder")
    m = manifest if isinstance(manifest, Manifest) else read_manifest(manifest)
    out.mkdir(parents=True, exist_ok=True)
    secret_path = Path(secret or os.environ.get(SECRET_ENV) or (m.path.parent / "cohort.secret"))
    key_bytes = load_secret(secret_path, out)
    rm = Path(risk_model).resolve() if risk_model else m.risk_model
    chosen = _resolve_steps(steps, m, rm)
    run_params = {"missing": "zero", "load": "daily_load", "cartilage": "femoral_cartilage", "bone": "femur",
                  "dynamics_cutoff_hz": 15.0, "seg_mirror": False, "seg_keep_largest": False,
                  "t2_noise_floor": False}
    from ..risk import BATES_2020

    run_params["bates_threshold_deg"] = BATES_2020["threshold_deg"]
    run_params.update(params or {})
    key_params = dict(run_params)
    if "seg" in chosen and any(e.task == "knee_image" for e in m.entries):
        from .. import InvalidArgument, NotFound
        from ._steps import default_seg_context, default_seg_model

        named = run_params.get("seg_model")
        model = Path(named or default_seg_model()).resolve()
        context = run_params.get("seg_context")
        if context is None:  # as mri segment: the shipped pair, or a named model alone
            context = default_seg_context(named)
        context = str(Path(context).resolve()) if context and context != "none" else "none"
        weight = float(run_params.get("seg_context_weight", 0.5))
        if not 0.0 <= weight <= 1.0:
            raise InvalidArgument(f"cohort: seg_context_weight must be in [0, 1], got {weight}")
        run_params.update(seg_model=str(model), seg_context=context, seg_context_weight=weight)
        key_params.update(seg_context="none", seg_context_weight=weight)
        for param, what, path in (("seg_model", "segmentation model", str(model)),
                                  ("seg_context", "context model", context)):
            if path == "none":
                continue
            try:
                key_params[param] = _model_sha256(path)
            except OSError as exc:
                raise NotFound(f"cohort: cannot read the {what} '{path}': {exc.strerror or exc}") from None
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
    listing: dict = {}       # each input folder listed once (companions of the inputs)
    token_cache: dict = {}   # each input read once for the text its messages may quote
    todo, skipped = [], []
    loaded: dict[str, dict] = {}
    waiting: dict[str, list[Item]] = {}      # upstream item id -> the items that wait for its output
    upstream_ids = {it.upstream.item_id for it in items if it.upstream is not None}

    def sha(path: Path) -> str:
        if path not in hashes:
            hashes[path] = file_sha256(path)
        return hashes[path]

    def decide(it: Item) -> bool:
        """Computes the item's key; True when its record says it is done (skipped)."""
        it.key = _item_key(it, key_params)
        rec = None if force else _load_record(_record_path(out, it))
        if (rec is not None and rec.get("key") == it.key and rec.get("status") == "ok"
                and _outputs_intact(out, rec, it.item_id in upstream_ids)):
            skipped.append(it)
            loaded[it.item_id] = rec
            return True
        return False

    def hash_inputs(it: Item) -> None:
        """The SHA-256 of the item's input and of every file read with it (part of its key)."""
        try:
            it.input_sha256 = sha(it.entry.path)
        except OSError as exc:
            it.error = it.error or ("NotFound", f"cannot read the input of manifest {m.where(it.entry)}: "
                                                f"{exc.strerror or exc}")
            return
        extra = [("labels", it.labels_path)] if it.labels_path is not None and it.upstream is None else []
        for role, path in extra + _read_with(it, listing):
            try:
                it.extra_sha256[role] = sha(path)
            except OSError as exc:
                what = {"labels": "the session's label map", "label_names": "the label_names file"}.get(
                    role.split(":")[0], "a file beside the input")
                it.error = it.error or ("NotFound", f"cannot read {what} of manifest {m.where(it.entry)}: "
                                                    f"{exc.strerror or exc}")
                return

    for it in items:
        if it.upstream is None:
            hash_inputs(it)
            if it.error is None and decide(it):
                continue
            it.key = it.key or _item_key(it, key_params)
            todo.append(it)
            continue
        up = it.upstream
        if it.step == "t2":
            hash_inputs(it)
        if it.error is None and up.error is not None:
            it.error = ("UpstreamFailed", f"its labels come from {up.item_id}, which could not run")
        if it.error is not None:
            it.key = _item_key(it, key_params)
            todo.append(it)
        elif up.item_id in loaded:      # the upstream item is done: its output's hash is known now
            rec = loaded[up.item_id]
            _attach_upstream(it, out / rec["arrays"][it.upstream_array], rec["array_sha256"][it.upstream_array])
            if not decide(it):
                todo.append(it)
        else:                           # decided when the upstream item finishes
            waiting.setdefault(up.item_id, []).append(it)

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

    def finish(it: Item, result: dict) -> list[Item]:
        """Records a finished item; returns the items downstream of it that must now run."""
        others = [p for p in (it.path, it.labels_path, it.labels_names, it.entry.label_names) if p is not None]

        def scrub(message: str) -> str:
            message = _scrub(message, it.entry, it.athlete, it.item_id, others, listing)
            # pseudonymised outputs carry no content of the inputs either (headers, cells)
            return message if keep_ids else _redact_input_content(message, [Path(it.entry.path), *others],
                                                                    token_cache)

        if result.get("status") == "failed":
            result["error"] = scrub(result.get("error", ""))
        result["warnings"] = [scrub(w) for w in result.get("warnings") or []]
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
        return release(it, rec)

    def release(up: Item, rec: dict) -> list[Item]:
        ready = []
        for dep in waiting.pop(up.item_id, []):
            arrays, shas = rec.get("arrays") or {}, rec.get("array_sha256") or {}
            if rec.get("status") != "ok" or dep.upstream_array not in shas:
                dep.key = _item_key(dep, key_params)
                ready += finish(dep, {"status": "failed", "error_type": "UpstreamFailed",
                                      "error": f"its labels come from {up.item_id}, which failed "
                                               f"({rec.get('error_type', 'no output')})",
                                      "computed_at": _now(), "seconds": 0.0})
                continue
            _attach_upstream(dep, out / arrays[dep.upstream_array], shas[dep.upstream_array])
            if decide(dep):
                if bar is not None:
                    bar.update(1)
                ready += release(dep, loaded[dep.item_id])
            else:
                ready.append(dep)
        return ready

    runnable = []
    for it in todo:
        if it.error is not None:
            finish(it, {"status": "failed", "error_type": it.error[0], "error": it.error[1], "computed_at": _now(),
                        "seconds": 0.0})
        else:
            runnable.append(it)
    pending = sum(len(v) for v in waiting.values())
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
                bar = _progress(progress, len(runnable) + pending)   # after the cluster is up: items only
                futures = {}

                def submit(it: Item):
                    spec = {"step": it.step, "entry": it.entry, "item_id": it.item_id, "params": run_params,
                            "out": str(out), "kernel_threads": kernel_threads, "labels_source": it.labels_source}
                    if it.path is not None:
                        spec["path"] = str(it.path)
                    if it.labels_path is not None:
                        spec["labels_path"] = str(it.labels_path)
                    names = (it.labels_names if it.step == "t2" else
                             it.entry.label_names if it.upstream is None else None)
                    if names is not None:
                        spec["label_names"] = str(names)
                    fut = client.submit(execute_item, spec, key=f"{it.item_id}-{it.key[:12]}", pure=False)
                    futures[fut.key] = (fut, it)
                    return fut

                done = as_completed([submit(it) for it in runnable])
                for fut in done:
                    it = futures.pop(fut.key)[1]
                    try:
                        result = fut.result()
                    except Exception as exc:  # noqa: BLE001  (a worker died or the task could not run)
                        result = {"status": "failed", "error_type": type(exc).__name__, "error": str(exc),
                                  "computed_at": _now(), "seconds": float("nan")}
                    for dep in finish(it, result):
                        done.add(submit(dep))
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
                   # the steps whose tables the folder holds (this run's and earlier runs')
                   tables=sorted(p.stem for p in (out / "tables").glob("*.csv") if p.stem != "failures"),
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


FAILURE_COLUMNS = ["step", "item", "athlete", "session_date", "task", "error_type", "error"]


def write_tables(out: Path, steps: Sequence[str], records: Sequence[dict]) -> list[dict]:
    """tables/<step>.csv and .h5 for each step, tables/failures.csv; returns this run's failures.

    A step without a successful row gets a header-only table (its id columns). failures.csv
    describes every table in the folder: the failure rows of steps not run this time are kept
    from the previous failures.csv, as their tables are."""
    import pandas as pd

    from .._io import write_csv_atomic

    tables = out / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    for step in steps:
        df = step_table(records, step)
        if df.empty and not len(df.columns):
            df = pd.DataFrame(columns=[*ID_COLUMNS, "warnings"])
        write_csv_atomic(df, tables / f"{step}.csv", index=False)
        write_h5_table(df, tables / f"{step}.h5")
    failures = [{"step": r["step"], "item": r["item"], "athlete": r["athlete"],
                 "session_date": r.get("session_date", ""), "task": r.get("task", ""),
                 "error_type": r.get("error_type", ""), "error": r.get("error", "")}
                for r in records if r.get("status") == "failed"]
    kept = []
    try:
        old = pd.read_csv(tables / "failures.csv", keep_default_na=False, dtype=str)
        if list(old.columns) == FAILURE_COLUMNS:
            kept = [r for r in old.to_dict("records") if r["step"] not in steps]
    except (OSError, ValueError, pd.errors.EmptyDataError):
        pass
    write_csv_atomic(pd.DataFrame(sorted(failures + kept, key=lambda r: (r["item"], r["step"])),
                                  columns=FAILURE_COLUMNS), tables / "failures.csv", index=False)
    return sorted(failures, key=lambda r: r["item"])


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
