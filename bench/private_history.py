"""Small private lakes built straight into the tables (activities, records, marts) for tests and
benchmarks of the public layer: straight-line GPS routes whose geometry is known exactly, so a
test can put a route's start inside a privacy zone or run it through one.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import polars as pl

from lake import activities as activities_table
from lake import records as records_table
from lake.marts import ACTIVITY_SUMMARY, BEST_EFFORTS, ZONE_COLUMNS
from lake.storage import Lake
from lake.table import overwrite

M_PER_DEG_LAT = 6_371_000.0 * math.pi / 180.0


def offset_point(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point `north_m`/`east_m` metres away (local flat approximation, fine below ~20 km)."""
    return lat + north_m / M_PER_DEG_LAT, lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat)))


@dataclass
class Run:
    """One activity on a straight line from (lat, lon) heading `bearing_deg` for `length_m`."""

    activity_id: str
    start_time: dt.datetime  # UTC
    lat: float | None = 48.85
    lon: float | None = 2.35
    length_m: float = 5000.0
    bearing_deg: float = 90.0
    speed_mps: float = 3.5
    utc_offset_s: int = 3600
    source: str = "fit"
    sport: str = "running"
    is_private: bool = False
    is_deleted: bool = False
    strava_id: int | None = None
    hr_bpm: int = 150
    efforts: dict[str, float] = field(default_factory=dict)  # effort -> elapsed_s

    @property
    def date(self) -> dt.date:
        return (self.start_time + dt.timedelta(seconds=self.utc_offset_s)).date()

    def records(self) -> pl.DataFrame:
        n = int(self.length_m / self.speed_mps) + 1
        dist = [min(i * self.speed_mps, self.length_m) for i in range(n)]
        north = [d * math.cos(math.radians(self.bearing_deg)) for d in dist]
        east = [d * math.sin(math.radians(self.bearing_deg)) for d in dist]
        if self.lat is None:
            lats = lons = [None] * n
        else:
            pts = [offset_point(self.lat, self.lon, nm, em) for nm, em in zip(north, east)]
            lats, lons = [p[0] for p in pts], [p[1] for p in pts]
        return pl.DataFrame(
            {
                "athlete_id": "me",
                "year": self.start_time.year,
                "activity_id": self.activity_id,
                "seq": list(range(n)),
                "timestamp": [self.start_time + dt.timedelta(seconds=i) for i in range(n)],
                "lat_deg": lats,
                "lon_deg": lons,
                "distance_m": dist,
                "speed_mps": self.speed_mps,
                "hr_bpm": self.hr_bpm,
            }
        )

    def activity(self) -> dict:
        moving = self.length_m / self.speed_mps
        return {
            "activity_id": self.activity_id, "athlete_id": "me", "sport": self.sport, "sub_sport": "generic",
            "start_time": self.start_time, "utc_offset_s": self.utc_offset_s, "distance_m": self.length_m,
            "elapsed_s": moving, "moving_s": moving, "avg_hr_bpm": float(self.hr_bpm), "max_hr_bpm": float(self.hr_bpm + 10),
            "device_serial": "3999999999", "device_manufacturer": "garmin", "fit_sha256": "ab" * 32,
            "strava_id": self.strava_id, "source": self.source, "name": f"Secret loop from home {self.activity_id}",
            "description": "door to door", "gear_id": "g123", "is_private": self.is_private, "is_deleted": self.is_deleted,
            "updated_at": self.start_time,
        }

    def summary(self) -> dict:
        moving = self.length_m / self.speed_mps
        running = self.sport == "running"
        return {
            "athlete_id": "me", "activity_id": self.activity_id, "date": self.date, "start_time": self.start_time,
            "utc_offset_s": self.utc_offset_s, "sport": self.sport, "sub_sport": "generic", "source": self.source,
            "is_private": self.is_private, "is_running": running, "distance_m": self.length_m, "moving_s": moving,
            "elapsed_s": moving, "moving_pace_s_per_km": moving / (self.length_m / 1000), "gap_s_per_km": moving / (self.length_m / 1000),
            "avg_hr_bpm": float(self.hr_bpm), "max_hr_bpm": float(self.hr_bpm + 10), "ascent_m": 12.0,
            "trimp": moving / 60.0, "trimp_estimated": False, "trimp_method": "hr_samples",
            **{c: moving / len(ZONE_COLUMNS) for c in ZONE_COLUMNS},
            "efficiency_factor": 1.5, "aerobic_decoupling_pct": 2.0,
            "session_type": "easy", "rep_structure": None, "reps": None,
        }

    def best_efforts(self) -> list[dict]:
        from lake.marts import EFFORTS

        return [
            {"athlete_id": "me", "activity_id": self.activity_id, "effort": e, "distance_m": EFFORTS[e],
             "elapsed_s": s, "start_offset_s": 0.0, "date": self.date}
            for e, s in self.efforts.items()
        ]


def write_private_lake(lake: Lake, runs: list[Run]) -> None:
    """activities, records, marts/activity_summary and marts/best_efforts for `runs`."""
    overwrite(lake, activities_table.SPEC, pl.DataFrame([r.activity() for r in runs], schema_overrides=activities_table.SPEC.schema))
    overwrite(lake, records_table.SPEC, pl.concat([r.records() for r in runs], how="diagonal_relaxed"))
    overwrite(lake, ACTIVITY_SUMMARY, pl.DataFrame([r.summary() for r in runs], schema_overrides=ACTIVITY_SUMMARY.schema))
    efforts = [e for r in runs for e in r.best_efforts()]
    overwrite(lake, BEST_EFFORTS, pl.DataFrame(efforts, schema=BEST_EFFORTS.schema) if efforts else BEST_EFFORTS.empty())
