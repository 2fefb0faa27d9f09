"""Flow `daily-athlete`: one athlete's part of the daily pipeline.

sync-strava (when Strava is configured and the athlete can sync) → ingest-fit from the athlete's
inbox → build-marts (private marts, then its public rows). Each step is a subflow inside a task
with its own retries and timeout (`flows/daily_steps.py`), and takes the athlete's lease itself
(this flow holds none: a lease is not re-entrant). A failed step does not stop the ones after it
— marts are rebuilt from whatever did land — but the run ends Failed naming every failed step.

`daily` (flows/daily.py) starts one of these per athlete; it can also be run on its own
(`prefect deployment run 'daily-athlete/local' --param athlete=HANDLE`). Its run is named
`daily-athlete-<athlete_id>`, never after the handle.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.athlete_runs import open_athlete
from flows.daily_steps import BUILD_MARTS, INGEST_FIT, SYNC_STRAVA, Step, describe_failure, run_step
from flows.events import emit_activities_landed
from pipeline.lake_access import lake_at
from pipeline.athletes import Athlete
from lake import activities, credentials
from lake.history import row_count
from lake.storage import Lake
from runlake.files import private_umask
from runlake.settings import Settings

FLOW_NAME = "daily-athlete"


class DailyStepsFailed(RuntimeError):
    """One or more steps of an athlete's daily run failed; the message names each with its error."""


def strava_configured(settings: Settings) -> bool:
    """Strava sync needs a client id and either a client secret or a secret block holding it."""
    return bool(settings.strava_client_id) and bool(
        settings.strava_client_secret or settings.strava_secret_block
    )


def strava_skip_reason(lake: Lake, athlete: Athlete) -> str | None:
    """Why the athlete's Strava sync is skipped today, or None to run it. The default athlete may
    sync from RUNLAKE_STRAVA_REFRESH_TOKEN or a legacy token; another athlete only once it has
    authorized (credentials stored in the lake)."""
    if not strava_configured(athlete.settings):
        return ("Strava is not configured (set RUNLAKE_STRAVA_CLIENT_ID with RUNLAKE_STRAVA_CLIENT_SECRET "
                "or RUNLAKE_STRAVA_SECRET_BLOCK)")
    if not athlete.is_default and credentials.load_sealed(lake, athlete.athlete_id, credentials.STRAVA) is None:
        return "the athlete has not authorized Strava (`runlake strava auth --athlete HANDLE`)"
    return None


@flow(
    name=FLOW_NAME,
    description="One athlete: Strava sync, FIT ingest from its inbox, marts and its public rows.",
    timeout_seconds=12 * 3600,
)
def daily_athlete(athlete: str | None = None, lake_uri: str | None = None, inbox_uri: str | None = None) -> dict[str, str]:
    """Run the athlete's daily steps. `athlete`: a handle, None for the default athlete."""
    logger = get_run_logger()
    private_umask()  # a flow run is a process edge: its files are 0600, folders 0700
    lake, who = open_athlete(Settings.with_overrides(lake_uri=lake_uri, inbox_uri=inbox_uri), athlete, FLOW_NAME)
    lake_at(who.settings.inbox, who.settings)  # an unusable inbox URI fails before any step
    logger.info("daily run of athlete %s: lake %s", who.athlete_id, lake.root)

    overrides = {"lake_uri": lake_uri, "inbox_uri": inbox_uri, "athlete": who.handle}
    outcome: dict[str, str] = {}
    failures: list[str] = []

    def step(s: Step) -> None:
        logger.info("step %s: starting", s.name)
        state = run_step(s, overrides)
        if state.is_completed():
            outcome[s.name] = "completed"
            logger.info("step %s: completed", s.name)
        else:
            why = describe_failure(state)
            outcome[s.name] = f"failed: {why}"
            failures.append(f"{s.name} ({why})")
            logger.error("step %s: %s: %s", s.name, state.name, why)

    activities_before = row_count(lake, activities.SPEC, who.athlete_id)
    skip = strava_skip_reason(lake, who)
    if skip is None:
        step(SYNC_STRAVA)
    else:
        outcome[SYNC_STRAVA.name] = "skipped"
        logger.info("step sync-strava: skipped, %s", skip)
    step(INGEST_FIT)
    step(BUILD_MARTS)

    new_activities = row_count(lake, activities.SPEC, who.athlete_id) - activities_before
    logger.info("%d new activities landed in this run", max(new_activities, 0))
    emit_activities_landed(who.athlete_id, new_activities, source="daily")
    if failures:
        raise DailyStepsFailed(f"{len(failures)} step(s) failed: " + "; ".join(failures))
    return outcome
