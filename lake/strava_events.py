"""`private/strava_events`: the queue of Strava push events (webhooks), de-duplicated
(key: `object_type`, `object_id`, `aspect_type`, `event_time`).

Strava POSTs an event to the API's `/v1/webhooks/strava` the moment an activity is created,
updated or deleted, or an athlete revokes access; it may send one event more than once, and any
replica may receive it. So the queue is a table in the lake, shared by every replica and kept
across restarts: an event is inserted once (a second copy of the same key changes nothing) with
`status = queued`, and the processor (`pipeline/strava_push.py`) sets `athlete_id` (the runlake
athlete owning that Strava athlete, null when none does) and the outcome. Events are unsigned,
so nothing here is trusted: the processor confirms each one with the athlete's own token.
Private part of the lake: exported and erased with `athlete_id`; never published.
"""

from __future__ import annotations

import polars as pl

from lake.storage import Lake
from lake.table import TableSpec, insert_absent, scan, upsert

QUEUED, DONE, IGNORED, FAILED = "queued", "done", "ignored", "failed"

SPEC = TableSpec(
    name="private/strava_events",
    grain="one Strava push event (object, aspect, event time), as received and processed",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,  # the runlake athlete of `owner_id`, set when processed; null: none
            "object_type": pl.String,  # activity | athlete
            "object_id": pl.Int64,  # Strava activity id, or Strava athlete id
            "aspect_type": pl.String,  # create | update | delete
            "event_time": pl.Datetime("us", "UTC"),  # Strava's event_time (seconds since the epoch)
            "owner_id": pl.Int64,  # Strava athlete id
            "subscription_id": pl.Int64,
            "updates": pl.String,  # Strava's `updates` object as JSON (e.g. {"authorized": "false"})
            "received_at": pl.Datetime("us", "UTC"),
            "status": pl.String,  # queued, done, ignored (forged, unknown athlete, nothing to do), failed
            "outcome": pl.String,  # what processing did or why not, one line
            "attempts": pl.Int32,  # processing attempts so far
            "processed_at": pl.Datetime("us", "UTC"),
        }
    ),
    key=("object_type", "object_id", "aspect_type", "event_time"),
)


def enqueue(lake: Lake, rows: pl.DataFrame) -> int:
    """Insert events not already in the queue (same key: a duplicate, left as it is); one commit.
    Returns how many were new."""
    return insert_absent(lake, SPEC, rows)


def queued(lake: Lake, *, max_attempts: int) -> pl.DataFrame:
    """Events still to process (queued, or failed fewer than `max_attempts` times), oldest first."""
    return (
        scan(lake, SPEC)
        .filter((pl.col("status") == QUEUED) | ((pl.col("status") == FAILED) & (pl.col("attempts") < max_attempts)))
        .sort("event_time", "received_at")
        .collect()
    )


def save(lake: Lake, rows: pl.DataFrame) -> None:
    """Write processed events back (merge on the key)."""
    upsert(lake, SPEC, rows)
