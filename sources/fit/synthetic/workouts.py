"""Session recipes as segments: easy runs, track intervals, tempo runs, fartlek, races, rides.

Paces are seconds per km at peak fitness, multiplied by a `form` factor (>1 = slower, e.g. in
base training); an elite marathoner: 2:08 marathon (3:02/km), 13:30 5,000 m.
"""

from __future__ import annotations

import numpy as np

from sources.fit.synthetic.spec import Segment

PACE_S_PER_KM = {
    "400": 152.0, "800": 156.0, "1000": 160.0, "1600": 162.0, "2000": 166.0, "threshold": 176.0,
    "marathon": 182.0, "long": 218.0, "easy": 238.0, "recovery": 268.0, "jog": 330.0,
    "5k": 162.0, "10k": 168.0, "half": 173.5,
}

#: Track sessions: (name, reps, rep distance m, recovery s, standing recovery?)
TRACK_SESSIONS = (
    ("10x400m", 10, 400.0, 90.0, False),
    ("12x400m", 12, 400.0, 60.0, True),
    ("8x800m", 8, 800.0, 90.0, False),
    ("6x1000m", 6, 1000.0, 120.0, False),
    ("5x2000m", 5, 2000.0, 120.0, False),
    ("4x1600m", 4, 1600.0, 120.0, True),
)


def easy(distance_m: float, pace: float) -> tuple[Segment, ...]:
    return (Segment(distance_m=distance_m, pace_s_per_km=pace),)


def interval_segments(reps: int = 10, rep_m: float = 400.0, rep_pace_s_per_km: float = 152.0,
                      rest_s: float = 90.0, *, standing_rest: bool = False, warmup_m: float = 2000.0,
                      cooldown_m: float = 2000.0, easy_pace_s_per_km: float = 240.0) -> tuple[Segment, ...]:
    """Warm-up lap, `reps` active laps with rest laps (jogged or standing) between, cool-down lap."""
    segs = [Segment(distance_m=warmup_m, pace_s_per_km=easy_pace_s_per_km, intensity="warmup", lap=True)]
    for i in range(reps):
        segs.append(Segment(distance_m=rep_m, pace_s_per_km=rep_pace_s_per_km, intensity="active", lap=True))
        if i < reps - 1:
            segs.append(Segment(duration_s=rest_s, pace_s_per_km=None if standing_rest else PACE_S_PER_KM["jog"],
                                intensity="rest", lap=True))
    segs.append(Segment(distance_m=cooldown_m, pace_s_per_km=easy_pace_s_per_km * 1.05, intensity="cooldown",
                        lap=True))
    return tuple(segs)


def track(name: str, form: float, warmup_m: float = 3000.0, cooldown_m: float = 3000.0) -> tuple[Segment, ...]:
    """One of `TRACK_SESSIONS` at the day's form."""
    _, reps, rep_m, rec_s, standing = next(s for s in TRACK_SESSIONS if s[0] == name)
    return interval_segments(reps, rep_m, PACE_S_PER_KM[str(int(rep_m))] * form, rec_s, standing_rest=standing,
                             warmup_m=warmup_m, cooldown_m=cooldown_m,
                             easy_pace_s_per_km=PACE_S_PER_KM["easy"] * form)


def tempo(tempo_m: float, form: float, rng: np.random.Generator) -> tuple[Segment, ...]:
    pace = rng.uniform(PACE_S_PER_KM["threshold"], PACE_S_PER_KM["marathon"]) * form
    return (
        Segment(distance_m=3000.0, pace_s_per_km=PACE_S_PER_KM["easy"] * form, intensity="warmup", lap=True),
        Segment(distance_m=tempo_m, pace_s_per_km=pace, intensity="active", lap=True),
        Segment(distance_m=2000.0, pace_s_per_km=PACE_S_PER_KM["easy"] * form * 1.05, intensity="cooldown", lap=True),
    )


def fartlek(reps: int, form: float) -> tuple[Segment, ...]:
    """Time-based surges without lap presses (distance autolaps split them)."""
    segs = [Segment(duration_s=1200.0, pace_s_per_km=PACE_S_PER_KM["easy"] * form)]
    for _ in range(reps):
        segs.append(Segment(duration_s=60.0, pace_s_per_km=PACE_S_PER_KM["5k"] * form))
        segs.append(Segment(duration_s=60.0, pace_s_per_km=PACE_S_PER_KM["easy"] * form))
    segs.append(Segment(duration_s=900.0, pace_s_per_km=PACE_S_PER_KM["easy"] * form))
    return tuple(segs)


def race(distance: str, distance_m: float, form: float, rng: np.random.Generator) -> tuple[Segment, ...]:
    """Even pace with a slightly faster finish (the last 10%)."""
    pace = PACE_S_PER_KM[distance] * form * rng.uniform(0.99, 1.02)
    return (Segment(distance_m=distance_m * 0.9, pace_s_per_km=pace),
            Segment(distance_m=distance_m * 0.1, pace_s_per_km=pace * 0.975))


def ride(duration_s: float, speed_mps: float) -> tuple[Segment, ...]:
    """A steady ride; pace is used as the speed target (s per km)."""
    return (Segment(duration_s=duration_s, pace_s_per_km=1000.0 / speed_mps),)
