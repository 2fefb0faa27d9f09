"""Flow `ingest-upload`: a web upload, staged in the athlete's inbox, into the lake and its marts.

The web app's `/upload` page starts a run of this flow's deployment (`ingest-upload/<RUNLAKE_WEB_DEPLOYMENT>`)
when a Prefect API is configured, so a large upload is visible in the Prefect UI and runs on a
worker, not in the web server. A thin wrapper: the work is
`pipeline.steps.ingest_upload.ingest_upload` (which the page runs in process otherwise), under the
athlete's lease. `athlete` is an athlete id (the page never passes a handle: Prefect's database is
outside erasure) and `folder` the upload's folder inside that athlete's inbox.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.athlete_runs import open_athlete
from pipeline.steps.ingest_upload import ingest_upload, staged_in
from runlake.files import private_umask
from runlake.settings import Settings

FLOW_NAME = "ingest-upload"


@flow(name="ingest-upload", log_prints=False)  # a literal: `runlake deploy` reads it without importing
def ingest_upload_flow(athlete: str, folder: str, lake_uri: str | None = None, inbox_uri: str | None = None) -> dict:
    """Ingest the upload in `folder` (`uploads/<time>-<random>` of the athlete's inbox) and build
    the athlete's marts; the counts of each per-file result."""
    logger = get_run_logger()
    private_umask()  # a flow run is a process edge: its files are 0600, folders 0700
    lake, who = open_athlete(Settings.with_overrides(lake_uri=lake_uri, inbox_uri=inbox_uri), athlete, FLOW_NAME)
    staged = staged_in(who.settings, folder)
    logger.info("ingesting an upload of %d activity files of athlete %s (%d rows of Strava's activities.csv)",
                len(staged.files), who.athlete_id, len(staged.strava))
    report = ingest_upload(lake, who, staged.files, strava=staged.strava)
    logger.info(report.summary())
    for result in report.files:
        if result.result == "quarantined":
            logger.warning("quarantined %s: %s", result.file, result.detail)
    return {r: report.count(r) for r in {f.result for f in report.files}}
