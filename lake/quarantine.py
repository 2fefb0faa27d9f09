"""`quarantine`: one row per bad file of an athlete (key: `athlete_id`, `sha256`), with the error that stopped it."""

import polars as pl

from lake.table import TableSpec

SPEC = TableSpec(
    name="quarantine",
    grain="one file that could not be ingested",
    schema=pl.Schema(
        {
            "sha256": pl.String,
            "athlete_id": pl.String,
            "source_path": pl.String,
            "file_name": pl.String,
            "error": pl.String,
            "first_seen_at": pl.Datetime("us", "UTC"),
            "last_seen_at": pl.Datetime("us", "UTC"),
            "attempts": pl.Int32,
        }
    ),
    key=("athlete_id", "sha256"),
)
