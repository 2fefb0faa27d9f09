"""Synthetic training histories on street grids, for the route-privacy attack suite.

Deterministic for a given seed. A city is a rotated grid of streets with irregular block sizes
(80-150 m); the runner's home door is mid-block on one street. Runs from a base leave along the
door's street to one of its two junctions (mostly the nearer one), random-walk on the grid
(straight on preferred) and come back the same way (out-and-back) or along a Manhattan path
ending on the door's street or one of the two cross streets at its junctions (loops), so the
first and last few hundred metres always use the same few streets — as a real runner's do.

Fixes are 1 Hz at 3-4.5 m/s with a slowly varying GPS error (AR(1), tau 30 s, sigma 3 m while
running, 3-5 m while standing): 30-120 s of standing at the door before the start and/or after
the finish. The slow (correlated) error is what a watch shows; independent 3 m noise every
second would add ~ 4 m of fake distance per second standing.

`make_history(seed)` returns a `History`: the fixes frame (`activity_id`, `seq`, `lat_deg`,
`lon_deg`, `timestamp` UTC), the true distances (`activity_id`, `distance_m`: haversine length
of the fixes), the ground truth (bases, which activity starts/ends where) and each city's
`StreetNetwork` (what an attacker gets from OpenStreetMap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import numpy as np
import polars as pl

EARTH_RADIUS_M = 6_371_000.0


# --------------------------------------------------------------------------------------------
# local projection (equirectangular around a reference point; < 0.1 % error within 20 km)


def to_local(lat, lon, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    x = np.radians(lon - lon0) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    y = np.radians(lat - lat0) * EARTH_RADIUS_M
    return x, y


def to_latlon(x, y, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    lat = lat0 + np.degrees(y / EARTH_RADIUS_M)
    lon = lon0 + np.degrees(x / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
    return lat, lon


def haversine_np(lat1, lon1, lat2, lon2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


# --------------------------------------------------------------------------------------------
# street grid


@dataclass(frozen=True)
class StreetNetwork:
    """Streets as a graph: `nodes` (N, 2) lat/lon of junctions, `edges` (E, 2) node indices
    (straight street pieces). What an attacker downloads from OpenStreetMap."""

    nodes: np.ndarray
    edges: np.ndarray


@dataclass
class Grid:
    lat0: float
    lon0: float
    angle: float
    xs: np.ndarray  # street positions along the grid's own x axis (m)
    ys: np.ndarray

    def point(self, gx: float, gy: float) -> np.ndarray:
        """Grid coordinates (m, unrotated) → local metres around (lat0, lon0)."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        return np.array([c * gx - s * gy, s * gx + c * gy])

    def node(self, i: int, j: int) -> np.ndarray:
        return self.point(self.xs[i], self.ys[j])

    def latlon(self, p: np.ndarray) -> tuple[float, float]:
        lat, lon = to_latlon(p[..., 0], p[..., 1], self.lat0, self.lon0)
        return float(lat), float(lon)

    def network(self) -> StreetNetwork:
        nx, ny = len(self.xs), len(self.ys)
        gx, gy = np.meshgrid(self.xs, self.ys, indexing="ij")
        c, s = math.cos(self.angle), math.sin(self.angle)
        px, py = c * gx - s * gy, s * gx + c * gy
        lat, lon = to_latlon(px.ravel(), py.ravel(), self.lat0, self.lon0)
        idx = np.arange(nx * ny).reshape(nx, ny)
        edges = np.concatenate(
            [
                np.stack([idx[:-1, :].ravel(), idx[1:, :].ravel()], axis=1),
                np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], axis=1),
            ]
        )
        return StreetNetwork(nodes=np.stack([lat, lon], axis=1), edges=edges)


def make_grid(rng: np.random.Generator, lat0: float, lon0: float, half_m: float = 6000.0) -> Grid:
    def positions() -> np.ndarray:
        steps = rng.uniform(80.0, 150.0, size=int(2 * half_m / 80) + 2)
        pos = np.concatenate([[0.0], np.cumsum(steps)])
        pos = pos[pos <= 2 * half_m]
        return pos - pos[len(pos) // 2]

    return Grid(lat0, lon0, float(rng.uniform(0.1, 1.4)), positions(), positions())


_DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))  # E, N, W, S in grid index space


@dataclass
class Base:
    """A door mid-block on the street row `j` between columns `i` and `i + 1`."""

    name: str
    grid: Grid
    i: int
    j: int
    frac: float
    side_m: float  # the door is this far off the street's centre line

    @property
    def street_point(self) -> np.ndarray:
        g = self.grid
        gx = g.xs[self.i] + self.frac * (g.xs[self.i + 1] - g.xs[self.i])
        return g.point(gx, g.ys[self.j])

    @property
    def door(self) -> np.ndarray:
        g = self.grid
        gx = g.xs[self.i] + self.frac * (g.xs[self.i + 1] - g.xs[self.i])
        return g.point(gx, g.ys[self.j] + self.side_m)

    @property
    def latlon(self) -> tuple[float, float]:
        return self.grid.latlon(self.door)


def _place_base(rng: np.random.Generator, name: str, grid: Grid, near: tuple[int, int] | None = None) -> Base:
    ci, cj = near if near is not None else (len(grid.xs) // 2, len(grid.ys) // 2)
    return Base(name, grid, int(ci + rng.integers(-2, 3)), int(cj + rng.integers(-2, 3)), float(rng.uniform(0.3, 0.7)), float(rng.choice([-7.0, 7.0])))


def _walk(rng: np.random.Generator, grid: Grid, i: int, j: int, d: int, length_m: float) -> tuple[list[tuple[int, int]], int]:
    """Random walk on junctions from (i, j) heading `d` until `length_m`; straight on preferred."""
    nodes = [(i, j)]
    total = 0.0
    nx, ny = len(grid.xs), len(grid.ys)
    while total < length_m:
        r = rng.random()
        choice = d if r < 0.6 else (d + 1) % 4 if r < 0.8 else (d + 3) % 4
        for cand in (choice, d, (d + 1) % 4, (d + 3) % 4, (d + 2) % 4):
            ni, nj = i + _DIRS[cand][0], j + _DIRS[cand][1]
            if 1 <= ni < nx - 1 and 1 <= nj < ny - 1:
                break
        total += float(np.linalg.norm(grid.node(ni, nj) - grid.node(i, j)))
        i, j, d = ni, nj, cand
        nodes.append((i, j))
    return nodes, d


def _manhattan(rng: np.random.Generator, i: int, j: int, ti: int, tj: int) -> list[tuple[int, int]]:
    out = []
    order = ("x", "y") if rng.random() < 0.5 else ("y", "x")
    for axis in order:
        if axis == "x":
            while i != ti:
                i += 1 if ti > i else -1
                out.append((i, j))
        else:
            while j != tj:
                j += 1 if tj > j else -1
                out.append((i, j))
    return out


def _home_run(rng: np.random.Generator, base: Base, target_m: float) -> np.ndarray:
    """A street path (K, 2) in local metres: door → street → junction → … → junction → door."""
    g = base.grid
    near_first = base.frac < 0.5
    def pick_junction() -> int:  # 0: column i, 1: column i + 1; the nearer one 70 % of the time
        nearer = 0 if near_first else 1
        return nearer if rng.random() < 0.7 else 1 - nearer

    out_j = pick_junction()
    si = base.i + out_j
    start_dir = 2 if out_j == 0 else 0  # keep going away from the door along its street
    if rng.random() < 0.4:
        start_dir = int(rng.choice([1, 3]))  # turn into the cross street at once
    kind = "out_and_back" if rng.random() < 0.4 else "loop"
    first_leg = abs(g.xs[si] - (g.xs[base.i] + base.frac * (g.xs[base.i + 1] - g.xs[base.i])))
    if kind == "out_and_back":
        nodes, _ = _walk(rng, g, si, base.j, start_dir, target_m / 2 - first_leg)
        nodes = nodes + nodes[-2::-1]
        end_j = out_j
    else:
        nodes, _ = _walk(rng, g, si, base.j, start_dir, target_m * 0.55)
        end_j = pick_junction()
        nodes = nodes + _manhattan(rng, *nodes[-1], base.i + end_j, base.j)
    pts = [base.door, base.street_point] + [g.node(a, b) for a, b in nodes] + [base.street_point, base.door]
    return np.array(pts)


def _track_run(rng: np.random.Generator, centre: np.ndarray, laps: int) -> np.ndarray:
    """Laps of a 400 m stadium track (straights 84.39 m, bends r 36.5 m), from the finish line."""
    r, half = 36.5, 84.39 / 2
    t = np.linspace(0.0, 1.0, 41)
    bend_e = np.stack([half + r * np.sin(np.pi * t), -r * np.cos(np.pi * t)], axis=1)
    bend_w = np.stack([-half - r * np.sin(np.pi * t), r * np.cos(np.pi * t)], axis=1)
    lap = np.concatenate([[[0.0, -r]], bend_e, bend_w, [[0.0, -r]]])
    return centre + np.concatenate([lap] * laps)


# --------------------------------------------------------------------------------------------
# fixes


def _ar1(rng: np.random.Generator, n: int, tau_s: float) -> np.ndarray:
    """(n, 2) unit-variance AR(1) noise with correlation time `tau_s` at 1 Hz."""
    rho = math.exp(-1.0 / tau_s)
    e = rng.normal(size=(n, 2)) * math.sqrt(1 - rho * rho)
    out = np.empty((n, 2))
    out[0] = rng.normal(size=2)
    for k in range(1, n):
        out[k] = rho * out[k - 1] + e[k]
    return out


def _fixes_along(rng: np.random.Generator, path: np.ndarray, speed: float, stand_before: int, stand_after: int) -> np.ndarray:
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    # speed varies a little along the run (±8 %, slowly)
    n_run = int(cum[-1] / speed) + 1
    v = speed * (1 + 0.08 * np.sin(np.linspace(0, rng.uniform(3, 12), n_run) + rng.uniform(0, 6)))
    s = np.minimum(np.concatenate([[0.0], np.cumsum(v[:-1])]), cum[-1])
    s[-1] = cum[-1]
    run = np.stack([np.interp(s, cum, path[:, 0]), np.interp(s, cum, path[:, 1])], axis=1)
    pts = np.concatenate([np.repeat(path[:1], stand_before, axis=0), run, np.repeat(path[-1:], stand_after, axis=0)])
    sigma = np.full(len(pts), 3.0)
    sigma[:stand_before] = rng.uniform(3.0, 5.0)
    if stand_after:
        sigma[-stand_after:] = rng.uniform(3.0, 5.0)
    return pts + _ar1(rng, len(pts), 30.0) * sigma[:, None]


# --------------------------------------------------------------------------------------------
# history


@dataclass
class History:
    fixes: pl.DataFrame  # activity_id, seq, lat_deg, lon_deg, timestamp
    distances: pl.DataFrame  # activity_id, distance_m (haversine length of the fixes)
    bases: dict[str, tuple[float, float]]  # home, camp, partner, track → (lat, lon)
    starts: dict[str, str]  # activity_id → base it starts at
    ends: dict[str, str]  # activity_id → base it ends at
    streets: dict[str, StreetNetwork] = field(default_factory=dict)  # home city, camp city

    @property
    def home(self) -> tuple[float, float]:
        return self.bases["home"]

    @property
    def camp(self) -> tuple[float, float]:
        return self.bases["camp"]

    def activities_at(self, base: str) -> list[str]:
        return [a for a in self.starts if self.starts[a] == base or self.ends[a] == base]


HOME_CITY = (48.8566, 2.3522)
CAMP_CITY = (42.5040, 2.0410)  # ~700 km away


@lru_cache(maxsize=4)
def make_history(seed: int = 7, n_home: int = 64, n_camp: int = 8, n_partner: int = 4, n_track: int = 4) -> History:
    rng = np.random.default_rng(seed)
    city = make_grid(rng, *HOME_CITY)
    camp_city = make_grid(rng, *CAMP_CITY)
    home = _place_base(rng, "home", city)
    ci, cj = len(city.xs) // 2, len(city.ys) // 2
    partner = _place_base(rng, "partner", city, near=(ci + 22, cj - 10))  # ~3 km away
    camp = _place_base(rng, "camp", camp_city)
    track_centre = city.node(ci - 25, cj + 20)  # ~4 km away

    plans: list[tuple[str, str, np.ndarray]] = []  # (base, kind, path)
    for name, base, n in (("home", home, n_home), ("camp", camp, n_camp), ("partner", partner, n_partner)):
        for _ in range(n):
            plans.append((name, base.grid, _home_run(rng, base, float(rng.uniform(5000, 20000)))))
    for _ in range(n_track):
        plans.append(("track", city, _track_run(rng, track_centre, int(rng.integers(10, 26)))))
    order = rng.permutation(len(plans))

    frames = []
    starts: dict[str, str] = {}
    ends: dict[str, str] = {}
    day0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for k, idx in enumerate(order):
        name, grid, path = plans[idx]
        aid = f"act-{k:03d}"
        before = int(rng.integers(30, 121)) if rng.random() < 0.8 else 0
        after = int(rng.integers(30, 121)) if (before == 0 or rng.random() < 0.8) else 0
        xy = _fixes_along(rng, path, float(rng.uniform(3.0, 4.5)), before, after)
        lat, lon = to_latlon(xy[:, 0], xy[:, 1], grid.lat0, grid.lon0)
        t0 = day0 + timedelta(days=k, hours=5, minutes=int(rng.integers(0, 240)))
        frames.append(
            pl.DataFrame(
                {
                    "activity_id": aid,
                    "seq": np.arange(len(lat), dtype=np.int64),
                    "lat_deg": lat,
                    "lon_deg": lon,
                    "timestamp": pl.datetime_range(t0, t0 + timedelta(seconds=len(lat) - 1), "1s", eager=True, time_zone="UTC"),
                }
            )
        )
        starts[aid] = ends[aid] = name
    fixes = pl.concat(frames)
    return History(
        fixes=fixes,
        distances=true_distances(fixes),
        bases={
            "home": home.latlon,
            "camp": camp.latlon,
            "partner": partner.latlon,
            "track": city.latlon(track_centre + np.array([0.0, -36.5])),
        },
        starts=starts,
        ends=ends,
        streets={"home": city.network(), "camp": camp_city.network()},
    )


def true_distances(fixes: pl.DataFrame) -> pl.DataFrame:
    """`activity_id`, `distance_m`: the haversine length of each activity's fixes, in seq order."""
    by = "activity_id"
    return (
        fixes.sort(by, "seq")
        .with_columns(
            step=_hav_expr(pl.col("lat_deg"), pl.col("lon_deg"), pl.col("lat_deg").shift(1).over(by), pl.col("lon_deg").shift(1).over(by)).fill_null(0.0)
        )
        .group_by(by, maintain_order=True)
        .agg(distance_m=pl.col("step").sum())
    )


def _hav_expr(lat1: pl.Expr, lon1: pl.Expr, lat2: pl.Expr, lon2: pl.Expr) -> pl.Expr:
    phi1, phi2 = lat1.radians(), lat2.radians()
    a = ((lat2 - lat1).radians() / 2).sin() ** 2 + phi1.cos() * phi2.cos() * ((lon2 - lon1).radians() / 2).sin() ** 2
    return 2 * EARTH_RADIUS_M * a.clip(0.0, 1.0).sqrt().arcsin()


def with_pass_by_runs(history: History, per_base: dict[str, int] | None = None) -> pl.DataFrame:
    """The history's fixes plus runs that go *past* a base mid-run: each is a loop from the base
    started at its half-way fix instead (so it starts and ends somewhere no other run does, runs
    through the base — door-step jitter included — and on). These are the routes that stay on
    the map, so they are what an attacker of a protected place has to work with. Plus home loops
    moved 2-4 km away (`_away`), which start nowhere in particular and stay on the map."""
    per_base = per_base or {"home": 16, "camp": 4}
    extra = []
    for base, n in per_base.items():
        loops = [a for a in sorted(history.starts) if history.starts[a] == base and history.ends[a] == base][:n]
        for activity_id in loops:
            fixes = history.fixes.filter(pl.col("activity_id") == activity_id).sort("seq")
            half = fixes.height // 2
            extra.append(
                pl.concat([fixes[half:], fixes[:half]])
                .with_columns(activity_id=pl.lit(f"{activity_id}_past"), seq=pl.int_range(pl.len()).cast(fixes["seq"].dtype))
            )
    # And runs from elsewhere nearby: home loops moved 2-4 km away, each to a spot of its own
    # (a race, a run from the car); they share the streets around home without starting there.
    loops = [a for a in sorted(history.starts) if history.starts[a] == "home" and history.ends[a] == "home"]
    for i, activity_id in enumerate(loops[-12:]):
        fixes = history.fixes.filter(pl.col("activity_id") == activity_id).sort("seq")
        angle = 2 * math.pi * i / 12
        east, north = (2000 + 150 * i) * math.cos(angle), (2000 + 150 * i) * math.sin(angle)
        lat0 = math.radians(history.bases["home"][0])
        extra.append(fixes.with_columns(
            activity_id=pl.lit(f"{activity_id}_away"),
            lat_deg=pl.col("lat_deg") + math.degrees(north / 6_371_000.0),
            lon_deg=pl.col("lon_deg") + math.degrees(east / (6_371_000.0 * math.cos(lat0))),
        ))
    return pl.concat([history.fixes, *extra])
