"""Strava JSON (DetailedActivity, streams, laps) → rows of `activities`, `laps` and `records`.

Pure functions: no I/O, no clock except the `now` passed in.

* Times: `start_date` is UTC; `start_date_local` is the athlete's local wall time although it
  ends in `Z`, so `utc_offset_s = start_date_local − start_date` (right across DST changes and
  for far-east or half-hour zones, because Strava computed the local time for that instant).
* Distances: an athlete may correct an activity's distance on Strava; the streams keep the
  recorded distances. When the activity distance differs from the distance stream's last value by
  more than 0.1 %, the distance stream, `velocity_smooth` and the laps' distances and speeds are
  rescaled by the same factor, so the samples agree with the corrected total.
* Cadence: Strava reports running cadence per foot, like FIT; `*_cadence_spm` is twice it for
  foot sports (steps per minute), and Strava's value (rpm) for others.
* Hostile samples (HR outside 25–240 bpm, a run faster than 12 m/s, GPS jumps, a clock going
  backwards) are nulled by the same rules as FIT files (`sources.fit.clean.clean_records`,
  docs/fit.md) and counted in the row's `quality_flags`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import numpy as np
import polars as pl

from lake import laps, records
from sources.fit.clean import clean_records, count_flags
from sources.fit.identity import strava_activity_id
from sources.strava.errors import StravaPayloadError
from sources.strava.sports import FOOT_SPORTS, fit_sport

#: Relative difference between activity distance and stream distance that counts as an edit.
DISTANCE_EDIT_TOLERANCE = 1e-3

#: Summary fields whose change makes a sync re-fetch an activity.
FINGERPRINT_FIELDS = ("name", "distance", "start_date", "elapsed_time", "moving_time", "sport_type", "type", "private", "visibility", "gear_id", "trainer")


def parse_utc(value: str) -> datetime:
    """Strava's "2024-03-31T06:12:00Z" → an aware UTC datetime."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (AttributeError, ValueError):
        raise StravaPayloadError(f"unreadable Strava time {value!r}") from None


def parse_wall(value: str) -> datetime:
    """Strava's `*_local` times: local wall time written with a misleading `Z`; naive result."""
    try:
        return datetime.fromisoformat(value.removesuffix("Z")).replace(tzinfo=None)
    except (AttributeError, ValueError):
        raise StravaPayloadError(f"unreadable Strava local time {value!r}") from None


def utc_offset_s(start_date: str, start_date_local: str) -> int:
    return int((parse_wall(start_date_local) - parse_utc(start_date).replace(tzinfo=None)).total_seconds())


def fingerprint(summary: dict) -> str:
    """A hash of the summary fields whose change means the stored copy is stale."""
    picked = {k: summary.get(k) for k in FINGERPRINT_FIELDS}
    return hashlib.sha256(json.dumps(picked, sort_keys=True, default=str).encode()).hexdigest()[:32]


def is_private(activity: dict) -> bool:
    return bool(activity.get("private")) or activity.get("visibility") == "only_me"


def sport_of(activity: dict) -> tuple[str, str | None]:
    return fit_sport(activity.get("sport_type") or activity.get("type"), trainer=bool(activity.get("trainer")))


def _cadence_spm(value, sport: str) -> float | None:
    if value is None:
        return None
    return float(value) * (2.0 if sport in FOOT_SPORTS else 1.0)


def _float(value) -> float | None:
    return None if value is None else float(value)


def activity_row(detail: dict, *, athlete_id: str, now: datetime) -> dict:
    """The `activities` row of a Strava-only activity (id `strava-<id>`)."""
    try:
        strava_id = int(detail["id"])
        start, start_local = detail["start_date"], detail["start_date_local"]
    except (KeyError, TypeError, ValueError):
        raise StravaPayloadError("a Strava activity without id, start_date or start_date_local") from None
    sport, sub_sport = sport_of(detail)
    return {
        "activity_id": strava_activity_id(strava_id, athlete_id),
        "athlete_id": athlete_id,
        "sport": sport,
        "sub_sport": sub_sport,
        "start_time": parse_utc(start),
        "utc_offset_s": utc_offset_s(start, start_local),
        "distance_m": _float(detail.get("distance")),
        "elapsed_s": _float(detail.get("elapsed_time")),
        "moving_s": _float(detail.get("moving_time")),
        "avg_hr_bpm": _float(detail.get("average_heartrate")),
        "max_hr_bpm": _float(detail.get("max_heartrate")),
        "ascent_m": _float(detail.get("total_elevation_gain")),
        "descent_m": None,
        "calories_kcal": _float(detail.get("calories")),
        "avg_cadence_spm": _cadence_spm(detail.get("average_cadence"), sport),
        "device_manufacturer": None,
        "device_product": detail.get("device_name"),
        "device_serial": None,
        "session_index": None,
        "fit_sha256": None,
        "strava_id": strava_id,
        "source": "strava",
        "name": detail.get("name"),
        "description": detail.get("description"),
        "gear_id": detail.get("gear_id"),
        "is_private": is_private(detail),
        "is_deleted": False,
        "updated_at": now,
        "strava_external_id": detail.get("external_id"),
    }


def distance_scale(detail: dict, streams: dict | None) -> float:
    """Factor from recorded to corrected distance (1.0 when the distance was not edited)."""
    total = detail.get("distance")
    data = ((streams or {}).get("distance") or {}).get("data") or []
    recorded = max((d for d in data if d is not None), default=None)
    if not total or not recorded or recorded <= 0:
        return 1.0
    scale = float(total) / float(recorded)
    return scale if abs(scale - 1.0) > DISTANCE_EDIT_TOLERANCE else 1.0


def lap_rows(raw_laps: list[dict], *, activity: dict, scale: float) -> pl.DataFrame:
    """`laps` rows, in Strava's order (lap_index from 0), distances rescaled by `scale`."""
    start = activity["start_time"]
    rows = []
    for index, lap in enumerate(raw_laps):
        lap_start = parse_utc(lap["start_date"]) if lap.get("start_date") else None
        distance = _float(lap.get("distance"))
        speed = _float(lap.get("average_speed"))
        rows.append(
            {
                "activity_id": activity["activity_id"],
                "athlete_id": activity["athlete_id"],
                "lap_index": index,
                "start_time": lap_start,
                "start_offset_s": (lap_start - start).total_seconds() if lap_start else None,
                "elapsed_s": _float(lap.get("elapsed_time")),
                "moving_s": _float(lap.get("moving_time")),
                "distance_m": None if distance is None else distance * scale,
                "avg_speed_mps": None if speed is None else speed * scale,
                "avg_hr_bpm": _float(lap.get("average_heartrate")),
                "max_hr_bpm": _float(lap.get("max_heartrate")),
                "avg_cadence_spm": _cadence_spm(lap.get("average_cadence"), activity["sport"]),
                "ascent_m": _float(lap.get("total_elevation_gain")),
                "descent_m": None,
                "intensity": None,
                "lap_trigger": None,
            }
        )
    return pl.DataFrame(rows, schema=laps.SPEC.schema) if rows else laps.SPEC.empty()


def _stream(streams: dict, name: str, n: int) -> list | None:
    data = (streams.get(name) or {}).get("data")
    if data is None:
        return None
    if len(data) != n:
        raise StravaPayloadError(f"Strava stream {name!r} has {len(data)} samples but time has {n}")
    return data


def _numbers(data: list | None, n: int, scale: float = 1.0) -> np.ndarray:
    if data is None:
        return np.full(n, np.nan)
    try:
        return np.array(data, dtype=np.float64) * scale  # None → NaN
    except (TypeError, ValueError):
        raise StravaPayloadError("a Strava stream holds values that are not numbers") from None


def _lat_lon(data: list | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    if data is None:
        return np.full(n, np.nan), np.full(n, np.nan)
    try:
        pairs = np.array([p if p else (None, None) for p in data], dtype=np.float64).reshape(n, 2)
    except (TypeError, ValueError):
        raise StravaPayloadError("the Strava latlng stream holds values that are not [lat, lng] pairs") from None
    return pairs[:, 0], pairs[:, 1]


def record_rows(streams: dict, *, activity: dict, scale: float) -> pl.DataFrame:
    """`records` rows from streams keyed by type; `time` (seconds from the start) is required."""
    time_s = (streams.get("time") or {}).get("data")
    if not time_s:
        return records.SPEC.empty()
    n = len(time_s)
    start = activity["start_time"]
    lat, lon = _lat_lon(_stream(streams, "latlng", n), n)
    offsets_us = np.rint(_numbers(time_s, n) * 1e6).astype("timedelta64[us]")
    timestamps = pl.Series(np.datetime64(start.replace(tzinfo=None), "us") + offsets_us).dt.replace_time_zone("UTC")
    cadence = _numbers(_stream(streams, "cadence", n), n, 2.0 if activity["sport"] in FOOT_SPORTS else 1.0)
    columns = {
        "athlete_id": pl.Series([activity["athlete_id"]] * n, dtype=pl.String),
        "year": pl.Series(np.full(n, start.year, dtype=np.int32)),
        "activity_id": pl.Series([activity["activity_id"]] * n, dtype=pl.String),
        "seq": pl.Series(np.arange(n, dtype=np.int32)),
        "timestamp": timestamps,
        "lat_deg": lat,
        "lon_deg": lon,
        "distance_m": _numbers(_stream(streams, "distance", n), n, scale),
        "speed_mps": _numbers(_stream(streams, "velocity_smooth", n), n, scale),
        "altitude_m": _numbers(_stream(streams, "altitude", n), n),
        "hr_bpm": _whole(_numbers(_stream(streams, "heartrate", n), n)),
        "cadence_spm": cadence,
        "power_w": _whole(_numbers(_stream(streams, "watts", n), n)),
        "temperature_c": _numbers(_stream(streams, "temp", n), n),
    }
    series = [
        (pl.Series(name, values, nan_to_null=True) if isinstance(values, np.ndarray) else values.alias(name))
        for name, values in columns.items()
    ]
    return pl.DataFrame(series)  # in the declared order and dtypes of records.SPEC (tests check)


def _whole(values: np.ndarray) -> pl.Series:
    """Integer samples (bpm, W) with nulls where Strava sent none."""
    return pl.Series(np.rint(values), nan_to_null=True).cast(pl.Int32)


def activity_rows(detail: dict, streams: dict | None, raw_laps: list[dict], *, athlete_id: str, now: datetime):
    """(activity row, laps frame, records frame) of one Strava-only activity."""
    row = activity_row(detail, athlete_id=athlete_id, now=now)
    scale = distance_scale(detail, streams)
    samples, counts = clean_records(record_rows(streams or {}, activity=row, scale=scale), row["sport"], row["sub_sport"])
    row["quality_flags"] = "; ".join(count_flags(counts)) or None
    return row, lap_rows(raw_laps, activity=row, scale=scale), samples
