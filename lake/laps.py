"""`laps`: one row per lap of an activity (key: `activity_id`, `lap_index`)."""

import polars as pl

from lake.table import TableSpec

SPEC = TableSpec(
    name="laps",
    grain="one lap of an activity",
    schema=pl.Schema(
        {
            "activity_id": pl.String,
            "athlete_id": pl.String,
            "lap_index": pl.Int32,
            "start_time": pl.Datetime("us", "UTC"),
            "start_offset_s": pl.Float64,  # from the activity's start_time
            "elapsed_s": pl.Float64,
            "moving_s": pl.Float64,
            "distance_m": pl.Float64,
            "avg_speed_mps": pl.Float64,
            "avg_hr_bpm": pl.Float64,
            "max_hr_bpm": pl.Float64,
            "avg_cadence_spm": pl.Float64,
            "ascent_m": pl.Float64,
            "descent_m": pl.Float64,
            "intensity": pl.String,  # FIT lap intensity: active, rest, warmup, cooldown, …
            "lap_trigger": pl.String,
        }
    ),
    key=("activity_id", "lap_index"),
)
