"""Import an export archive (Strava, Garmin Connect), a folder or single files into the lake.

`import_archive` is the plain function `runlake import` and the `import-archive` flow share; the
caller holds the athlete's lease. It lists the files (`sources.archive`), then runs them through
the FIT ingest (`pipeline.steps.ingest_fit.ingest_fit_files`) with the archive's reader: the same
dedupe by sha256, raw archive (`raw/fit/<sha>`, so `runlake lake rebuild` re-derives GPX and TCX
files too), quarantine, batches and the one write path (`pipeline.activity_write`). FIT, GPX and
TCX are told apart by content (`sources.formats`); rows carry `source` = `fit`, `gpx` or `tcx`.

Strava's `activities.csv` (`strava_columns`) adds, before a batch is committed, the Strava id,
name, description, gear (its name: the CSV has no gear id), private flag (when the CSV has one)
and sport (when the file has none) to the activity of each file it names; such a row is
`<format>+strava`, like a watch file merged with its Strava activity (`sources.crosssource`). A
later Strava sync then finds the id already paired and fetches no streams; a Strava-only row
synced before is merged into it by the reconcile every batch runs (`pipeline.activity_merge`).
Files already in the lake are skipped unread-twice: importing the same archive again adds nothing.

`ingest_export_files` is that ingest for files already listed, with the CSV's rows: the web
upload (`pipeline.steps.ingest_upload`) runs its staged files through it, so an upload of an
export and `runlake import` of it give the same rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from lake import activities
from lake.storage import Lake
from lake.table import scan
from pipeline import activity_merge
from pipeline.steps.ingest_fit import IngestReport, ingest_fit_files
from runlake.settings import Settings
from sources.archive import ArchiveReader, StravaExportRow, open_archive
from sources.fit.inbox import FitInput
from sources.fit.outcome import INGESTED, FileOutcome
from sources.strava.sports import fit_sport

log = logging.getLogger(__name__)

STRAVA_SUFFIX = "+strava"


@dataclass
class ImportReport:
    ingest: IngestReport
    listed: int = 0  # activity files found in the archive
    csv_rows: int = 0  # activities.csv rows that name a file
    with_strava_id: int = 0  # activities given their Strava id by activities.csv
    strava_id_elsewhere: list[int] = field(default_factory=list)  # already on another file's activity

    def summary(self) -> str:
        text = f"{self.listed} activity files in the archive; " + self.ingest.summary()
        if self.csv_rows:
            text += f"\nactivities.csv: {self.csv_rows} rows with a file, {self.with_strava_id} activities given their Strava id"
        return text


def strava_columns(row: StravaExportRow, activity: dict) -> dict:
    """The columns activities.csv contributes to the activity row of the file it names."""
    sport = activity.get("sport")
    sub_sport = activity.get("sub_sport")
    if sport is None and row.sport:
        sport, sub_sport = fit_sport(row.sport)
    base = (activity.get("source") or "fit").removesuffix(STRAVA_SUFFIX)
    return {
        "strava_id": row.strava_id,
        "name": row.name,
        "description": row.description,
        "gear_id": row.gear,
        "is_private": bool(row.is_private),
        "source": base + STRAVA_SUFFIX,
        "sport": sport,
        "sub_sport": sub_sport,
    }


def _main_session(rows: list[dict]) -> dict:
    """The activity a Strava activity stands for in a file of several sessions: the longest."""
    return max(rows, key=lambda r: (r.get("elapsed_s") or 0.0, -(r.get("session_index") or 0)))


def strava_annotator(
    lake: Lake, athlete_id: str, strava: dict[str, StravaExportRow], report: ImportReport,
) -> Callable[[list[FileOutcome]], None]:
    """`annotate` for `ingest_fit_files`: the CSV's columns (`strava`, by plain file name) onto the
    batch's new activity rows. A Strava id already on another file's live activity is not given
    twice (logged, reported)."""

    def annotate(outcomes: list[FileOutcome]) -> None:
        wanted = {}
        for outcome in outcomes:
            row = strava.get(outcome.name.lower())
            if row is not None and outcome.status == INGESTED and outcome.rows is not None and outcome.rows.activities:
                wanted[outcome.sha256] = (row, _main_session(outcome.rows.activities))
        if not wanted:
            return
        ids = [row.strava_id for row, _ in wanted.values()]
        taken = (
            scan(lake, activities.SPEC)
            .filter((pl.col("athlete_id") == athlete_id) & pl.col("strava_id").is_in(ids) & pl.col("fit_sha256").is_not_null()
                    & ~pl.col("is_deleted").fill_null(False))
            .select("strava_id", "activity_id").collect()
        )
        owner = dict(zip(taken["strava_id"], taken["activity_id"], strict=True))
        for row, activity in wanted.values():
            if owner.get(row.strava_id, activity["activity_id"]) != activity["activity_id"]:
                log.warning("Strava id %d is already on activity %s: not given to %s", row.strava_id, owner[row.strava_id],
                            activity["activity_id"])
                report.strava_id_elsewhere.append(row.strava_id)
                continue
            activity.update(strava_columns(row, activity))
            report.with_strava_id += 1

    return annotate


def import_archive(
    lake: Lake, settings: Settings, path: str, *, progress: Callable[[int], None] | None = None,
    on_listed: Callable[[int], None] | None = None, workers: int | None = None,
) -> ImportReport:
    """Import the archive, folder or file at `path` for `settings.athlete_id` (the caller holds
    its lease). `on_listed(n)` is told how many files were found before any is read."""
    archive = open_archive(path)
    if on_listed is not None:
        on_listed(len(archive.items))
    with ArchiveReader(archive) as reader:
        return ingest_export_files(lake, settings, archive.items, archive.strava, progress=progress, workers=workers,
                                   reader=reader.read)


def ingest_export_files(
    lake: Lake, settings: Settings, items: Sequence[FitInput], strava: dict[str, StravaExportRow], *,
    reader: Callable[[FitInput], bytes] | None = None, read_options: dict | None = None,
    progress: Callable[[int], None] | None = None, workers: int | None = None,
) -> ImportReport:
    """Ingest `items` (FIT, GPX or TCX; read by `reader`, else from their uri) for
    `settings.athlete_id` with Strava's CSV rows `strava` (plain file name, lower case → row;
    matched against each item's `name`); the caller holds the athlete's lease."""
    report = ImportReport(ingest=IngestReport(), listed=len(items), csv_rows=len(strava))
    report.ingest = ingest_fit_files(
        lake, settings, items, progress=progress, workers=workers, reader=reader, read_options=read_options,
        annotate=strava_annotator(lake, settings.athlete_id, strava, report) if strava else None,
    )
    if report.with_strava_id:  # Strava's private flag from the CSV becomes a sticky privacy mark, as in a sync
        ids = [r.strava_id for r in strava.values()]
        written = scan(lake, activities.SPEC).filter((pl.col("athlete_id") == settings.athlete_id) & pl.col("strava_id").is_in(ids))
        activity_merge.record_privacy_marks(lake, settings.athlete_id, written, now=datetime.now(UTC))
    return report
