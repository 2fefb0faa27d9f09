"""One activity's laps and samples for `GET /v1/me/activities/{id}`: read on demand, cached.

The only lake read a request can cause. Filtered by the token's athlete and the activity (and
the `records` partition year), so nothing of another athlete is ever read; the cache key carries
the `records` and `laps` versions the refresher last saw, so a rewritten activity is read again.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from api.encode import rows_json
from lake import laps, records
from lake.storage import Lake
from lake.table import scan

LAP_FIELDS = ("lap_index", "start_time", "start_offset_s", "elapsed_s", "moving_s", "distance_m", "avg_speed_mps",
              "avg_hr_bpm", "max_hr_bpm", "avg_cadence_spm", "ascent_m", "descent_m", "intensity", "lap_trigger")
SAMPLE_FIELDS = ("seq", "timestamp", "elapsed_s", "lat_deg", "lon_deg", "distance_m", "speed_mps", "altitude_m",
                 "hr_bpm", "cadence_spm", "power_w", "temperature_c")
#: Activities whose laps and samples stay in memory (a 2-hour run at 1 Hz is ~1 MB of JSON).
CACHED_ACTIVITIES = 32


class ActivityStreams:
    def __init__(self, lake: Lake, cached: int = CACHED_ACTIVITIES):
        self._lake = lake
        self._read = lru_cache(maxsize=cached)(self._read_uncached)

    def laps_and_samples(self, athlete_id: str, activity_id: str, year: int | None, versions: tuple) -> bytes:
        """`"laps":[…],"samples":[…]` (an object's fields without braces)."""
        return self._read(athlete_id, activity_id, year, versions)

    def _read_uncached(self, athlete_id: str, activity_id: str, year: int | None, versions: tuple) -> bytes:
        mine = (pl.col("athlete_id") == athlete_id) & (pl.col("activity_id") == activity_id)
        lap_rows = scan(self._lake, laps.SPEC).filter(mine).sort("lap_index").select(LAP_FIELDS).collect()
        where = mine if year is None else mine & (pl.col("year") == year)
        samples = (
            scan(self._lake, records.SPEC).filter(where).sort("seq")
            .with_columns(((pl.col("timestamp") - pl.col("timestamp").min()).dt.total_microseconds() / 1e6).alias("elapsed_s"))
            .select(SAMPLE_FIELDS).collect()
        )
        return b'"laps":[' + b",".join(rows_json(lap_rows)) + b'],"samples":[' + b",".join(rows_json(samples)) + b"]"
