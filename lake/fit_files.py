"""`fit_files`: one row per distinct FIT file an athlete ever offered to the lake (key: `athlete_id`, `sha256`).

Written last in an ingest batch: a file listed here as `ingested` has all its rows in the
decoded tables, so a run killed earlier is repaired by the next one re-processing the file.
"""

import polars as pl

from lake.table import TableSpec

STATUS_INGESTED = "ingested"
STATUS_SKIPPED = "skipped-not-activity"
STATUS_QUARANTINED = "quarantined"

SPEC = TableSpec(
    name="fit_files",
    grain="one distinct FIT file (by content)",
    schema=pl.Schema(
        {
            "sha256": pl.String,
            "athlete_id": pl.String,
            "file_name": pl.String,
            "size_bytes": pl.Int64,
            "ingested_at": pl.Datetime("us", "UTC"),
            "status": pl.String,
            "reason": pl.String,
            "raw_uri": pl.String,  # relative to the lake root: raw/fit/<sha[:2]>/<sha>.fit
            "activities": pl.Int32,
            "decoder": pl.String,
        }
    ),
    key=("athlete_id", "sha256"),
)
