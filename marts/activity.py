"""`activity_summary`: one row per activity, every metric the other marts and the public layer use.

Composes the per-activity pieces: load and zone times (marts/load.py), stream metrics (GAP,
efficiency factor, decoupling: marts/streams.py) and the session type (marts/sessions.py).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from lake.marts import ACTIVITY_SUMMARY
from marts.load import RUNNING, activity_load, hr_load, local_date
from marts.sessions import session_types
from marts.streams import stream_metrics


def with_local_date(activities: pl.LazyFrame) -> pl.LazyFrame:
    return activities.with_columns(date=local_date())


def activity_summary(
    activities: pl.LazyFrame, records: pl.LazyFrame, laps: pl.LazyFrame, instants: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """`activity_summary` rows for `activities` (activities rows with `date` and the physiology
    in force, see marts/profile.py), from their `records` and `laps`.

    `instants`: `marts.groups.first_per_instant(time_ordered(records))` when the caller has it
    (the full build sorts each records partition once); computed from `records` otherwise."""
    ordered = instants is not None
    instants = instants if ordered else records
    hr = hr_load(instants, activities.select("activity_id", "hr_rest_bpm", "hr_max_bpm", "k"), ordered=ordered)
    loaded = activity_load(activities, hr).cache()  # used by three branches below
    per_record = records.group_by("activity_id").agg(
        pl.col("lat_deg").is_not_null().any().alias("has_gps"),
        pl.col("hr_bpm").filter(pl.col("hr_bpm") > 0).mean().alias("records_hr_mean"),
        pl.col("hr_bpm").filter(pl.col("hr_bpm") > 0).max().cast(pl.Float64).alias("records_hr_max"),
    )
    runs = activities.filter(pl.col("sport") == RUNNING).select("activity_id")
    streams = stream_metrics(instants.join(runs, on="activity_id", how="semi", maintain_order="left"), ordered=ordered)
    loaded = loaded.join(per_record, on="activity_id", how="left")
    sessions = session_types(loaded, laps)
    out = (
        loaded.join(streams, on="activity_id", how="left")
        .join(sessions, on="activity_id", how="left")
        .with_columns(
            is_running=pl.col("sport") == RUNNING,
            avg_hr_bpm=pl.coalesce(pl.col("avg_hr_bpm"), pl.col("records_hr_mean")),
            max_hr_bpm=pl.coalesce(pl.col("max_hr_bpm"), pl.col("records_hr_max")),
        )
        .with_columns(is_private=pl.col("is_private").fill_null(False))
    )
    schema = pl.Schema(dict(out.collect_schema()) | {"moving_pace_s_per_km": pl.Float64, "gap_s_per_km": pl.Float64})
    out = out.map_batches(_paces, schema=schema, streamable=False)
    return out.select(list(ACTIVITY_SUMMARY.schema)).sort("date", "start_time", "activity_id")


def _paces(frame: pl.DataFrame) -> pl.DataFrame:
    """Moving pace and GAP in numpy (element-wise IEEE division: batch-independent, so a full
    build equals an incremental one exactly). Null without distance or time."""
    moving = frame.select(pl.coalesce("moving_s", "elapsed_s").fill_null(0.0)).to_series().to_numpy()
    distance = frame["distance_m"].fill_null(0.0).to_numpy()
    ok = (moving > 0) & (distance > 0)
    pace = np.divide(moving, distance / 1000.0, out=np.full(len(moving), np.nan), where=ok)
    factor = frame["gap_factor"].fill_null(1.0).to_numpy()
    gap = np.where(frame["is_running"].to_numpy(), pace / factor, np.nan)
    return frame.with_columns(
        moving_pace_s_per_km=pl.Series(pace).fill_nan(None), gap_s_per_km=pl.Series(gap).fill_nan(None)
    )
