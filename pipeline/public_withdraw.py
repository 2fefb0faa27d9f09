"""Take an athlete out of the public layer: its rows under one handle, its build state, and the
tables' history (an athlete made private, or one whose handle changed).

Used by the public build (`flows.steps.build_public`) and by `pipeline.athletes` when a handle
changes, so no public row keeps the old name.
"""

from __future__ import annotations

import logging

import polars as pl

from lake import public as public_tables
from lake import public_state
from lake.purge import purge_history
from lake.storage import Lake
from lake.table import overwrite, read, scan, table_exists

log = logging.getLogger(__name__)


def purge_public(lake: Lake) -> None:
    """Purge the history of every public table (a fresh snapshot: older versions go)."""
    for spec in public_tables.ALL:
        purge_history(lake, spec)
    log.info("public layer: privacy tightened; history of every public table purged")


def withdraw_public(lake: Lake, athlete_id: str, handle: str) -> dict[str, int]:
    """Remove an athlete's rows published under `handle` from every public table (fresh
    snapshots, history purged) and its build state: for an athlete who is not public, or whose
    handle changed (the next build publishes it under the new one). Writes nothing when there
    is nothing of it."""
    state = read(lake, public_state.SPEC)
    present = [spec for spec in public_tables.ALL
               if table_exists(lake, spec) and not scan(lake, spec).filter(pl.col("athlete") == handle).head(1).collect().is_empty()]
    if present or (state["athlete_id"] == athlete_id).any():
        for spec in present:
            overwrite(lake, spec, read(lake, spec).filter(pl.col("athlete") != handle))
        purge_public(lake)
        overwrite(lake, public_state.SPEC, state.filter(pl.col("athlete_id") != athlete_id))
        log.info("public layer: %s is not public; its rows were withdrawn", handle)
    return {spec.name: 0 for spec in public_tables.ALL}
