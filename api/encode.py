"""Pure transforms: one athlete's public or private tables → the pre-encoded rows the API serves.

Every function takes polars frames of one athlete (already filtered) and returns bytes or
`Series`; no I/O. Public and private answers have the same shapes: the same fields under the same
names (`id` of an activity is its `public_activity_id` publicly, its `activity_id` privately),
the private ones adding what only the athlete may see (start time, UTC offset, source, …).
docs/api.md lists every field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from api.pages import EMPTY, Series
from lake.marts import EFFORTS, ZONE_COLUMNS

#: Week context of a day: its Monday-to-Sunday week's totals (`weekly_summary`, no zones).
WEEK_CONTEXT = ("week_start", "distance_m", "duration_s", "runs", "activities", "longest_run_m", "trimp",
                "monotony", "strain")
DAY_FIELDS = ("date", "distance_m", "duration_s", "runs", "activities", "trimp", "trimp_estimated", "ctl", "atl",
              "tsb", "acwr", "acwr_uncoupled", *ZONE_COLUMNS)
FITNESS_FIELDS = ("date", "ctl", "atl", "tsb", "acwr", "acwr_uncoupled")
WEEK_FIELDS = ("week_start", "distance_m", "duration_s", "runs", "activities", "longest_run_m", "trimp",
               "trimp_estimated", "monotony", "strain", *ZONE_COLUMNS)
#: Fields of an activity, public and private alike (in this order).
ACTIVITY_FIELDS = ("id", "date", "sport", "sub_sport", "session_type", "rep_structure", "distance_m", "duration_s",
                   "elapsed_s", "pace_s_per_km", "gap_s_per_km", "avg_hr_bpm", "max_hr_bpm", "ascent_m", "trimp",
                   "trimp_estimated", *ZONE_COLUMNS, "efficiency_factor", "aerobic_decoupling_pct")
PUBLIC_ACTIVITY_EXTRA = ("has_route", "has_route_shape")
PRIVATE_ACTIVITY_EXTRA = ("start_time", "utc_offset_s", "source", "is_private", "is_running", "trimp_method", "reps",
                          "corrected_fields")
BEST_FIELDS = ("effort", "distance_m", "period", "year", "elapsed_s", "pace_s_per_km", "activity", "date")
PREDICTION_FIELDS = ("target", "distance_m", "method", "predicted_s", "vdot", "basis_effort", "basis_elapsed_s",
                     "basis_activity", "basis_date", "as_of")
EFFORT_FIELDS = ("effort", "distance_m", "elapsed_s")
GEAR_FIELDS = ("id", "name", "brand", "model", "source", "distance_m", "distance_km", "activities", "runs", "first_used",
               "last_used", "retire_km", "over_threshold", "remaining_km", "retired", "retired_at", "is_default")
_EFFORT_ORDER = {name: i for i, name in enumerate(EFFORTS)}


@dataclass(frozen=True)
class AthleteData:
    """What the API serves of one athlete (public or private), encoded once per snapshot."""

    days: Series = EMPTY
    day: dict[str, bytes] = field(default_factory=dict)  # date → the day's JSON
    fitness: Series = EMPTY  # date → `"date":…,"ctl":…` (an object's fields without braces)
    weeks: Series = EMPTY
    activities: Series = EMPTY
    activity: dict[str, bytes] = field(default_factory=dict)  # id → the activity's JSON with best efforts
    records_year: dict[str, int] = field(default_factory=dict)  # private: id → its `records` partition year
    best_efforts: Series = EMPTY
    predictions: Series = EMPTY
    gear: Series = EMPTY  # private: marts/gear_distance, by id


def rows_json(frame: pl.DataFrame) -> list[bytes]:
    """Each row as a JSON object (dates `YYYY-MM-DD`, times ISO 8601 UTC, NaN as null)."""
    if frame.is_empty():
        return []
    return [line.encode() for line in frame.write_ndjson().splitlines()]


def _strings(frame: pl.DataFrame, column: str) -> list[str]:
    return frame.get_column(column).cast(pl.String).fill_null("").to_list()


def days(daily: pl.DataFrame, weekly: pl.DataFrame) -> tuple[Series, dict[str, bytes], Series]:
    """The day rows with their week's context; the fitness fragments of each day."""
    context = weekly.select(pl.col("week_start").alias("_week"), pl.struct(WEEK_CONTEXT).alias("week"))
    frame = (
        daily.with_columns(pl.col("date").dt.truncate("1w").alias("_week"))
        .join(context, on="_week", how="left")
        .select(*DAY_FIELDS, "week")
        .sort("date")
    )
    keys = _strings(frame, "date")
    encoded = rows_json(frame)
    fitness = [line[1:-1] for line in rows_json(frame.select(FITNESS_FIELDS))]
    return Series(tuple(keys), tuple(encoded)), dict(zip(keys, encoded)), Series(tuple(keys), tuple(fitness))


def weeks(weekly: pl.DataFrame) -> Series:
    frame = weekly.select(WEEK_FIELDS).sort("week_start")
    return Series(tuple(_strings(frame, "week_start")), tuple(rows_json(frame)))


def public_activities(activities: pl.DataFrame) -> pl.DataFrame:
    """`public/activities` rows in the API's activity shape."""
    return activities.rename({"public_activity_id": "id"}).select(*ACTIVITY_FIELDS, *PUBLIC_ACTIVITY_EXTRA)


def private_activities(summary: pl.DataFrame) -> pl.DataFrame:
    """`marts/activity_summary` rows in the API's activity shape (with the private fields)."""
    return summary.rename(
        {"activity_id": "id", "moving_s": "duration_s", "moving_pace_s_per_km": "pace_s_per_km"}
    ).select(*ACTIVITY_FIELDS, *PRIVATE_ACTIVITY_EXTRA)


def activities(items: pl.DataFrame, efforts: pl.DataFrame, effort_fields: tuple[str, ...]) -> tuple[Series, dict[str, bytes]]:
    """The activity list (by date, then id) and each activity's detail: the item plus its best
    efforts (`efforts` has an `id` column naming the activity)."""
    frame = items.sort("date", "id")
    ids = _strings(frame, "id")
    keys = [f"{d}|{i}" for d, i in zip(_strings(frame, "date"), ids)]
    encoded = rows_json(frame)
    per_activity: dict[str, list[bytes]] = {}
    if not efforts.is_empty():
        ordered = efforts.with_columns(pl.col("effort").replace_strict(_EFFORT_ORDER, default=99).alias("_o")).sort("id", "_o")
        for activity_id, effort in zip(_strings(ordered, "id"), rows_json(ordered.select(effort_fields))):
            per_activity.setdefault(activity_id, []).append(effort)
    detail = {
        i: item[:-1] + b',"best_efforts":[' + b",".join(per_activity.get(i, [])) + b"]}"
        for i, item in zip(ids, encoded)
    }
    return Series(tuple(keys), tuple(encoded)), detail


def _ranked(frame: pl.DataFrame, fields: tuple[str, ...], second: str) -> Series:
    """Rows keyed by distance (shortest first), then `second`."""
    keys = [f"{(d or 0.0):012.3f}|{s}" for d, s in zip(frame.get_column("distance_m").to_list(), _strings(frame, second))]
    return Series.of(list(zip(keys, rows_json(frame.select(fields)))))


def best_efforts(personal_bests: pl.DataFrame) -> Series:
    """Personal bests (`activity` already renamed), by distance then period."""
    return _ranked(personal_bests, BEST_FIELDS, "period")


def predictions(race_predictions: pl.DataFrame) -> Series:
    return _ranked(race_predictions, PREDICTION_FIELDS, "method")


def gear(gear_distance: pl.DataFrame) -> Series:
    """`marts/gear_distance` rows in the API's gear shape, by id."""
    frame = gear_distance.rename({"gear_id": "id"}).select(GEAR_FIELDS).sort("id")
    return Series.of(list(zip(_strings(frame, "id"), rows_json(frame))))


def public_athlete(tables: dict[str, pl.DataFrame]) -> AthleteData:
    """One public athlete's data from its rows of the public tables (keyed by short name)."""
    day_series, day, fitness = days(tables["daily_load"], tables["weekly_summary"])
    efforts = tables["best_efforts"].rename({"public_activity_id": "id"})
    activity_series, detail = activities(public_activities(tables["activities"]), efforts, EFFORT_FIELDS)
    return AthleteData(
        days=day_series, day=day, fitness=fitness, weeks=weeks(tables["weekly_summary"]),
        activities=activity_series, activity=detail,
        best_efforts=best_efforts(tables["personal_bests"].rename({"public_activity_id": "activity"})),
        predictions=predictions(tables["race_predictions"].rename({"basis_public_activity_id": "basis_activity"})),
    )


def private_athlete(tables: dict[str, pl.DataFrame]) -> AthleteData:
    """One athlete's data from its rows of the private marts (keyed by short name)."""
    day_series, day, fitness = days(tables["daily_load"], tables["weekly_summary"])
    summary = tables["activity_summary"]
    efforts = tables["best_efforts"].rename({"activity_id": "id"})
    activity_series, detail = activities(private_activities(summary), efforts, (*EFFORT_FIELDS, "start_offset_s"))
    years = dict(zip(_strings(summary, "activity_id"), summary.get_column("start_time").dt.year().to_list()))
    return AthleteData(
        days=day_series, day=day, fitness=fitness, weeks=weeks(tables["weekly_summary"]),
        activities=activity_series, activity=detail, records_year=years,
        best_efforts=best_efforts(tables["personal_bests"].rename({"activity_id": "activity"})),
        predictions=predictions(tables["race_predictions"].rename({"basis_activity_id": "basis_activity"})),
        gear=gear(tables["gear_distance"]),
    )
