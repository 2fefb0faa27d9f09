"""`private/activity_edits`: the athlete's merges and splits of activities (key: `athlete_id`,
`edit_id`, `role`).

Written by `runlake activity merge A B` (two rows: role `into` names A, role `from` names B) and
`runlake activity split A --at T` (one row, role `at`, with `split_at`); read by the marts build,
the public layer and the private pages, which apply them to what they derive (marts/edits.py),
so an edit survives `runlake lake rebuild`, `runlake marts build --full` and a re-sync. Like
`private/overrides`, a row remembers every identity its run was known by then (activity id,
Strava id, FIT file hash and session), so it keeps finding its run after a merge of sources or a
rebuild. A split's second part is the activity `edit_id`. Private part of the lake: exported and
erased with the athlete, never published.
"""

from __future__ import annotations

import polars as pl

from lake.storage import Lake
from lake.table import TableSpec, scan

SPEC = TableSpec(
    name="private/activity_edits",
    grain="one activity's part in one merge or split",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "edit_id": pl.String,  # merge-<12 hex> | split-<12 hex> (the split's new part's activity_id)
            "role": pl.String,  # into (merge target) | from (merged into the target) | at (split)
            "kind": pl.String,  # merge | split
            "activity_id": pl.String,  # the run's activity_id when the edit was recorded
            "strava_id": pl.Int64,  # the run's identities then (see lake/privacy_marks.py)
            "fit_sha256": pl.String,
            "session_index": pl.Int32,
            "split_at": pl.Datetime("us", "UTC"),  # split instant (UTC); null for a merge
            "set_at": pl.Datetime("us", "UTC"),
        }
    ),
    key=("athlete_id", "edit_id", "role"),
)


def scan_edits(lake: Lake, athlete_id: str) -> pl.LazyFrame:
    return scan(lake, SPEC).filter(pl.col("athlete_id") == athlete_id)
