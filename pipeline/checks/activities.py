"""Every activity has its samples and laps where its source has them, and no sample or lap
belongs to an activity that is not there.

Which activities must have `records` and `laps`:

* a file activity (its `source` starts with `fit`, `gpx` or `tcx`: a watch file or a file of an
  export archive, docs/import.md): what its archived file holds for its session. Real files have sessions without lap messages (strength, yoga) and, rarely, without
  records, so an activity without rows in one of the tables is checked against its raw file
  (decoded again, only for those activities) before it counts as a violation;
* a Strava-only activity: `records` when `strava_activities.has_streams` says its streams were
  stored ("summary only" activities have none); Strava-only laps are not checked.
Deleted activities (`is_deleted`) are not expected to have anything.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import polars as pl

from lake import activities as activities_table
from lake import fit_files, laps, raw, records, strava_state
from lake.storage import Lake
from lake.table import scan
from marts.public import source_components
from pipeline.checks.finding import Finding, finding
from sources.formats import decode_activity_file
from sources.fit.model import FitError

log = logging.getLogger(__name__)

RECORDS_LAPS_PRESENT = "records_laps_present"
NO_ORPHANS = "no_orphans"


def _children(lake: Lake, spec, athlete_ids: set[str]) -> pl.DataFrame:
    """Distinct (`activity_id`, `athlete_id`) of a child table, for the athletes checked."""
    return (
        scan(lake, spec).filter(pl.col("athlete_id").is_in(sorted(athlete_ids)))
        .select("activity_id", "athlete_id").unique().collect()
    )


def no_orphans(lake: Lake, athlete_ids: set[str]) -> list[Finding]:
    """Every `records` and `laps` row belongs to an activity of the same `athlete_id`."""
    owners = scan(lake, activities_table.SPEC).select("activity_id", "athlete_id").collect()
    out = []
    for spec in (records.SPEC, laps.SPEC):
        orphans = _children(lake, spec, athlete_ids).join(owners, on=["activity_id", "athlete_id"], how="anti")
        out.append(finding(NO_ORPHANS, spec.name, (f"activity_id={r['activity_id']}, athlete_id={r['athlete_id']}"
                                                   for r in orphans.to_dicts())))
    return out


def records_laps_present(lake: Lake, athlete_ids: set[str]) -> list[Finding]:
    """Live activities without the `records` or `laps` their source has (see the module doc)."""
    ids = sorted(athlete_ids)
    live = (
        scan(lake, activities_table.SPEC)
        .filter(pl.col("athlete_id").is_in(ids) & ~pl.col("is_deleted").fill_null(False))
        .select("activity_id", "athlete_id", "source", "fit_sha256", "session_index", "strava_id")
        .collect()
    )
    streams = scan(lake, strava_state.ACTIVITIES).filter(pl.col("athlete_id").is_in(ids)).select(
        "athlete_id", "strava_id", "has_streams").collect()
    live = live.join(streams, on=["athlete_id", "strava_id"], how="left").with_columns(
        watch=source_components(pl.col("source")).list.first().is_in(["fit", "gpx", "tcx"]) & pl.col("fit_sha256").is_not_null(),
    )
    with_records = set(_children(lake, records.SPEC, athlete_ids)["activity_id"])
    with_laps = set(_children(lake, laps.SPEC, athlete_ids)["activity_id"])
    streamed = live.filter(~pl.col("watch") & pl.col("has_streams").fill_null(False))
    watch = live.filter(pl.col("watch"))
    lacking = watch.filter(~pl.col("activity_id").is_in(sorted(with_records)) | ~pl.col("activity_id").is_in(sorted(with_laps)))
    in_file = _rows_in_raw_files(lake, lacking)
    missing_records = [a for a in streamed["activity_id"] if a not in with_records]
    missing_laps = []
    for row in lacking.to_dicts():
        held = in_file.get(row["activity_id"])
        if held is None:  # raw file missing (raw_files_present reports it) or undecodable: cannot tell
            continue
        n_records, n_laps = held
        if n_records and row["activity_id"] not in with_records:
            missing_records.append(row["activity_id"])
        if n_laps and row["activity_id"] not in with_laps:
            missing_laps.append(row["activity_id"])
    return [
        finding(RECORDS_LAPS_PRESENT, records.SPEC.name, (f"activity_id={a}" for a in missing_records)),
        finding(RECORDS_LAPS_PRESENT, laps.SPEC.name, (f"activity_id={a}" for a in missing_laps)),
    ]


def _rows_in_raw_files(lake: Lake, lacking: pl.DataFrame) -> dict[str, tuple[int, int]]:
    """activity_id → (records, laps) its session has in its archived FIT file, decoded again.
    Activities whose file is not in the archive, or no longer decodes, are left out (logged)."""
    if lacking.is_empty():
        return {}
    paths = dict(
        scan(lake, fit_files.SPEC).filter(pl.col("raw_uri").is_not_null())
        .select("sha256", "raw_uri").unique("sha256").collect().iter_rows()
    )
    out: dict[str, tuple[int, int]] = {}
    for (sha,), group in lacking.group_by("fit_sha256"):
        held = _decode_sessions(lake, sha, paths.get(sha) or raw.fit_relative_path(sha))
        if held is None:
            continue
        for row in group.to_dicts():
            index = row["session_index"] or 0
            if index in held:
                out[row["activity_id"]] = held[index]
    return out


def _decode_sessions(lake: Lake, sha: str, path: str) -> dict[int, tuple[int, int]] | None:
    """(records, laps) per session_index of the file (a zero-length session left out has none)."""
    try:
        data = raw.read_bytes(lake, path)
    except FileNotFoundError:
        log.info("lake check: raw file %s is missing; its activities' records and laps are not verified", path)
        return None
    try:
        decoded = decode_activity_file(data, default_tz="UTC", now=datetime.now(UTC))
    except FitError as exc:
        log.warning("lake check: raw file %s no longer decodes (%s); its activities are not verified", path, exc)
        return None
    return {int(s.summary["session_index"]): (s.records.height, s.laps.height) for s in decoded.sessions}
