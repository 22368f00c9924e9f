"""``sportsmed deid``: de-identify files before they are shared.

    sportsmed deid IN -o OUT [--secret FILE] [--keep ITEM ...] [--id-column C ...]
                             [--drop-column C ...] [--copy-unknown] [--keep-private]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._grammar import add_output

EPILOG = """\
What is removed, by type (see README "Privacy"):
  DICOM  the PS3.15 Annex E basic profile through GDCM's Anonymizer: names, ids, birth
         date, institution, physicians, dates, device ids, comments; new UIDs (the same
         input UID -> the same new UID over the run, so a series still loads as one
         volume); private attributes. Pixel data are not touched. With --secret,
         PatientID/PatientName become the patient's pseudonym.
  C3D    SUBJECT(S) and MANUFACTURER groups, descriptions, any text parameter reading
         does not need; labels, units, screen axes and event contexts stay; a subject
         prefix on labels (A22:LASI) is cut. Points, analogs and events read the same.
  NIfTI  descrip, aux_file, intent_name, unused text fields, extensions. Data and
         geometry are unchanged.
  TRC    the source path in the first header line.
  CSV    --id-column: pseudonyms (HMAC-SHA256 with the secret); --drop-column: removed.
A DICOMDIR is left out (with a warning): it indexes the original UIDs; regenerate it
from the de-identified files. Other files are refused unless --copy-unknown. A folder gives a mirrored folder with
sportsmed-deid.json (what changed per file, never the original values). File names are
kept: rename files whose names identify someone.

The secret (--secret FILE) is created if missing: 32 random bytes, mode 0600. Keep it
outside the output folder (refused otherwise) and never share it; the same secret gives
the same pseudonyms in every run of the study."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deid", help="de-identify DICOM, C3D, NIfTI, TRC and CSV files before sharing them",
                       description="De-identify a file or a folder before it is shared.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="IN", help="a file, or a folder (its layout is mirrored)")
    add_output(p, "the file (must not exist), or folder (must not exist or be empty), to write", required=True,
               metavar="OUT")
    p.add_argument("--secret", default=None, metavar="FILE",
                   help="the study's secret for pseudonyms (created if missing; kept outside OUT)")
    p.add_argument("--keep", action="append", default=[], metavar="ITEM",
                   help="leave ITEM as it is: a C3D parameter GROUP:NAME, a NIfTI field (descrip, aux_file, "
                        "intent_name, extensions) or a DICOM attribute gggg,eeee (repeatable)")
    p.add_argument("--id-column", action="append", default=[], metavar="COLUMN",
                   help="CSV column of athlete ids, replaced by pseudonyms (needs --secret; repeatable)")
    p.add_argument("--drop-column", action="append", default=[], metavar="COLUMN",
                   help="CSV column of free text or names, removed (repeatable)")
    p.add_argument("--copy-unknown", action="store_true",
                   help="copy files of unknown type unchanged instead of refusing the run")
    p.add_argument("--keep-private", action="store_true", help="keep DICOM private attributes")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..deid import deidentify
    from ..privacy import load_or_create_secret
    from ..progress import progress_bar

    secret = None
    if args.secret:
        src = Path(args.input)
        protects = [args.output] + ([args.input] if src.is_dir() else [])
        secret = load_or_create_secret(args.secret, protects=protects)
    with progress_bar("deid") as progress:
        report = deidentify(args.input, args.output, secret=secret, keep=args.keep, id_columns=args.id_column,
                            drop_columns=args.drop_column, copy_unknown=args.copy_unknown,
                            keep_private=args.keep_private, progress=progress)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        files = report["files"]
        changed = sum(1 for f in files if f["changes"])
        kinds: dict = {}
        for f in files:
            kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
        print(f"{len(files)} files de-identified into {args.output} ({changed} changed; "
              + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + ")")
    for w in report.get("warnings", []):
        print(f"sportsmed deid: warning: {w}", file=sys.stderr)
    return 0
