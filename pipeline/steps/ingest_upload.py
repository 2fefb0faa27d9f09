"""An upload's activity files into the athlete's inbox, then into the lake, then its marts.

What the web app's `/upload` page runs (in the web server's process, or as an `ingest-upload`
flow run when a Prefect API is configured): the files `pipeline.uploads.unpack` accepted are

1. **staged** (`stage_upload`) under the athlete's own inbox only — `<inbox>/uploads/<UTC time>-<random>/
   <n>-<safe name>.fit|.gpx|.tcx` (gunzipped) and Strava's CSV as `strava-<n>-activities.csv`,
   a local folder or an S3 prefix — so the originals are kept like any other file given to the
   inbox; a run that dies half-way is finished by the next ingest of the inbox (its `.fit`
   files) or by uploading the same files again (all of them: the lake skips what it has);
2. **ingested** (`ingest_upload`), exactly those files, with the athlete's effective settings,
   under the athlete's lease (one writer per athlete, lake/lease.py), by
   `pipeline.archive_import.ingest_export_files`, what `runlake import` runs (the same FIT ingest
   as the CLI and the flows, plus the CSV's name, Strava id and gear); then that athlete's marts
   are built (`build_marts`, incremental);
3. **reported** per file (`file_results`), from the lake's own `fit_files` rows of the athlete:
   ingested, duplicate (the lake had it before), skipped (a file that is no activity),
   quarantined with its error, or not ingested (unreadable).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from lake import fit_files, lease, raw
from lake.table import scan
from lake.storage import Lake
from pipeline import fit_batch
from pipeline.archive_import import ingest_export_files
from pipeline.athletes import Athlete
from pipeline.lake_access import lake_at
from pipeline.steps.build_marts import BuildSummary, build_marts
from pipeline.steps.ingest_fit import IngestReport
from pipeline.uploads import Refusal, UploadedFile
from runlake.errors import RunlakeError
from runlake.files import make_private_dir
from runlake.settings import Settings
from sources.archive import SUFFIXES, StravaExportRow, plain_name, strava_activities_csv
from sources.fit import inbox
from sources.fit.outcome import INGESTED, QUARANTINED, SKIPPED, sha256_of

log = logging.getLogger(__name__)

#: Inside an athlete's inbox, the folder uploads are staged in.
UPLOADS_FOLDER = "uploads"
#: A staged upload's folder, relative to the inbox (what `stage_upload` makes).
STAGED_FOLDER_RE = re.compile(r"^uploads/[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")
#: The lease's command name (shown to a CLI run waiting for it).
LEASE_COMMAND = "ingest upload"

#: Strava's activities.csv of a staged upload: `strava-<n>-activities.csv` in its folder.
STAGED_CSV_SUFFIX = "-activities.csv"

#: Per-file results.
RESULT_INGESTED, RESULT_DUPLICATE, RESULT_SKIPPED = "ingested", "duplicate", "skipped"
RESULT_QUARANTINED, RESULT_REFUSED, RESULT_NOT_INGESTED = "quarantined", "refused", "not ingested"

#: `progress(phase, done, total)`: phase is "waiting", "ingesting" or "building marts".
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class StagedFile:
    """One uploaded activity file in the athlete's inbox: `name` as the visitor gave it, `uri`
    where it is stored, its sha256 and size."""

    name: str
    uri: str
    sha256: str
    size_bytes: int

    @property
    def file_name(self) -> str:
        """The file's own name without `.gz` (what `fit_files.file_name` records and Strava's CSV
        names the file by, as in `runlake import`)."""
        return plain_name(self.name)


@dataclass(frozen=True)
class FileResult:
    file: str
    result: str
    detail: str = ""


@dataclass
class UploadReport:
    files: list[FileResult] = field(default_factory=list)
    ingest: IngestReport | None = None
    marts: BuildSummary | None = None
    seconds: float = 0.0

    def count(self, result: str) -> int:
        return sum(1 for f in self.files if f.result == result)

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(r)} {r}" for r in (RESULT_INGESTED, RESULT_DUPLICATE, RESULT_SKIPPED,
                           RESULT_QUARANTINED, RESULT_REFUSED, RESULT_NOT_INGESTED) if self.count(r))
        return f"{len(self.files)} files: {counts or 'nothing'} in {self.seconds:.1f} s"


@dataclass(frozen=True)
class StagedUpload:
    """An upload in the athlete's inbox: its folder (relative to the inbox), its files and the
    rows of its Strava `activities.csv` (by plain file name, lower case; empty without one)."""

    folder: str
    files: list[StagedFile]
    strava: dict[str, StravaExportRow] = field(default_factory=dict)


def _strava_rows(csv_files: Sequence[bytes]) -> dict[str, StravaExportRow]:
    rows: dict[str, StravaExportRow] = {}
    for data in csv_files:
        rows.update(strava_activities_csv(data.decode("utf-8-sig", errors="replace")))
    return rows


def stage_upload(
    settings: Settings, files: Sequence[UploadedFile], *, strava_csv: Sequence[bytes] = (), now: dt.datetime | None = None,
) -> StagedUpload:
    """Write `files` and Strava's `strava_csv` files into a new folder of the athlete's inbox
    (`settings`: the athlete's effective settings, so `settings.inbox` is its own). Nothing is
    written for an upload without files."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    folder = f"{UPLOADS_FOLDER}/{stamp}-{secrets.token_hex(4)}"
    if not files:
        return StagedUpload(folder, [])
    location = lake_at(settings.inbox, settings)
    if not location.is_s3:
        make_private_dir(Path(location.uri(folder)))
    staged = []
    for number, file in enumerate(files, start=1):
        relative = f"{folder}/{number:05d}-{file.safe_name}"  # safe_name has no '/': stays in folder
        raw.write_bytes(location, relative, file.data)
        staged.append(StagedFile(file.name, location.uri(relative), file.sha256, len(file.data)))
    for number, data in enumerate(strava_csv, start=1):
        raw.write_bytes(location, f"{folder}/strava-{number}{STAGED_CSV_SUFFIX}", data)
    return StagedUpload(folder, staged, _strava_rows(strava_csv))


def _is_staged_name(name: str) -> bool:
    return name.lower().endswith(SUFFIXES + (STAGED_CSV_SUFFIX,))


def staged_in(settings: Settings, folder: str) -> StagedUpload:
    """A staged upload, found again from its folder (how an `ingest-upload` flow run gets it: a
    folder name is a small parameter, five thousand files are not). Only a folder `stage_upload`
    could have made is accepted, so a parameter cannot point anywhere else. The files' names are
    their stored (safe) names."""
    if not STAGED_FOLDER_RE.match(folder):
        raise RunlakeError(f"not an upload folder: {folder!r}")
    location = lake_at(settings.inbox, settings)
    found = inbox.discover([lake_at(location.uri(folder), settings)], names=_is_staged_name)
    files, csv_files = [], []
    for item in found:
        data = inbox.read_bytes(item, location.fsspec_options())
        if item.name.lower().endswith(STAGED_CSV_SUFFIX):
            csv_files.append(data)
        else:
            files.append(StagedFile(item.name.split("-", 1)[-1], item.uri, sha256_of(data), len(data)))
    return StagedUpload(folder, files, _strava_rows(csv_files))


def ingest_upload(
    lake: Lake, athlete: Athlete, staged: Sequence[StagedFile], *, strava: dict[str, StravaExportRow] | None = None,
    refused: Sequence[Refusal] = (), progress: Progress | None = None, today: dt.date | None = None,
) -> UploadReport:
    """Ingest exactly the `staged` files for `athlete`, with the upload's Strava CSV rows
    `strava` (`StagedUpload.strava`), and build its marts, under its lease; the per-file
    results, `refused` (by the upload checks) included. Waits for the lease like the CLI
    (RUNLAKE_LEASE_WAIT_S), reporting the phase "waiting" meanwhile; raises `LeaseBusyError`
    when the wait runs out."""
    started = time.perf_counter()
    settings = athlete.settings
    step = progress or (lambda phase, done, total: None)
    report = UploadReport()
    if staged:
        location = lake_at(settings.inbox, settings)
        items = [inbox.FitInput(s.uri, s.file_name, s.size_bytes) for s in staged]
        done = [0]

        def ingested(n: int) -> None:
            done[0] += n
            step("ingesting", done[0], len(items))

        with lease.acquire(lake, athlete.athlete_id, LEASE_COMMAND, wait_s=settings.lease_wait_s,
                           on_wait=lambda holder: step("waiting", 0, len(items))):
            before = fit_batch.known_statuses(lake, athlete.athlete_id, [s.sha256 for s in staged])
            step("ingesting", 0, len(items))
            report.ingest = ingest_export_files(lake, settings, items, strava or {}, read_options=location.fsspec_options(),
                                                progress=ingested).ingest
            step("building marts", 0, 1)
            report.marts = build_marts(lake, settings, today=today)
            step("building marts", 1, 1)
        report.files = file_results(lake, athlete.athlete_id, staged, before)
    report.files += [FileResult(r.name, RESULT_REFUSED, r.reason) for r in refused]
    report.seconds = time.perf_counter() - started
    log.info("upload of athlete %s: %s", athlete.athlete_id, report.summary())
    return report


def file_results(lake: Lake, athlete_id: str, staged: Sequence[StagedFile], before: dict[str, str]) -> list[FileResult]:
    """Each staged file's result, from the athlete's `fit_files` rows; `before` is
    `fit_batch.known_statuses` as it was before the ingest (a file it calls ingested or skipped
    was a duplicate)."""
    shas = [s.sha256 for s in staged]
    rows = (
        scan(lake, fit_files.SPEC)
        .filter((pl.col("athlete_id") == athlete_id) & pl.col("sha256").is_in(shas))
        .select("sha256", "status", "reason").collect()
    )
    now = {r["sha256"]: r for r in rows.iter_rows(named=True)}
    results = []
    for s in staged:
        row = now.get(s.sha256)
        if before.get(s.sha256) in (INGESTED, SKIPPED):
            results.append(FileResult(s.name, RESULT_DUPLICATE, "already in your data"))
        elif row is None:
            results.append(FileResult(s.name, RESULT_NOT_INGESTED, "could not be read back from your inbox"))
        elif row["status"] == INGESTED:
            results.append(FileResult(s.name, RESULT_INGESTED))
        elif row["status"] == SKIPPED:
            results.append(FileResult(s.name, RESULT_SKIPPED, f"not an activity: {row['reason'] or ''}".rstrip(": ")))
        elif row["status"] == QUARANTINED:
            results.append(FileResult(s.name, RESULT_QUARANTINED, row["reason"] or ""))
        else:
            results.append(FileResult(s.name, row["status"], row["reason"] or ""))
    return results
