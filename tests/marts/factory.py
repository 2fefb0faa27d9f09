"""Hand-made activities / records / laps frames for mart tests."""

from __future__ import annotations

import datetime as dt

import polars as pl

from lake import activities, laps, records

UTC = dt.timezone.utc


def activity(activity_id: str, start: dt.datetime, *, offset_s: int = 0, sport: str = "running", sub_sport: str = "generic",
             distance_m: float = 10000.0, moving_s: float = 3000.0, avg_hr: float | None = None, athlete_id: str = "me",
             name: str | None = None, **extra) -> dict:
    row = {
        "activity_id": activity_id, "athlete_id": athlete_id, "sport": sport, "sub_sport": sub_sport,
        "start_time": start.replace(tzinfo=UTC), "utc_offset_s": offset_s, "distance_m": distance_m,
        "elapsed_s": moving_s, "moving_s": moving_s, "avg_hr_bpm": avg_hr, "source": "fit", "name": name,
        "is_private": False, "is_deleted": False, "session_index": 0,
    }
    row.update(extra)
    return row


def activities_frame(rows: list[dict]) -> pl.DataFrame:
    return activities.SPEC.conform(pl.DataFrame(rows, schema_overrides={"start_time": pl.Datetime("us", "UTC")}))


def samples(activity_id: str, start: dt.datetime, points: list[tuple], athlete_id: str = "me") -> list[dict]:
    """points: (offset_s, hr_bpm, distance_m[, altitude_m[, lat]]) per sample."""
    out = []
    for seq, point in enumerate(points):
        t, hr, dist = point[:3]
        out.append({
            "athlete_id": athlete_id, "year": start.year, "activity_id": activity_id, "seq": seq,
            "timestamp": (start + dt.timedelta(seconds=t)).replace(tzinfo=UTC), "hr_bpm": hr, "distance_m": dist,
            "altitude_m": point[3] if len(point) > 3 else None, "lat_deg": point[4] if len(point) > 4 else 45.0,
            "lon_deg": 7.0,
        })
    return out


def records_frame(rows: list[dict]) -> pl.DataFrame:
    return records.SPEC.conform(pl.DataFrame(rows, schema_overrides={"timestamp": pl.Datetime("us", "UTC")}, infer_schema_length=None))


def laps_frame(rows: list[dict]) -> pl.DataFrame:
    return laps.SPEC.conform(pl.DataFrame(rows, infer_schema_length=None) if rows else laps.SPEC.empty())
