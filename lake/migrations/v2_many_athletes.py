"""Lake version 2: many athletes in one lake (issue 13, docs/athletes.md).

A single-athlete lake (version 1) becomes the default athlete's share of a many-athlete lake:

1. every private table (`registry.PRIVATE`) has an `athlete_id` on every row: rows without one
   (or a table written before the column existed, such as an old `private/public_build_state`)
   get the default athlete's id; rows that have one stay as they are;
2. every public table (`registry.PUBLIC`) gains the column `athlete`, the default athlete's public
   handle (`me`).

Nothing else changes: the default athlete's activity ids stay, the raw archive stays where it is.
Each step reads what a table holds and rewrites it (a plain overwrite: one commit) only when it
still needs it, so a run killed half-way is completed by running again, and a table already
migrated is not written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

from lake import registry
from lake.storage import Lake
from lake.table import TableSpec, open_table, overwrite, scan

if TYPE_CHECKING:
    from lake.migrations import MigrationContext

VERSION = 2
NAME = "many_athletes"


def _quiet(message: str) -> None:
    """No progress output."""


def _fill(lake: Lake, spec: TableSpec, column: str, value: str, progress: Callable[[str], None]) -> bool:
    """Give `column` the `value` where it is null (and to the files that lack the column);
    True when the table was rewritten."""
    table = open_table(lake, spec)
    if table is None:
        progress(f"  {spec.name}: not in this lake")
        return False
    has_column = column in [field.name for field in table.schema().fields]
    nulls = scan(lake, spec).filter(pl.col(column).is_null()).select(pl.len()).collect().item()
    if has_column and nulls == 0:
        progress(f"  {spec.name}: {column} already set")
        return False
    frame = scan(lake, spec).with_columns(pl.col(column).fill_null(pl.lit(value, dtype=pl.String))).collect()
    overwrite(lake, spec, frame)
    added = "" if has_column else f"column {column} added, "
    progress(f"  {spec.name}: {added}{column} = {value!r} on {nulls} of {frame.height} rows")
    return True


def apply(lake: Lake, ctx: MigrationContext, progress: Callable[[str], None] = _quiet) -> list[str]:
    """Run every step; returns the names of the tables rewritten (none on a lake already at v2)."""
    rewritten = []
    progress(f" private tables: rows without an athlete_id go to {ctx.default_athlete_id!r}")
    for spec in registry.PRIVATE:
        if _fill(lake, spec, "athlete_id", ctx.default_athlete_id, progress):
            rewritten.append(spec.name)
    progress(f" public tables: column athlete = {ctx.default_handle!r}")
    for spec in registry.PUBLIC:
        if _fill(lake, spec, "athlete", ctx.default_handle, progress):
            rewritten.append(spec.name)
    return rewritten
