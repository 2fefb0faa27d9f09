"""Session type detection from laps and pace, with the rep structure of interval sessions.

Types, first match wins (thresholds relative to the threshold pace in force that day):
  * other      - not a run;
  * treadmill  - sub-sport treadmill / indoor_running, or a run whose records have no GPS fix;
  * race       - the name says so (race, parkrun, marathon, championship, "XC"), or a run of
                 >= 3 km without rep structure is at race effort as a whole: average HR reserve
                 >= 0.82; without HR, pace <= threshold x 1.00 (>= 3 km), x 1.05 (>= 15 km),
                 x 1.10 (>= 40 km);
  * intervals  - >= 3 fast blocks separated by slower laps. A lap is fast when its speed is
                 >= 1.15 x the median lap speed and >= 0.95 x threshold speed (or, when the watch
                 marks lap intensity, it is `active`/`interval` and rest/recovery laps exist); consecutive
                 fast laps form one rep;
  * tempo      - a contiguous block of laps at tempo effort lasting >= 15 min (the whole run
                 when it has no laps): lap HR reserve >= 0.75, or without HR lap pace <=
                 threshold x 1.08;
  * long       - >= 24 km or >= 105 min moving;
  * easy       - everything else.
Rep structure: "N × D m, avg T s, R s rec" (D: median rep distance rounded to 100 m, or 50 m
under 1 km; T: mean rep time; R: median recovery between reps).
"""

from __future__ import annotations

import re
import statistics

import polars as pl

RACE_NAME = re.compile(r"\b(race|parkrun|marathon|championships?|champs|xc|cross[- ]country)\b", re.I)
INDOOR = {"treadmill", "indoor_running", "virtual_activity"}
#: Whole-run average HR reserve of a race (5 k ~ 0.90, marathon ~ 0.82-0.85 for trained runners).
RACE_MIN_HRR = 0.82
#: Lap HR reserve of tempo / threshold running (top of Z3 and Z4).
TEMPO_MIN_HRR = 0.75
TEMPO_MIN_S = 900.0
#: FIT lap intensities of work laps (rest laps: rest, recovery; also warmup, cooldown).
WORK_INTENSITIES = {"active", "interval"}
SESSION_SCHEMA = pl.Schema({"activity_id": pl.String, "session_type": pl.String, "rep_structure": pl.String, "reps": pl.Int32})


def _nominal(distance_m: float) -> int:
    step = 50 if distance_m < 1000 else 100
    return int(round(distance_m / step) * step)


def rep_blocks(laps: list[dict], threshold_pace_s_per_km: float) -> tuple[list[tuple[float, float]], list[float]]:
    """([(distance_m, elapsed_s) per rep], [recovery elapsed_s between reps]) from ordered laps."""
    laps = [lap for lap in laps if (lap.get("distance_m") or 0) > 0 and (lap.get("elapsed_s") or 0) > 0]
    if len(laps) < 5:
        return [], []
    intensities = {str(lap.get("intensity") or "").lower() for lap in laps}
    if intensities & {"rest", "recovery"}:
        fast = [str(lap.get("intensity") or "").lower() in WORK_INTENSITIES for lap in laps]
    else:
        speeds = [lap["distance_m"] / (lap.get("moving_s") or lap["elapsed_s"]) for lap in laps]
        cut = max(1.15 * statistics.median(speeds), 0.95 * 1000.0 / threshold_pace_s_per_km)
        fast = [s >= cut for s in speeds]
    reps, recs, current, gap = [], [], None, None
    for lap, is_fast in zip(laps, fast):
        if is_fast:
            if current is None:
                current = [0.0, 0.0]
                if gap is not None and reps:
                    recs.append(gap)
            current[0] += lap["distance_m"]
            current[1] += lap["elapsed_s"]
            gap = None
        else:
            if current is not None:
                reps.append(tuple(current))
                current = None
                gap = 0.0
            if gap is not None:
                gap += lap["elapsed_s"]
    if current is not None:
        reps.append(tuple(current))
    return reps, recs


def describe_reps(reps: list[tuple[float, float]], recs: list[float]) -> str:
    nominal = [_nominal(d) for d, _ in reps]
    mean_t = sum(t for _, t in reps) / len(reps)
    size = f"{len(reps)} × {int(statistics.median(nominal))} m" if len(set(nominal)) == 1 else (
        f"{len(reps)} reps ({min(nominal)}-{max(nominal)} m)"
    )
    text = f"{size}, avg {mean_t:.1f} s"
    if recs:
        text += f", {statistics.median(recs):.0f} s rec"
    return text


def _hrr(hr, activity: dict) -> float | None:
    rest, top = activity.get("hr_rest_bpm"), activity.get("hr_max_bpm")
    if not hr or hr <= 0 or rest is None or top is None or top <= rest:
        return None
    return (hr - rest) / (top - rest)


def _is_race_effort(activity: dict, dist: float, pace: float | None, thr: float) -> bool:
    """Race effort over the whole run: by heart rate when known, else by pace vs threshold."""
    if dist < 3000:
        return False
    hrr = _hrr(activity.get("avg_hr_bpm"), activity)
    if hrr is not None:
        return hrr >= RACE_MIN_HRR
    return pace is not None and (
        pace <= thr or (dist >= 15000 and pace <= thr * 1.05) or (dist >= 40000 and pace <= thr * 1.10)
    )


def classify(activity: dict, laps: list[dict]) -> dict:
    """Session type (and reps) of one activity row (see module docstring for the fields)."""
    result = {"activity_id": activity["activity_id"], "session_type": "other", "rep_structure": None, "reps": None}
    if activity.get("sport") != "running":
        return result
    thr = activity["threshold_pace_s_per_km"]
    reps, recs = rep_blocks(laps, thr)
    if len(reps) >= 3:
        result["rep_structure"] = describe_reps(reps, recs)
        result["reps"] = len(reps)
    dist = activity.get("distance_m") or 0.0
    moving = activity.get("moving_s") or activity.get("elapsed_s") or 0.0
    pace = moving / (dist / 1000.0) if dist > 0 and moving > 0 else None
    if (activity.get("sub_sport") or "").lower() in INDOOR or activity.get("has_gps") is False:
        result["session_type"] = "treadmill"
    elif RACE_NAME.search(activity.get("name") or "") or (result["reps"] is None and _is_race_effort(activity, dist, pace, thr)):
        result["session_type"] = "race"
    elif result["reps"]:
        result["session_type"] = "intervals"
    elif _tempo_block_s(activity, laps, thr, pace, moving) >= TEMPO_MIN_S:
        result["session_type"] = "tempo"
    elif dist >= 24000 or moving >= 105 * 60:
        result["session_type"] = "long"
    else:
        result["session_type"] = "easy"
    return result


def _at_tempo(activity: dict, hr, pace: float | None, thr: float) -> bool:
    hrr = _hrr(hr, activity)
    if hrr is not None:
        return hrr >= TEMPO_MIN_HRR
    return pace is not None and pace <= thr * 1.08


def _tempo_block_s(activity: dict, laps: list[dict], thr: float, pace: float | None, moving: float) -> float:
    """Longest run of consecutive laps at tempo effort (the whole run when it has no laps)."""
    if not laps:
        return moving if _at_tempo(activity, activity.get("avg_hr_bpm"), pace, thr) else 0.0
    best = block = 0.0
    for lap in laps:
        d, t = lap.get("distance_m") or 0.0, lap.get("moving_s") or lap.get("elapsed_s") or 0.0
        lap_pace = t / (d / 1000.0) if d > 0 and t > 0 else None
        if lap_pace is not None and _at_tempo(activity, lap.get("avg_hr_bpm"), lap_pace, thr):
            block += t
            best = max(best, block)
        else:
            block = 0.0
    return best


def session_types(activities: pl.LazyFrame, laps: pl.LazyFrame) -> pl.LazyFrame:
    """Per activity: session_type, rep_structure, reps. `activities` needs activity_id, sport,
    sub_sport, name, distance_m, moving_s, elapsed_s, threshold_pace_s_per_km, has_gps."""
    lap_cols = ["activity_id", "lap_index", "distance_m", "elapsed_s", "moving_s", "avg_hr_bpm", "intensity"]
    grouped = laps.select(lap_cols).sort("activity_id", "lap_index").group_by("activity_id").agg(
        pl.struct(lap_cols[1:]).alias("laps")
    )
    joined = activities.join(grouped, on="activity_id", how="left")

    def compute(frame: pl.DataFrame) -> pl.DataFrame:
        rows = [classify(row, row.get("laps") or []) for row in frame.iter_rows(named=True)]
        return pl.DataFrame(rows, schema=SESSION_SCHEMA) if rows else pl.DataFrame(schema=SESSION_SCHEMA)

    return joined.map_batches(compute, schema=SESSION_SCHEMA, streamable=False)
