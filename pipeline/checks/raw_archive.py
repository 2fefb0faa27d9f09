"""The raw archive and the tables that vouch for it agree.

* `raw_files_present` (violation): every `fit_files` row of an ingested or quarantined file names
  its archived copy (`raw_uri`), and every `raw_uri` of `fit_files` and `strava_activities` is a
  file under the lake: without it `runlake lake rebuild` cannot re-derive the activity.
* `raw_files_referenced` (warning, lake-wide only): every file under `raw/fit` is named by some
  `fit_files` row. A file without one is harmless — an ingest archives a file before it commits
  its `fit_files` row, so a run killed in between leaves one until the next run — and it does not
  fail the check; many of them mean files were archived but never recorded.
"""

from __future__ import annotations

import polars as pl

from lake import fit_files, raw, strava_state
from lake.registry import RAW_PREFIXES
from lake.storage import Lake
from lake.table import scan
from pipeline.checks.finding import WARNING, Finding, finding

RAW_FILES_PRESENT = "raw_files_present"
RAW_FILES_REFERENCED = "raw_files_referenced"

#: `fit_files` statuses whose file must be in the archive (a skipped file is archived too, but an
#: older lake may not have kept it).
ARCHIVED_STATUSES = (fit_files.STATUS_INGESTED, fit_files.STATUS_QUARANTINED)


def raw_files_present(lake: Lake, athlete_ids: set[str], archived: set[str]) -> list[Finding]:
    """`archived`: every file under the raw archive (relative paths, `raw.list_relative`)."""
    ids = sorted(athlete_ids)
    files = scan(lake, fit_files.SPEC).filter(pl.col("athlete_id").is_in(ids)).select(
        "sha256", "status", "raw_uri").collect()
    unnamed = files.filter(pl.col("status").is_in(ARCHIVED_STATUSES) & pl.col("raw_uri").is_null())
    absent = files.filter(pl.col("raw_uri").is_not_null() & ~pl.col("raw_uri").is_in(sorted(archived)))
    fit = [f"sha256={s} (no raw_uri)" for s in unnamed["sha256"]] + [f"raw_uri={u}" for u in absent["raw_uri"]]
    strava = scan(lake, strava_state.ACTIVITIES).filter(
        pl.col("athlete_id").is_in(ids) & pl.col("raw_uri").is_not_null() & ~pl.col("raw_uri").is_in(sorted(archived))
    ).select("raw_uri").collect()
    return [
        finding(RAW_FILES_PRESENT, fit_files.SPEC.name, fit),
        finding(RAW_FILES_PRESENT, strava_state.ACTIVITIES.name, (f"raw_uri={u}" for u in strava["raw_uri"])),
    ]


def raw_files_referenced(lake: Lake, archived: set[str]) -> Finding:
    named = set(scan(lake, fit_files.SPEC).select("raw_uri").drop_nulls().collect()["raw_uri"])
    stray = [p for p in archived if p.startswith(raw.FIT_PREFIX + "/") and p not in named]
    return finding(RAW_FILES_REFERENCED, raw.FIT_PREFIX, stray, severity=WARNING)


def archived_files(lake: Lake) -> set[str]:
    """Every file of the raw archive (`lake.registry.RAW_PREFIXES`), relative to the lake root."""
    return {p for prefix in RAW_PREFIXES for p in raw.list_relative(lake, prefix)}
