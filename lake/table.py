"""Generic Delta table machinery shared by the table modules.

Each table module (`lake/activities.py`, …) declares a `TableSpec`: its path under the lake
root, an explicit polars schema, its merge key and its partitioning. The functions here are the
only code that reads or writes Delta. Every write casts to the declared schema, and every write
that can lose a race with a concurrent writer (`CommitFailedError`) is retried from a fresh read.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import polars as pl
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from lake.storage import Lake

log = logging.getLogger(__name__)
T = TypeVar("T")

COMMIT_ATTEMPTS = 12


@dataclass(frozen=True)
class TableSpec:
    """A Delta table's contract: where it lives, what one row is, its columns and key."""

    name: str  # path under the lake root, e.g. "activities" or "marts/daily_load"
    grain: str  # what one row is, for docs and errors
    schema: pl.Schema
    key: tuple[str, ...]
    partition_by: tuple[str, ...] = ()

    def uri(self, lake: Lake) -> str:
        return lake.uri(self.name)

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)

    def conform(self, frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
        """Cast to the declared schema: declared column order, missing columns as nulls.

        A column the schema does not declare is an error, not silently dropped.
        """
        lf = frame.lazy()
        present = lf.collect_schema().names()
        extra = [c for c in present if c not in self.schema]
        if extra:
            raise ValueError(f"{self.name}: columns not in the schema: {extra}")
        exprs = [
            (pl.col(c) if c in present else pl.lit(None)).cast(dtype, strict=True).alias(c)
            for c, dtype in self.schema.items()
        ]
        return lf.select(exprs).collect()


# --- reading --------------------------------------------------------------------------------------


def table_exists(lake: Lake, spec: TableSpec) -> bool:
    return DeltaTable.is_deltatable(spec.uri(lake), storage_options=lake.storage_options)


def open_table(lake: Lake, spec: TableSpec) -> DeltaTable | None:
    try:
        return DeltaTable(spec.uri(lake), storage_options=lake.storage_options)
    except TableNotFoundError:
        return None


def scan(lake: Lake, spec: TableSpec) -> pl.LazyFrame:
    """A lazy scan of the table, or an empty frame of its schema when it does not exist yet."""
    if not table_exists(lake, spec):
        return spec.empty().lazy()
    return _declared(spec, pl.scan_delta(spec.uri(lake), storage_options=lake.polars_options()))


def _declared(spec: TableSpec, lf: pl.LazyFrame) -> pl.LazyFrame:
    """Older tables may lack columns added later: conform lazily to the declared schema."""
    present = lf.collect_schema().names()
    return lf.select(
        [
            (pl.col(c) if c in present else pl.lit(None)).cast(dtype).alias(c)
            for c, dtype in spec.schema.items()
        ]
    )


def table_version(lake: Lake, spec: TableSpec) -> int | None:
    """The table's current Delta version (None when it does not exist yet)."""
    dt = open_table(lake, spec)
    return None if dt is None else dt.version()


def read_versioned(lake: Lake, spec: TableSpec) -> tuple[int | None, pl.DataFrame]:
    """The table's Delta version and its rows at exactly that version ((None, no rows) when it does
    not exist yet): a consistent snapshot for `upsert_at_version` or an in-memory copy."""
    dt = open_table(lake, spec)
    if dt is None:
        return None, spec.empty()
    version = dt.version()
    lf = pl.scan_delta(spec.uri(lake), version=version, storage_options=lake.polars_options())
    return version, _declared(spec, lf).collect()


def read(lake: Lake, spec: TableSpec) -> pl.DataFrame:
    return scan(lake, spec).collect()


# --- writing --------------------------------------------------------------------------------------

#: Lake roots whose version this process has already made sure of (see `_versioned_before_write`).
_VERSIONED: set[str] = set()


def _versioned_before_write(lake: Lake, spec: TableSpec) -> None:
    """Stamp a new lake with the latest version before its first table is written, so a lake this
    code made never reads as version 1 (`lake.migrations.stamp_new_lake`; once per lake and process)."""
    if lake.root in _VERSIONED:
        return
    from lake import migrations  # it builds on this module

    if spec.name != migrations.LOG.name:
        migrations.stamp_new_lake(lake)
        _VERSIONED.add(lake.root)


def with_commit_retry(operation: Callable[[], T], *, what: str, attempts: int = COMMIT_ATTEMPTS) -> T:
    """Run a whole read-compute-write `operation`, again from a fresh read when a commit races or
    its answer never came.

    `operation` must re-read whatever it depends on each time it is called, and be idempotent
    (every write below is: a merge on the key, a delete-and-insert by predicate, a delete): a
    commit that S3 stored but whose answer was lost is then not written twice
    (docs/reliability.md, "Storage faults").
    """
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except (CommitFailedError, DeltaError, OSError) as exc:
            if not (_is_commit_race(exc) or _is_commit_in_doubt(exc)) or attempt == attempts:
                raise
            delay = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
            log.info("%s: concurrent commit or lost commit answer (%s); retrying in %.2fs (%d/%d)", what, type(exc).__name__,
                     delay, attempt, attempts)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _is_commit_in_doubt(exc: Exception) -> bool:
    """The PUT of a commit (`_delta_log/N.json`) timed out or lost its connection: object_store
    does not retry a conditional PUT, so the commit may or may not be stored."""
    text = str(exc)
    return isinstance(exc, OSError) and "PUT" in text and "/_delta_log/" in text


def _is_commit_race(exc: Exception) -> bool:
    if isinstance(exc, OSError):
        return False
    if isinstance(exc, CommitFailedError):
        return True
    text = str(exc).lower()
    return any(s in text for s in ("version already exists", "already exists", "concurrent", "conflict", "transaction failed"))


def overwrite(lake: Lake, spec: TableSpec, frame: pl.DataFrame, *, predicate: str | None = None, retry: bool = True) -> None:
    """Replace the whole table (or, with `predicate`, the rows matching it) with `frame`: one commit.

    `retry=False` for a `frame` computed from a snapshot that a concurrent commit may have made
    stale: the race then raises instead of overwriting the other writer's rows.
    """
    data = spec.conform(frame).to_arrow()
    _versioned_before_write(lake, spec)

    def attempt() -> None:
        if predicate is not None and _create_or_append(lake, spec, data):
            return
        write_deltalake(
            spec.uri(lake),
            data,
            mode="overwrite",
            schema_mode=None if predicate else "overwrite",
            predicate=predicate,
            partition_by=list(spec.partition_by) or None,
            storage_options=lake.storage_options,
        )

    with_commit_retry(attempt, what=f"overwrite {spec.name}", attempts=COMMIT_ATTEMPTS if retry else 1)


def _create_or_append(lake: Lake, spec: TableSpec, data) -> bool:
    """Create the table with `data` when it does not exist. True when this call created it."""
    if table_exists(lake, spec):
        return False
    write_deltalake(
        spec.uri(lake),
        data,
        mode="error",
        partition_by=list(spec.partition_by) or None,
        storage_options=lake.storage_options,
    )
    return True


def _sql_literal(value) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def in_predicate(column: str, values: Iterable) -> str:
    return f"{column} IN ({', '.join(_sql_literal(v) for v in sorted(set(values)))})"


def upsert(lake: Lake, spec: TableSpec, frame: pl.DataFrame, *, update_columns: Sequence[str] | None = None) -> None:
    """Merge `frame` into the table on its key: update matches, insert the rest (one commit).

    `update_columns` limits which columns a match overwrites (all by default).
    """
    data = _rows_to_merge(spec, frame)
    if data.is_empty():
        return
    arrow = data.to_arrow()
    _versioned_before_write(lake, spec)

    def attempt() -> None:
        if _create_or_append(lake, spec, arrow):
            return
        _merge(DeltaTable(spec.uri(lake), storage_options=lake.storage_options), spec, data, update_columns)

    with_commit_retry(attempt, what=f"merge into {spec.name}")


def insert_absent(lake: Lake, spec: TableSpec, frame: pl.DataFrame) -> int:
    """Insert the rows of `frame` whose key is not in the table yet; existing rows are left as they
    are (one commit, retried on a race). Returns the rows inserted."""
    data = _rows_to_merge(spec, frame)
    if data.is_empty():
        return 0
    arrow = data.to_arrow()
    _versioned_before_write(lake, spec)

    def attempt() -> int:
        if _create_or_append(lake, spec, arrow):
            return data.height
        dt = DeltaTable(spec.uri(lake), storage_options=lake.storage_options)
        predicate = " AND ".join(f"t.{k} = s.{k}" for k in spec.key)
        metrics = dt.merge(arrow, predicate=predicate, source_alias="s", target_alias="t").when_not_matched_insert_all().execute()
        return int(metrics.get("num_target_rows_inserted", 0))

    return with_commit_retry(attempt, what=f"insert into {spec.name}")


def upsert_at_version(lake: Lake, spec: TableSpec, frame: pl.DataFrame, *, version: int | None) -> None:
    """Merge `frame` like `upsert`, but onto the table as it was at `version` (None: the table must
    not exist yet), without retrying: a commit by another writer since then raises
    `CommitFailedError` (or a `DeltaError` naming a table that already exists).

    For a write decided on what a snapshot held (`read_versioned`): the caller runs its whole
    read-decide-write again under `with_commit_retry`, so two writers cannot both act on the same
    stale snapshot (two live API tokens of one name, pipeline/tokens.py).
    """
    data = _rows_to_merge(spec, frame)
    if data.is_empty():
        return
    _versioned_before_write(lake, spec)
    if version is None:
        write_deltalake(spec.uri(lake), data.to_arrow(), mode="error", partition_by=list(spec.partition_by) or None,
                        storage_options=lake.storage_options)
        return
    _merge(DeltaTable(spec.uri(lake), version=version, storage_options=lake.storage_options), spec, data, None)


def _rows_to_merge(spec: TableSpec, frame: pl.DataFrame) -> pl.DataFrame:
    data = spec.conform(frame)
    if data.select(spec.key).is_duplicated().any():
        raise ValueError(f"{spec.name}: duplicate keys {spec.key} in the rows to merge")
    return data


def _merge(dt: DeltaTable, spec: TableSpec, data: pl.DataFrame, update_columns: Sequence[str] | None) -> None:
    predicate = " AND ".join(f"t.{k} = s.{k}" for k in spec.key)
    for part in spec.partition_by:  # prune target files to the partitions being written
        if part not in spec.key:
            predicate += f" AND t.{part} = s.{part} AND " + in_predicate(f"t.{part}", data[part].drop_nulls().to_list())
    merger = dt.merge(data.to_arrow(), predicate=predicate, source_alias="s", target_alias="t")
    if update_columns is None:
        merger = merger.when_matched_update_all()
    else:
        merger = merger.when_matched_update({c: f"s.{c}" for c in update_columns})
    merger.when_not_matched_insert_all().execute()


def replace_rows(lake: Lake, spec: TableSpec, frame: pl.DataFrame, *, by: str, values: Iterable) -> None:
    """Atomically replace every row whose `by` is in `values` with `frame` (one commit).

    Used for child tables (records, laps) whose rows for an activity are rewritten as a whole;
    partition values of `frame` narrow the delete to the partitions concerned.
    """
    values = sorted(set(values))
    if not values:
        return
    data = spec.conform(frame)
    stray = data.filter(~pl.col(by).is_in(values))
    if not stray.is_empty():
        raise ValueError(f"{spec.name}: rows outside the replaced {by} set")
    _overwrite_where(lake, spec, data.to_arrow(), in_predicate(by, values))


def delete_rows(lake: Lake, spec: TableSpec, predicate: str) -> None:
    dt = open_table(lake, spec)
    if dt is None:
        return
    with_commit_retry(
        lambda: DeltaTable(spec.uri(lake), storage_options=lake.storage_options).delete(predicate),
        what=f"delete from {spec.name}",
    )


def replace_where(lake: Lake, spec: TableSpec, frame: pl.DataFrame, predicate: str) -> None:
    """Atomically replace every row matching the SQL `predicate` with `frame` (one commit).

    Used by the marts' incremental builds ("every day from D on"). Each row of `frame` must match
    `predicate` (delta-rs checks it); an empty `frame` deletes the matching rows.
    """
    _overwrite_where(lake, spec, spec.conform(frame).to_arrow(), predicate)


def _overwrite_where(lake: Lake, spec: TableSpec, data, predicate: str) -> None:
    _versioned_before_write(lake, spec)

    def attempt() -> None:
        if _create_or_append(lake, spec, data):
            return
        write_deltalake(
            spec.uri(lake),
            data,
            mode="overwrite",
            predicate=predicate,
            partition_by=list(spec.partition_by) or None,
            storage_options=lake.storage_options,
        )

    with_commit_retry(attempt, what=f"replace rows of {spec.name} where {predicate[:80]}")


def overwrite_batches(lake: Lake, spec: TableSpec, frames: Iterable[pl.DataFrame], *, predicate: str | None) -> None:
    """Replace the rows matching the SQL `predicate` with the rows of `frames`, streamed: one commit.

    `predicate=None` replaces the whole table (a plain overwrite: the commit names no row value;
    athlete erasure relies on it).

    For rewrites too big to hold in memory (`runlake lake rebuild` of years of records): each
    frame is conformed and handed to the Delta writer as it comes, and the new files only become
    the table's content at the single commit at the end — a run killed before it leaves the
    table as it was (plus unreferenced files that `vacuum` removes). Unlike `overwrite`, a
    concurrent commit is not retried (the stream cannot be replayed): `CommitFailedError` is
    raised and the caller runs the rewrite again.
    """
    import pyarrow as pa

    schema = spec.empty().to_arrow().schema
    reader = pa.RecordBatchReader.from_batches(
        schema,
        (batch for frame in frames for batch in spec.conform(frame).to_arrow().cast(schema).to_batches()),
    )
    _versioned_before_write(lake, spec)
    exists = table_exists(lake, spec)
    write_deltalake(
        spec.uri(lake),
        reader,
        mode="overwrite" if exists else "error",
        predicate=predicate if exists else None,
        schema_mode="overwrite" if exists and predicate is None else None,
        partition_by=list(spec.partition_by) or None,
        storage_options=lake.storage_options,
    )
