"""`SessionSpec` -> `Activity`: speeds, route, physiology and laps, deterministic in the spec's seed."""

from __future__ import annotations

from datetime import timezone

import numpy as np

from sources.fit.synthetic import physiology, route
from sources.fit.synthetic.activity import Activity, Lap, Samples
from sources.fit.synthetic.physiology import Physiology
from sources.fit.synthetic.spec import SessionSpec



def _laps(spec: SessionSpec, ends: list[int], distance_m: np.ndarray) -> list[Lap]:
    """Manual laps where segments say so, else distance autolaps (plus the remainder lap)."""
    last = len(distance_m) - 1
    if any(seg.lap for seg in spec.segments):
        laps, start = [], 0
        for seg, end in zip(spec.segments, ends):
            if (seg.lap or end == last) and end > start:
                laps.append(Lap(start, end, seg.intensity, "manual" if end != last else "session_end"))
                start = end
        return laps
    if spec.autolap_m:
        marks = np.arange(spec.autolap_m, distance_m[-1], spec.autolap_m)
        cuts = [int(i) for i in np.searchsorted(distance_m, marks) if 0 < i < last]
        cuts = sorted(set(cuts))
        bounds = [0, *cuts, last]
        return [Lap(a, b, "active", "distance" if b != last else "session_end")
                for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    return [Lap(0, last, "active", "session_end")]


def _elapsed_with_pauses(n: int, pauses: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Elapsed seconds of n samples when the timer stops for each (at, duration) pause."""
    elapsed = np.arange(n, dtype=np.int64)
    for at, duration in sorted(pauses):
        idx = int(at)
        if 0 < idx < n - 1:
            elapsed[idx + 1 :] += int(duration)
    return elapsed


def _grade(altitude: np.ndarray | None, distance: np.ndarray) -> np.ndarray:
    if altitude is None:
        return np.zeros_like(distance)
    step = np.maximum(np.diff(distance, prepend=distance[0]), 0.5)
    rise = np.diff(altitude, prepend=altitude[0])
    kernel = np.ones(15) / 15
    return np.clip(np.convolve(rise / step, kernel, mode="same"), -0.2, 0.2)


def build_activity(spec: SessionSpec, phys: Physiology | None = None) -> Activity:
    """Synthesise the samples and laps of one session."""
    phys = phys or Physiology()
    rng = np.random.default_rng(spec.seed)
    speed, ends = physiology.speed_profile(spec.segments, rng)
    distance = np.concatenate([[0.0], np.cumsum(speed[1:])])
    lat = lon = altitude = None
    loc = spec.location
    if loc is not None:
        total = float(distance[-1])
        if spec.route == "track":
            warm = [e for s, e in zip(spec.segments, ends) if s.intensity == "warmup"]
            warm_idx = warm[-1] if warm else 0
            cool = [i for i, s in enumerate(spec.segments) if s.intensity == "cooldown"]
            cool_idx = ends[cool[0] - 1] if cool and cool[0] > 0 else len(distance) - 1
            points = route.track_session(distance[warm_idx], distance[cool_idx] - distance[warm_idx],
                                         total - distance[cool_idx], rng)
        elif spec.route == "oval":
            points = route.track_oval(max(total, 10.0) / 400.0)
        elif spec.route == "out_and_back":
            points = route.out_and_back(max(total, 10.0), rng)
        else:
            points = route.loop(max(total, 10.0), rng)
        lat, lon, altitude = route.walk(points, distance, loc, rng)
    grade = _grade(altitude, distance)
    samples = Samples(elapsed_s=_elapsed_with_pauses(len(speed), spec.pauses), distance_m=distance,
                      speed_mps=speed, altitude_m=altitude, lat_deg=lat, lon_deg=lon)
    base_alt = loc.altitude_m if loc is not None else 0.0
    if spec.sport == "running":
        eff = physiology.effort(speed, grade, phys)
        samples.cadence_spm = physiology.running_cadence(speed, rng)
        if spec.power:
            samples.power_w = physiology.running_power(speed, grade, phys, rng)
    else:
        power = physiology.cycling_power(speed, grade, rng)
        eff = power / 300.0 * 0.95
        samples.cadence_spm = physiology.cycling_cadence(speed, rng)
        samples.power_w = power if spec.power else None
    if spec.heart_rate:
        hr = physiology.heart_rate(eff, phys, rng, altitude_m=base_alt, offset_bpm=spec.hr_offset_bpm)
        for at, duration in spec.hr_dropouts:
            hr[int(at) : int(at + duration)] = np.nan
        samples.hr_bpm = hr
    warming = 1.0 - np.exp(-np.arange(len(speed)) / 600.0)
    samples.temperature_c = np.round(spec.temperature_c + (4.0 if spec.location is not None else 2.0) * warming)
    start_utc = spec.start.astimezone(timezone.utc)
    offset = spec.start.utcoffset()
    if offset is None:
        raise ValueError("SessionSpec.start must be timezone-aware")
    return Activity(start_utc=start_utc, utc_offset_s=int(offset.total_seconds()), sport=spec.sport,
                    sub_sport=spec.sub_sport, samples=samples, laps=_laps(spec, ends, distance),
                    device=spec.device, kind=spec.kind, mass_kg=phys.mass_kg)
