"""A synthetic public layer (years of an elite runner's training) written straight into
`<lake>/public/*` with numpy/polars: for dashboard tests and the dashboard benchmark.

Per-activity rows are drawn at random (doubles most days, a long run on Sundays, track sessions
on Tuesdays); the daily/weekly aggregates, PBs and predictions are then computed with the same
functions `build_public` uses, so the tables agree with each other exactly as real ones do.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from lake import public as public_tables
from lake.marts import EFFORTS, ZONE_COLUMNS
from lake.storage import Lake
from lake.table import overwrite
from marts import public

ROUTE_POINTS = 250
SAMPLE_POINTS = 240


def _activities(rng: np.random.Generator, first: dt.date, last: dt.date) -> pl.DataFrame:
    rows = []
    day = first
    while day <= last:
        weekday = day.weekday()
        sessions = 0 if (weekday == 4 and rng.random() < 0.5) else (2 if rng.random() < 0.7 else 1)
        for i in range(sessions):
            if i == 0 and weekday == 6:
                kind, km, pace = "long", rng.uniform(26, 36), rng.uniform(225, 245)
            elif i == 0 and weekday == 1:
                kind, km, pace = "intervals", rng.uniform(12, 16), rng.uniform(215, 235)
            elif i == 0 and weekday == 3:
                kind, km, pace = "tempo", rng.uniform(14, 18), rng.uniform(205, 222)
            else:
                kind, km, pace = "easy", rng.uniform(8, 14), rng.uniform(245, 285)
            moving = km * pace
            start = dt.datetime(day.year, day.month, day.day, 6 + 10 * i, tzinfo=dt.timezone.utc)
            rows.append({
                "activity_id": f"{day.isoformat()}-{i}", "date": day, "start_time": start,  # never published
                "sport": "running", "sub_sport": "generic",
                "session_type": kind, "is_running": True,
                "rep_structure": "12 × 400 m, avg 63.1 s, 60 s rec" if kind == "intervals" else None,
                "distance_m": km * 1000, "moving_s": moving, "elapsed_s": moving * 1.03,
                "moving_pace_s_per_km": pace, "gap_s_per_km": pace * rng.uniform(0.97, 1.0),
                "avg_hr_bpm": 120 + (300 - pace) * 0.6 + rng.normal(0, 3), "max_hr_bpm": 175 + rng.normal(0, 4),
                "ascent_m": rng.uniform(20, 250), "trimp": moving / 60 * (1.4 if kind != "easy" else 0.9),
                "trimp_estimated": False, "efficiency_factor": rng.uniform(1.5, 1.9),
                "aerobic_decoupling_pct": rng.normal(3, 2),
                **{c: moving * share for c, share in zip(ZONE_COLUMNS, (0.15, 0.55, 0.15, 0.1, 0.05))},
            })
        day += dt.timedelta(days=1)
    return pl.DataFrame(rows)


def _efforts(rng: np.random.Generator, acts: pl.DataFrame, first: dt.date) -> pl.DataFrame:
    rows = []
    for a in acts.filter(pl.col("session_type") != "easy").iter_rows(named=True):
        years_in = (a["date"] - first).days / 365.25
        fitness = 1.04 - 0.04 * min(years_in, 4) / 4 + rng.normal(0, 0.01)  # improves, then plateaus
        for effort, metres in EFFORTS.items():
            if metres <= a["distance_m"]:
                base = 2 * 60 + 50 if metres < 2000 else 3 * 60 + 5
                rows.append({
                    "activity_id": a["activity_id"], "effort": effort, "distance_m": metres, "date": a["date"],
                    "elapsed_s": metres / 1000 * base * (metres / 1000) ** 0.04 * fitness,
                })
    return pl.DataFrame(rows)


def _tracks(rng: np.random.Generator, ids: list[str], n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    count = len(ids)
    t = np.linspace(0, 2 * np.pi, ROUTE_POINTS)
    centre_lat = 47.0 + rng.uniform(-0.05, 0.05, count)[:, None]
    centre_lon = 8.0 + rng.uniform(-0.05, 0.05, count)[:, None]
    size = rng.uniform(0.01, 0.03, count)[:, None]
    wobble = 1 + 0.15 * np.sin(3 * t + rng.uniform(0, 6, count)[:, None])
    lat = (centre_lat + size * np.sin(t) * wobble * 0.7).ravel()
    lon = (centre_lon + size * np.cos(t) * wobble).ravel()
    routes = pl.DataFrame({
        "public_activity_id": np.repeat(ids, ROUTE_POINTS), "seq": np.tile(np.arange(ROUTE_POINTS), count),
        "segment": np.zeros(count * ROUTE_POINTS, dtype=np.int32), "lat_deg": lat.round(5), "lon_deg": lon.round(5),
    })
    elapsed = np.tile(np.arange(SAMPLE_POINTS) * 10.0 + 60, count)
    speed = 3.8 + 0.4 * np.sin(np.tile(np.arange(SAMPLE_POINTS) / 12.0, count)) + rng.normal(0, 0.1, count * SAMPLE_POINTS)
    samples = pl.DataFrame({
        "public_activity_id": np.repeat(ids, SAMPLE_POINTS), "seq": np.tile(np.arange(SAMPLE_POINTS), count),
        "elapsed_s": elapsed, "distance_m": 200 + elapsed * 3.8, "speed_mps": speed,
        "hr_bpm": 140 + 10 * (speed - 3.8) + np.tile(np.arange(SAMPLE_POINTS) / 20.0, count),
    })
    return routes, samples


def write_public_history(
    lake: Lake, years: float, *, end: dt.date | None = None, seed: int = 7, athlete: str = "me"
) -> dict[str, int]:
    """Write `years` of synthetic public tables of the public athlete `athlete` ending `end`
    (default: today, UTC)."""
    rng = np.random.default_rng(seed)
    end = end or dt.datetime.now(dt.timezone.utc).date()
    first = end - dt.timedelta(days=int(years * 365.25))
    acts = _activities(rng, first, end)
    key = b"bench-public-history"
    id_map = public.public_id_map(acts["activity_id"].to_list(), key).collect()
    efforts = public.replace_ids(_efforts(rng, acts, first).lazy(), id_map.lazy()).collect()
    routes, samples = _tracks(rng, id_map["public_activity_id"].to_list(), id_map.height)
    no_shapes = public_tables.ROUTE_SHAPES_PUBLIC.empty()
    frames = public.public_layer(
        acts.lazy(), id_map.lazy(), efforts, routes.select("public_activity_id").lazy(), no_shapes.lazy(), end
    )
    frames += [(public_tables.ROUTES_PUBLIC, routes), (public_tables.ROUTE_SHAPES_PUBLIC, no_shapes),
               (public_tables.SAMPLES_PUBLIC, samples)]
    for spec, frame in frames:
        overwrite(lake, spec, frame.with_columns(athlete=pl.lit(athlete)))
    return {spec.name: frame.height for spec, frame in frames}

