"""Compaction and vacuum for every Delta table in a lake.

The vacuum keeps every file that left a table less than `retention_hours` ago, so every version
that was current during that window stays restorable (`lake.restore`). The log cleanup after it
keeps commits for the table's `delta.logRetentionDuration` (30 days unless set); when that is
shorter than the retention, the cleanup is skipped rather than cut into the promised window.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import fsspec
from deltalake import DeltaTable

from lake.storage import Lake
from lake.table import with_commit_retry
from runlake.errors import RunlakeError

log = logging.getLogger(__name__)

#: Delta's default for `delta.logRetentionDuration`.
DEFAULT_LOG_RETENTION_HOURS = 30 * 24
_INTERVAL = re.compile(r"^\s*interval\s+(\d+)\s+(second|minute|hour|day|week)s?\s*$", re.IGNORECASE)
_HOURS_PER = {"second": 1 / 3600, "minute": 1 / 60, "hour": 1, "day": 24, "week": 168}


class RetentionError(RunlakeError):
    """A vacuum asked to keep less than the retention the lake promises."""


def check_retention(requested_hours: int, promised_hours: int) -> None:
    """Refuse a vacuum retention shorter than the promised one (RUNLAKE_VACUUM_RETENTION_HOURS):
    it would delete versions `runlake lake restore` relies on."""
    if requested_hours < promised_hours:
        raise RetentionError(
            f"a retention of {requested_hours} h is shorter than RUNLAKE_VACUUM_RETENTION_HOURS={promised_hours}: "
            "the vacuum would delete versions that restore promises to keep; lower the setting instead"
        )


def interval_hours(value: str | None) -> float | None:
    """Hours of a Delta interval property ("interval 30 days"); None when unset or not understood."""
    match = _INTERVAL.match(value or "")
    return None if match is None else int(match.group(1)) * _HOURS_PER[match.group(2).lower()]


@dataclass
class MaintenanceResult:
    table: str
    files_removed: int
    files_added: int
    vacuumed: int


def find_tables(lake: Lake) -> list[str]:
    """Table paths (relative to the root) of every Delta table up to two folders deep."""
    patterns = ("*/_delta_log", "*/*/_delta_log")
    if lake.is_s3:
        fs = fsspec.filesystem("s3", **lake.fsspec_options())
        root = lake.root.removeprefix("s3://")
        found = [p for pat in patterns for p in fs.glob(f"{root}/{pat}")]
        rel = [p.removeprefix(root + "/") for p in found]
    else:
        root = Path(lake.root)
        rel = [str(p.relative_to(root)) for pat in patterns for p in root.glob(pat) if p.is_dir()]
    return sorted({r.removesuffix("/_delta_log") for r in rel if not r.startswith("raw/")})


def maintain_table(lake: Lake, name: str, *, retention_hours: int) -> MaintenanceResult:
    uri = lake.uri(name)

    def compact():
        return DeltaTable(uri, storage_options=lake.storage_options).optimize.compact()

    metrics = with_commit_retry(compact, what=f"compact {name}")
    dt = DeltaTable(uri, storage_options=lake.storage_options)
    # full: also files no commit ever named (a write that failed before its commit), once older
    # than the retention — a write still in progress is younger, so it is never touched.
    removed = dt.vacuum(retention_hours=retention_hours, enforce_retention_duration=False, dry_run=False, full=True)
    dt.create_checkpoint()
    configured = dt.metadata().configuration.get("delta.logRetentionDuration")
    log_hours = interval_hours(configured) if configured else DEFAULT_LOG_RETENTION_HOURS
    if log_hours is not None and log_hours >= retention_hours:
        dt.cleanup_metadata()
    else:
        log.warning("%s: log cleanup skipped: delta.logRetentionDuration=%r is shorter than the %d h retention",
                    name, configured, retention_hours)
    return MaintenanceResult(name, int(metrics.get("numFilesRemoved", 0)), int(metrics.get("numFilesAdded", 0)), len(removed))


def maintain_lake(lake: Lake, *, retention_hours: int) -> list[MaintenanceResult]:
    results = []
    for name in find_tables(lake):
        log.info("maintaining %s", name)
        results.append(maintain_table(lake, name, retention_hours=retention_hours))
    return results
