"""`daily_load`: one row per local day, with the Banister/Coggan fitness recursions and ACWR.

Rules (docs/marts.md): an activity belongs wholly to the local date of its start; distance,
duration (sum of `moving_s`) and runs count running activities only; trimp and the recursions
count every activity. Days run from the first activity day to today (or the last activity day
if later) with no gaps: rest days carry 0 load.

Recursions (TrainingPeaks PMC, Coggan): ctl_t = ctl_{t-1} + (trimp_t - ctl_{t-1}) / 42,
atl_t = atl_{t-1} + (trimp_t - atl_{t-1}) / 7, ctl_0 = atl_0 = 0 before the first day, and
tsb_t = ctl_{t-1} - atl_{t-1} (form going into the day). Computed by a sequential loop in exactly
that arithmetic, so an incremental build seeded with a stored day gives bit-identical values.

ACWR (Hulin et al. 2014/2016; Gabbett 2016): acute = mean of the last 7 days' trimp (today
included). `acwr` is the coupled ratio (chronic = mean of the last 28 days, acute week included);
`acwr_uncoupled` uses the 21 days before the acute week (Windt & Gabbett 2019). Both are null for
the first 27 days (no full chronic window) and when the chronic load is 0 (undefined, not NaN).
Window sums are summed afresh per day (not a running sum) so they do not depend on where a
build started.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from lake.marts import DAILY_LOAD, ZONE_COLUMNS
from marts.groups import ordered_sum

CTL_DAYS = 42
ATL_DAYS = 7
ACUTE_DAYS = 7
CHRONIC_DAYS = 28
#: Rows of history before the first recomputed day that an incremental build needs.
HISTORY_DAYS = CHRONIC_DAYS - 1

_SUMS = ("distance_m", "duration_s", "trimp", *ZONE_COLUMNS)


def daily_totals(activities: pl.LazyFrame, athlete_id: str, first_day: dt.date, last_day: dt.date) -> pl.LazyFrame:
    """Per-day sums of `activities` (activity_summary rows) on every day first_day..last_day."""
    is_run = pl.col("is_running")
    per_day = (
        activities.filter(pl.col("date").is_between(first_day, last_day))
        .sort("date", "start_time", "activity_id")
        .with_columns(
            distance_m=pl.when(is_run).then(pl.col("distance_m").fill_null(0.0)).otherwise(0.0),
            duration_s=pl.when(is_run).then(pl.col("moving_s").fill_null(0.0)).otherwise(0.0),
        )
        .group_by("date", maintain_order=True)
        .agg(
            *[ordered_sum(c) for c in _SUMS],
            is_run.sum().cast(pl.Int32).alias("runs"),
            pl.len().cast(pl.Int32).alias("activities"),
            pl.col("trimp_estimated").any().alias("trimp_estimated"),
        )
    )
    days = pl.LazyFrame({"date": pl.date_range(first_day, last_day, "1d", eager=True)})
    return (
        days.join(per_day, on="date", how="left")
        .with_columns(
            [pl.col(c).fill_null(0.0) for c in _SUMS]
            + [pl.col("runs").fill_null(0), pl.col("activities").fill_null(0), pl.col("trimp_estimated").fill_null(False)]
        )
        .with_columns(athlete_id=pl.lit(athlete_id))
        .sort("date")
    )


def fitness(totals: pl.LazyFrame, history: pl.DataFrame | None = None, *, first_day: dt.date | None = None) -> pl.LazyFrame:
    """Add atl, ctl, tsb and ACWR to `totals` (consecutive days, sorted).

    `history`: the stored `daily_load` rows just before `totals` (at most HISTORY_DAYS needed;
    their last row seeds the recursion), or None when `totals` starts at the first day.
    `first_day`: the athlete's first day (ACWR needs 28 days since it); defaults to totals' first.
    """
    history = history if history is not None else DAILY_LOAD.empty()
    history = history.sort("date").tail(HISTORY_DAYS)

    def compute(frame: pl.DataFrame) -> pl.DataFrame:
        trimp = frame["trimp"].to_numpy().astype(np.float64)
        n = len(trimp)
        ctl = np.empty(n)
        atl = np.empty(n)
        tsb = np.empty(n)
        c = float(history["ctl"][-1]) if history.height else 0.0
        a = float(history["atl"][-1]) if history.height else 0.0
        for i in range(n):
            tsb[i] = c - a
            c = c + (trimp[i] - c) / CTL_DAYS
            a = a + (trimp[i] - a) / ATL_DAYS
            ctl[i], atl[i] = c, a
        past = history["trimp"].to_numpy().astype(np.float64)
        series = np.concatenate([past, trimp])
        offset = len(past)
        start = first_day or (frame["date"][0] if n else None)
        acwr = np.full(n, np.nan)
        unc = np.full(n, np.nan)
        for i in range(n):
            j = offset + i
            if start is None or (frame["date"][i] - start).days < CHRONIC_DAYS - 1 or j < CHRONIC_DAYS - 1:
                continue
            acute = series[j - ACUTE_DAYS + 1 : j + 1].sum() / ACUTE_DAYS
            before = series[j - CHRONIC_DAYS + 1 : j - ACUTE_DAYS + 1].sum()
            chronic = (before + acute * ACUTE_DAYS) / CHRONIC_DAYS
            if chronic > 0:
                acwr[i] = acute / chronic
            if before > 0:
                unc[i] = acute / (before / (CHRONIC_DAYS - ACUTE_DAYS))
        return frame.with_columns(
            atl=pl.Series(atl), ctl=pl.Series(ctl), tsb=pl.Series(tsb),
            acwr=pl.Series(acwr).fill_nan(None), acwr_uncoupled=pl.Series(unc).fill_nan(None),
        )

    schema = dict(totals.collect_schema()) | {
        "atl": pl.Float64, "ctl": pl.Float64, "tsb": pl.Float64, "acwr": pl.Float64, "acwr_uncoupled": pl.Float64,
    }
    return totals.map_batches(compute, schema=pl.Schema(schema), streamable=False)
