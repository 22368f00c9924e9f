"""The embedded default: a synthetic squad whose injuries come from a known hazard model.

Because the hazard is known, so is the best any model can do: the *oracle* AUC of the
true daily injury probability. Tests and the demo compare models against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class HazardModel:
    """Daily injury hazard: the probability that an injury starts tomorrow, given today,

    logit p_t = intercept + acwr · (EWMA-ACWR_t − 1) + fatigue · (fatigue_t − 3)
                + monotony · (min(monotony_t, 4) − 1.5)

    with EWMA-ACWR as in Williams et al. 2017 (spans 7 and 28 days) and fatigue the
    day's wellness score (1–5, higher is more tired). ``monotony`` defaults to 0.
    """

    intercept: float = -4.6
    acwr: float = 2.5
    fatigue: float = 0.5
    monotony: float = 0.0

    def logit(self, ewma_acwr, fatigue, monotony=None):
        z = self.intercept + self.acwr * (ewma_acwr - 1.0) + self.fatigue * (fatigue - 3.0)
        if self.monotony and monotony is not None:
            z = z + self.monotony * (np.minimum(np.nan_to_num(monotony, nan=1.5), 4.0) - 1.5)
        return z


def synthetic_cohort(athletes: int = 60, days: int = 730, seed: int = 0,
                     hazard: HazardModel = HazardModel(), start: str = "2024-01-01") -> pd.DataFrame:
    """Simulates a squad's daily loads, wellness and injuries (seeded, deterministic).

    Loads follow a weekly pattern (match day, recovery, rest) scaled by an athlete's
    level, with noisy days and random overload blocks that move the ACWR; fatigue
    rises with the acute:chronic ratio. Each day a healthy athlete's injury starts the
    next day with the probability of ``hazard``; an injury lasts 3–21 days with no load.

    Returns
    -------
    DataFrame, one row per athlete-day: athlete, date, daily_load (AU), fatigue (1–5),
    injury (1 on injured days), p_true (the hazard of an onset tomorrow; NaN while
    injured). The workload features of :func:`sportsmed.risk.workload` on daily_load
    reproduce the EWMA-ACWR the hazard used.
    """
    rng = np.random.default_rng(seed)
    lam_a, lam_c = 2.0 / 8.0, 2.0 / 29.0
    level = rng.normal(450.0, 70.0, athletes).clip(250.0)
    pattern = np.array([0.9, 1.2, 0.8, 1.1, 0.6, 1.5, 0.0])  # Mon … Sun, match on Saturday
    offset = rng.integers(0, 7, athletes)
    load = np.zeros((athletes, days))
    fatigue = np.zeros((athletes, days))
    injured = np.zeros((athletes, days), dtype=np.int64)
    p_true = np.full((athletes, days), np.nan)
    ew_a = np.zeros(athletes)
    ew_c = np.zeros(athletes)
    out_until = np.full(athletes, -1)
    block_end = np.full(athletes, -1)
    block_scale = np.ones(athletes)
    for t in range(days):
        hurt = t <= out_until
        start_block = (~hurt) & (t > block_end) & (rng.random(athletes) < 1 / 40)
        block_end = np.where(start_block, t + rng.integers(5, 15, athletes), block_end)
        block_scale = np.where(start_block, rng.uniform(1.3, 2.0, athletes), block_scale)
        block_scale = np.where(t > block_end, 1.0, block_scale)
        day_load = level * pattern[(t + offset) % 7] * block_scale * rng.lognormal(0.0, 0.25, athletes)
        if t == 0:
            day_load = np.maximum(day_load, 0.5 * level)  # a first day with load: ratios defined
        day_load = np.where(hurt, 0.0, np.round(day_load, 1))
        load[:, t] = day_load
        injured[:, t] = hurt
        if t == 0:
            ew_a, ew_c = day_load.copy(), day_load.copy()
        else:
            ew_a = (1 - lam_a) * ew_a + lam_a * day_load
            ew_c = (1 - lam_c) * ew_c + lam_c * day_load
        ratio = np.where(ew_c > 0, ew_a / np.where(ew_c > 0, ew_c, 1.0), 1.0)
        fatigue[:, t] = np.clip(3.0 + 1.5 * (ratio - 1.0) + rng.normal(0.0, 0.7, athletes), 1.0, 5.0)
        p = 1.0 / (1.0 + np.exp(-hazard.logit(ratio, fatigue[:, t])))
        p_true[:, t] = np.where(hurt, np.nan, p)
        onset = (~hurt) & (rng.random(athletes) < p)
        out_until = np.where(onset, t + rng.integers(3, 22, athletes), out_until)
        # an onset drawn today starts tomorrow (`hurt` is evaluated at the start of a day)
    dates = pd.date_range(start, periods=days, freq="D")
    names = [f"S{a + 1:02d}" for a in range(athletes)]
    return pd.DataFrame({
        "athlete": np.repeat(names, days),
        "date": np.tile(dates.to_numpy(), athletes),
        "daily_load": load.ravel(),
        "fatigue": fatigue.ravel(),
        "injury": injured.ravel(),
        "p_true": p_true.ravel(),
    })
