"""Generated Strava activities with realistic streams (numpy), for the fake Strava server.

A run is sampled at 1 Hz with a few pauses: speed around the run's pace with smooth noise,
distance its integral, a GPS track that leaves home and curves back, altitude rolling hills,
heart rate that lags effort, cadence per foot (as Strava reports it), temperature drifting.
Laps are 1 km splits. Field names and shapes are Strava's (see ../shared/data/strava).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

HOME = (47.3769, 8.5417)  # lat, lon
STREAM_KEYS = ("time", "latlng", "distance", "altitude", "heartrate", "cadence", "velocity_smooth", "moving", "watts", "temp")


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(t: datetime, offset_s: int) -> str:
    """Strava's start_date_local: local wall time, misleadingly suffixed with Z."""
    return (t.astimezone(UTC).replace(tzinfo=None) + timedelta(seconds=offset_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeActivity:
    id: int
    start: datetime  # UTC
    utc_offset_s: int
    sport_type: str
    name: str
    distance: float
    moving_time: int
    elapsed_time: int
    streams: dict[str, list] | None
    laps: list[dict] = field(default_factory=list)
    external_id: str | None = None
    description: str | None = None
    gear_id: str | None = "g1"
    private: bool = False
    trainer: bool = False
    manual: bool = False
    extra: dict = field(default_factory=dict)
    #: summary/detail fields Strava leaves out of this activity's JSON (hostile-value tests)
    omit: tuple[str, ...] = ()
    #: regenerates the streams on demand (the bench's 1,000 activities would not fit in memory)
    stream_factory: Callable[[], dict[str, list]] | None = None

    def get_streams(self) -> dict[str, list] | None:
        return self.streams if self.stream_factory is None else self.stream_factory()

    @property
    def has_streams(self) -> bool:
        return bool(self.streams) or self.stream_factory is not None

    def summary(self) -> dict:
        s = self.streams or {}
        hr = s.get("heartrate")
        cad = s.get("cadence")
        out = {
            "resource_state": 2,
            "athlete": {"id": 1, "resource_state": 1},
            "id": self.id,
            "name": self.name,
            "distance": self.distance,
            "moving_time": self.moving_time,
            "elapsed_time": self.elapsed_time,
            "total_elevation_gain": self.extra.get("gain", 0.0),
            "type": self.sport_type if self.sport_type in ("Run", "Ride", "Walk", "Hike", "Swim") else "Workout",
            "sport_type": self.sport_type,
            "start_date": iso(self.start),
            "start_date_local": iso_local(self.start, self.utc_offset_s),
            "timezone": f"(GMT{self.utc_offset_s // 3600:+03d}:{abs(self.utc_offset_s) % 3600 // 60:02d}) Europe/Zurich",
            "utc_offset": float(self.utc_offset_s),
            "trainer": self.trainer,
            "commute": False,
            "manual": self.manual,
            "private": self.private,
            "visibility": "only_me" if self.private else "everyone",
            "gear_id": self.gear_id,
            "external_id": self.external_id,
            "upload_id": None if self.manual else self.id * 10,
            "average_speed": self.distance / max(self.moving_time, 1),
            "has_heartrate": hr is not None,
        }
        if hr:
            out["average_heartrate"] = round(float(np.mean(hr)), 1)
            out["max_heartrate"] = float(max(hr))
        if cad:
            out["average_cadence"] = round(float(np.mean(cad)), 1)
        out.update(self.extra.get("stats", {}))
        for name in self.omit:
            out.pop(name, None)
        return out

    def detail(self, *, with_laps: bool = True) -> dict:
        out = {**self.summary(), "resource_state": 3, "description": self.description, "calories": round(self.distance * 0.07, 1), "device_name": "Garmin Forerunner 965"}
        if with_laps:
            out["laps"] = self.laps
        for name in self.omit:
            out.pop(name, None)
        return out


def _smooth(x: np.ndarray, window: int) -> np.ndarray:
    kernel = np.ones(window) / window
    return np.convolve(np.pad(x, (window // 2, window - 1 - window // 2), mode="edge"), kernel, mode="valid")


def generate_streams(rng: np.random.Generator, duration_s: int, pace_mps: float, *, sport: str = "Run", gps: bool = True) -> dict[str, list]:
    n = duration_s
    time = np.arange(n, dtype=np.int64)
    # a couple of short pauses (traffic lights): time jumps, moving false
    for _ in range(rng.integers(0, 3)):
        at = int(rng.integers(n // 5, n - n // 5))
        time[at:] += int(rng.integers(5, 40))
    moving = np.ones(n, dtype=bool)
    jumps = np.nonzero(np.diff(time) > 1)[0]
    moving[jumps + 1] = False
    speed = np.clip(_smooth(pace_mps + rng.normal(0, 0.35, n), 15) + 0.25 * np.sin(np.linspace(0, 6 * math.pi, n)), 0.5, None)
    dt = np.diff(time, prepend=time[0]).astype(float)
    dt[~moving] = 1.0
    distance = np.cumsum(speed * dt) - speed[0] * dt[0]
    heading = rng.uniform(0, 2 * math.pi) + np.linspace(0, 2 * math.pi, n) * rng.uniform(0.7, 1.0)
    step = speed * dt
    north = np.cumsum(step * np.cos(heading))
    east = np.cumsum(step * np.sin(heading))
    lat = HOME[0] + north / 111_320.0
    lon = HOME[1] + east / (111_320.0 * math.cos(math.radians(HOME[0])))
    altitude = 410 + 25 * np.sin(distance / 1800.0) + _smooth(rng.normal(0, 0.8, n), 9)
    effort = (speed - speed.min()) / max(np.ptp(speed), 1e-6)
    hr = np.clip(_smooth(118 + 45 * effort + 12 * (1 - np.exp(-time / 600.0)) + rng.normal(0, 2, n), 20), 80, 200)
    cadence = np.clip(np.round(82 + 6 * effort + rng.normal(0, 1.2, n)), 60, 110)
    temp = np.round(17 + 3 * np.linspace(0, 1, n) + rng.normal(0, 0.3, n))
    streams: dict[str, list] = {
        "time": time.tolist(),
        "distance": np.round(distance, 1).tolist(),
        "altitude": np.round(altitude, 1).tolist(),
        "heartrate": np.round(hr).astype(int).tolist(),
        "cadence": cadence.astype(int).tolist(),
        "velocity_smooth": np.round(speed, 3).tolist(),
        "moving": moving.tolist(),
        "temp": temp.astype(int).tolist(),
    }
    if gps:
        streams["latlng"] = np.round(np.column_stack([lat, lon]), 7).tolist()
    if sport == "Ride":
        streams["watts"] = np.round(150 + 120 * effort).astype(int).tolist()
    return streams


def kilometre_laps(streams: dict[str, list], start: datetime, offset_s: int) -> list[dict]:
    time = np.asarray(streams["time"], dtype=float)
    distance = np.asarray(streams["distance"], dtype=float)
    hr = np.asarray(streams["heartrate"], dtype=float)
    cad = np.asarray(streams["cadence"], dtype=float)
    bounds = [0] + [int(np.searchsorted(distance, k * 1000.0)) for k in range(1, int(distance[-1] // 1000) + 1)] + [len(time) - 1]
    bounds = sorted(set(b for b in bounds if b < len(time)))
    laps = []
    for index, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=False), start=1):
        elapsed = int(time[b] - time[a]) or 1
        dist = float(distance[b] - distance[a])
        lap_start = start + timedelta(seconds=float(time[a]))
        laps.append(
            {
                "id": index,
                "resource_state": 2,
                "name": f"Lap {index}",
                "elapsed_time": elapsed,
                "moving_time": elapsed,
                "start_date": iso(lap_start),
                "start_date_local": iso_local(lap_start, offset_s),
                "distance": round(dist, 1),
                "start_index": a,
                "end_index": b,
                "total_elevation_gain": 3.0,
                "average_speed": round(dist / elapsed, 3),
                "max_speed": round(dist / elapsed * 1.2, 3),
                "average_cadence": round(float(cad[a:b + 1].mean()), 1),
                "average_heartrate": round(float(hr[a:b + 1].mean()), 1),
                "max_heartrate": float(hr[a:b + 1].max()),
                "lap_index": index,
                "split": index,
            }
        )
    return laps


def make_run(
    activity_id: int,
    start: datetime,
    *,
    seed: int | None = None,
    duration_s: int | None = None,
    sport_type: str = "Run",
    utc_offset_s: int = 3600,
    external_id: str | None = None,
    manual: bool = False,
    name: str | None = None,
    lazy: bool = False,
) -> FakeActivity:
    """A run with streams and 1 km laps; `lazy` keeps only what is needed to regenerate streams."""
    rng = np.random.default_rng(activity_id if seed is None else seed)
    duration = int(duration_s or rng.integers(1200, 2700))
    pace = float(rng.uniform(3.2, 4.6)) if sport_type in ("Run", "TrailRun", "VirtualRun") else float(rng.uniform(6.0, 9.0))
    if manual:
        distance = round(pace * duration, 1)
        return FakeActivity(activity_id, start, utc_offset_s, sport_type, name or "Manual entry", distance, duration, duration, None, [], external_id, manual=True, gear_id=None)
    stream_seed = int(rng.integers(0, 2**31))

    def regenerate() -> dict[str, list]:
        return generate_streams(np.random.default_rng(stream_seed), duration, pace, sport=sport_type, gps=sport_type != "VirtualRun")

    streams = regenerate()
    distance = float(streams["distance"][-1])
    elapsed = int(streams["time"][-1]) + 1
    altitude = np.asarray(streams["altitude"])
    gain = float(np.clip(np.diff(altitude), 0, None).sum())
    laps = kilometre_laps(streams, start, utc_offset_s)
    stats = {
        "average_heartrate": round(float(np.mean(streams["heartrate"])), 1),
        "max_heartrate": float(max(streams["heartrate"])),
        "average_cadence": round(float(np.mean(streams["cadence"])), 1),
    }
    return FakeActivity(
        activity_id,
        start,
        utc_offset_s,
        sport_type,
        name or f"Run {activity_id}",
        round(distance, 1),
        int(sum(streams["moving"])),
        elapsed,
        None if lazy else streams,
        laps,
        external_id if external_id is not None else f"garmin_push_{activity_id}",
        extra={"gain": round(gain, 1), "stats": stats},
        stream_factory=regenerate if lazy else None,
    )


def make_history(
    count: int, *, first_id: int = 1000, start: datetime | None = None, seed: int = 7, duration_s: int | None = None, lazy: bool = False
) -> list[FakeActivity]:
    """`count` runs, one or two a day going back from `start` (default 2024-06-30)."""
    rng = np.random.default_rng(seed)
    t = start or datetime(2024, 6, 30, 6, 30, tzinfo=UTC)
    runs = []
    for i in range(count):
        runs.append(make_run(first_id + i, t, duration_s=duration_s, lazy=lazy))
        t -= timedelta(hours=float(rng.choice([10.5, 24, 24, 26, 47])))
    return runs
