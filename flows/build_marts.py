"""Flow `build-marts`: one athlete's private marts, then its public layer.

A thin wrapper: the work is `pipeline.steps.build_marts.build_marts`, which the CLI calls too
(`runlake marts build`), under the athlete's lease (lake/lease.py). Parameters override the
settings read from the environment.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger

from flows.athlete_runs import athlete_lease, open_athlete
from pipeline.steps.build_marts import BuildSummary, build_marts
from runlake.files import private_umask
from runlake.settings import Settings

__all__ = ["BuildSummary", "build_marts", "build_marts_flow"]

FLOW_NAME = "build-marts"


@flow(name=FLOW_NAME, log_prints=False)
def build_marts_flow(lake_uri: str | None = None, full: bool = False, today: str | None = None, athlete: str | None = None) -> dict:
    """Build the athlete's marts incrementally (`full=True`: from scratch) as of `today`
    (YYYY-MM-DD, default today in the athlete's time zone). `athlete`: a handle, None for the
    default athlete."""
    logger = get_run_logger()
    private_umask()  # a flow run is a process edge: its files are 0600, folders 0700
    day = dt.date.fromisoformat(today) if today else None
    lake, who = open_athlete(Settings.with_overrides(lake_uri=lake_uri), athlete, FLOW_NAME)
    logger.info("building marts of athlete %s in %s (%s)", who.athlete_id, lake.root, "full" if full else "incremental")
    with athlete_lease(lake, who.settings, who.athlete_id, FLOW_NAME, logger):
        result = build_marts(lake, who.settings, full=full, today=day)
    logger.info("build-marts: %s", result.as_dict())
    return result.as_dict()
