"""`private/privacy_marks`: the athlete's privacy decisions per run, kept apart from `activities`
(key: `athlete_id`, `activity_id`).

`activities` is re-derived by `runlake lake rebuild` and loses its Strava columns (`is_private`,
`strava_id`) when the run is deleted on Strava, so a run that was private anywhere is remembered
here: one row per run and decision, with every identity the run was known by (its activity id,
Strava id, FIT file hash and session), so a mark keeps finding its run after a merge, a Strava
deletion or a rebuild. The rules (which identity matches, the latest decision wins) are in
`marts/visibility.py`; docs/privacy.md explains them. Private part of the lake: never published.
"""

from __future__ import annotations

import polars as pl

from lake.storage import Lake
from lake.table import TableSpec, scan, upsert

#: `reason` values: why the run was marked (or, for `SET_PUBLIC`, published).
STRAVA_PRIVATE, PRIVATE_LIST, SET_PRIVATE, SET_PUBLIC = "strava_private", "private_list", "set_private", "set_public"

SPEC = TableSpec(
    name="private/privacy_marks",
    grain="one privacy decision about one run of an athlete",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "activity_id": pl.String,  # the run's activity_id when the decision was recorded
            "strava_id": pl.Int64,  # the run's Strava id, kept after it is deleted on Strava
            "fit_sha256": pl.String,  # its watch file, with…
            "session_index": pl.Int32,  # …the session in that file
            "is_private": pl.Boolean,  # true: hidden; false: explicitly published by the athlete
            "reason": pl.String,  # strava_private | private_list | set_private | set_public
            "marked_at": pl.Datetime("us", "UTC"),  # the latest decision about a run wins
        }
    ),
    key=("athlete_id", "activity_id"),
)


def scan_marks(lake: Lake, athlete_id: str) -> pl.LazyFrame:
    return scan(lake, SPEC).filter(pl.col("athlete_id") == athlete_id)


def save_marks(lake: Lake, marks: pl.DataFrame) -> None:
    """Merge decisions on (`athlete_id`, `activity_id`): a run's newer decision replaces its older one."""
    upsert(lake, SPEC, marks)
