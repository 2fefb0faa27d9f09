"""Best efforts (rolling, from the records' distance stream), personal bests and race predictions.

Best effort over a target distance D: the shortest clock time between two points of the
activity D metres apart along its `distance_m` stream, where a point may lie inside a sample
interval (time interpolated linearly in distance). The elapsed time of a stretch is piecewise
linear in its start, so its minimum has one end on a sample: we evaluate every sample as a start
(end interpolated) and every sample as an end (start interpolated), with two vectorised
`searchsorted` passes. Clock time includes pauses. While the distance stays constant (standing),
a stretch starts at the last sample of that distance and ends at the first.
Samples without distance are ignored and the stream is made non-decreasing (running maximum).

Hostile values: a distance step implying more than `MAX_RUN_SPEED_MPS` (a GPS teleport, a
foot-pod glitch) is not counted — the stream continues from where it was, so the efforts are
searched without the bad samples rather than dropped. An effort that is still faster than the
world record for its distance (`WORLD_RECORD_S`) after that is dropped (docs/marts.md).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl

from lake.marts import BEST_EFFORTS, EFFORTS, RACE_PREDICTIONS
from marts.groups import group_bounds

RIEGEL_EXPONENT = 1.06
PREDICTION_TARGETS = ("5k", "10k", "half", "marathon")
RECENT_DAYS = 365
#: Bests shorter than this are anaerobic and predict races poorly (Daniels' tables start at 1500 m).
MIN_BASIS_M = 1500.0
#: A distance step faster than this (1:23 per km) is a glitch, not running: the same bound as
#: `sources.fit.clean.MAX_FOOT_SPEED_MPS` (docs/fit.md, "Hostile values"; marts do not import sources).
MAX_RUN_SPEED_MPS = 12.0
#: Men's world records (s), World Athletics (worldathletics.org/records, 2025): 400 m Van
#: Niekerk 43.03, 1000 m Ngeny 2:11.96, mile El Guerrouj 3:43.13, 3000 m Komen 7:20.67, 5000 m
#: Cheptegei 12:35.36, 10,000 m Cheptegei 26:11.00, half marathon Kiplimo 57:31 (2021 road
#: record), marathon Kiptum 2:00:35. An "effort" still faster than these after the implausible
#: distance steps are taken out is a glitch, not a run: it is dropped rather than becoming a PB.
WORLD_RECORD_S = {
    "400m": 43.03, "1k": 131.96, "1mile": 223.13, "3k": 440.67,
    "5k": 755.36, "10k": 1571.0, "half": 3451.0, "marathon": 7235.0,
}


def distinct_distances(t_s: np.ndarray, d_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distances, time of their first sample, time of their last sample): leaving a distance
    happens at its last sample, reaching it at its first. The same for every target distance,
    so an activity computes it once."""
    first = np.r_[True, d_m[1:] != d_m[:-1]]
    last = np.r_[d_m[1:] != d_m[:-1], True]
    return d_m[first], t_s[first], t_s[last]


def fastest_stretch(
    t_s: np.ndarray, d_m: np.ndarray, target_m: float,
    distinct: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[float, float] | None:
    """(elapsed_s, start_s) of the fastest stretch of `target_m`, or None when not covered.

    `t_s` ascending seconds, `d_m` non-decreasing metres, same length; `distinct`: their
    `distinct_distances` when the caller already has them.
    """
    if len(d_m) < 2 or d_m[-1] - d_m[0] < target_m:
        return None
    du, t_first, t_last = distinct if distinct is not None else distinct_distances(t_s, d_m)

    def time_at(x: np.ndarray, exact_side: np.ndarray) -> np.ndarray:
        # searchsorted is at most len(du), so only the lower bound of a clip can bind
        k = du.searchsorted(x, side="right")
        k -= 1
        np.maximum(k, 0, out=k)
        k1 = np.minimum(k + 1, len(du) - 1)
        du_k, t_k = du[k], t_last[k]  # each gathered once
        span = du[k1] - du_k
        moving = span > 0
        frac = np.divide(x - du_k, span, out=np.zeros_like(span), where=moving)
        inside = t_k + frac * (t_first[k1] - t_k)
        exact = x == du_k
        inside[exact] = exact_side[k[exact]]
        return inside

    eps = 1e-9
    starts = du[du + target_m <= du[-1] + eps]
    end_t = time_at(np.minimum(starts + target_m, du[-1]), t_first)
    a_el = end_t - t_last[: len(starts)]
    ends_mask = du - target_m >= du[0] - eps
    ends = du[ends_mask]
    start_t = time_at(np.maximum(ends - target_m, du[0]), t_last)
    b_el = t_first[ends_mask] - start_t
    best_a = int(np.argmin(a_el)) if len(a_el) else None
    best_b = int(np.argmin(b_el)) if len(b_el) else None
    candidates = []
    if best_a is not None:
        candidates.append((float(a_el[best_a]), float(t_last[best_a])))
    if best_b is not None:
        candidates.append((float(b_el[best_b]), float(start_t[best_b])))
    return min(candidates) if candidates else None


def plausible_distance(t_s: np.ndarray, d_m: np.ndarray) -> np.ndarray:
    """The non-decreasing distance stream without the steps faster than `MAX_RUN_SPEED_MPS`.

    `t_s` ascending seconds; a step's time counts at least 1 s (repeated timestamps). A normal
    stream comes back unchanged (its running maximum).
    """
    d = np.maximum.accumulate(d_m)
    if len(d) < 2:
        return d
    step = np.diff(d)
    bad = step > MAX_RUN_SPEED_MPS * np.maximum(np.diff(t_s), 1.0)
    if not bad.any():
        return d
    return d[0] + np.r_[0.0, np.cumsum(np.where(bad, 0.0, step))]


def best_efforts(records: pl.LazyFrame, runs: pl.LazyFrame, *, ordered: bool = False) -> pl.LazyFrame:
    """`best_efforts` rows for the running activities in `runs` (activity_id, athlete_id,
    start_time, date) from their `records` (activity_id, seq, timestamp, distance_m).

    `ordered`: `records` is already `marts.groups.time_ordered` (sorted once per partition)."""
    stream = (
        records.select("activity_id", "seq", "timestamp", "distance_m")
        .join(runs.select("activity_id", "athlete_id", "start_time", "date"), on="activity_id", maintain_order="left")
        .filter(pl.col("timestamp").is_not_null() & pl.col("distance_m").is_not_null())
    )
    if not ordered:
        stream = stream.sort("activity_id", "timestamp", "seq")

    def compute(frame: pl.DataFrame) -> pl.DataFrame:
        rows: dict[str, list] = {c: [] for c in BEST_EFFORTS.schema}
        if frame.height == 0:
            return BEST_EFFORTS.empty()
        bounds, ids = group_bounds(frame)
        t_all = frame["timestamp"].dt.epoch("us").to_numpy().astype(np.float64) / 1e6
        start_all = frame["start_time"].dt.epoch("us").to_numpy().astype(np.float64) / 1e6
        d_all = frame["distance_m"].to_numpy().astype(np.float64)
        athletes = frame["athlete_id"]
        dates = frame["date"]
        for g, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            t = t_all[lo:hi]
            d = plausible_distance(t, d_all[lo:hi])
            t0 = start_all[lo] if not math.isnan(start_all[lo]) else t[0]
            distinct = distinct_distances(t, d) if len(d) >= 2 else None
            for effort, target in EFFORTS.items():
                found = fastest_stretch(t, d, target, distinct)
                if found is None or found[0] < WORLD_RECORD_S[effort]:
                    continue
                elapsed, start = found
                rows["athlete_id"].append(athletes[int(lo)])
                rows["activity_id"].append(ids[g])
                rows["effort"].append(effort)
                rows["distance_m"].append(target)
                rows["elapsed_s"].append(elapsed)
                rows["start_offset_s"].append(start - t0)
                rows["date"].append(dates[int(lo)])
        return pl.DataFrame(rows, schema=BEST_EFFORTS.schema)

    return stream.map_batches(compute, schema=BEST_EFFORTS.schema, streamable=False)


def personal_bests(efforts: pl.LazyFrame) -> pl.LazyFrame:
    """All-time and per-local-year bests per effort (ties: the earliest activity)."""
    ranked = efforts.sort("elapsed_s", "date", "activity_id")
    all_time = ranked.group_by("athlete_id", "effort").first().with_columns(
        period=pl.lit("all"), year=pl.lit(None, dtype=pl.Int32)
    )
    yearly = (
        ranked.with_columns(year=pl.col("date").dt.year().cast(pl.Int32))
        .group_by("athlete_id", "effort", "year")
        .first()
        .with_columns(period=pl.col("year").cast(pl.String))
    )
    cols = ["athlete_id", "effort", "distance_m", "period", "year", "elapsed_s", "activity_id", "date"]
    return (
        pl.concat([all_time.select(cols), yearly.select(cols)])
        .with_columns(pace_s_per_km=pl.col("elapsed_s") / (pl.col("distance_m") / 1000.0))
        .sort("effort", "period")
    )


def vdot(distance_m: float, elapsed_s: float) -> float:
    """Daniels & Gilbert (1979) VDOT of a performance: VO2 cost / fraction of VO2max sustainable."""
    t = elapsed_s / 60.0
    v = distance_m / t
    vo2 = -4.60 + 0.182258 * v + 0.000104 * v * v
    fraction = 0.8 + 0.1894393 * math.exp(-0.012778 * t) + 0.2989558 * math.exp(-0.1932605 * t)
    return vo2 / fraction


def vdot_time(distance_m: float, value: float) -> float:
    """The time (s) over `distance_m` whose VDOT is `value` (bisection; VDOT falls as time grows)."""
    lo, hi = distance_m / 12.0, distance_m * 2.0  # 12 m/s .. 0.5 m/s
    for _ in range(200):
        mid = (lo + hi) / 2
        if vdot(distance_m, mid) > value:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def race_predictions(efforts: pl.LazyFrame, today: dt.date) -> pl.LazyFrame:
    """Riegel and VDOT predictions from the best efforts of the `RECENT_DAYS` before `today`.

    Basis: the recent best (>= 1500 m) with the highest VDOT, i.e. the athlete's best recent
    performance. Riegel (1981): T2 = T1 * (D2 / D1) ** 1.06. VDOT: the time at which the target
    distance has the basis VDOT (Daniels' Running Formula tables).
    """
    since = today - dt.timedelta(days=RECENT_DAYS)

    def compute(frame: pl.DataFrame) -> pl.DataFrame:
        out = []
        recent = frame.filter(
            (pl.col("date") > since) & (pl.col("date") <= today) & (pl.col("distance_m") >= MIN_BASIS_M)
        )
        for (athlete,), group in recent.group_by("athlete_id"):
            scored = group.with_columns(
                vdot=pl.struct("distance_m", "elapsed_s").map_elements(
                    lambda r: vdot(r["distance_m"], r["elapsed_s"]), return_dtype=pl.Float64
                )
            ).sort(["vdot", "date"], descending=[True, False])
            basis = scored.row(0, named=True)
            for target in PREDICTION_TARGETS:
                dist = EFFORTS[target]
                riegel = basis["elapsed_s"] * (dist / basis["distance_m"]) ** RIEGEL_EXPONENT
                for method, predicted in (("riegel", riegel), ("vdot", vdot_time(dist, basis["vdot"]))):
                    out.append({
                        "athlete_id": athlete, "target": target, "distance_m": dist, "method": method,
                        "predicted_s": predicted, "vdot": basis["vdot"], "basis_effort": basis["effort"],
                        "basis_elapsed_s": basis["elapsed_s"], "basis_activity_id": basis["activity_id"],
                        "basis_date": basis["date"], "as_of": today,
                    })
        return pl.DataFrame(out, schema=RACE_PREDICTIONS.schema) if out else RACE_PREDICTIONS.empty()

    return efforts.map_batches(compute, schema=RACE_PREDICTIONS.schema, streamable=False)
