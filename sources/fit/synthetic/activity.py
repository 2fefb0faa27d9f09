"""An activity as plain arrays (what a watch measured), before it is encoded as FIT.

`Samples` hold one value per second of recording; the timer pauses (auto-pause at a traffic light)
are gaps in `elapsed_s`. `Lap`s are sample index ranges. Everything a FIT lap/session message
summarises is computed from the samples here, so the summaries always agree with the records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np


@dataclass(frozen=True)
class Device:
    """The recording watch: its `file_id` identity."""

    manufacturer: int = 1  # garmin
    product: int = 4315  # fr965
    serial_number: int = 3_391_544_021
    software_version: float = 19.18


@dataclass
class Samples:
    """1 Hz samples. Optional channels are None when the sensor was absent for the whole activity;
    NaN marks a single missing value (e.g. an HR dropout)."""

    elapsed_s: np.ndarray  # int64 seconds since the start, gaps where the timer was paused
    distance_m: np.ndarray
    speed_mps: np.ndarray
    altitude_m: np.ndarray | None = None
    lat_deg: np.ndarray | None = None
    lon_deg: np.ndarray | None = None
    hr_bpm: np.ndarray | None = None
    cadence_spm: np.ndarray | None = None  # steps per minute (running) or rpm (cycling)
    power_w: np.ndarray | None = None
    temperature_c: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.elapsed_s)


@dataclass(frozen=True)
class Lap:
    """Samples `start`..`end` (inclusive indices; a lap's last sample is the next lap's first)."""

    start: int
    end: int
    intensity: str = "active"  # FIT intensity: active, rest, warmup, cooldown
    trigger: str = "manual"  # FIT lap_trigger: manual, distance, time, session_end


@dataclass
class Activity:
    start_utc: datetime  # aware, UTC
    utc_offset_s: int  # the local wall clock's offset at the start
    sport: str  # FIT sport: running, cycling
    sub_sport: str  # FIT sub_sport: generic, track, treadmill, trail, road, indoor_cycling
    samples: Samples
    laps: list[Lap]
    device: Device = field(default_factory=Device)
    kind: str = "easy"  # the plan's session type, used in the file name
    mass_kg: float = 60.0

    @property
    def running(self) -> bool:
        return self.sport == "running"


def _nan_stat(func, values: np.ndarray | None) -> float:
    if values is None or values.size == 0 or np.all(np.isnan(values)):
        return float("nan")
    return float(func(values))


def moving_seconds(elapsed_s: np.ndarray) -> float:
    """Timer time: elapsed time minus the paused gaps (a step longer than 1 s is a pause)."""
    steps = np.diff(elapsed_s)
    return float(np.minimum(steps, 1).sum())


def summarise(activity: Activity, start: int, end: int) -> dict:
    """FIT lap/session summary fields (physical units) over samples `start`..`end`."""
    s = activity.samples
    sl = slice(start, end + 1)
    inner = slice(start + 1, end + 1) if end > start else sl
    elapsed = float(s.elapsed_s[end] - s.elapsed_s[start])
    timer = moving_seconds(s.elapsed_s[sl])
    distance = float(s.distance_m[end] - s.distance_m[start])
    out = {
        "total_elapsed_time": elapsed,
        "total_timer_time": timer,
        "total_distance": distance,
        "enhanced_avg_speed": distance / timer if timer > 0 else 0.0,
        "enhanced_max_speed": float(np.max(s.speed_mps[sl])),
        "avg_heart_rate": None,
        "max_heart_rate": None,
        "total_calories": round(distance / 1000 * activity.mass_kg * (1.0 if activity.running else 0.35)),
    }
    if s.hr_bpm is not None:
        out["avg_heart_rate"] = _nan_stat(np.nanmean, s.hr_bpm[inner])
        out["max_heart_rate"] = _nan_stat(np.nanmax, s.hr_bpm[sl])
    if s.cadence_spm is not None:
        cad = s.cadence_spm[inner]
        moving = cad[cad > 0]
        avg = float(moving.mean()) if moving.size else 0.0
        per_foot = 2.0 if activity.running else 1.0
        out["avg_cadence"] = np.floor(avg / per_foot)
        out["max_cadence"] = np.floor(float(cad.max()) / per_foot)
        if activity.running:
            out["avg_fractional_cadence"] = np.floor((avg / 2 - np.floor(avg / 2)) * 128) / 128
        out["total_cycles"] = round(float(np.sum(cad)) / 60.0 / per_foot)
    if s.power_w is not None:
        out["avg_power"] = _nan_stat(np.nanmean, s.power_w[inner])
        out["max_power"] = _nan_stat(np.nanmax, s.power_w[sl])
    if s.altitude_m is not None:
        climb = np.diff(s.altitude_m[sl])
        out["total_ascent"] = float(climb[climb > 0].sum())
        out["total_descent"] = float(-climb[climb < 0].sum())
    if s.lat_deg is not None:
        out["start_position_lat"] = (s.lat_deg[start], s.lon_deg[start])
        out["end_position_lat"] = (s.lat_deg[end], s.lon_deg[end])
    return out
