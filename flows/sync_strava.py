"""Flow `sync-strava`: one athlete's Strava activities into the lake (see docs/strava.md).

Thin: settings from the environment with the flow's parameters on top, the athlete resolved
(`athlete`: a handle, None for the default athlete), then one network task wrapping
`pipeline.strava_sync.sync_strava` (the plain function the CLI calls). The task retries
when Strava could not be reached; it does not retry what a retry cannot fix (refused
credentials, malformed answers); each attempt holds the athlete's lease (lake/lease.py). A
rate-limit stop is a successful run: the report says so and
the next scheduled run resumes.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.athlete_runs import athlete_lease, open_athlete
from pipeline.lake_access import open_lake
from runlake.files import private_umask
from runlake.settings import Settings
from sources.strava.errors import StravaUnavailable
from pipeline.strava_sync import SyncReport, sync_strava


FLOW_NAME = "sync-strava"


def _retry_when_unreachable(task, task_run, state) -> bool:
    """Retry only when Strava was unreachable or kept failing (not on refused credentials)."""
    try:
        state.result()
    except StravaUnavailable:
        return True
    except Exception:
        return False
    return False


@task(name="sync-strava-api", retries=2, retry_delay_seconds=[30, 120], retry_condition_fn=_retry_when_unreachable, cache_policy=NO_CACHE)
def sync_task(settings: Settings) -> dict:
    """`settings`: the athlete's effective settings."""
    logger = get_run_logger()
    lake = open_lake(settings)
    last = {"n": -1}

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "fetching" and done != last["n"] and (done % 50 == 0 or done == total):
            last["n"] = done
            logger.info("fetched %d/%d new or changed activities", done, total)

    with athlete_lease(lake, settings, settings.athlete_id, FLOW_NAME, logger):
        report: SyncReport = sync_strava(lake, settings, progress=progress)
    for strava_id, reason in report.skipped:
        logger.warning("skipped Strava activity %s: %s", strava_id, reason)
    logger.info(report.summary())
    return report.__dict__


@flow(name=FLOW_NAME, log_prints=False)
def sync_strava_flow(
    lake_uri: str | None = None,
    full_listing_every: int | None = None,
    rate_share: float | None = None,
    max_wait_s: float | None = None,
    commit_every: int | None = None,
    athlete: str | None = None,
) -> dict:
    """Sync Strava into the lake; parameters override the RUNLAKE_* settings."""
    overrides = dict(
        lake_uri=lake_uri,
        strava_full_listing_every=full_listing_every,
        strava_rate_share=rate_share,
        strava_max_wait_s=max_wait_s,
        strava_commit_every=commit_every,
    )
    private_umask()  # a flow run is a process edge: its files are 0600, folders 0700
    # A bad parameter or an unknown athlete fails here, before the task runs.
    _, who = open_athlete(Settings.with_overrides(**overrides), athlete, FLOW_NAME)
    return sync_task(who.settings)
