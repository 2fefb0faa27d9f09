"""`private/overrides`: the athlete's corrections of one activity (key: `athlete_id`, `activity_id`).

Written by `runlake activity set` (`--sport`, `--race`, `--exclude-from-load`, `--distance-km`);
read by the marts build, which applies it to the activities it loads (`marts/overrides.py`), so a
correction survives `runlake lake rebuild`, `runlake marts build --full` and a re-sync, and the
public layer (built from the marts) shows it too. A null correction column means "not corrected".
Like `private/privacy_marks`, a row remembers every identity its run was known by (activity id,
Strava id, FIT file hash and session), so it keeps finding its run after a merge or a rebuild.
Private part of the lake: exported and erased with the athlete, never published.
"""

from __future__ import annotations

import polars as pl

from lake.storage import Lake
from lake.table import TableSpec, scan

SPEC = TableSpec(
    name="private/overrides",
    grain="the athlete's corrections of one activity",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "activity_id": pl.String,  # the run's activity_id when the correction was recorded
            "strava_id": pl.Int64,  # the run's identities then (see lake/privacy_marks.py)
            "fit_sha256": pl.String,
            "session_index": pl.Int32,
            "sport": pl.String,  # corrected sport (e.g. running); null: not corrected
            "is_race": pl.Boolean,  # true: a race (session_type race); null: not corrected
            "exclude_from_load": pl.Boolean,  # true: its load counts 0 (trimp 0); null: not corrected
            "distance_m": pl.Float64,  # corrected distance, m; null: not corrected
            "set_at": pl.Datetime("us", "UTC"),  # the latest correction of a field wins
        }
    ),
    key=("athlete_id", "activity_id"),
)


def scan_overrides(lake: Lake, athlete_id: str) -> pl.LazyFrame:
    return scan(lake, SPEC).filter(pl.col("athlete_id") == athlete_id)
