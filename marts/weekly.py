"""`weekly_summary`: one row per local Monday-to-Sunday week, derived from `daily_load`.

Its sums are sums of that week's daily rows, so the two marts always agree; rest weeks exist
because daily_load has every day. Foster (1998) monotony = mean / standard deviation (population,
ddof = 0) of the week's daily trimp over the week's days present in daily_load (7, except the
first and the current week), and strain = weekly trimp x monotony. Monotony and strain are null
when the standard deviation is 0 (e.g. a rest week): the ratio is undefined, never NaN or inf.
"""

from __future__ import annotations

import math

import polars as pl

from lake.marts import ZONE_COLUMNS
from marts.groups import ordered_sum


def week_start(date: pl.Expr) -> pl.Expr:
    """The Monday of a date's ISO week."""
    return date.dt.truncate("1w")


def weekly_summary(daily: pl.LazyFrame, activities: pl.LazyFrame) -> pl.LazyFrame:
    """Weeks of `daily` (daily_load rows) with the longest run from `activities` (activity_summary)."""
    longest = (
        activities.filter(pl.col("is_running"))
        .group_by(week_start(pl.col("date")).alias("week_start"))
        .agg(pl.col("distance_m").fill_null(0.0).max().alias("longest_run_m"))
    )
    weeks = daily.sort("date").group_by("athlete_id", week_start(pl.col("date")).alias("week_start"), maintain_order=True).agg(
        ordered_sum("distance_m"),
        ordered_sum("duration_s"),
        pl.col("runs").sum().cast(pl.Int32),
        pl.col("activities").sum().cast(pl.Int32),
        ordered_sum("trimp"),
        pl.col("trimp_estimated").any(),
        pl.col("trimp").alias("_daily_trimp"),
        *[ordered_sum(c) for c in ZONE_COLUMNS],
    )
    weeks = weeks.with_columns(
        monotony=pl.col("_daily_trimp").map_elements(foster_monotony, return_dtype=pl.Float64)
    ).drop("_daily_trimp")
    return (
        weeks.join(longest, on="week_start", how="left")
        .with_columns(
            pl.col("longest_run_m").fill_null(0.0),
            strain=pl.col("trimp") * pl.col("monotony"),
        )
        .sort("week_start")
    )


def foster_monotony(daily_trimp: pl.Series) -> float | None:
    """Mean / population SD of a week's daily loads; None when the SD is 0. Plain Python in day
    order, so the value does not depend on how a build batched its rows."""
    values = [float(v) for v in daily_trimp]
    if not values:
        return None
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return mean / sd if sd > 0 else None
