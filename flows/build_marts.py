"""Flow `build-marts`: the private marts, then the public layer.

A thin wrapper: the work is `flows.steps.build_marts.build_marts`, which the CLI calls too
(`runlake marts build`). Parameters override the settings read from the environment.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger

from pipeline.lake_access import open_lake
from flows.steps.build_marts import BuildSummary, build_marts
from runlake.files import private_umask
from runlake.settings import Settings

__all__ = ["BuildSummary", "build_marts", "build_marts_flow"]


@flow(name="build-marts", log_prints=False)
def build_marts_flow(lake_uri: str | None = None, full: bool = False, today: str | None = None, athlete_id: str | None = None) -> dict:
    """Build the marts incrementally (`full=True`: from scratch) as of `today` (YYYY-MM-DD, default
    today in RUNLAKE_TIMEZONE)."""
    logger = get_run_logger()
    private_umask()  # a flow run is a process edge: its files are 0600, folders 0700
    settings = Settings.with_overrides(lake_uri=lake_uri, athlete_id=athlete_id)
    lake = open_lake(settings)
    day = dt.date.fromisoformat(today) if today else None
    logger.info("building marts in %s (%s)", lake.root, "full" if full else "incremental")
    result = build_marts(lake, settings, full=full, today=day)
    logger.info("build-marts: %s", result.as_dict())
    return result.as_dict()
