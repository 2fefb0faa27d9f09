"""Flow `strava-events`: work the queue of Strava push events (docs/strava.md "Push").

The API queues each event Strava POSTs in the lake (`private/strava_events`) and, with
RUNLAKE_STRAVA_PUSH_DEPLOYMENT set, starts a run of this flow's deployment instead of working the
queue in its own process. Thin: one task around `pipeline.strava_push.process_queue`, which
confirms each event with the athlete's own token, syncs, retires or disconnects, and builds the
athlete's marts, each athlete under its lease. Events that failed for a passing reason stay
queued for the next run.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipeline.lake_access import open_lake
from pipeline.strava_push import process_queue
from runlake.files import private_umask
from runlake.settings import Settings

@task(name="strava-events-queue", cache_policy=NO_CACHE)
def work_queue(settings: Settings) -> dict:
    logger = get_run_logger()
    report = process_queue(open_lake(settings), settings)
    for row in report.processed:
        logger.info("%s %s %d: %s: %s", row["object_type"], row["aspect_type"], row["object_id"], row["status"], row["outcome"])
    return {status: report.count(status) for status in ("done", "ignored", "failed")}


@flow(name="strava-events", log_prints=False)  # a literal: `runlake deploy` reads it without importing
def strava_events_flow(lake_uri: str | None = None) -> dict:
    """Work the Strava push event queue of the lake."""
    private_umask()
    return work_queue(Settings.with_overrides(lake_uri=lake_uri))
