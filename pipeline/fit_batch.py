"""Commit one batch of FIT outcomes to the lake, in an order that makes a killed run repairable.

Order: the activities with their laps and records (`pipeline.activity_write`, the one write path)
→ quarantine → fit_files → (inbox runs) inbox_files. Child rows are replaced per activity (one
atomic commit per table), so writing them again is harmless; `fit_files` is written after them,
so a file is only "known" once everything it produced is in, and `inbox_files` last, so an inbox
file is only skipped unread (`pipeline.inbox_seen`) once all of that is in. A run killed at any
moment leaves files the next run processes again: nothing lost, nothing doubled. The caller
holds the athlete's lease (one writer at a time).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from lake import activities, fit_files, inbox_files, laps, quarantine
from lake.storage import Lake
from lake.table import delete_rows, in_predicate, read, scan, upsert
from pipeline import activity_merge
from pipeline.activity_write import activity_frame, concat_conformed, write_activities
from sources.fit.outcome import INGESTED, QUARANTINED, FileOutcome

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


def commit_batch(lake: Lake, outcomes: Sequence[FileOutcome], *, athlete_id: str, now: datetime, raw_paths: dict[str, str],
                 seen: pl.DataFrame | None = None) -> int:
    """Write a decoded batch, then `seen` (the batch's `inbox_files` rows: every inbox file it
    read, new or already known). Returns the number of activities written."""
    chosen = latest_per_activity(outcomes)
    ids = list(chosen)
    write_activities(
        lake,
        athlete_id,
        records=[c[2] for c in chosen.values()],
        laps=lambda: concat_conformed([c[1] for c in chosen.values()], laps.SPEC),
        activities=lambda: activity_frame([c[0] for c in chosen.values()]),
        replace_ids=ids,
        # (strava) a re-ingested FIT activity keeps the Strava columns of its merged row
        update_columns=[c for c in activities.SPEC.schema if c not in activities.STRAVA_OWNED],
    )
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
    if seen is not None:
        upsert(lake, inbox_files.SPEC, seen)
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
