"""GPS routes: positions and altitude as a function of distance covered.

Routes are polylines in local metres (east, north) around a `Location`, walked by interpolating
the cumulative distance: a smooth random *loop* through the start, an *out-and-back* (back on the
other side of the road), or a *track* session (a wiggly path to the 400 m oval, laps on it, and
a path back). Every route starts and ends within metres of its location. Altitude is a smooth
random terrain of the location's hilliness (flat on the track).
"""

from __future__ import annotations

import numpy as np

from sources.fit.synthetic.spec import Location

EARTH_RADIUS_M = 6_371_000.0
TRACK_STRAIGHT_M = 84.39
TRACK_RADIUS_M = 36.8  # lane 1 measured 30 cm in: 2·84.39 + 2π·36.8 ≈ 400 m
TRACK_OFFSET_M = (-1100.0, -1500.0)  # the track's start line from home (east, north)


def _length(points: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])


def _resample(points: np.ndarray, length_m: float) -> np.ndarray:
    """Scale a polyline about its first point so its length is `length_m`."""
    current = _length(points)[-1]
    return points[0] + (points - points[0]) * (length_m / current if current > 0 else 0.0)


def loop(length_m: float, rng: np.random.Generator) -> np.ndarray:
    """A closed, smooth, random loop through (0, 0)."""
    theta = np.linspace(0.0, 2 * np.pi, 721)
    radius = np.ones_like(theta)
    for k in (2, 3, 4):
        radius += rng.uniform(0.03, 0.15) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    heading = rng.uniform(0, 2 * np.pi)
    pts = np.column_stack([radius * np.cos(theta + heading), radius * np.sin(theta + heading)])
    pts -= pts[0]
    return _resample(pts, length_m)


def path(a: tuple[float, float], b: tuple[float, float], length_m: float, rng: np.random.Generator) -> np.ndarray:
    """A wiggly path from a to b whose length is at least the straight distance and ~`length_m`."""
    a_, b_ = np.asarray(a, float), np.asarray(b, float)
    direct = float(np.hypot(*(b_ - a_)))
    s = np.linspace(0.0, 1.0, 401)
    along = a_ + np.outer(s, b_ - a_)
    normal = np.array([-(b_ - a_)[1], (b_ - a_)[0]]) / (direct or 1.0)
    waves = rng.integers(1, 4)
    shape = np.sin(np.pi * waves * s)
    lo, hi = 0.0, max(length_m, 1.0)
    for _ in range(40):  # bisection on the detour amplitude
        mid = (lo + hi) / 2
        if _length(along + np.outer(shape * mid, normal))[-1] < length_m:
            lo = mid
        else:
            hi = mid
    return along + np.outer(shape * lo, normal)


def out_and_back(length_m: float, rng: np.random.Generator) -> np.ndarray:
    heading = rng.uniform(0, 2 * np.pi)
    end = (length_m / 2 * 0.8 * np.cos(heading), length_m / 2 * 0.8 * np.sin(heading))
    out = path((0.0, 0.0), end, length_m / 2, rng)
    side = np.array([-np.sin(heading), np.cos(heading)]) * 6.0  # the other side of the road
    return np.vstack([out, out[::-1][1:] + side])


def track_oval(laps: float) -> np.ndarray:
    """`laps` laps of a 400 m oval, starting at the start of the home straight, anticlockwise."""
    s = np.linspace(0.0, 400.0 * laps, max(2, int(40 * laps) * 4 + 1))
    u = np.mod(s, 400.0)
    bend = np.pi * TRACK_RADIUS_M
    x = np.empty_like(u)
    y = np.empty_like(u)
    a = u < TRACK_STRAIGHT_M
    x[a], y[a] = u[a], 0.0
    b = (u >= TRACK_STRAIGHT_M) & (u < TRACK_STRAIGHT_M + bend)
    ang = (u[b] - TRACK_STRAIGHT_M) / TRACK_RADIUS_M
    x[b], y[b] = TRACK_STRAIGHT_M + TRACK_RADIUS_M * np.sin(ang), TRACK_RADIUS_M * (1 - np.cos(ang))
    c = (u >= TRACK_STRAIGHT_M + bend) & (u < 2 * TRACK_STRAIGHT_M + bend)
    x[c], y[c] = TRACK_STRAIGHT_M - (u[c] - TRACK_STRAIGHT_M - bend), 2 * TRACK_RADIUS_M
    d = u >= 2 * TRACK_STRAIGHT_M + bend
    ang = (u[d] - 2 * TRACK_STRAIGHT_M - bend) / TRACK_RADIUS_M
    x[d], y[d] = -TRACK_RADIUS_M * np.sin(ang), TRACK_RADIUS_M * (1 + np.cos(ang))
    return np.column_stack([x, y])


def track_session(warmup_m: float, on_track_m: float, cooldown_m: float, rng: np.random.Generator) -> np.ndarray:
    track = np.asarray(TRACK_OFFSET_M)
    direct = float(np.hypot(*track))
    there = path((0.0, 0.0), tuple(track), max(warmup_m, direct), rng)
    oval = track_oval(max(on_track_m, 1.0) / 400.0) + track
    back = path(tuple(track), (0.0, 0.0), max(cooldown_m, direct), rng)
    return np.vstack([there, oval[1:], back[1:]])


def terrain(points: np.ndarray, hilliness_m: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth random altitude offsets (m) at the points (wavelengths 0.8-6 km)."""
    alt = np.zeros(len(points))
    for _ in range(4):
        wavelength = rng.uniform(800.0, 6000.0)
        direction = rng.uniform(0, 2 * np.pi)
        k = 2 * np.pi / wavelength * np.array([np.cos(direction), np.sin(direction)])
        alt += hilliness_m / 2 * np.sin(points @ k + rng.uniform(0, 2 * np.pi))
    return alt


def walk(points: np.ndarray, distance_m: np.ndarray, location: Location, rng: np.random.Generator, *,
         flat: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat_deg, lon_deg, altitude_m) at each distance along the polyline, with GPS jitter."""
    cum = _length(points)
    d = np.clip(distance_m, 0.0, cum[-1])
    east = np.interp(d, cum, points[:, 0]) + rng.normal(0.0, 0.5, len(d))
    north = np.interp(d, cum, points[:, 1]) + rng.normal(0.0, 0.5, len(d))
    lat0 = np.radians(location.lat_deg)
    lat = location.lat_deg + np.degrees(north / EARTH_RADIUS_M)
    lon = location.lon_deg + np.degrees(east / (EARTH_RADIUS_M * np.cos(lat0)))
    hills = 0.0 if flat else terrain(np.column_stack([east, north]), location.hilliness_m, rng)
    altitude = location.altitude_m + hills  # barometric altitude is smooth: no per-sample noise
    return lat, lon, altitude
