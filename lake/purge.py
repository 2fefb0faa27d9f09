"""Forget a Delta table's past: after `purge_history` only its current rows exist anywhere.

Delta keeps every earlier state of a table: data files of removed rows stay on storage until a
vacuum, each `_delta_log` commit lists the files it added with their column statistics (min/max
values), remove actions carry the old files' paths and partition values, and a checkpoint repeats
the removes as "tombstones". An overwrite therefore hides earlier rows but does not erase them.
The public layer (an activity made private again) and erasing an athlete need them gone.

`purge_history(full=True)` must not run while another process writes the same table; the default
may (see its docstring).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import fsspec
import polars as pl
import pyarrow.parquet as pq
from deltalake import DeltaTable

from lake.storage import Lake
from lake.table import TableSpec, open_table, overwrite, with_commit_retry

log = logging.getLogger(__name__)

#: The table property that decides which tombstones a checkpoint still carries.
TOMBSTONE_RETENTION = "delta.deletedFileRetentionDuration"
#: Delta's default for it, restored after the purge when the table had no value of its own.
DEFAULT_TOMBSTONE_RETENTION = "interval 1 week"
ZERO_RETENTION = "interval 0 seconds"

#: A versioned `_delta_log` entry: commit JSON, checkpoint (single or multi-part), .crc, compacted log.
_VERSIONED_ENTRY = re.compile(r"^(\d{20})\.")


@dataclass(frozen=True)
class Purged:
    """What `purge_history` did: the checkpoint the log now starts at, and how much it deleted."""

    checkpoint_version: int
    data_files_removed: int
    log_entries_removed: int


def replace_snapshot(lake: Lake, spec: TableSpec, frame: pl.DataFrame) -> Purged:
    """Replace the whole table with `frame` and erase every earlier state: a fresh snapshot.

    A plain overwrite (no predicate), so the commit's metadata names no row values either.
    """
    overwrite(lake, spec, frame)
    purged = purge_history(lake, spec)
    assert purged is not None  # the overwrite just created or replaced the table
    return purged


def purge_history(lake: Lake, spec: TableSpec, *, full: bool = False) -> Purged | None:
    """Erase everything but the table's current version from its folder (None: no table).

    Steps, each for a place where earlier rows survive an overwrite:

    1. Set `delta.deletedFileRetentionDuration` to zero. delta-rs writes into a checkpoint every
       remove action younger than this property (default one week): tombstones with the old
       files' paths and partition values (`athlete_id=…/`). At zero the checkpoint holds none.
    2. Vacuum with zero retention: deletes every data file a commit removed (the tombstones).
       With `full=True` also every file the current version does not reference — files orphaned
       by failed writes, which the log never mentions, but also the files of a write another
       process has not committed yet: `full` only where no other writer of the table can run.
       The default leaves never-committed files to `runlake lake maintain` (a full vacuum with
       the retention), so a purge may run beside writers of *other* rows (another athlete's
       ingest, public build or token): their commits go on, and nothing they wrote is lost.
       Local lakes then also lose the emptied partition folders, whose names are values.
    3. Checkpoint the current version, and check it carries no tombstone (fail loudly if the
       property did not take, e.g. a remove stamped by a writer whose clock runs ahead).
    4. Delete every `_delta_log` entry older than that checkpoint (commits with the stats of
       old files, older checkpoints, .crc files) and leftover temporary commits. Done by listing,
       not `cleanup_metadata`: that one compares file ages with `delta.logRetentionDuration`, and
       on S3 an object's age comes from the server's clock, so the last commits can look too
       young to delete when the client's clock lags.
    5. Restore the tombstone retention: left at zero, later checkpoints would drop tombstones
       before the weekly (non-full) vacuum reads them, and removed files would never be deleted.

    The log then starts at the checkpoint (`DeltaTable.version()` counts on from it; time travel
    and `history()` before it are gone). With `full=True`, never run it beside a writer of the
    same table (step 2). A reader that loaded an older version fails on its next read of a deleted file (it must reopen the table;
    a writer whose read was that old fails cleanly and is run again).
    """
    table = open_table(lake, spec)
    if table is None:
        return None
    uri = spec.uri(lake)
    previous = table.metadata().configuration.get(TOMBSTONE_RETENTION)
    _set_tombstone_retention(lake, uri, ZERO_RETENTION, unless=previous)

    def vacuum() -> list[str]:
        dt = DeltaTable(uri, storage_options=lake.storage_options)
        return dt.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False, full=full)

    removed = with_commit_retry(vacuum, what=f"vacuum {spec.name}")
    fs, root = _filesystem(lake, uri)
    if not lake.is_s3:
        _remove_empty_folders(fs, root)

    checkpoint = DeltaTable(uri, storage_options=lake.storage_options)
    checkpoint.create_checkpoint()
    version = checkpoint.version()
    _check_no_tombstones(fs, f"{root}/_delta_log", version)
    log_removed = _remove_log_before(fs, f"{root}/_delta_log", version)

    if previous != ZERO_RETENTION:
        _set_tombstone_retention(lake, uri, previous or DEFAULT_TOMBSTONE_RETENTION)
    log.info("%s: history purged (%d data files, %d log entries); log starts at checkpoint %d",
             spec.name, len(removed), log_removed, version)
    return Purged(version, len(removed), log_removed)


def _set_tombstone_retention(lake: Lake, uri: str, value: str, *, unless: str | None = None) -> None:
    if value == unless:
        return
    with_commit_retry(
        lambda: DeltaTable(uri, storage_options=lake.storage_options).alter.set_table_properties({TOMBSTONE_RETENTION: value}),
        what=f"set {TOMBSTONE_RETENTION} of {uri}",
    )


def _filesystem(lake: Lake, uri: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec filesystem and the table's path in it, with no cached listings.

    delta-rs writes through its own client, so a cached s3fs listing would miss its files.
    """
    if lake.is_s3:
        fs = fsspec.filesystem("s3", skip_instance_cache=True, use_listings_cache=False, **lake.fsspec_options())
        return fs, uri.removeprefix("s3://")
    return fsspec.filesystem("file"), uri


def _remove_empty_folders(fs: fsspec.AbstractFileSystem, root: str) -> None:
    """Delete the local folders the vacuum emptied (partition folders name partition values)."""
    folders = [p for p, _, _ in fs.walk(root) if p != root and not _is_delta_internal(p.removeprefix(root + "/"))]
    for folder in sorted(folders, key=len, reverse=True):  # children before parents
        if not fs.ls(folder, detail=False):
            fs.rmdir(folder)


def _is_delta_internal(relative: str) -> bool:
    """`_delta_log` and anything else Delta keeps under an underscore folder."""
    return any(part.startswith("_") for part in relative.split("/"))


def _check_no_tombstones(fs: fsspec.AbstractFileSystem, log_dir: str, version: int) -> None:
    parts = fs.glob(f"{log_dir}/{version:020d}.checkpoint*.parquet")
    if not parts:
        raise RuntimeError(f"{log_dir}: no checkpoint for version {version} after writing one")
    for part in parts:
        with fs.open(part, "rb") as f:
            removes = pq.read_table(f, columns=["remove"]).column("remove")
        if len(removes) - removes.null_count:
            raise RuntimeError(f"{part}: the checkpoint still holds {len(removes) - removes.null_count} tombstones")


def _remove_log_before(fs: fsspec.AbstractFileSystem, log_dir: str, version: int) -> int:
    """Delete the log entries of versions before `version`, and leftover temporary commits."""
    doomed = []
    for path in fs.ls(log_dir, detail=False):
        name = path.rstrip("/").rsplit("/", 1)[-1]
        match = _VERSIONED_ENTRY.match(name)
        if (match and int(match.group(1)) < version) or name.endswith(".tmp"):
            doomed.append(path)
    if doomed:
        fs.rm(doomed)
    return len(doomed)
