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
