"""What one activity should be, as plain data: the bridge between the plan and the synthesis.

A `SessionSpec` says when (an aware local start time, so its UTC offset is the local one), where
(a `Location`, or none for a treadmill / indoor ride), and what: a list of `Segment`s (a distance
or a duration at a pace, or standing still) whose lap flags become the FIT laps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sources.fit.synthetic.activity import Device


@dataclass(frozen=True)
class Location:
    name: str
    lat_deg: float
    lon_deg: float
    altitude_m: float
    hilliness_m: float  # amplitude of the terrain around it
    timezone: str


@dataclass(frozen=True)
class Segment:
    """A piece of a session. Exactly one of `distance_m` / `duration_s` is set.

    `pace_s_per_km=None` means standing still (a standing recovery). `lap=True` ends a manual lap
    after this segment (interval sessions); runs without manual laps get distance autolaps.
    """

    distance_m: float | None = None
    duration_s: float | None = None
    pace_s_per_km: float | None = 240.0
    intensity: str = "active"
    lap: bool = False


@dataclass(frozen=True)
class SessionSpec:
    start: datetime  # aware, in the local zone of the day
    segments: tuple[Segment, ...]
    kind: str = "easy"  # easy, recovery, long, tempo, intervals, race, treadmill, cycling, ...
    sport: str = "running"
    sub_sport: str = "generic"
    location: Location | None = None  # None: indoor, no GPS
    route: str = "loop"  # loop, out_and_back, oval (all on a 400 m track), track (to the track, reps, back)
    autolap_m: float | None = 1000.0  # distance autolaps when no segment ends a manual lap
    heart_rate: bool = True
    power: bool = True
    pauses: tuple[tuple[float, float], ...] = ()  # (at elapsed s, duration s): timer stopped
    hr_dropouts: tuple[tuple[float, float], ...] = ()  # (at elapsed s, duration s): HR invalid
    hr_offset_bpm: float = 0.0  # the day's form: tired, hot, ill
    temperature_c: float = 15.0
    device: Device = field(default_factory=Device)
    seed: int = 0
    title: str = ""
