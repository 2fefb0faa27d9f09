"""The one write path for a batch of activities with their laps and records.

The FIT ingest (`pipeline.fit_batch`), the Strava sync (`pipeline.strava_sync`) and the rebuild
from the raw archive (`pipeline.fit_rebuild`) all write through `write_activities`, so the three
share one order and one scoping rule:

- **Order: records → laps → activities.** A run killed between the commits leaves child rows
  whose activity row is missing or older — never an activity without its samples. Each source
  writes its own bookkeeping (`fit_files`, `strava_activities`) after this call, so a killed run
  is redone by the next one, which replaces the same rows again.
- **Scope.** `replace_ids` names the activities whose rows the batch replaces (an ingest batch, a
  sync batch): their records and laps are replaced as a whole (one atomic commit per table,
  narrowed to the athlete's partition, and for `records` to the years the batch's activities
  start in, new and stored: `records.year` is the UTC year of the activity's start, so a day's
  ingest into a 10-year lake rewrites one year's files, not every year's) and the activity rows
  merged on their key. With
  `replace_ids=None` the batch is *every* row of the athlete (a rebuild): each table's athlete
  rows are overwritten by one commit, the records streamed frame by frame.

One writer per athlete at a time is the caller's duty: the CLI and the flows hold the athlete's
lease (`lake/lease.py`) around the whole unit of work, so two batches of one athlete never race
(and no read-back repair of doubled rows is needed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import polars as pl

from lake import activities as activities_table
from lake import laps as laps_table
from lake import records as records_table
from lake.storage import Lake
from lake.table import TableSpec, in_predicate, overwrite, overwrite_batches, replace_where, scan, upsert


def concat_conformed(frames: list[pl.DataFrame], spec: TableSpec) -> pl.DataFrame:
    """One frame of `spec`'s schema. Frames of one schema (the usual case) are concatenated
    first and conformed once: conforming each of hundreds of small frames cost ~1 ms apiece."""
    frames = [f for f in frames if f.height]
    if not frames:
        return spec.empty()
    if all(f.schema == frames[0].schema for f in frames):
        return spec.conform(pl.concat(frames, how="vertical"))
    return pl.concat([spec.conform(f) for f in frames], how="vertical")


def activity_frame(rows: list[dict]) -> pl.DataFrame:
    """Activity rows (dicts, as the decoders and the Strava mapping build them) as one conformed frame."""
    return activities_table.SPEC.conform(pl.DataFrame(rows, schema_overrides=activities_table.SPEC.schema, strict=False))


def _no_check() -> None:
    return None


def write_activities(
    lake: Lake,
    athlete_id: str,
    *,
    records: Iterable[pl.DataFrame],
    laps: Callable[[], pl.DataFrame],
    activities: Callable[[], pl.DataFrame],
    replace_ids: Sequence[str] | None,
    update_columns: Sequence[str] | None = None,
    late_records: Callable[[], pl.DataFrame] | None = None,
    before_commit: Callable[[], None] = _no_check,
) -> None:
    """Write one batch of the athlete's activities: records, then laps, then activity rows.

    `records` may be a stream (a rebuild's 20 M records); `laps` and `activities` are asked for
    only once the records are written, because a streaming caller learns them on the way.
    `update_columns` limits what a merge overwrites on an activity that is already stored (a
    re-ingested watch file keeps the Strava columns of its merged row); `late_records` (a
    rebuild only) replaces, right after the stream, the records of activities that the stream
    repeated (a later file of the same recording wins); `before_commit` runs before each commit
    and may raise to stop the batch (a rebuild stops when an ingest committed meanwhile).
    """
    mine = in_predicate("athlete_id", [athlete_id])
    if replace_ids is None:
        before_commit()
        overwrite_batches(lake, records_table.SPEC, records, predicate=mine)
        late = late_records() if late_records is not None else None
        if late is not None and late.height:
            before_commit()
            _replace_children(lake, records_table.SPEC, late, mine, late["activity_id"].unique().to_list())
        before_commit()
        overwrite(lake, laps_table.SPEC, laps(), predicate=mine, retry=False)
        before_commit()
        overwrite(lake, activities_table.SPEC, activities(), predicate=mine, retry=False)
        return
    ids = sorted(set(replace_ids))
    if not ids:
        return
    record_frame = concat_conformed(list(records), records_table.SPEC)
    years = _record_years(lake, athlete_id, ids, record_frame)
    before_commit()
    _replace_children(lake, records_table.SPEC, record_frame, mine if years is None else f"{mine} AND {in_predicate('year', years)}", ids)
    before_commit()
    _replace_children(lake, laps_table.SPEC, laps(), mine, ids)
    before_commit()
    upsert(lake, activities_table.SPEC, activities(), update_columns=update_columns)


def _record_years(lake: Lake, athlete_id: str, ids: Sequence[str], frame: pl.DataFrame) -> list[int] | None:
    """The `records` partitions (years) that hold or will hold the rows of activities `ids`: the
    years of the new rows and the UTC start years of the stored activity rows (`records.year`).
    None (every year) when a year is unknown: a stored row without a start time, a new row
    without a year, or no year at all."""
    stored = (
        scan(lake, activities_table.SPEC)
        .filter((pl.col("athlete_id") == athlete_id) & pl.col("activity_id").is_in(list(ids)))
        .select(pl.col("start_time").dt.year().cast(pl.Int32).alias("year"))
        .collect()
    )
    years = pl.concat([stored["year"], frame["year"]])
    if years.is_empty() or years.null_count():
        return None
    return sorted({int(y) for y in years.unique().to_list()})


def _replace_children(lake: Lake, spec: TableSpec, frame: pl.DataFrame, mine: str, ids: Sequence[str]) -> None:
    """Replace every row of activities `ids` (of the athlete, and partitions, `mine` names) with
    `frame`, one commit."""
    frame = spec.conform(frame)
    stray = frame.filter(~pl.col("activity_id").is_in(list(ids)))
    if stray.height:
        raise ValueError(f"{spec.name}: rows outside the activities being replaced")
    # the athlete first: it is the partition column of `records`, so the delete touches its files only
    replace_where(lake, spec, frame, f"{mine} AND {in_predicate('activity_id', ids)}")
