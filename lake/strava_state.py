"""Strava sync bookkeeping: what each Strava activity looked like when last stored, and the
sync checkpoint. Both are private tables of the lake (they move with it).

* `strava_activities` (key `athlete_id`, `strava_id`): the summary fingerprint of each Strava activity as last
  stored, its status (`stored`, `deleted`, `skipped` with a reason) and the raw JSON archived.
  Written last in each sync batch, after the rows it vouches for, so a run killed at any moment
  leaves activities the next run fetches again: nothing lost, nothing doubled.
* `strava_sync` (key `athlete_id`): the checkpoint (latest `start_time` below which everything
  listed is stored), when the last full listing ran, and how the last run ended.
"""

from __future__ import annotations

import polars as pl

from lake.storage import Lake
from lake.table import TableSpec, scan, upsert

STORED, DELETED, SKIPPED = "stored", "deleted", "skipped"

ACTIVITIES = TableSpec(
    name="strava_activities",
    grain="one Strava activity as last synced",
    schema=pl.Schema(
        {
            "strava_id": pl.Int64,
            "athlete_id": pl.String,
            "fingerprint": pl.String,  # hash of the summary fields that trigger a re-fetch
            "start_time": pl.Datetime("us", "UTC"),
            "status": pl.String,  # stored | deleted | skipped
            "reason": pl.String,  # why skipped, or what was missing (e.g. no streams)
            "has_streams": pl.Boolean,
            "raw_uri": pl.String,  # relative to the lake root: raw/strava/<id>/<content sha>.json
            "synced_at": pl.Datetime("us", "UTC"),
        }
    ),
    key=("athlete_id", "strava_id"),
)

SYNC = TableSpec(
    name="strava_sync",
    grain="one athlete's Strava sync checkpoint",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "checkpoint_start_time": pl.Datetime("us", "UTC"),
            "runs_since_full_listing": pl.Int32,
            "last_full_listing_at": pl.Datetime("us", "UTC"),
            "last_run_at": pl.Datetime("us", "UTC"),
            "last_outcome": pl.String,  # complete | stopped: <reason> | failed: <error>
        }
    ),
    key=("athlete_id",),
)


def synced(lake: Lake, athlete_id: str) -> pl.DataFrame:
    return scan(lake, ACTIVITIES).filter(pl.col("athlete_id") == athlete_id).collect()


def save_synced(lake: Lake, rows: list[dict]) -> None:
    if rows:
        upsert(lake, ACTIVITIES, pl.DataFrame(rows, schema=ACTIVITIES.schema))


def checkpoint(lake: Lake, athlete_id: str) -> dict | None:
    rows = scan(lake, SYNC).filter(pl.col("athlete_id") == athlete_id).collect().to_dicts()
    return rows[0] if rows else None


def save_checkpoint(lake: Lake, row: dict) -> None:
    upsert(lake, SYNC, pl.DataFrame([row], schema=SYNC.schema))
