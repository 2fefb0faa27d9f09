"""Flow `import-archive`: an export archive (Strava, Garmin Connect), a folder or files into the lake.

A thin wrapper: the work is `pipeline.archive_import.import_archive`, which `runlake import` calls
too, under the athlete's lease (lake/lease.py). `path` is read by the worker: a path it can see.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.athlete_runs import open_athlete
from flows.events import emit_activities_landed
from lake import lease
from pipeline.archive_import import import_archive
from runlake.files import private_umask
from runlake.settings import Settings

FLOW_NAME = "import-archive"


@flow(name="import-archive", log_prints=False)  # a literal: `runlake deploy` reads it without importing
def import_archive_flow(path: str, lake_uri: str | None = None, athlete: str | None = None) -> dict:
    """Import the archive, folder or file at `path` for `athlete` (a handle, None for the default
    athlete); the report's counts. Fails when files of the archive could not be read."""
    logger = get_run_logger()
    private_umask()  # a flow run is a process edge: its files are 0600, folders 0700
    lake, who = open_athlete(Settings.with_overrides(lake_uri=lake_uri), athlete, FLOW_NAME)
    done = {"n": 0, "of": 0}

    def listed(n: int) -> None:
        done["of"] = n
        logger.info("importing %d activity files of athlete %s from %s", n, who.athlete_id, path)

    def progress(n: int) -> None:
        done["n"] += n
        if n and (done["n"] % 200 == 0 or done["n"] == done["of"]):
            logger.info("%d/%d files processed", done["n"], done["of"])

    with lease.acquire(lake, who.athlete_id, FLOW_NAME):
        report = import_archive(lake, who.settings, path, progress=progress, on_listed=listed)
    logger.info(report.summary())
    for name, error in report.ingest.quarantined:
        logger.warning("quarantined %s: %s", name, error)
    for uri, error in report.ingest.unreadable:
        logger.error("unreadable %s: %s", uri, error)
    emit_activities_landed(who.athlete_id, report.ingest.activities, source=FLOW_NAME)
    if report.ingest.unreadable:
        raise RuntimeError(f"{len(report.ingest.unreadable)} archive files could not be read (see the log); the others were imported")
    return {"listed": report.listed, "with_strava_id": report.with_strava_id, **report.ingest.__dict__}
