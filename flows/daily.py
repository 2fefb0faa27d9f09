"""Flow `daily`: the whole pipeline, once a day, from the settings alone.

sync-strava (when Strava is configured) → ingest-fit from the inbox → build-marts, and
maintain-lake once a week. Each step is a subflow inside a task with its own retries and timeout
(`flows/daily_steps.py`). A failed step does not stop the ones after it — marts are rebuilt from
whatever did land, so nothing that arrived is held back — but the run ends Failed, naming every
step that failed, and maintenance is skipped on such a day. Parameters override the settings
(`RUNLAKE_LAKE_URI`, `RUNLAKE_INBOX_URI`); with none, everything comes from the worker's
environment.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect import flow, get_run_logger

from runlake.errors import RunlakeError
from flows.events import emit_activities_landed
from pipeline.lake_access import lake_at, open_lake
from flows.daily_steps import BUILD_MARTS, INGEST_FIT, MAINTAIN_LAKE, SYNC_STRAVA, Step, run_step
from lake import activities
from lake.history import last_operation_at, row_count
from runlake.files import private_umask
from runlake.settings import Settings

#: Maintenance runs on the athlete's Sunday, and on any day when the last one is this old.
MAINTENANCE_EVERY = timedelta(days=7)
MAINTENANCE_WEEKDAY = 6  # Sunday (Monday is 0)
#: A Sunday re-run of `daily` does not maintain twice.
MAINTENANCE_MIN_GAP = timedelta(hours=20)


class DailyStepsFailed(RuntimeError):
    """One or more steps of the daily run failed; the message names each with its error."""


def strava_configured(settings: Settings) -> bool:
    """Strava sync needs a client id and either a client secret or a secret block holding it."""
    return bool(settings.strava_client_id) and bool(
        settings.strava_client_secret or settings.strava_secret_block
    )


def athlete_zone(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RunlakeError(f"RUNLAKE_TIMEZONE={settings.timezone!r} is not an IANA time zone") from exc


def maintenance_due(now_local: datetime, last_maintenance: datetime | None) -> tuple[bool, str]:
    """Whether to maintain the lake today, and why (for the log)."""
    if last_maintenance is None:
        return True, "the lake's recent history shows no compaction or vacuum"
    age = now_local - last_maintenance
    if age >= MAINTENANCE_EVERY:
        return True, f"last maintenance was {age.days} days ago"
    if now_local.weekday() == MAINTENANCE_WEEKDAY and age >= MAINTENANCE_MIN_GAP:
        return True, "it is Sunday in the athlete's time zone"
    return False, f"last maintenance was {age.total_seconds() / 3600:.0f} h ago; next on Sunday"


def _describe_failure(state) -> str:
    return " ".join(str(state.message or state.name).split())


@flow(
    name="daily",
    description="Strava sync, FIT ingest from the inbox, marts; lake maintenance weekly.",
    timeout_seconds=12 * 3600,
)
def daily(lake_uri: str | None = None, inbox_uri: str | None = None, maintain: bool | None = None) -> dict[str, str]:
    """Run the pipeline. `maintain`: True forces lake maintenance, False skips it, None = weekly."""
    logger = get_run_logger()
    private_umask()  # a flow run is a process edge: its files are 0600, folders 0700
    settings = Settings.with_overrides(lake_uri=lake_uri, inbox_uri=inbox_uri)
    # Fail before any step when the lake or inbox URI cannot work at all (typo'd scheme, S3
    # without credentials): every step would fail the same way.
    lake = open_lake(settings)
    lake_at(settings.inbox, settings)
    zone = athlete_zone(settings)
    logger.info("daily run: lake %s, inbox %s, athlete %s (%s)", lake.root, settings.inbox, settings.athlete_id, zone.key)

    overrides = {"lake_uri": lake_uri, "inbox_uri": inbox_uri}
    outcome: dict[str, str] = {}
    failures: list[str] = []

    def step(s: Step) -> None:
        logger.info("step %s: starting", s.name)
        state = run_step(s, overrides)
        if state.is_completed():
            outcome[s.name] = "completed"
            logger.info("step %s: completed", s.name)
        else:
            why = _describe_failure(state)
            outcome[s.name] = f"failed: {why}"
            failures.append(f"{s.name} ({why})")
            logger.error("step %s: %s: %s", s.name, state.name, why)

    activities_before = row_count(lake, activities.SPEC)

    if strava_configured(settings):
        step(SYNC_STRAVA)
    else:
        outcome[SYNC_STRAVA.name] = "skipped"
        logger.info(
            "step sync-strava: skipped, Strava is not configured "
            "(set RUNLAKE_STRAVA_CLIENT_ID with RUNLAKE_STRAVA_CLIENT_SECRET or RUNLAKE_STRAVA_SECRET_BLOCK)"
        )
    step(INGEST_FIT)
    step(BUILD_MARTS)

    new_activities = row_count(lake, activities.SPEC) - activities_before
    logger.info("%d new activities landed in this run", max(new_activities, 0))
    emit_activities_landed(settings.athlete_id, new_activities, source="daily")

    if failures:
        outcome[MAINTAIN_LAKE.name] = "skipped"
        logger.warning("step maintain-lake: skipped because another step failed")
    else:
        if maintain is None:
            now_local = datetime.now(timezone.utc).astimezone(zone)
            due, why = maintenance_due(now_local, last_operation_at(lake, activities.SPEC))
        else:
            due, why = maintain, "forced by the maintain parameter"
        if due:
            logger.info("step maintain-lake: due (%s)", why)
            step(MAINTAIN_LAKE)
        else:
            outcome[MAINTAIN_LAKE.name] = "skipped"
            logger.info("step maintain-lake: not due (%s)", why)

    if failures:
        raise DailyStepsFailed(f"{len(failures)} step(s) failed: " + "; ".join(failures))
    return outcome
