"""Commit one batch of FIT outcomes to the lake, in an order that makes a killed run repairable.

Order: records → laps → activities → quarantine → fit_files. Child rows are replaced per
activity (one atomic commit per table), so writing them again is harmless; `fit_files` is written
last, so a file is only "known" once everything it produced is in. A run killed at any moment
leaves files the next run processes again: nothing lost, nothing doubled.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import polars as pl

from lake import activities, fit_files, laps, quarantine, records
from pipeline import activity_merge
from lake.storage import Lake
from lake.table import delete_rows, in_predicate, read, replace_rows, scan, upsert
from sources.fit.outcome import INGESTED, QUARANTINED, FileOutcome

log = logging.getLogger(__name__)


def known_statuses(lake: Lake, athlete_id: str, shas: Sequence[str]) -> dict[str, str]:
    """sha256 → status for the files of this batch the athlete already gave the lake."""
    if not shas:
        return {}
    known = (
        scan(lake, fit_files.SPEC)
        .filter((pl.col("athlete_id") == athlete_id) & pl.col("sha256").is_in(list(shas)))
        .select("sha256", "status").collect()
    )
    return dict(zip(known["sha256"], known["status"], strict=True))


def latest_per_activity(outcomes: Sequence[FileOutcome]):
    """activity_id → (activity row, laps, records) when several files carry the same recording.

    Across runs the file ingested later replaces the earlier rows; within one batch (one
    `ingested_at`) the file with the higher sha256 wins — by content, not by path or listing
    order — which is the order `runlake lake rebuild` replays (`ingested_at`, then sha256).
    """
    chosen: dict[str, tuple[dict, pl.DataFrame, pl.DataFrame]] = {}
    for outcome in sorted(outcomes, key=lambda o: o.sha256):
        if outcome.status != INGESTED or outcome.rows is None:
            continue
        for row, lap_frame, record_frame in zip(outcome.rows.activities, outcome.rows.laps, outcome.rows.records, strict=True):
            chosen[row["activity_id"]] = (row, lap_frame, record_frame)
    return chosen


def concat_conformed(frames: list[pl.DataFrame], spec) -> pl.DataFrame:
    """One frame of `spec`'s schema. Frames of one schema (the usual case) are concatenated
    first and conformed once: conforming each of hundreds of small frames cost ~1 ms apiece."""
    frames = [f for f in frames if f.height]
    if not frames:
        return spec.empty()
    if all(f.schema == frames[0].schema for f in frames):
        return spec.conform(pl.concat(frames, how="vertical"))
    return pl.concat([spec.conform(f) for f in frames], how="vertical")


#: How often a doubled replacement is written again before the run gives up (it never has to in
#: practice more than once: the other writer's rows for the same activity are the same rows).
REPAIR_ATTEMPTS = 5


def replace_children(lake: Lake, spec, frame: pl.DataFrame, ids: Sequence[str]) -> None:
    """Replace the child rows (`records`, `laps`) of activities `ids`, then check the keys.

    Two ingests of the same file at once both replace that activity's rows. Delta's conflict
    check does not always see the other writer's appended files as a conflict with an overwrite
    by predicate (seen on S3), which can leave both copies. So the result is checked: a doubled
    key means a concurrent writer raced this one, and the replacement is written again (the
    rows are the same either way), until the activity's rows are unique.
    """
    narrow = pl.col("activity_id").is_in(list(ids))
    if "year" in spec.schema and frame.height:
        narrow = pl.col("year").is_in(frame["year"].unique().drop_nulls().to_list()) & narrow
    for attempt in range(1, REPAIR_ATTEMPTS + 1):
        replace_rows(lake, spec, frame, by="activity_id", values=ids)
        stored = scan(lake, spec).filter(narrow).select(spec.key).collect()
        if not stored.is_duplicated().any():
            return
        log.warning("%s: a concurrent writer doubled rows of this batch's activities; rewriting (%d/%d)", spec.name, attempt, REPAIR_ATTEMPTS)
    raise RuntimeError(f"{spec.name}: rows of {len(ids)} activities stayed doubled after {REPAIR_ATTEMPTS} rewrites")


def commit_batch(lake: Lake, outcomes: Sequence[FileOutcome], *, athlete_id: str, now: datetime, raw_paths: dict[str, str]) -> int:
    """Write a decoded batch. Returns the number of activities written."""
    chosen = latest_per_activity(outcomes)
    ids = list(chosen)
    if ids:
        replace_children(lake, records.SPEC, concat_conformed([c[2] for c in chosen.values()], records.SPEC), ids)
        replace_children(lake, laps.SPEC, concat_conformed([c[1] for c in chosen.values()], laps.SPEC), ids)
        # (strava) a re-ingested FIT activity keeps the Strava columns of its merged row
        fit_owned = [c for c in activities.SPEC.schema if c not in activities.STRAVA_OWNED]
        upsert(lake, activities.SPEC, pl.DataFrame([c[0] for c in chosen.values()], schema_overrides=activities.SPEC.schema, strict=False), update_columns=fit_owned)
    _record_quarantine(lake, [o for o in outcomes if o.status == QUARANTINED], athlete_id=athlete_id, now=now)
    decoded_now = [o.sha256 for o in outcomes if o.status != QUARANTINED]
    mine = pl.col("athlete_id") == athlete_id
    cleared = scan(lake, quarantine.SPEC).filter(mine & pl.col("sha256").is_in(decoded_now)).select("sha256").collect()
    if cleared.height:  # a file that now decodes leaves the quarantine (no commit when none does)
        delete_rows(lake, quarantine.SPEC,
                    f"{in_predicate('athlete_id', [athlete_id])} AND {in_predicate('sha256', cleared['sha256'])}")
    upsert(
        lake,
        fit_files.SPEC,
        pl.DataFrame(
            [
                {
                    "sha256": o.sha256,
                    "athlete_id": athlete_id,
                    "file_name": o.name,
                    "size_bytes": o.size_bytes,
                    "ingested_at": now,
                    "status": o.status,
                    "reason": o.reason,
                    "raw_uri": raw_paths.get(o.sha256),
                    "activities": len(o.rows.activities) if o.rows else 0,
                    "decoder": o.decoder,
                }
                for o in {o.sha256: o for o in outcomes}.values()
            ],
            schema=fit_files.SPEC.schema,
        ),
    )
    if ids:  # (strava) a Strava-only copy of a run whose watch file just arrived merges into it,
        # matched on the file names just recorded; a run killed before this is reconciled by the
        # next ingest batch or Strava sync (see pipeline/activity_merge.py)
        activity_merge.reconcile_sources(lake, athlete_id, now=now)
    return len(ids)


def _record_quarantine(lake: Lake, bad: Sequence[FileOutcome], *, athlete_id: str, now: datetime) -> None:
    if not bad:
        return
    bad = list({o.sha256: o for o in bad}.values())
    previous = read(lake, quarantine.SPEC).filter(
        (pl.col("athlete_id") == athlete_id) & pl.col("sha256").is_in([o.sha256 for o in bad]))
    before = {r["sha256"]: r for r in previous.iter_rows(named=True)}
    rows = []
    for o in bad:
        old = before.get(o.sha256)
        rows.append(
            {
                "sha256": o.sha256,
                "athlete_id": athlete_id,
                "source_path": o.uri,
                "file_name": o.name,
                "error": o.reason,
                "first_seen_at": old["first_seen_at"] if old else now,
                "last_seen_at": now,
                "attempts": (old["attempts"] if old else 0) + 1,
            }
        )
    upsert(lake, quarantine.SPEC, pl.DataFrame(rows, schema=quarantine.SPEC.schema))
