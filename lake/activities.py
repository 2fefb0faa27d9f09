"""`activities`: one row per activity session (key: `activity_id`).

A FIT file with several sessions (multisport, chained files) gives one row per session. A run
present both as a FIT file and as a Strava activity is one row carrying both `fit_sha256` and
`strava_id`.
"""

import polars as pl

from lake.table import TableSpec

SPEC = TableSpec(
    name="activities",
    grain="one activity session",
    schema=pl.Schema(
        {
            "activity_id": pl.String,
            "athlete_id": pl.String,
            "sport": pl.String,
            "sub_sport": pl.String,
            "start_time": pl.Datetime("us", "UTC"),
            "utc_offset_s": pl.Int32,
            "distance_m": pl.Float64,
            "elapsed_s": pl.Float64,
            "moving_s": pl.Float64,
            "avg_hr_bpm": pl.Float64,
            "max_hr_bpm": pl.Float64,
            "ascent_m": pl.Float64,
            "descent_m": pl.Float64,
            "calories_kcal": pl.Float64,
            "avg_cadence_spm": pl.Float64,
            "device_manufacturer": pl.String,
            "device_product": pl.String,
            "device_serial": pl.String,
            "session_index": pl.Int32,
            "fit_sha256": pl.String,
            "strava_id": pl.Int64,
            "source": pl.String,  # fit | gpx | tcx | strava | <file format>+strava (docs/import.md)
            "name": pl.String,
            "description": pl.String,
            "gear_id": pl.String,
            "is_private": pl.Boolean,
            "is_deleted": pl.Boolean,
            "updated_at": pl.Datetime("us", "UTC"),
            "strava_external_id": pl.String,  # Strava's external_id: usually the uploaded file's name
            "quality_flags": pl.String,  # hostile values cleaned or noticed (docs/fit.md); null: none, or older rows
        }
    ),
    key=("activity_id",),
)

#: Columns a Strava activity contributes to a FIT activity it is merged with; a rebuild from the
#: raw FIT archive keeps them.
STRAVA_OWNED = ("strava_id", "name", "description", "gear_id", "is_private", "source", "strava_external_id")
