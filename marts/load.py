"""Training load: per-activity Banister TRIMP, its no-HR fallback, and the per-activity frame
the daily and weekly marts aggregate.

TRIMP (Banister 1991), per sample interval:
    dt_min * HRr * 0.64 * exp(k * HRr),  HRr = clip((HR - rest) / (max - rest), 0, 1),
    k = 1.92 (men) / 1.67 (women).
Gap rule: samples sorted by time, duplicate timestamps dropped (first by `seq` kept); each interval
between consecutive samples counts with the HR of the sample at its end; an interval longer than
30 s is a pause and counts 0; an interval whose end sample has no HR (null or <= 0) counts 0.

No HR sample at all (never an error; `trimp_estimated` = true), in this order:
  * `avg_hr`:   the session's average HR over its moving time, Banister's original form;
  * `pace`:     rTSS-style for runs with distance: IF = threshold pace / moving pace, and
                trimp = moving_h * IF^2 * T_thr, where T_thr = 60 * HRr_thr * 0.64 * exp(k HRr_thr)
                is the TRIMP of one hour at threshold HR (so 1 h at threshold pace scores what 1 h
                at threshold HR scores, like rTSS's 100 points per threshold hour). IF is capped
                at 1.5 to contain bad distances;
  * `duration`: anything else (no distance, other sports): IF = 0.7 over the moving time.
Moving time is `moving_s`, else `elapsed_s`, else 0, so the load is never null or NaN.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from lake.marts import ZONE_COLUMNS
from marts.groups import first_per_instant, group_bounds
from marts.zones import zone_index

MAX_INTERVAL_S = 30.0
FALLBACK_IF_CAP = 1.5
DURATION_FALLBACK_IF = 0.7
RUNNING = "running"


def local_date(start_time: str = "start_time", offset: str = "utc_offset_s") -> pl.Expr:
    """The local calendar date of an instant: (UTC time + its UTC offset).date()."""
    naive = pl.col(start_time).dt.replace_time_zone(None)
    return (naive + pl.duration(seconds=pl.col(offset).fill_null(0))).dt.date()


def hrr(hr: pl.Expr) -> pl.Expr:
    """Heart-rate reserve fraction clipped to [0, 1], from joined physiology columns."""
    return ((hr - pl.col("hr_rest_bpm")) / (pl.col("hr_max_bpm") - pl.col("hr_rest_bpm"))).clip(0.0, 1.0)


def hr_intervals(records: pl.LazyFrame, *, ordered: bool = False) -> pl.LazyFrame:
    """One row per sample: `activity_id`, `hr_bpm` (null when <= 0) and `counted_s`, the length
    of the interval ending at that sample when it counts under the gap rule, else 0.

    `ordered`: `records` is already `marts.groups.first_per_instant(time_ordered(...))` (the
    full build sorts each records partition once for every stream pass)."""
    records = records.select("activity_id", "seq", "timestamp", "hr_bpm")
    if not ordered:
        records = first_per_instant(records.filter(pl.col("timestamp").is_not_null()).sort("activity_id", "timestamp", "seq"))
    same_activity = pl.col("activity_id") == pl.col("activity_id").shift()
    return (
        records.with_columns(
            hr_bpm=pl.when(pl.col("hr_bpm") > 0).then(pl.col("hr_bpm").cast(pl.Float64)),
            # rows of an activity are contiguous: a diff across two activities is no interval
            dt_s=pl.when(same_activity).then(pl.col("timestamp").diff()).dt.total_microseconds() / 1e6,
        )
        .with_columns(
            counted_s=pl.when(
                pl.col("dt_s").is_not_null() & (pl.col("dt_s") <= MAX_INTERVAL_S) & pl.col("hr_bpm").is_not_null()
            )
            .then(pl.col("dt_s"))
            .otherwise(0.0)
        )
        .select("activity_id", "timestamp", "hr_bpm", "counted_s")
    )


def hr_load(records: pl.LazyFrame, physiology: pl.LazyFrame, *, ordered: bool = False) -> pl.LazyFrame:
    """Per activity with HR samples: `trimp_hr`, zone times, `hr_samples`.

    `physiology`: `activity_id`, `hr_rest_bpm`, `hr_max_bpm`, `k` (in force on its date).
    `ordered`: as for `hr_intervals`.
    """
    physiology = physiology.select("activity_id", "hr_rest_bpm", "hr_max_bpm", "k")
    iv = hr_intervals(records, ordered=ordered).join(physiology, on="activity_id", maintain_order="left")  # stays in time order
    iv = iv.with_columns(hrr=hrr(pl.col("hr_bpm"))).with_columns(zone=zone_index(pl.col("hrr")))
    return iv.map_batches(_sum_per_activity, schema=HR_LOAD_SCHEMA, streamable=False)


HR_LOAD_SCHEMA = pl.Schema(
    {"activity_id": pl.String, "trimp_hr": pl.Float64, "hr_samples": pl.Int64, **{c: pl.Float64 for c in ZONE_COLUMNS}}
)


def banister_weights(hrr_values: pl.Series, k: pl.Series) -> np.ndarray:
    """HRr * 0.64 * exp(k * HRr) per row (0 where HRr is null), with `math.exp` on the distinct
    (HRr, k) pairs: vectorised exp may differ in the last bit with an element's position in a
    SIMD batch, and a full build must equal an incremental one exactly. HR is integer bpm, so
    there are only a few hundred distinct pairs."""
    pairs = pl.DataFrame({"hrr": hrr_values.cast(pl.Float64), "k": k.cast(pl.Float64)})
    distinct = pairs.unique().drop_nulls()
    weights = [h * 0.64 * math.exp(kk * h) for h, kk in distinct.iter_rows()]
    lookup = distinct.with_columns(w=pl.Series(weights, dtype=pl.Float64))
    joined = pairs.join(lookup, on=["hrr", "k"], how="left", maintain_order="left", nulls_equal=False)
    return joined["w"].fill_null(0.0).to_numpy()


def _sum_per_activity(frame: pl.DataFrame) -> pl.DataFrame:
    """Sequential per-activity sums in time order (numpy reduceat), so an activity's TRIMP is
    bit-identical whichever other activities share the batch (full vs incremental builds)."""
    if frame.height == 0:
        return pl.DataFrame(schema=HR_LOAD_SCHEMA)
    bounds, ids = group_bounds(frame)
    starts = bounds[:-1]
    counted = frame["counted_s"].to_numpy()
    zone = frame["zone"].fill_null(0).to_numpy()
    contribution = (counted / 60.0) * banister_weights(frame["hrr"], frame["k"])
    out = {
        "activity_id": ids,
        "trimp_hr": np.add.reduceat(contribution, starts),
        "hr_samples": np.add.reduceat(frame["hr_bpm"].is_not_null().cast(pl.Int64).to_numpy(), starts),
    }
    for i, name in enumerate(ZONE_COLUMNS):
        out[name] = np.add.reduceat(np.where(zone == i + 1, counted, 0.0), starts)
    return pl.DataFrame(out, schema=HR_LOAD_SCHEMA).filter(pl.col("hr_samples") > 0)


def activity_load(activities: pl.LazyFrame, hr: pl.LazyFrame) -> pl.LazyFrame:
    """`activities` (with physiology columns) plus `trimp`, `trimp_estimated`, `trimp_method`
    and zone times (0 without HR samples)."""
    moving = pl.coalesce(pl.col("moving_s"), pl.col("elapsed_s"), pl.lit(0.0)).clip(0.0)
    has_pace = (pl.col("sport") == RUNNING) & (pl.col("distance_m").fill_null(0) > 0) & (moving > 0)
    has_avg_hr = pl.col("avg_hr_bpm").fill_null(0) > 0
    method = (
        pl.when(pl.col("trimp_hr").is_not_null()).then(pl.lit("hr_samples"))
        .when(has_avg_hr).then(pl.lit("avg_hr"))
        .when(has_pace).then(pl.lit("pace"))
        .otherwise(pl.lit("duration"))
    )
    out = activities.join(hr, on="activity_id", how="left").with_columns(
        trimp_method=method,
        _moving_s=moving,
        _hrr_avg=hrr(pl.col("avg_hr_bpm")),
        _hrr_thr=hrr(pl.col("threshold_hr_bpm")),
    )
    schema = out.collect_schema()
    schema = pl.Schema(dict(schema) | {"trimp": pl.Float64})

    def compute(frame: pl.DataFrame) -> pl.DataFrame:
        # numpy, not polars expressions: polars may pick another kernel for a 1-row batch, and a
        # full build must equal an incremental one to the last bit.
        minutes = frame["_moving_s"].to_numpy() / 60.0
        at_avg = minutes * banister_weights(frame["_hrr_avg"], frame["k"])
        distance_km = frame["distance_m"].fill_null(0.0).to_numpy() / 1000.0
        uses_pace = method_is(frame, "pace")  # moving > 0 and distance > 0 there
        pace = np.divide(frame["_moving_s"].to_numpy(), distance_km, out=np.ones(frame.height), where=uses_pace)
        pace_if = np.clip(frame["threshold_pace_s_per_km"].to_numpy() / pace, 0.0, FALLBACK_IF_CAP)
        intensity = np.where(uses_pace, pace_if, DURATION_FALLBACK_IF)
        at_threshold = (minutes / 60.0) * (intensity * intensity) * (60.0 * banister_weights(frame["_hrr_thr"], frame["k"]))
        method = frame["trimp_method"].to_numpy()
        trimp = np.where(method == "avg_hr", at_avg, at_threshold)
        trimp = np.where(method == "hr_samples", frame["trimp_hr"].fill_null(0.0).to_numpy(), trimp)
        return frame.with_columns(trimp=pl.Series(np.nan_to_num(trimp, nan=0.0, posinf=0.0, neginf=0.0)))

    out = out.map_batches(compute, schema=schema, streamable=False).with_columns(
        trimp_estimated=pl.col("trimp_method") != "hr_samples"
    )
    return out.with_columns(pl.col(c).fill_null(0.0) for c in ZONE_COLUMNS).drop(
        "trimp_hr", "hr_samples", "_moving_s", "_hrr_avg", "_hrr_thr"
    )


def method_is(frame: pl.DataFrame, method: str) -> np.ndarray:
    return (frame["trimp_method"] == method).to_numpy()
