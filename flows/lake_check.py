"""Flow `lake-check`: verify the lake's invariants (`runlake lake check`), Failed on a violation.

A thin wrapper over `pipeline.lake_check.check_lake`. The `daily` flow runs it as its last step,
once for the whole lake after every athlete's run; it can also be run on its own. The report
goes to the run's log; a violation fails the run with the report's summary line (which names
each violated invariant and table, never a handle).

The check reads one table after the other, so a writer committing meanwhile (an ad-hoc
`ingest-fit` while `daily` checks) could look like an orphan or a stale mart. The flow therefore
holds every athlete's lease while it checks — taken in athlete-id order, so two checks cannot
deadlock, and each waiting up to RUNLAKE_LEASE_WAIT_S for that athlete's writer to finish.
Writers that arrive meanwhile wait for the check (seconds), then go on.
"""

from __future__ import annotations

import contextlib

from prefect import flow, get_run_logger

from flows.athlete_runs import athlete_lease
from pipeline.athletes import list_athletes
from pipeline.lake_access import open_lake
from pipeline.lake_check import check_lake
from runlake.files import private_umask
from runlake.settings import Settings

FLOW_NAME = "lake-check"


@flow(name=FLOW_NAME, flow_run_name=FLOW_NAME)
def lake_check(lake_uri: str | None = None, sample_days: int = 20) -> str:
    """Check every invariant of the lake; returns the summary line, raises `LakeCheckFailed` on a violation."""
    logger = get_run_logger()
    private_umask()  # a flow run is a process edge: its files are 0600, folders 0700
    settings = Settings.with_overrides(lake_uri=lake_uri)
    lake = open_lake(settings, for_write=False)  # an older lake is a schema_version violation, not an error
    with contextlib.ExitStack() as held:
        for athlete_id in sorted({a.athlete_id for a in list_athletes(lake, settings)}):
            held.enter_context(athlete_lease(lake, settings, athlete_id, FLOW_NAME, logger))
        report = check_lake(lake, settings, sample_days=sample_days)
    logger.info("lake check of %s:\n%s", lake.root, "\n".join(report.lines()))
    report.raise_on_violation()
    return report.summary()
