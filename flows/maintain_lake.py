"""Flow `maintain-lake`: compaction and vacuum of every table (weekly in production)."""

from __future__ import annotations

from prefect import flow, get_run_logger

from pipeline.lake_access import open_lake
from lake.maintenance import check_retention, maintain_lake as maintain_all_tables
from runlake.files import private_umask
from runlake.settings import Settings


@flow(name="maintain-lake")
def maintain_lake(lake_uri: str | None = None, retention_hours: int | None = None) -> list[dict]:
    """Compact and vacuum every table of the lake. `retention_hours` may lengthen the retention,
    never shorten it below RUNLAKE_VACUUM_RETENTION_HOURS (the restore window)."""
    logger = get_run_logger()
    private_umask()  # a flow run is a process edge: its files are 0600, folders 0700
    settings = Settings.with_overrides(lake_uri=lake_uri)
    hours = settings.vacuum_retention_hours if retention_hours is None else retention_hours
    check_retention(hours, settings.vacuum_retention_hours)
    lake = open_lake(settings)
    results = maintain_all_tables(lake, retention_hours=hours)
    for r in results:
        logger.info("%s: compacted %d → %d files, vacuumed %d", r.table, r.files_removed, r.files_added, r.vacuumed)
    return [r.__dict__ for r in results]
