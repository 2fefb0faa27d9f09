"""Apply the cross-source identity rule (`sources.crosssource`) to the lake.

Called by both sides after they write activities — the FIT ingest (a watch file arriving after
its Strava copy) and the Strava sync (a Strava activity arriving after its watch file) — so the
end state, ids included, is the same whichever source comes first.

Write order: merged rows first, then the retired Strava-only rows with their laps and records. A
run killed in between leaves a Strava-only row whose Strava id is already on a merged row; the
next reconcile (every sync run and FIT batch calls it) finds it and finishes the job.

Privacy is sticky (docs/privacy.md): before a merge or a Strava deletion changes a run's identity
or drops its Strava private flag, the run's privacy marks are recorded (`record_privacy_marks`,
rules in `marts.visibility`, like the merge rule in `sources.crosssource`), so a run once private
stays private whatever happens to its `activities` row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import polars as pl

from lake import activities, fit_files, laps, privacy_marks, records
from lake.storage import Lake
from lake.table import delete_rows, in_predicate, scan, upsert
from marts.visibility import ActivityRef, marks_to_record
from sources.crosssource import MergePlan, plan_merges, strip_strava


def _live(lake: Lake, athlete_id: str) -> pl.LazyFrame:
    return scan(lake, activities.SPEC).filter((pl.col("athlete_id") == athlete_id) & ~pl.col("is_deleted").fill_null(False))


def _frame(rows: list[dict]) -> pl.DataFrame:
    return activities.SPEC.conform(pl.DataFrame(rows, schema=activities.SPEC.schema))


def retire(lake: Lake, athlete_id: str, activity_ids: Iterable[str], years: Iterable[int]) -> None:
    """Delete activities with their records and laps. Children go first: a run killed midway
    leaves the activity row, so the next reconcile retires it again."""
    ids = sorted(set(activity_ids))
    if not ids:
        return
    where = in_predicate("activity_id", ids)
    year_list = sorted({int(y) for y in years if y is not None})
    parts = [in_predicate("athlete_id", [athlete_id])] + ([in_predicate("year", year_list)] if year_list else []) + [where]
    record_where = " AND ".join(parts)  # partition columns first: deletes touch only those files
    delete_rows(lake, records.SPEC, record_where)
    delete_rows(lake, laps.SPEC, where)
    delete_rows(lake, activities.SPEC, where)


def reconcile_sources(lake: Lake, athlete_id: str, *, now: datetime) -> MergePlan:
    """Merge every FIT/Strava pair of the lake not merged yet; retire the Strava-only copies."""
    live = _live(lake, athlete_id)
    strava_only = live.filter(pl.col("fit_sha256").is_null() & pl.col("strava_id").is_not_null()).collect()
    if strava_only.is_empty():
        return MergePlan()
    names = scan(lake, fit_files.SPEC).filter(pl.col("athlete_id") == athlete_id).select(
        pl.col("sha256").alias("fit_sha256"), pl.col("file_name").alias("fit_file_name"))
    fit = live.filter(pl.col("fit_sha256").is_not_null()).join(names, on="fit_sha256", how="left").collect()
    plan = plan_merges(fit.to_dicts(), strava_only.to_dicts(), now=now)
    if plan.merged:
        merged = _frame(plan.merged)
        upsert(lake, activities.SPEC, merged)
        record_privacy_marks(lake, athlete_id, merged.lazy(), now=now)  # a private Strava-only run's mark follows it
    if plan.retired_ids:
        retired = strava_only.filter(pl.col("activity_id").is_in(plan.retired_ids))
        retire(lake, athlete_id, plan.retired_ids, retired["start_time"].dt.year().to_list())
    return plan


def forget_strava(
    lake: Lake, athlete_id: str, strava_ids: Iterable[int], *, now: datetime, private_entries: Iterable[ActivityRef] = ()
) -> tuple[int, int]:
    """Strava activities deleted on Strava: a Strava-only row is marked `is_deleted`; a merged
    row stays (the watch file is the athlete's own record) and loses its Strava fields — after
    its privacy marks are recorded (Strava's private flag, `private_entries` naming it by its
    Strava id), so it stays private without them.
    Returns (Strava-only rows marked deleted, merged rows stripped)."""
    ids = sorted({int(i) for i in strava_ids})
    if not ids:
        return 0, 0
    found = _live(lake, athlete_id).filter(pl.col("strava_id").is_in(ids)).collect()
    record_privacy_marks(lake, athlete_id, found.lazy(), private_entries, now=now)
    rows = found.to_dicts()
    changed = []
    for row in rows:
        if row["fit_sha256"] is not None:
            changed.append({**strip_strava(row), "updated_at": now})
        else:
            changed.append({**row, "is_deleted": True, "updated_at": now})
    if changed:
        upsert(lake, activities.SPEC, _frame(changed))
    stripped = sum(1 for r in rows if r["fit_sha256"] is not None)
    return len(rows) - stripped, stripped


def record_privacy_marks(
    lake: Lake, athlete_id: str, rows: pl.LazyFrame, private_entries: Iterable[ActivityRef] = (), *, now: datetime
) -> int:
    """Merge the privacy marks that `rows` (activities rows) call for into `private/privacy_marks`:
    Strava's private flag, `private_entries` naming them, marks under an identity they had before.
    Returns the marks written (0 when everything was already recorded)."""
    marks = privacy_marks.scan_marks(lake, athlete_id).collect().lazy()
    new = marks_to_record(rows, marks, private_entries, athlete_id=athlete_id, now=now).collect()
    if not new.is_empty():
        privacy_marks.save_marks(lake, new)
    return new.height
