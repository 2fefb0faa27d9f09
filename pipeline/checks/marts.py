"""The marts agree with their inputs: `daily_load` with `activities`, `weekly_summary` with `daily_load`.

* `marts_daily_sums`: for a deterministic sample of the athlete's days with activities (the
  latest one, and others chosen by a hash of athlete and date, so each check looks at the same
  days), distance, moving time, runs and activities are recomputed from `activities` with the
  marts' own `marts.daily.daily_totals` (the athlete's corrections applied, running only for distance and time, the local date of
  the start, deleted activities left out) and compared with `marts/daily_load`.
* `marts_weekly_sums`: every week of `marts/weekly_summary` equals the sum of its days in
  `marts/daily_load` (distance, moving time, runs, activities, trimp), and every week with days
  has a row.

Marts are derived after every ingest by `runlake marts build` (the `daily` flow builds them
before it checks): a violation after an ingest without a build only says "build the marts". An
athlete whose marts were never built (no `marts/_build_state` and no `daily_load` rows) is not
compared.
"""

from __future__ import annotations

import hashlib

import polars as pl

from lake.marts import BUILD_STATE, DAILY_LOAD, WEEKLY_SUMMARY, ZONE_COLUMNS
from lake.storage import Lake
from lake.table import scan
from marts.daily import daily_totals
from marts.load import RUNNING
from pipeline.steps.edits import corrected_activities
from marts.weekly import week_start
from pipeline.checks.finding import Finding, finding

MARTS_DAILY_SUMS = "marts_daily_sums"
MARTS_WEEKLY_SUMS = "marts_weekly_sums"
DEFAULT_SAMPLE_DAYS = 20

_DAILY = ("distance_m", "duration_s", "runs", "activities")
_WEEKLY = ("distance_m", "duration_s", "runs", "activities", "trimp")


def _close(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    """Equal within float summation noise (1 cm, 10 ms, or 1e-9 relative)."""
    diff = (left.cast(pl.Float64) - right.cast(pl.Float64)).abs()
    return diff <= 0.01 + 1e-9 * right.cast(pl.Float64).abs()


def _built(lake: Lake, athlete_id: str) -> bool:
    state = scan(lake, BUILD_STATE).filter(pl.col("athlete_id") == athlete_id).head(1).collect()
    days = scan(lake, DAILY_LOAD).filter(pl.col("athlete_id") == athlete_id).head(1).collect()
    return not (state.is_empty() and days.is_empty())


def _activities(lake: Lake, athlete_id: str) -> pl.LazyFrame:
    """The athlete's live activities, as edited (merges and splits) and corrected
    (`private/overrides`) the way the marts build does it (`corrected_activities`), in the
    columns `daily_totals` reads (load columns as 0: only distance, time and counts are compared)."""
    corrected, _ = corrected_activities(lake, athlete_id)
    return corrected.lazy().select(
        "date", "start_time", "activity_id", "distance_m", "moving_s",
        is_running=pl.col("sport") == RUNNING, trimp=pl.lit(0.0), trimp_estimated=pl.lit(False),
        **{c: pl.lit(0.0) for c in ZONE_COLUMNS},
    )


def sample_days(athlete_id: str, days: list, n: int) -> list:
    """The latest of `days`, then the first by a hash of (athlete, day): the same days every run."""
    if not days or n <= 0:
        return []
    latest = max(days)
    rest = sorted((d for d in days if d != latest), key=lambda d: hashlib.sha256(f"{athlete_id}|{d}".encode()).hexdigest())
    return sorted([latest, *rest[: n - 1]])


def marts_daily_sums(lake: Lake, athlete_ids: set[str], *, sample: int = DEFAULT_SAMPLE_DAYS) -> Finding:
    offenders: list[str] = []
    for athlete_id in sorted(athlete_ids):
        if not _built(lake, athlete_id):
            continue
        acts = _activities(lake, athlete_id)
        stored = scan(lake, DAILY_LOAD).filter(pl.col("athlete_id") == athlete_id).select("date", *_DAILY).collect()
        candidates = set(acts.select("date").unique().collect()["date"]) | set(stored.filter(pl.col("activities") > 0)["date"])
        days = sample_days(athlete_id, sorted(candidates), sample)
        if not days:
            continue
        expected = daily_totals(acts, athlete_id, days[0], days[-1]).filter(pl.col("date").is_in(days)).select("date", *_DAILY).collect()
        both = expected.join(stored, on="date", how="left", suffix="_mart")
        for row in both.with_columns(
            **{f"ok_{c}": _close(pl.col(f"{c}_mart"), pl.col(c)).fill_null(False) for c in _DAILY}
        ).to_dicts():
            wrong = [c for c in _DAILY if not row[f"ok_{c}"]]
            if row["runs_mart"] is None and row["activities_mart"] is None:
                offenders.append(f"athlete_id={athlete_id}, date={row['date']}: no row")
            elif wrong:
                offenders.append(f"athlete_id={athlete_id}, date={row['date']}: {', '.join(wrong)}")
    return finding(MARTS_DAILY_SUMS, DAILY_LOAD.name, offenders)


def marts_weekly_sums(lake: Lake, athlete_ids: set[str]) -> Finding:
    ids = sorted(athlete_ids)
    from_days = (
        scan(lake, DAILY_LOAD).filter(pl.col("athlete_id").is_in(ids))
        .group_by("athlete_id", week_start(pl.col("date")).alias("week_start"))
        .agg(*[pl.col(c).sum() for c in _WEEKLY])
        .collect()
    )
    weeks = scan(lake, WEEKLY_SUMMARY).filter(pl.col("athlete_id").is_in(ids)).select("athlete_id", "week_start", *_WEEKLY).collect()
    both = weeks.join(from_days, on=["athlete_id", "week_start"], how="full", coalesce=True, suffix="_days")
    offenders = []
    for row in both.with_columns(
        **{f"ok_{c}": _close(pl.col(c), pl.col(f"{c}_days")).fill_null(False) for c in _WEEKLY}
    ).to_dicts():
        wrong = [c for c in _WEEKLY if not row[f"ok_{c}"]]
        if wrong:
            offenders.append(f"athlete_id={row['athlete_id']}, week_start={row['week_start']}: {', '.join(wrong)}")
    return finding(MARTS_WEEKLY_SUMS, WEEKLY_SUMMARY.name, offenders)
