"""GPS track points (from a GPX or TCX file) → a `DecodedFile`, with the FIT rows' derivations.

The GPX and TCX readers (`sources.gpx`, `sources.tcx`) only parse; this module derives what a
FIT file states itself, so the three formats give the same `activities`/`laps`/`records` rows
(`sources.fit.rows.file_rows`) and pass the same hostile-value cleaning (`sources.fit.clean`).
The rules (also in docs/import.md):

* **distance**: the file's own cumulative distance where it has one (TCX `DistanceMeters`),
  else the haversine length of its points, summed fix to fix, not smoothed;
* **speed**: the file's own where given (TCX `Speed` extension), else distance step / time step;
* **elapsed** = last − first timestamp; **moving** = the sum of the lap timer times the file
  states (TCX `TotalTimeSeconds`), else the time steps whose speed is at least
  `MOVING_MIN_SPEED_MPS` and that are not longer than `MAX_MOVING_STEP_S` (a pause), and the
  elapsed time when the file has no distance at all;
* **ascent/descent**: the sum of the rises and falls of the recorded altitude (no smoothing);
* **local time**: `utc_offset_s` is the offset at the start of the zone of the first position
  (`tzfpy`, an offline time-zone map), else of `default_tz` — FIT files state their own
  local time, GPX and TCX do not;
* **cadence**: GPX `cad` and TCX `RunCadence` count one foot's strides like FIT, so steps per
  minute = 2 × cadence in foot sports (`cadence_spm_factor`), as for FIT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from sources.fit.clean import clean_decoded, haversine_m
from sources.fit.model import SESSION_COLUMNS, DecodedFile, DecodedSession, FileIdentity, NotAnActivity
from sources.fit.normalize import LAP_COLUMNS, RECORD_COLUMNS, cadence_spm_factor

MOVING_MIN_SPEED_MPS = 0.5
MAX_MOVING_STEP_S = 30.0

#: the point columns the readers fill (any may be all null except `timestamp`); `lap` numbers
#: the file's laps (GPX: track segments) from 0
POINT_SCHEMA = pl.Schema(
    {
        "lap": pl.Int32,
        "timestamp": pl.Datetime("us", "UTC"),
        "lat_deg": pl.Float64,
        "lon_deg": pl.Float64,
        "altitude_m": pl.Float64,
        "distance_m": pl.Float64,
        "speed_mps": pl.Float64,
        "hr_bpm": pl.Float64,
        "cadence": pl.Float64,  # as the file says (one foot's strides in foot sports)
        "power_w": pl.Float64,
        "temperature_c": pl.Float64,
    }
)

#: file sport names → FIT sport names (the lake's vocabulary)
SPORTS = {
    "running": "running", "run": "running", "trail running": "running", "treadmill running": "running",
    "biking": "cycling", "cycling": "cycling", "ride": "cycling", "road_biking": "cycling", "mountain_biking": "cycling",
    "walking": "walking", "walk": "walking", "hiking": "hiking", "hike": "hiking", "swimming": "swimming",
}


@dataclass(frozen=True)
class LapStated:
    """What a TCX `<Lap>` states about itself (GPX segments state nothing)."""

    start_time: datetime | None = None
    timer_s: float | None = None
    distance_m: float | None = None
    calories_kcal: float | None = None
    avg_hr_bpm: float | None = None
    max_hr_bpm: float | None = None
    intensity: str | None = None
    lap_trigger: str | None = None


def sport_of(name: str | None) -> str | None:
    """The FIT sport of a file's sport name ("Running", "Biking", "9"…); None when unknown."""
    if not name:
        return None
    return SPORTS.get(name.strip().lower().replace("_", " "), SPORTS.get(name.strip().lower()))


def track_distance(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Cumulative haversine distance fix to fix; points without a fix carry the last total."""
    out = np.zeros(len(lat))
    fix = np.flatnonzero(~np.isnan(lat) & ~np.isnan(lon))
    if len(fix) >= 2:
        steps = haversine_m(lat[fix[:-1]], lon[fix[:-1]], lat[fix[1:]], lon[fix[1:]])
        out[fix[1:]] = np.cumsum(steps)
        out = np.maximum.accumulate(out)
    return out


def utc_offset_at(lat: float | None, lon: float | None, start: datetime, default_tz: str) -> int:
    """The UTC offset at `start` of the zone at (lat, lon), else of `default_tz`."""
    zone_name = None
    if lat is not None and lon is not None and not (np.isnan(lat) or np.isnan(lon)):
        from tzfpy import get_tz

        zone_name = get_tz(float(lon), float(lat)) or None
    offset = start.astimezone(ZoneInfo(zone_name or default_tz)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _moving_s(seconds: np.ndarray, distance: np.ndarray, has_distance: bool) -> float:
    if len(seconds) < 2:
        return 0.0
    dt = np.diff(seconds)
    if not has_distance:
        return float(np.sum(dt))
    dd = np.diff(distance)
    moving = (dt > 0) & (dt <= MAX_MOVING_STEP_S) & (dd >= MOVING_MIN_SPEED_MPS * dt)
    return float(np.sum(dt[moving]))


def _rise_fall(altitude: np.ndarray) -> tuple[float | None, float | None]:
    alt = altitude[~np.isnan(altitude)]
    if len(alt) < 2:
        return None, None
    step = np.diff(alt)
    return float(step[step > 0].sum()), float(-step[step < 0].sum())


def _mean(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else None


def _max(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return float(values.max()) if len(values) else None


def _derived_points(points: pl.DataFrame, factor: float) -> pl.DataFrame:
    """Points with distance, speed and cadence derived where the file has none."""
    lat = points["lat_deg"].to_numpy().astype(float)
    lon = points["lon_deg"].to_numpy().astype(float)
    stated = points["distance_m"]
    if stated.null_count() < points.height:
        distance = stated.fill_null(strategy="forward").fill_null(0.0).to_numpy().astype(float)
    else:
        distance = track_distance(lat, lon)
    seconds = points["timestamp"].dt.epoch("us").to_numpy() / 1e6
    dt = np.diff(seconds, prepend=np.nan)
    dd = np.diff(distance, prepend=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        step_speed = np.where(dt > 0, dd / dt, np.nan)
    return points.with_columns(
        distance_m=pl.Series(distance),
        speed_mps=pl.coalesce(pl.col("speed_mps"), pl.Series(step_speed).fill_nan(None)),
        cadence_spm=pl.col("cadence") * factor,
    )


def decoded_track(
    points: pl.DataFrame,
    laps_stated: list[LapStated],
    *,
    sport: str | None,
    source: str,
    decoder: str,
    identity: FileIdentity,
    default_tz: str,
    now: datetime,
) -> DecodedFile:
    """One activity session from a file's timed points (`POINT_SCHEMA`), cleaned like FIT.

    `laps_stated` has one entry per `lap` value the points use (or is empty: GPX). Raises
    `NotAnActivity` when no point carries a time (a route or a course, not a recording)."""
    points = points.filter(pl.col("timestamp").is_not_null()).sort("timestamp", maintain_order=True)
    if points.height < 2:
        raise NotAnActivity(f"{source.upper()} file without a timed track (a route or course, not an activity)")
    factor = cadence_spm_factor(sport, None)
    points = _derived_points(points, factor)
    start = points["timestamp"][0]
    seconds = points["timestamp"].dt.epoch("us").to_numpy() / 1e6
    distance = points["distance_m"].to_numpy()
    has_distance = bool(distance[-1] > 0)
    timer = [lap.timer_s for lap in laps_stated]
    moving = float(sum(timer)) if timer and all(t is not None for t in timer) else _moving_s(seconds, distance, has_distance)
    ascent, descent = _rise_fall(points["altitude_m"].to_numpy().astype(float))
    first_fix = points.filter(pl.col("lat_deg").is_not_null() & pl.col("lon_deg").is_not_null()).head(1)
    lat0, lon0 = (first_fix["lat_deg"][0], first_fix["lon_deg"][0]) if first_fix.height else (None, None)
    calories = [lap.calories_kcal for lap in laps_stated if lap.calories_kcal is not None]
    summary = {
        "session_index": 0,
        "sport": sport,
        "sub_sport": None,
        "start_time": start,
        "utc_offset_s": utc_offset_at(lat0, lon0, start, default_tz),
        "distance_m": float(distance[-1]) if has_distance else None,
        "elapsed_s": float(seconds[-1] - seconds[0]),
        "moving_s": moving,
        "avg_hr_bpm": _mean(points["hr_bpm"].to_numpy().astype(float)),
        "max_hr_bpm": _max(points["hr_bpm"].to_numpy().astype(float)),
        "ascent_m": ascent,
        "descent_m": descent,
        "calories_kcal": float(sum(calories)) if calories else None,
        "avg_cadence_spm": _mean(points["cadence_spm"].to_numpy().astype(float)),
    }
    summary = {name: summary[name] for name in SESSION_COLUMNS}
    records = points.with_columns(seq=pl.int_range(pl.len(), dtype=pl.Int32)).select(
        [pl.col(name).cast(dtype, strict=False) for name, dtype in RECORD_COLUMNS.items()]
    )
    session = DecodedSession(summary=summary, laps=_laps(points, laps_stated, start, seconds), records=records)
    decoded = DecodedFile(identity=identity, sessions=[session], decoder=decoder, source=source)
    return clean_decoded(decoded, now=now)


def _laps(points: pl.DataFrame, stated: list[LapStated], start: datetime, seconds: np.ndarray) -> pl.DataFrame:
    """One row per `lap` value of the points, in time order: what the lap states, else derived."""
    rows = []
    lap_ids = points["lap"].to_numpy()
    order = list(dict.fromkeys(lap_ids.tolist()))
    distance = points["distance_m"].to_numpy()
    for index, lap in enumerate(order):
        mask = lap_ids == lap
        said = stated[lap] if 0 <= lap < len(stated) else LapStated()
        lap_seconds, lap_distance = seconds[mask], distance[mask]
        lap_start = said.start_time or points["timestamp"].filter(pl.Series(mask))[0]
        later = [seconds[lap_ids == other][0] for other in order[index + 1 : index + 2]]
        end = later[0] if later else lap_seconds[-1]
        elapsed = float(end - lap_start.timestamp())
        # distance run in the lap: from the end of the previous lap (or the start) to its last point
        before = distance[: np.flatnonzero(mask)[0]]
        lap_dist = said.distance_m if said.distance_m is not None else float(lap_distance[-1] - (before[-1] if len(before) else 0.0))
        moving = said.timer_s if said.timer_s is not None else _moving_s(lap_seconds, lap_distance, bool(lap_distance[-1] > 0))
        hr = points["hr_bpm"].to_numpy().astype(float)[mask]
        ascent, descent = _rise_fall(points["altitude_m"].to_numpy().astype(float)[mask])
        rows.append(
            {
                "lap_index": index,
                "start_time": lap_start,
                "start_offset_s": (lap_start - start).total_seconds(),
                "elapsed_s": elapsed,
                "moving_s": moving,
                "distance_m": lap_dist,
                "avg_speed_mps": lap_dist / moving if moving else None,
                "avg_hr_bpm": said.avg_hr_bpm if said.avg_hr_bpm is not None else _mean(hr),
                "max_hr_bpm": said.max_hr_bpm if said.max_hr_bpm is not None else _max(hr),
                "avg_cadence_spm": _mean(points["cadence_spm"].to_numpy().astype(float)[mask]),
                "ascent_m": ascent,
                "descent_m": descent,
                "intensity": said.intensity,
                "lap_trigger": said.lap_trigger,
            }
        )
    return pl.DataFrame(rows, schema=LAP_COLUMNS)
