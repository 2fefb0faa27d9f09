"""Speed, heart rate, cadence and power of an athlete following a session's segments.

The model is simple but has the properties the marts and their tests look for:
* speed approaches each segment's target pace exponentially (accelerations take seconds) with
  a little correlated noise;
* heart rate follows *effort* (speed relative to threshold speed, raised uphill and at altitude)
  through a two-time-constant lag (fast rise, slow tail), drifts upward in long efforts
  (cardiac drift), and carries the day's form offset;
* cadence rises with speed (steps/min); running power ~ mass · speed · (1.04 + 4·grade).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sources.fit.synthetic.spec import Segment


@dataclass(frozen=True)
class Physiology:
    hr_rest_bpm: float = 40.0
    hr_max_bpm: float = 192.0
    threshold_pace_s_per_km: float = 178.0  # ~2:58/km, the ~60-minute race pace
    mass_kg: float = 60.0

    @property
    def threshold_speed_mps(self) -> float:
        return 1000.0 / self.threshold_pace_s_per_km


def _smooth(x: np.ndarray, tau_s: float, initial: float) -> np.ndarray:
    """Causal first-order lag (exponential kernel), starting from `initial`."""
    length = int(5 * tau_s) + 1
    kernel = np.exp(-np.arange(length) / tau_s)
    kernel /= kernel.sum()
    padded = np.concatenate([np.full(length - 1, initial), x])
    return np.convolve(padded, kernel, mode="valid")


def _noise(rng: np.random.Generator, n: int, sigma: float, tau_s: float) -> np.ndarray:
    white = rng.standard_normal(n + int(5 * tau_s))
    smooth = np.convolve(white, np.exp(-np.arange(int(5 * tau_s) + 1) / tau_s), mode="valid")[:n]
    return smooth / (smooth.std() or 1.0) * sigma


def speed_profile(segments: tuple[Segment, ...], rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """1 Hz speeds (m/s) for the segments, and the sample index where each segment ends.

    Sample 0 is the start (speed 0); a distance segment ends at the first sample that covers it.
    """
    speeds = [np.zeros(1)]
    ends: list[int] = []
    v0, count = 0.0, 1
    for seg in segments:
        target = 0.0 if seg.pace_s_per_km is None else 1000.0 / seg.pace_s_per_km
        tau = 3.0 if target > v0 else 5.0
        if seg.distance_m is not None:
            n = int(seg.distance_m / max(target, 0.5) * 1.2 + 5 * tau + 10)
        else:
            n = max(1, int(round(seg.duration_s or 0)))
        t = np.arange(1, n + 1)
        v = target + (v0 - target) * np.exp(-t / tau)
        if target > 0:
            v = v * (1.0 + _noise(rng, n, 0.015, 8.0))
        v = np.clip(v, 0.0, None)
        if seg.distance_m is not None:
            n = min(n, int(np.searchsorted(np.cumsum(v), seg.distance_m)) + 1)
            v = v[:n]
        speeds.append(v)
        count += len(v)
        ends.append(count - 1)
        v0 = float(v[-1])
    return np.concatenate(speeds), ends


def effort(speed: np.ndarray, grade: np.ndarray, phys: Physiology) -> np.ndarray:
    """Running effort relative to threshold (1.0 = threshold), uphill costs more."""
    return speed / phys.threshold_speed_mps * (1.0 + 3.0 * np.clip(grade, -0.08, 0.15))


def heart_rate(effort_ratio: np.ndarray, phys: Physiology, rng: np.random.Generator, *,
               altitude_m: float = 0.0, offset_bpm: float = 0.0) -> np.ndarray:
    """Heart rate (bpm, float) following effort with lag, drift, altitude and noise."""
    frac = np.interp(effort_ratio, [0.0, 0.45, 0.7, 0.85, 1.0, 1.1, 1.25],
                     [0.25, 0.47, 0.6, 0.72, 0.86, 0.93, 1.0])
    reserve = phys.hr_max_bpm - phys.hr_rest_bpm
    minutes = np.arange(len(effort_ratio)) / 60.0
    drift = 0.06 * np.clip(minutes - 15.0, 0.0, None) * np.clip(effort_ratio, 0.0, 1.2)
    altitude = max(0.0, altitude_m - 1000.0) / 100.0 * 0.5
    steady = phys.hr_rest_bpm + reserve * frac + drift + altitude + offset_bpm
    start = phys.hr_rest_bpm + 0.3 * reserve
    lagged = 0.6 * _smooth(steady, 12.0, start) + 0.4 * _smooth(steady, 60.0, start)
    hr = lagged + _noise(rng, len(steady), 1.0, 5.0)
    return np.clip(np.round(hr), phys.hr_rest_bpm, phys.hr_max_bpm + 2)


def running_cadence(speed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Steps per minute: ~180 at 4:00/km, ~198 at 400 m pace; 0 when standing."""
    spm = np.where(speed > 1.5, 150.0 + 7.5 * speed, np.where(speed > 0.4, 110.0, 0.0))
    spm = spm + np.where(spm > 0, _noise(rng, len(speed), 1.5, 4.0), 0.0)
    return np.clip(spm, 0.0, 230.0)


def running_power(speed: np.ndarray, grade: np.ndarray, phys: Physiology, rng: np.random.Generator) -> np.ndarray:
    power = phys.mass_kg * speed * (1.04 + 4.0 * np.clip(grade, -0.1, 0.2))
    return np.round(np.clip(power * (1.0 + _noise(rng, len(speed), 0.03, 3.0)), 0.0, None))


def cycling_power(speed: np.ndarray, grade: np.ndarray, rng: np.random.Generator, mass_kg: float = 68.0) -> np.ndarray:
    """Watts to ride at `speed`: aerodynamic drag + rolling resistance + climbing."""
    power = (0.5 * 1.2 * 0.32 * speed**3 + mass_kg * 9.81 * speed * (0.004 + np.clip(grade, -0.1, 0.2))) / 0.97
    return np.round(np.clip(power * (1.0 + _noise(rng, len(speed), 0.06, 2.0)), 0.0, None))


def cycling_cadence(speed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rpm = np.where(speed > 1.0, 88.0 + _noise(rng, len(speed), 3.0, 10.0), 0.0)
    return np.round(np.clip(rpm, 0.0, 130.0))
