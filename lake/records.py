"""`records`: one row per sample of an activity (key: `activity_id`, `seq`).

`seq` is the sample's position in the activity's recording, so samples that repeat a timestamp
(some Suunto devices) are kept. Partitioned by `athlete_id` and `year` (the UTC year of the
activity's start, so an activity never spans two partitions): a 10-year history stays cheap to
read one year or one activity at a time.
"""

import polars as pl

from lake.table import TableSpec

SPEC = TableSpec(
    name="records",
    grain="one sample of an activity",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "year": pl.Int32,
            "activity_id": pl.String,
            "seq": pl.Int32,
            "timestamp": pl.Datetime("us", "UTC"),
            "lat_deg": pl.Float64,
            "lon_deg": pl.Float64,
            "distance_m": pl.Float64,
            "speed_mps": pl.Float64,
            "altitude_m": pl.Float64,
            "hr_bpm": pl.Int32,
            "cadence_spm": pl.Float64,
            "power_w": pl.Int32,
            "temperature_c": pl.Float64,
        }
    ),
    key=("activity_id", "seq"),
    partition_by=("athlete_id", "year"),
)
