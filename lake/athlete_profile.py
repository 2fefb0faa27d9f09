"""`athlete_profile`: dated physiology values (key: `athlete_id`, `valid_from`).

A row says "from this local date on, these values hold"; a null value means "unchanged from the
row before" (and, before any row, the `RUNLAKE_*` settings). `marts/profile.py` resolves the
values in force on each day, so history is computed with the physiology of its time.
"""

import polars as pl

from lake.table import TableSpec

SPEC = TableSpec(
    name="athlete_profile",
    grain="one athlete and the local date from which its values hold",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "valid_from": pl.Date,
            "hr_rest_bpm": pl.Int32,
            "hr_max_bpm": pl.Int32,
            "sex": pl.String,  # m | f
            "threshold_hr_bpm": pl.Int32,
            "threshold_pace_s_per_km": pl.Float64,
            "updated_at": pl.Datetime("us", "UTC"),
        }
    ),
    key=("athlete_id", "valid_from"),
)
