"""One activity's laps and samples for `GET /v1/me/activities/{id}`: read on demand, cached.

The only lake read a request can cause. Filtered by the token's athlete and the activity (and
the `records` partition year), so nothing of another athlete is ever read; the cache key carries
the `records`, `laps` and `private/activity_edits` versions the refresher last saw, so a
rewritten or newly merged or split activity is read again. A merged or split activity's laps and
samples are its sources' with the athlete's edits applied (marts/edits.py), as the marts see them.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from api.encode import rows_json
from lake import activities, activity_edits, laps, records
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
        lap_rows = scan(self._lake, laps.SPEC).filter(mine)
        where = mine if year is None else mine & (pl.col("year") == year)
        samples = scan(self._lake, records.SPEC).filter(where)
        edited = self._edited(athlete_id, activity_id)
        if edited is not None:
            lap_rows, samples = edited
        lap_rows = lap_rows.sort("lap_index").select(LAP_FIELDS).collect()
        samples = (
            samples.sort("seq")
            .with_columns(((pl.col("timestamp") - pl.col("timestamp").min()).dt.total_microseconds() / 1e6).alias("elapsed_s"))
            .select(SAMPLE_FIELDS).collect()
        )
        return b'"laps":[' + b",".join(rows_json(lap_rows)) + b'],"samples":[' + b",".join(rows_json(samples)) + b"]"

    def _edited(self, athlete_id: str, activity_id: str) -> tuple[pl.LazyFrame, pl.LazyFrame] | None:
        """(laps, samples) of a merged or split activity as edited; None for any other activity."""
        from marts.edits import effective_laps
        from pipeline.steps.edits import load_edits

        if activity_edits.scan_edits(self._lake, athlete_id).head(1).collect().is_empty():
            return None
        live = scan(self._lake, activities.SPEC).filter(
            (pl.col("athlete_id") == athlete_id) & ~pl.col("is_deleted").fill_null(False)
        ).collect()
        loaded = load_edits(self._lake, athlete_id, live)
        sources = loaded.sources_of([activity_id])
        if not sources:
            return None
        theirs = (pl.col("athlete_id") == athlete_id) & pl.col("activity_id").is_in(sources)
        samples = loaded.records(scan(self._lake, records.SPEC).filter(theirs).collect())
        lap_rows = effective_laps(scan(self._lake, laps.SPEC).filter(theirs).collect(), loaded.plan)
        only = pl.col("activity_id") == activity_id
        return lap_rows.filter(only).lazy(), samples.filter(only).lazy()
