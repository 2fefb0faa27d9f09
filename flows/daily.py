"""Flow `daily`: the whole pipeline for every athlete, once a day, from the settings alone.

One `daily-athlete` child run per athlete of the lake (flows/daily_athlete.py: sync-strava →
ingest-fit → build-marts for that athlete), fanned out by flows/daily_fanout.py — as runs of the
per-athlete deployment on the same work pool under a deployment (at most its
`concurrency_limit` at once), as subflows one after the other without one. Every child is
awaited; one athlete's failure (a revoked token, broken data or settings) fails only its own run.
The parent then maintains the lake once a week (lake-wide, not per athlete), checks the lake's
invariants (`lake-check`, once for the whole lake: after every child, so no child's half-written
batch looks like an orphan) and ends Failed naming every athlete whose run failed, a failed
maintenance and the check's summary line, each kept beside the others. Parameters override the
settings (`RUNLAKE_LAKE_URI`, `RUNLAKE_INBOX_URI`); with none, everything comes from the worker's
environment.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect import flow, get_run_logger

from flows.daily_athlete import DailyStepsFailed, strava_configured
from flows.daily_fanout import AthletesFailed, DailyFailed, run_children, summarize
from flows.daily_steps import LAKE_CHECK, MAINTAIN_LAKE, describe_failure, run_step
from pipeline.lake_access import lake_at, open_lake
from pipeline.athletes import list_athletes
from lake import activities
from lake.history import last_operation_at
from runlake.errors import RunlakeError
from runlake.files import private_umask
from runlake.settings import Settings

__all__ = ["AthletesFailed", "DailyFailed", "DailyStepsFailed", "daily", "maintenance_due", "strava_configured"]

#: Maintenance runs on the default athlete's Sunday, and on any day when the last one is this old.
MAINTENANCE_EVERY = timedelta(days=7)
MAINTENANCE_WEEKDAY = 6  # Sunday (Monday is 0)
#: A Sunday re-run of `daily` does not maintain twice.
MAINTENANCE_MIN_GAP = timedelta(hours=20)


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


@flow(
    name="daily",
    description="Per athlete: Strava sync, FIT ingest, marts (one daily-athlete run each); lake maintenance weekly; lake check.",
    timeout_seconds=12 * 3600,
)
def daily(lake_uri: str | None = None, inbox_uri: str | None = None, maintain: bool | None = None) -> dict:
    """Run the pipeline for every athlete. `maintain`: True forces lake maintenance, False skips
    it, None = weekly."""
    logger = get_run_logger()
    private_umask()  # a flow run is a process edge: its files are 0600, folders 0700
    settings = Settings.with_overrides(lake_uri=lake_uri, inbox_uri=inbox_uri)
    # Fail before any child when the lake or inbox URI cannot work at all (typo'd scheme, S3
    # without credentials): every athlete would fail the same way.
    lake = open_lake(settings)
    lake_at(settings.inbox, settings)
    zone = athlete_zone(settings)
    athletes = list_athletes(lake, settings)
    logger.info("daily run: lake %s, %d athlete(s): %s", lake.root, len(athletes),
                ", ".join(f"{a.handle} ({a.athlete_id})" for a in athletes))

    summary = summarize(run_children(athletes, {"lake_uri": lake_uri, "inbox_uri": inbox_uri}))
    for result in summary.completed:
        logger.info("athlete %s (%s): completed", result.handle, result.athlete_id)
    for result in summary.failed:
        logger.error("athlete %s (%s): run %s failed: %s", result.handle, result.athlete_id, result.run_name, result.message)
    outcome: dict = {"athletes": summary.outcome()}

    if summary.all_failed:
        outcome[MAINTAIN_LAKE.name] = "skipped"
        logger.warning("step maintain-lake: skipped because every athlete's run failed")
    else:
        if maintain is None:
            now_local = datetime.now(timezone.utc).astimezone(zone)
            due, why = maintenance_due(now_local, last_operation_at(lake, activities.SPEC))
        else:
            due, why = maintain, "forced by the maintain parameter"
        if not due:
            outcome[MAINTAIN_LAKE.name] = "skipped"
            logger.info("step maintain-lake: not due (%s)", why)
        else:
            logger.info("step maintain-lake: due (%s)", why)
            state = run_step(MAINTAIN_LAKE, {"lake_uri": lake_uri})
            outcome[MAINTAIN_LAKE.name] = "completed" if state.is_completed() else f"failed: {describe_failure(state)}"
            if not state.is_completed():
                logger.error("step maintain-lake: %s", outcome[MAINTAIN_LAKE.name])

    logger.info("step lake-check: starting")
    state = run_step(LAKE_CHECK, {"lake_uri": lake_uri})
    outcome[LAKE_CHECK.name] = "completed" if state.is_completed() else f"failed: {describe_failure(state)}"
    if not state.is_completed():
        logger.error("step lake-check: %s", outcome[LAKE_CHECK.name])

    problems = [summary.error()] if summary.failed else []
    if outcome[MAINTAIN_LAKE.name].startswith("failed"):
        problems.append(f"maintain-lake {outcome[MAINTAIN_LAKE.name]}")
    if outcome[LAKE_CHECK.name].startswith("failed"):
        problems.append(f"lake-check {outcome[LAKE_CHECK.name]}")
    if problems:
        raise (AthletesFailed if summary.failed else DailyFailed)("; ".join(problems))
    return outcome
