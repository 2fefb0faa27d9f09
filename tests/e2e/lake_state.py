"""The end state of a lake, as the concurrency test compares it with a serial run's.

`lake_state` is what a lost update or a doubled write would change: the activity ids, the
records and laps of each activity, and the `marts/daily_load` sums of each day (rounded, so two
builds of the same inputs compare equal). `duplicate_keys` counts, per registered table, the
rows beyond the first of each key — 0 everywhere in a healthy lake (`runlake lake check`'s
`keys_unique` says the same, this gives the numbers for docs/reliability.md).
"""

from __future__ import annotations

import polars as pl

from lake import activities, laps, registry, records
from lake.marts import DAILY_LOAD
from lake.storage import Lake
from lake.table import read, table_exists

DAILY_SUMS = ("distance_m", "duration_s", "runs", "activities", "trimp")


def _per_activity(lake: Lake, spec) -> dict[str, int]:
    if not table_exists(lake, spec):
        return {}
    counts = read(lake, spec).group_by("activity_id").len()
    return dict(zip(counts["activity_id"].to_list(), counts["len"].to_list(), strict=True))


def lake_state(lake: Lake) -> dict:
    """Activity ids, records and laps per activity, daily sums per (athlete, day)."""
    ids = sorted(read(lake, activities.SPEC)["activity_id"].to_list()) if table_exists(lake, activities.SPEC) else []
    daily: dict[tuple[str, str], tuple] = {}
    if table_exists(lake, DAILY_LOAD):
        frame = read(lake, DAILY_LOAD).sort("athlete_id", "date")
        for row in frame.select("athlete_id", "date", *DAILY_SUMS).iter_rows():
            daily[(row[0], row[1].isoformat())] = tuple(round(v, 6) if isinstance(v, float) else v for v in row[2:])
    return {
        "activity_ids": ids,
        "records_per_activity": _per_activity(lake, records.SPEC),
        "laps_per_activity": _per_activity(lake, laps.SPEC),
        "daily_load": daily,
    }


def duplicate_keys(lake: Lake) -> dict[str, int]:
    """Rows beyond the first of each key, per registered table that exists (0 = no duplicate)."""
    found: dict[str, int] = {}
    for spec in registry.ALL:
        if not spec.key or not table_exists(lake, spec):
            continue
        frame = read(lake, spec)
        found[spec.name] = frame.height - frame.select(pl.struct(list(spec.key)).n_unique()).item()
    return found
