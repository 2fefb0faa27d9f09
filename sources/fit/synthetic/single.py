"""One-file helpers for tests elsewhere: an easy run, intervals with laps, a treadmill run, a run
in any time zone or across midnight, a run without HR — each as FIT bytes or a written file — and
a run with hostile values injected (`tampered_run_bytes`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sources.fit.synthetic.activity import Samples
from sources.fit.synthetic.build import build_activity
from sources.fit.synthetic.calendar import HOME
from sources.fit.synthetic.fitfile import encode_activity
from sources.fit.synthetic.spec import Location, Segment, SessionSpec


def activity_bytes(spec: SessionSpec) -> bytes:
    """The FIT file of one `SessionSpec`."""
    return encode_activity(build_activity(spec))


def run_spec(start: datetime, distance_m: float = 5000.0, pace_s_per_km: float = 240.0, *,
             segments: tuple[Segment, ...] | None = None, gps: bool = True, heart_rate: bool = True,
             power: bool = True, location: Location | None = None, sub_sport: str | None = None,
             pauses: tuple[tuple[float, float], ...] = (), kind: str | None = None, seed: int = 0) -> SessionSpec:
    """A run starting at the aware local `start` (its zone gives the file's UTC offset).

    `segments` (e.g. `workouts.interval_segments()`) replace the steady `distance_m` at `pace_s_per_km`;
    `gps=False` makes a treadmill run (no positions); `pauses` are (at elapsed s, duration s).
    """
    if start.utcoffset() is None:
        raise ValueError("start must be timezone-aware (it sets the activity's UTC offset)")
    manual_laps = segments is not None and any(s.lap for s in segments)
    if sub_sport is None:
        sub_sport = "treadmill" if not gps else ("track" if manual_laps else "generic")
    return SessionSpec(
        start=start, segments=segments or (Segment(distance_m=distance_m, pace_s_per_km=pace_s_per_km),),
        kind=kind or ("intervals" if manual_laps else "treadmill" if not gps else "easy"), sub_sport=sub_sport,
        location=(location or HOME) if gps else None, route="track" if manual_laps and gps else "loop",
        heart_rate=heart_rate, power=power, pauses=pauses, seed=seed,
    )


def run_bytes(start: datetime, distance_m: float = 5000.0, pace_s_per_km: float = 240.0, **kwargs) -> bytes:
    """FIT bytes of `run_spec(...)`."""
    return activity_bytes(run_spec(start, distance_m, pace_s_per_km, **kwargs))


def write_run(path: Path, start: datetime, distance_m: float = 5000.0, pace_s_per_km: float = 240.0,
              **kwargs) -> Path:
    """Write `run_spec(...)` as a FIT file at `path` (parents created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(run_bytes(start, distance_m, pace_s_per_km, **kwargs))
    return path


def tampered_run_bytes(start: datetime, tamper: Callable[[Samples], None], distance_m: float = 5000.0,
                       pace_s_per_km: float = 240.0, **kwargs) -> bytes:
    """FIT bytes of `run_spec(...)` after `tamper` edited its 1 Hz samples in place.

    For tests of hostile values: `tamper` may set HR to 0, a speed to 30 m/s, move a GPS fix to
    another continent, or set `elapsed_s` back (a watch clock jumping backwards). The lap and
    session summaries are computed from the tampered samples, as a watch would.
    """
    activity = build_activity(run_spec(start, distance_m, pace_s_per_km, **kwargs))
    tamper(activity.samples)
    return encode_activity(activity)


def ride_spec(start: datetime, duration_s: float = 3600.0, speed_mps: float = 9.0, *, gps: bool = True,
              seed: int = 0) -> SessionSpec:
    """A steady bike ride (sport cycling), for cross-training tests."""
    return SessionSpec(start=start, segments=(Segment(duration_s=duration_s, pace_s_per_km=1000.0 / speed_mps),),
                       kind="cycling", sport="cycling", sub_sport="road" if gps else "indoor_cycling",
                       location=HOME if gps else None, seed=seed)


__all__ = ["activity_bytes", "ride_spec", "run_bytes", "run_spec", "tampered_run_bytes", "write_run"]
