"""Compaction and vacuum for every Delta table in a lake."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import fsspec
from deltalake import DeltaTable

from lake.storage import Lake
from lake.table import with_commit_retry

log = logging.getLogger(__name__)


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
    dt.cleanup_metadata()
    return MaintenanceResult(name, int(metrics.get("numFilesRemoved", 0)), int(metrics.get("numFilesAdded", 0)), len(removed))


def maintain_lake(lake: Lake, *, retention_hours: int) -> list[MaintenanceResult]:
    results = []
    for name in find_tables(lake):
        log.info("maintaining %s", name)
        results.append(maintain_table(lake, name, retention_hours=retention_hours))
    return results
