"""Per-activity record-stream metrics: grade-adjusted pace factor, efficiency factor, decoupling.

GAP (Minetti et al. 2002): the energy cost of running on grade i (fraction) is
    Cr(i) = 155.4 i^5 - 30.4 i^4 - 43.3 i^3 + 46.3 i^2 + 19.5 i + 3.6   J kg^-1 m^-1,
with Cr(0) = 3.6. Each moving interval's distance is weighted by Cr(i) / Cr(0); the activity's
flat-equivalent distance over its real distance is `gap_factor`, and GAP = moving pace /
gap_factor. Grade is altitude change over the preceding 50 m of distance (noise on 1 s samples
would otherwise dominate), clipped to Minetti's measured range of +/-45 %. No altitude: factor 1.

Efficiency factor (Friel / TrainingPeaks, for running): mean speed in m/min over mean HR, over
the intervals that count for TRIMP (<= 30 s, HR at the end sample) and move. Aerobic decoupling
(Pa:HR, Friel): split that moving time into halves; (EF1 - EF2) / EF1 x 100 %. Positive = HR
drifted up (or pace down) in the second half; under 5 % is conventionally "coupled".
"""

from __future__ import annotations

import numpy as np
import polars as pl

from marts.groups import first_per_instant, group_bounds
from marts.load import MAX_INTERVAL_S

GRADE_WINDOW_M = 50.0
MAX_GRADE = 0.45

STREAM_SCHEMA = pl.Schema(
    {"activity_id": pl.String, "gap_factor": pl.Float64, "efficiency_factor": pl.Float64, "aerobic_decoupling_pct": pl.Float64}
)


def minetti_cost(grade: np.ndarray) -> np.ndarray:
    """Minetti 2002 energy cost of running, J/kg/m, at grade (fraction)."""
    i = grade
    return 155.4 * i**5 - 30.4 * i**4 - 43.3 * i**3 + 46.3 * i**2 + 19.5 * i + 3.6


def _gap_factor(d: np.ndarray, alt: np.ndarray) -> float | None:
    ok = ~np.isnan(alt) & ~np.isnan(d)
    if ok.sum() < 2:
        return None
    d, alt = d[ok], alt[ok]
    d = np.maximum.accumulate(d)
    step = np.diff(d)
    if step.sum() <= 0:
        return None
    back = np.searchsorted(d, d[1:] - GRADE_WINDOW_M, side="left")
    run = d[1:] - d[back]
    grade = np.where(run > 0, (alt[1:] - alt[back]) / np.where(run > 0, run, 1.0), 0.0)
    grade = np.clip(grade, -MAX_GRADE, MAX_GRADE)
    return float((step * minetti_cost(grade)).sum() / (3.6 * step.sum()))


def _efficiency(t: np.ndarray, d: np.ndarray, hr: np.ndarray) -> tuple[float | None, float | None]:
    dt = np.diff(t)
    dd = np.diff(np.nan_to_num(d, nan=0.0))
    end_hr = hr[1:]
    use = (dt > 0) & (dt <= MAX_INTERVAL_S) & ~np.isnan(end_hr) & (end_hr > 0) & (dd > 0)
    if use.sum() < 2:
        return None, None
    dt, dd, end_hr = dt[use], dd[use], end_hr[use]

    def ef(sel: np.ndarray) -> float | None:
        time = dt[sel].sum()
        if time <= 0:
            return None
        speed_m_min = dd[sel].sum() / time * 60.0
        mean_hr = (end_hr[sel] * dt[sel]).sum() / time
        return speed_m_min / mean_hr

    whole = ef(np.ones(len(dt), bool))
    cum = np.cumsum(dt)
    first = cum <= cum[-1] / 2
    ef1, ef2 = ef(first), ef(~first)
    decoupling = (ef1 - ef2) / ef1 * 100.0 if ef1 and ef2 is not None else None
    return whole, decoupling


def stream_metrics(records: pl.LazyFrame, *, ordered: bool = False) -> pl.LazyFrame:
    """Per activity in `records`: gap_factor, efficiency_factor, aerobic_decoupling_pct.

    `ordered`: `records` is already `marts.groups.first_per_instant(time_ordered(...))`."""
    stream = records.select("activity_id", "seq", "timestamp", "distance_m", "altitude_m", "hr_bpm")
    if not ordered:
        stream = first_per_instant(stream.filter(pl.col("timestamp").is_not_null()).sort("activity_id", "timestamp", "seq"))

    def compute(frame: pl.DataFrame) -> pl.DataFrame:
        if frame.height == 0:
            return pl.DataFrame(schema=STREAM_SCHEMA)
        bounds, ids = group_bounds(frame)
        t_all = frame["timestamp"].dt.epoch("us").to_numpy().astype(np.float64) / 1e6
        d_all = frame["distance_m"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        a_all = frame["altitude_m"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        h_all = frame["hr_bpm"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        out = {c: [] for c in STREAM_SCHEMA}
        for g, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            ef, dec = _efficiency(t_all[lo:hi], d_all[lo:hi], h_all[lo:hi])
            out["activity_id"].append(ids[g])
            out["gap_factor"].append(_gap_factor(d_all[lo:hi], a_all[lo:hi]))
            out["efficiency_factor"].append(ef)
            out["aerobic_decoupling_pct"].append(dec)
        return pl.DataFrame(out, schema=STREAM_SCHEMA)

    return stream.map_batches(compute, schema=STREAM_SCHEMA, streamable=False)
