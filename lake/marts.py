"""Mart tables: what `flows/build_marts.py` writes under `<lake>/marts/`.

Every mart is private (it carries `athlete_id`); the public layer (`marts/public.py`) derives its
anonymized copies from them. Column names carry units. docs/marts.md documents every column and
formula. Marts are rebuilt by the marts flow only: they are derived data, never edited by hand.
"""

import polars as pl

from lake.table import TableSpec

#: HR zone columns shared by activity_summary, daily_load and weekly_summary (see marts/zones.py).
ZONE_COLUMNS = ("time_z1_s", "time_z2_s", "time_z3_s", "time_z4_s", "time_z5_s")
_ZONES = {c: pl.Float64 for c in ZONE_COLUMNS}

DAILY_LOAD = TableSpec(
    name="marts/daily_load",
    grain="one local calendar day of the athlete, from the first activity day to today",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "date": pl.Date,  # the athlete's local calendar date
            "distance_m": pl.Float64,  # running activities only
            "duration_s": pl.Float64,  # sum of running activities' moving_s
            "runs": pl.Int32,  # running activities started that day
            "activities": pl.Int32,  # every activity started that day
            "trimp": pl.Float64,  # Banister TRIMP of every activity (fallback where no HR)
            "trimp_estimated": pl.Boolean,  # any of the day's load from the no-HR fallback
            "atl": pl.Float64,  # acute training load (7-day), TrainingPeaks recursion
            "ctl": pl.Float64,  # chronic training load (42-day)
            "tsb": pl.Float64,  # ctl_{t-1} - atl_{t-1}
            "acwr": pl.Float64,  # coupled 7-day / 28-day rolling-average ratio
            "acwr_uncoupled": pl.Float64,  # 7-day / the 21 days before it
            **_ZONES,  # every activity's HR zone times
        }
    ),
    key=("athlete_id", "date"),
)

WEEKLY_SUMMARY = TableSpec(
    name="marts/weekly_summary",
    grain="one local Monday-to-Sunday week, from the first activity's week to this week",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "week_start": pl.Date,  # Monday
            "distance_m": pl.Float64,
            "duration_s": pl.Float64,
            "runs": pl.Int32,
            "activities": pl.Int32,
            "longest_run_m": pl.Float64,  # longest running activity of the week (0 when none)
            "trimp": pl.Float64,
            "trimp_estimated": pl.Boolean,
            "monotony": pl.Float64,  # Foster: mean / sd of the week's daily trimp (null when sd = 0)
            "strain": pl.Float64,  # Foster: weekly trimp x monotony
            **_ZONES,
        }
    ),
    key=("athlete_id", "week_start"),
)

ACTIVITY_SUMMARY = TableSpec(
    name="marts/activity_summary",
    grain="one activity (every sport; not deleted)",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "activity_id": pl.String,
            "date": pl.Date,  # local date of the start
            "start_time": pl.Datetime("us", "UTC"),
            "utc_offset_s": pl.Int32,
            "sport": pl.String,
            "sub_sport": pl.String,
            "source": pl.String,
            "is_private": pl.Boolean,
            "is_running": pl.Boolean,
            "distance_m": pl.Float64,
            "moving_s": pl.Float64,
            "elapsed_s": pl.Float64,
            "moving_pace_s_per_km": pl.Float64,  # moving_s / km (null without distance)
            "gap_s_per_km": pl.Float64,  # grade-adjusted pace, Minetti 2002
            "avg_hr_bpm": pl.Float64,
            "max_hr_bpm": pl.Float64,
            "ascent_m": pl.Float64,
            "trimp": pl.Float64,
            "trimp_estimated": pl.Boolean,
            "trimp_method": pl.String,  # hr_samples | avg_hr | pace | duration
            **_ZONES,
            "efficiency_factor": pl.Float64,  # m/min per bpm
            "aerobic_decoupling_pct": pl.Float64,  # (first-half EF - second-half EF) / first-half EF x 100
            "session_type": pl.String,  # easy | long | intervals | tempo | race | treadmill | other
            "rep_structure": pl.String,  # e.g. "10 × 400 m, avg 61.8 s, 90 s rec" for intervals
            "reps": pl.Int32,
            "corrected_fields": pl.String,  # what the athlete corrected (private/overrides), e.g. "distance,race"; null: nothing
        }
    ),
    key=("activity_id",),
)

#: Target distances of best efforts, in metres.
EFFORTS = {
    "400m": 400.0,
    "1k": 1000.0,
    "1mile": 1609.344,
    "3k": 3000.0,
    "5k": 5000.0,
    "10k": 10000.0,
    "half": 21097.5,
    "marathon": 42195.0,
}

BEST_EFFORTS = TableSpec(
    name="marts/best_efforts",
    grain="one running activity and one target distance it covers",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "activity_id": pl.String,
            "effort": pl.String,  # 400m | 1k | 1mile | 3k | 5k | 10k | half | marathon
            "distance_m": pl.Float64,  # the target distance
            "elapsed_s": pl.Float64,  # fastest clock time over any stretch of that length
            "start_offset_s": pl.Float64,  # where that stretch starts, from the activity start
            "date": pl.Date,  # local date of the activity
        }
    ),
    key=("activity_id", "effort"),
)

PERSONAL_BESTS = TableSpec(
    name="marts/personal_bests",
    grain="one effort and one period (all-time, or a local calendar year)",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "effort": pl.String,
            "distance_m": pl.Float64,
            "period": pl.String,  # "all" or the year, e.g. "2025"
            "year": pl.Int32,  # null for "all"
            "elapsed_s": pl.Float64,
            "pace_s_per_km": pl.Float64,
            "activity_id": pl.String,
            "date": pl.Date,
        }
    ),
    key=("athlete_id", "effort", "period"),
)

RACE_PREDICTIONS = TableSpec(
    name="marts/race_predictions",
    grain="one target race distance and one prediction method",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "target": pl.String,  # 5k | 10k | half | marathon
            "distance_m": pl.Float64,
            "method": pl.String,  # riegel | vdot
            "predicted_s": pl.Float64,
            "vdot": pl.Float64,  # the basis effort's VDOT (both methods, for reference)
            "basis_effort": pl.String,
            "basis_elapsed_s": pl.Float64,
            "basis_activity_id": pl.String,
            "basis_date": pl.Date,
            "as_of": pl.Date,  # "today" of the build; bests of the 365 days before count
        }
    ),
    key=("athlete_id", "target", "method"),
)

BUILD_STATE = TableSpec(
    name="marts/_build_state",
    grain="one activity the marts were last built from",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "activity_id": pl.String,
            "fingerprint": pl.String,  # hash of the activity row (and the physiology in force)
            "date": pl.Date,  # local date it was counted on
        }
    ),
    key=("activity_id",),
)

GEAR_DISTANCE = TableSpec(
    name="marts/gear_distance",
    grain="one piece of gear of the athlete: listed in private/gear, or named by an activity",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "gear_id": pl.String,  # private/gear's id; an unknown Strava id or archive gear name as the activity gives it
            "name": pl.String,  # the gear's name (the raw value for unknown gear)
            "brand": pl.String,
            "model": pl.String,
            "source": pl.String,  # strava | manual | activity (named by activities only)
            "distance_m": pl.Float64,  # sum of distance_m of the activities worn on, rounded to 1 mm (0 when none)
            "distance_km": pl.Float64,  # distance_m / 1000
            "activities": pl.Int32,  # activities worn on (every sport)
            "runs": pl.Int32,  # of which running
            "first_used": pl.Date,  # local date of the first activity (null when none)
            "last_used": pl.Date,
            "retire_km": pl.Float64,  # the gear's threshold, else 800 (marts.gear.DEFAULT_RETIRE_KM)
            "over_threshold": pl.Boolean,  # distance_km >= retire_km
            "remaining_km": pl.Float64,  # retire_km - distance_km, at least 0
            "retired": pl.Boolean,  # retired_at is set
            "retired_at": pl.Datetime("us", "UTC"),
            "is_default": pl.Boolean,  # worn on runs without gear (manual gear only)
        }
    ),
    key=("athlete_id", "gear_id"),
)

ALL = (DAILY_LOAD, WEEKLY_SUMMARY, ACTIVITY_SUMMARY, BEST_EFFORTS, PERSONAL_BESTS, RACE_PREDICTIONS, GEAR_DISTANCE)
