"""Cohorts: a whole study or squad through one resumable pipeline, on one machine or a Dask cluster.

>>> from sportsmed import cohort
>>> manifest = cohort.make_synthetic_study(20, "study/")          # C3Ds, knee label maps, training logs
>>> summary = cohort.run_cohort(manifest, "results/")             # LocalCluster; scheduler="tcp://..."
>>> cohort.read_table("results/", "motion")                       # one table per step
>>> cohort.cohort_status("results/")

See :mod:`sportsmed.cohort._run` for the output folder's layout and the resume rules,
:mod:`sportsmed.cohort._manifest` for the manifest format, :data:`STEPS` for the steps.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

from ._manifest import TASKS, Entry, Manifest, read_manifest
from ._run import (
    RunSummary, _pseudonymise, cohort_status, dask_client, execute_item, plan_items, read_h5_table, run_cohort,
    step_table, write_h5_table,
)
from ._steps import STEPS, Step, StepInput, StepOutput
from ._synthetic import corrupt_file, make_synthetic_study


def read_table(output: Union[str, os.PathLike], step: str):
    """The table of ``step`` in a cohort output folder (from its CSV)."""
    import pandas as pd

    from .. import NotFound

    path = Path(output) / "tables" / f"{step}.csv"
    if not path.exists():
        raise NotFound(f"cohort: '{output}' has no table for step '{step}' ({path})")
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


__all__ = ["TASKS", "STEPS", "Entry", "Manifest", "RunSummary", "Step", "StepInput", "StepOutput", "cohort_status",
           "corrupt_file", "dask_client", "execute_item", "make_synthetic_study", "plan_items", "read_h5_table",
           "read_manifest", "read_table", "run_cohort", "step_table", "write_h5_table", "_pseudonymise"]
