"""Flow `ingest-fit`: one athlete's FIT files from its inbox (or given paths) into the lake.

A thin wrapper: the work is `pipeline.steps.ingest_fit.ingest_fit_files`, which the CLI calls too.
The athlete's lease is taken once there are files to ingest (lake/lease.py).
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.athlete_runs import athlete_lease, inbox_missing, open_athlete
from flows.events import emit_activities_landed
from pipeline.steps.ingest_fit import IngestReport, ingest_fit_files, resolve_inputs
from runlake.files import private_umask
from runlake.settings import Settings
from sources.fit import inbox

FLOW_NAME = "ingest-fit"


@flow(name=FLOW_NAME, log_prints=False)
def ingest_fit(
    paths: list[str] | None = None, lake_uri: str | None = None, inbox_uri: str | None = None,
    athlete: str | None = None,
) -> dict:
    """Ingest FIT files (default: everything in the athlete's inbox) into the lake. `athlete`: a
    handle, None for the default athlete."""
    logger = get_run_logger()
    private_umask()  # a flow run is a process edge: its files are 0600, folders 0700
    lake, who = open_athlete(Settings.with_overrides(lake_uri=lake_uri, inbox_uri=inbox_uri), athlete, FLOW_NAME)
    settings = who.settings
    if not paths and inbox_missing(who):
        logger.info("athlete %s has no inbox folder yet (%s): nothing to ingest", who.athlete_id, settings.inbox)
        return IngestReport().__dict__
    try:
        items, read_options = resolve_inputs(settings, paths)
    except inbox.NoFitFiles:
        if paths:
            raise
        logger.info("inbox %s holds no FIT files: nothing to ingest", settings.inbox)
        return IngestReport().__dict__
    logger.info("ingesting %d FIT files of athlete %s into %s", len(items), who.athlete_id, lake.root)
    done = {"n": 0}

    def progress(n: int) -> None:
        done["n"] += n
        if n and (done["n"] % 100 == 0 or done["n"] == len(items)):
            logger.info("%d/%d files processed", done["n"], len(items))

    with athlete_lease(lake, settings, who.athlete_id, FLOW_NAME, logger):
        report = ingest_fit_files(lake, settings, items, read_options=read_options, progress=progress)
    logger.info(report.summary())
    for name, error in report.quarantined:
        logger.warning("quarantined %s: %s", name, error)
    for uri, error in report.unreadable:
        logger.error("unreadable %s: %s", uri, error)
    emit_activities_landed(who.athlete_id, report.activities, source=FLOW_NAME)
    if report.unreadable:
        raise RuntimeError(f"{len(report.unreadable)} input files could not be read (see the log); the others were ingested")
    return report.__dict__
