"""What a table's Delta log says about past operations (maintenance, row counts).

The `daily` flow asks the lake itself when it was last compacted or vacuumed, rather than
Prefect's run history: maintenance run from the CLI (`runlake lake maintain`, no Prefect) counts
too, and a lake copied elsewhere carries its own history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

import polars as pl

from lake.storage import Lake
from lake.table import TableSpec, open_table, scan

#: Delta log operations written by compaction (`optimize.compact`) and `vacuum`.
MAINTENANCE_OPERATIONS = ("OPTIMIZE", "VACUUM END")

#: How far back in the log to look. Maintenance is weekly and a day adds a few commits, so an
#: operation older than this many commits is treated as "long ago" (reading the whole log of a
#: ten-year table on S3 would cost thousands of requests).
HISTORY_LIMIT = 200


def last_operation_at(
    lake: Lake, spec: TableSpec, operations: Iterable[str] = MAINTENANCE_OPERATIONS, *, limit: int = HISTORY_LIMIT
) -> datetime | None:
    """UTC time of the newest commit among the last `limit` whose operation is in `operations`.

    None when the table does not exist or no such commit is that recent.
    """
    table = open_table(lake, spec)
    if table is None:
        return None
    wanted = {op.upper() for op in operations}
    times = [
        int(entry["timestamp"])
        for entry in table.history(limit=limit)
        if str(entry.get("operation", "")).upper() in wanted and entry.get("timestamp") is not None
    ]
    if not times:
        return None
    return datetime.fromtimestamp(max(times) / 1000, tz=timezone.utc)


def row_count(lake: Lake, spec: TableSpec, athlete_id: str | None = None) -> int:
    """Rows in the table (0 when it does not exist yet); with `athlete_id`, that athlete's rows."""
    frame = scan(lake, spec)
    if athlete_id is not None:
        frame = frame.filter(pl.col("athlete_id") == athlete_id)
    return int(frame.select(pl.len()).collect().item())
