"""Replace every FIT-derived row of one athlete with rows re-derived from the raw archive.

One overwrite commit per table. Rows from other sources (Strava-only activities) are kept, and a
FIT activity merged with a Strava activity keeps the Strava-owned columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from lake import activities, fit_files, laps, records
from lake.fit_batch import concat_conformed, latest_per_activity
from lake.storage import Lake
from lake.table import overwrite, read, scan, upsert
from sources.fit.outcome import FileOutcome


def replace_fit_derived(lake: Lake, outcomes: Sequence[FileOutcome], *, athlete_id: str, now: datetime) -> int:
    chosen = latest_per_activity(outcomes)
    mine = f"athlete_id = '{athlete_id}'"
    existing = read(lake, activities.SPEC).filter(pl.col("athlete_id") == athlete_id)
    other_sources = existing.filter(pl.col("fit_sha256").is_null())
    keep_ids = other_sources["activity_id"].to_list()
    new_fit = activities.SPEC.conform(pl.DataFrame([c[0] for c in chosen.values()], schema_overrides=activities.SPEC.schema, strict=False))
    strava_cols = [c for c in activities.STRAVA_OWNED]
    carried = existing.filter(pl.col("strava_id").is_not_null() & pl.col("fit_sha256").is_not_null()).select("activity_id", *strava_cols)
    if carried.height:
        new_fit = new_fit.update(carried, on="activity_id", how="left", include_nulls=True)
    all_activities = pl.concat([new_fit, other_sources], how="vertical")

    def kept_children(spec) -> pl.DataFrame:
        return scan(lake, spec).filter((pl.col("athlete_id") == athlete_id) & pl.col("activity_id").is_in(keep_ids)).collect()

    new_records = pl.concat([concat_conformed([c[2] for c in chosen.values()], records.SPEC), records.SPEC.conform(kept_children(records.SPEC))])
    new_laps = pl.concat([concat_conformed([c[1] for c in chosen.values()], laps.SPEC), laps.SPEC.conform(kept_children(laps.SPEC))])
    overwrite(lake, records.SPEC, new_records, predicate=mine)
    overwrite(lake, laps.SPEC, new_laps, predicate=mine)
    overwrite(lake, activities.SPEC, all_activities, predicate=mine)
    status = pl.DataFrame(
        [{"sha256": o.sha256, "status": o.status, "reason": o.reason, "decoder": o.decoder, "activities": len(o.rows.activities) if o.rows else 0} for o in outcomes],
        schema={"sha256": pl.String, "status": pl.String, "reason": pl.String, "decoder": pl.String, "activities": pl.Int32},
    )
    known = read(lake, fit_files.SPEC).drop("status", "reason", "decoder", "activities").join(status, on="sha256", how="inner")
    upsert(lake, fit_files.SPEC, known)
    return len(chosen)
