"""Contiguous groups of a sorted frame, for the per-activity numpy passes.

Comparing neighbours in polars and gathering only the group heads avoids turning millions of
string ids into numpy objects.
"""

from __future__ import annotations

import numpy as np
import polars as pl


def group_bounds(frame: pl.DataFrame, column: str = "activity_id") -> tuple[np.ndarray, list]:
    """(bounds, ids): group i spans rows bounds[i]:bounds[i+1]; `frame` sorted by `column`."""
    heads = frame.select((pl.col(column) != pl.col(column).shift()).fill_null(True)).to_series().arg_true()
    ids = frame[column].gather(heads).to_list()
    return np.r_[heads.to_numpy(), frame.height].astype(np.int64), ids


def ordered_sum(column: str) -> pl.Expr:
    """Per-group sum in row order (a running sum, last value), for use inside `agg`: a plain
    `sum()` may add partial sums in any order, and a full build must equal an incremental one
    to the last bit. Nulls count as 0."""
    return pl.col(column).fill_null(0).cum_sum().last().alias(column)


def time_ordered(records: pl.DataFrame) -> pl.DataFrame:
    """`records` rows with a timestamp, sorted by activity_id, timestamp, seq: the order every
    per-activity stream pass uses, computed once per records partition. The activity ids are
    sorted once (a few thousand) and the rows by their integer rank, which gives the same order
    as sorting by the id strings, faster. A partition is stored with each activity's rows in seq
    order, and a recording's timestamps rise with seq: then a stable sort by the rank alone is
    that order; when some activity's rows are not in (timestamp, seq) order, the full sort runs.
    Same rows in the same order either way."""
    frame = records.filter(pl.col("timestamp").is_not_null())
    ids = frame["activity_id"].unique().sort()
    rank = frame["activity_id"].replace_strict(ids, pl.int_range(len(ids), dtype=pl.UInt32, eager=True), return_dtype=pl.UInt32)
    ranked = frame.with_columns(_rank=rank).sort("_rank", maintain_order=True)
    same = pl.col("_rank") == pl.col("_rank").shift()
    ts, seq = pl.col("timestamp"), pl.col("seq")
    backwards = (ts < ts.shift()) | ((ts == ts.shift()) & (seq <= seq.shift()))
    if ranked.select((same & backwards).any() | seq.is_null().any()).item():
        ranked = ranked.sort("_rank", "timestamp", "seq")
    return ranked.drop("_rank")


def by_id_and_seq(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` sorted by activity_id, seq (a unique key). A records partition is stored with each
    activity's rows in seq order, so a stable sort by the id's integer rank alone gives that
    order, much faster than sorting by the strings; when some activity's rows are not in seq
    order the full sort runs instead. Same rows in the same order either way."""
    ids = frame["activity_id"].unique().sort()
    rank = frame["activity_id"].replace_strict(ids, pl.int_range(len(ids), dtype=pl.UInt32, eager=True), return_dtype=pl.UInt32)
    ranked = frame.with_columns(_rank=rank).sort("_rank", maintain_order=True)
    same = pl.col("_rank") == pl.col("_rank").shift()
    unordered = (same & (pl.col("seq") <= pl.col("seq").shift())).any() | pl.col("seq").is_null().any()
    if ranked.select(unordered).item():
        ranked = ranked.sort("_rank", "seq")
    return ranked.drop("_rank")


def first_per_instant(ordered: pl.LazyFrame) -> pl.LazyFrame:
    """A `time_ordered` frame without repeated timestamps of an activity (the first by `seq`
    kept), as `unique(subset=["activity_id", "timestamp"], keep="first")` on it would."""
    repeated = (pl.col("activity_id") == pl.col("activity_id").shift()) & (pl.col("timestamp") == pl.col("timestamp").shift())
    return ordered.filter(~repeated.fill_null(False))
