"""Athlete-time tables as pandas DataFrames, workload features and labels."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from .._core import InvalidArgument
from .._core import risk as _r

EPOCH = np.datetime64("1970-01-01", "D")


def _days(dates: pd.Series) -> np.ndarray:
    return (pd.to_datetime(dates).to_numpy().astype("datetime64[D]") - EPOCH).astype(np.int64)


def _check_columns(df: pd.DataFrame, needed: Sequence[str], where: str) -> None:
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InvalidArgument(f"{where}: missing column(s) {missing}; the table has {list(df.columns)}")


def read_table(source: Union[str, Path, pd.DataFrame], athlete: str = "athlete", date: str = "date",
               columns: Optional[Sequence[str]] = None, decimal: str = ".", load: Optional[str] = "daily_load",
               injury: Optional[str] = "injury") -> pd.DataFrame:
    """Reads an athlete-time table (one row per athlete-day) from a CSV file or a DataFrame.

    Parameters
    ----------
    source
        CSV path (read by the compiled reader: ISO dates, numeric value columns) or a
        DataFrame. The reader takes spreadsheet exports as they come: a UTF-8 byte-order
        mark, UTF-8 or Windows-1252 text, UTF-16 / UTF-32 text (told by its byte-order
        mark, or by the NUL bytes of BOM-less UTF-16 / UTF-32), ``;`` separators (when the
        header has ``;`` and no comma) or tabs, RFC 4180 quoted fields (``"a, b"``, doubled quotes), and the
        missing-value tokens empty, ``NA``, ``N/A``, ``#N/A``, ``-``, ``null``, ``NaN``
        (any case), read as NaN.
    athlete, date
        Names of the athlete id and date columns.
    columns
        Value columns to keep (numeric). ``None``: every column holding numbers (or only
        missing tokens); a column of text only (a team name) is left out, and a column that
        mixes numbers with other text is a FormatError naming file, line and column.
    decimal
        Decimal mark of the numbers: ``"."`` or ``","`` (``1,5``; usually with ``;``
        separators). Never guessed: ``1,5`` in a ``"."`` file is an error with a hint.
    load, injury
        Columns checked when present: loads must be >= 0 and injury codes 0 or 1 (or
        missing); other values are a FormatError naming line and column. ``None``: no check.

    Returns
    -------
    DataFrame with columns ``athlete`` (str), ``date`` (datetime64[ns]) and the values,
    sorted by athlete then date, index 0..n-1.

    Raises
    ------
    sportsmed.NotFound
        Missing file or column (CSV).
    sportsmed.FormatError
        Bad date, non-numeric value, or two rows of one athlete on the same day.
    """
    if decimal not in (".", ","):
        raise InvalidArgument(f"read_table: decimal must be '.' or ',', got {decimal!r}")
    if isinstance(source, pd.DataFrame):
        _check_columns(source, [athlete, date] + list(columns or []), "read_table")
        keep = list(columns) if columns is not None else [
            c for c in source.columns if c not in (athlete, date) and pd.api.types.is_numeric_dtype(source[c])]
        df = pd.DataFrame({"athlete": source[athlete].astype(str).to_numpy(),
                           "date": pd.to_datetime(source[date]).dt.normalize().to_numpy()})
        for c in keep:
            df[c] = pd.to_numeric(source[c]).astype(float).to_numpy()
        df = df.sort_values(["athlete", "date"], kind="mergesort").reset_index(drop=True)
        dup = df.duplicated(["athlete", "date"])
        if dup.any():
            row = df[dup].iloc[0]
            raise _core_format_error(f"read_table: athlete {row.athlete!r} has two rows on {row.date.date()}")
        _check_codes(df, load, injury)
        return df
    from .._io import utf8_text

    with utf8_text(source, "read_table") as path:
        t = _r.read_athlete_csv(path, athlete, date, list(columns or []), decimal,
                                [load] if load else [], [injury] if injury else [])
    return _from_core(t)


def _check_codes(df: pd.DataFrame, load: Optional[str], injury: Optional[str]) -> None:
    """The reader's range checks for a DataFrame source (rows named by athlete and date)."""
    if load and load in df.columns:
        bad = (df[load] < 0).to_numpy()
        if bad.any():
            row = df[bad].iloc[0]
            raise _core_format_error(f"read_table: column {load!r} holds {row[load]:g} for athlete "
                                     f"{row.athlete!r} on {row.date.date()}: a load cannot be negative")
    if injury and injury in df.columns:
        v = df[injury]
        bad = (v.notna() & (v != 0) & (v != 1)).to_numpy()
        if bad.any():
            row = df[bad].iloc[0]
            raise _core_format_error(f"read_table: column {injury!r} holds {row[injury]:g} for athlete "
                                     f"{row.athlete!r} on {row.date.date()}: expected an injury code 0 or 1")


def _core_format_error(message: str) -> Exception:
    from .._core import FormatError

    return FormatError(message)


# Days since 1970 that pandas' datetime64[ns] can hold (1677-09-22 .. 2262-04-11): a date
# outside wraps around silently (2300 would become a date in 1715).
_NS_DAYS = (int(pd.Timestamp.min.ceil("D").value // 86_400_000_000_000),
            int(pd.Timestamp.max.floor("D").value // 86_400_000_000_000))


def _from_core(t: "_r.AthleteTable") -> pd.DataFrame:
    day = np.asarray(t.day)
    bad = (day < _NS_DAYS[0]) | (day > _NS_DAYS[1])
    if bad.any():
        from .._core import FormatError

        i = int(np.argmax(bad))
        raise FormatError(f"read_table: the date {_r.format_iso_day(int(day[i]))} (athlete "
                          f"{t.athletes[int(t.athlete[i])]!r}) is outside {_r.format_iso_day(_NS_DAYS[0])} .. "
                          f"{_r.format_iso_day(_NS_DAYS[1])}, the dates pandas can hold")
    names = np.asarray(t.athletes, dtype=object)
    df = pd.DataFrame({"athlete": names[t.athlete] if len(t.athlete) else np.array([], dtype=object),
                       "date": (EPOCH + t.day.astype("timedelta64[D]")).astype("datetime64[ns]")})
    for j, c in enumerate(t.columns):
        df[c] = t.values[:, j]
    return df


def _to_core(df: pd.DataFrame) -> "_r.AthleteTable":
    codes, names = pd.factorize(df["athlete"], sort=True)
    t = _r.AthleteTable()
    t.athletes = [str(n) for n in names]
    t.athlete = codes.astype(np.int64)
    t.day = _days(df["date"])
    cols = [c for c in df.columns if c not in ("athlete", "date")]
    t.columns = cols
    t.values = np.ascontiguousarray(df[cols].to_numpy(dtype=float)) if cols else np.zeros((len(df), 0))
    return t


def complete_days(df: pd.DataFrame, policy: str, load: str = "daily_load") -> pd.DataFrame:
    """Puts a table from :func:`read_table` on a complete daily grid per athlete.

    Parameters
    ----------
    policy
        What an absent day means, to be chosen explicitly: ``"zero"`` (no row = no
        training: ``load`` is 0, every other column NaN) or ``"missing"`` (not recorded:
        all NaN, and rolling windows over it need ``min_periods``).
    load
        Load column filled with 0 under ``"zero"``.
    """
    _check_columns(df, ["athlete", "date"], "complete_days")
    return _from_core(_r.complete_days(_to_core(df), policy, load))


def _athlete_codes(df: pd.DataFrame) -> np.ndarray:
    codes, _ = pd.factorize(df["athlete"])
    return codes.astype(np.int64)


def _check_grid(df: pd.DataFrame, where: str) -> None:
    _check_columns(df, ["athlete", "date"], where)
    if len(df) == 0:
        raise InvalidArgument(f"{where}: the table has no rows")
    a = df["athlete"].to_numpy()
    d = _days(df["date"])
    same = a[1:] == a[:-1]
    if np.any(same & (np.diff(d) != 1)):
        raise InvalidArgument(f"{where}: days are not consecutive within each athlete; call "
                              "sportsmed.risk.complete_days(df, policy=...) first")
    if len(pd.unique(a[np.r_[True, ~same]])) != int(np.sum(np.r_[True, ~same])):
        raise InvalidArgument(f"{where}: rows of an athlete are not contiguous (sort by athlete, date)")


def workload(df: pd.DataFrame, load: str = "daily_load", acute_days: int = 7, chronic_days: int = 28,
             min_periods: int = 0) -> pd.DataFrame:
    """Workload features per athlete-day (see ``sportsmed._core.risk.workload_features``).

    Every feature at day t uses loads of days <= t only. ``df`` must be on a complete
    daily grid (:func:`complete_days`).

    Returns
    -------
    DataFrame with ``athlete``, ``date`` and one column per feature: acute_load,
    chronic_load, acwr_coupled, acwr_uncoupled, ewma_acute, ewma_chronic, ewma_acwr,
    monotony, strain, week_change, week_change_pct, load_7d … load_28d, load_total.
    """
    _check_grid(df, "workload")
    _check_columns(df, [load], "workload")
    x = _r.workload_features_panel(_athlete_codes(df), df[load].to_numpy(dtype=float), acute_days,
                                   chronic_days, min_periods)
    out = df[["athlete", "date"]].copy()
    for j, name in enumerate(_r.workload_feature_names()):
        out[name] = x[:, j]
    return out


def injury_labels(df: pd.DataFrame, horizon_days: int = 7, injury: str = "injury") -> pd.Series:
    """"Injury within ``horizon_days``" labels: 1 / 0, NaN while injured or censored.

    See ``sportsmed._core.risk.injury_within``; ``df`` must be on a complete daily grid.
    """
    _check_grid(df, "injury_labels")
    _check_columns(df, [injury], "injury_labels")
    y = _r.injury_within(_athlete_codes(df), df[injury].to_numpy(dtype=float), horizon_days)
    return pd.Series(y, index=df.index, name=f"injury_within_{horizon_days}d")


def with_features(df: pd.DataFrame, load: str = "daily_load", injury: Optional[str] = "injury",
                  horizon_days: int = 7, acute_days: int = 7, chronic_days: int = 28,
                  min_periods: int = 0) -> pd.DataFrame:
    """``df`` (on a complete daily grid) with the workload features and, when ``injury``
    is a column, the label ``y`` = injury within ``horizon_days``. Workload columns replace
    columns of the same name already in ``df`` (SoccerMon ships its own ``monotony``): the
    replaced names are listed in ``attrs["replaced_columns"]``, so a caller can say that
    the file's own values are not used."""
    if not df.index.is_unique:  # the features are joined on the index
        from .. import InvalidArgument

        raise InvalidArgument("with_features: the table's index repeats labels (pd.concat keeps each part's index): "
                              "rows would be joined to other athletes' features; use pd.concat(..., ignore_index=True) "
                              "or df.reset_index(drop=True)")
    w = workload(df, load, acute_days, chronic_days, min_periods)
    names = [c for c in w.columns if c not in ("athlete", "date")]
    replaced = [c for c in names if c in df.columns]
    out = df.drop(columns=replaced).join(w[names])
    out.attrs["replaced_columns"] = replaced
    if injury is not None and injury in df.columns:
        out["y"] = injury_labels(df, horizon_days, injury)
        # evaluate() reads the horizon to refuse a purge shorter than it
        out.attrs["label_horizon_days"] = {"y": int(horizon_days)}
        # evaluate() and RiskModel.fit refuse the column the label is built from as a feature
        out.attrs["label_source"] = {"y": str(injury)}
    return out
