"""Build the private marts (and then the public layer) from the lake's tables.

`build_marts` is the plain function the CLI calls and the `build-marts` flow
(flows/build_marts.py) wraps; this module never imports Prefect.

Incremental by default. `marts/_build_state` keeps, per activity, a fingerprint of its row and of
the physiology in force on its date. An activity whose fingerprint is new or changed (or that
disappeared) is recomputed from its records and laps; `daily_load` is recomputed from the
earliest affected local day onward, seeded with the stored day before it (the recursions use the
same arithmetic, so the result is bit-identical to a full rebuild); `weekly_summary` from that
day's week onward; personal bests, race predictions and gear distance (small) are recomputed whole. A full
rebuild (`full=True`, or when a mart table is missing) recomputes everything. Per-activity work
runs one `records` partition (UTC year) at a time; a big recomputation (a full build) spreads the
partitions over a pool of spawned processes, one per core, with the same rows as a serial build.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context

import polars as pl

from lake import athlete_profile
from lake import gear as gear_table
from lake import laps as laps_table
from lake import records as records_table
from lake.marts import (
    ACTIVITY_SUMMARY, BEST_EFFORTS, BUILD_STATE, DAILY_LOAD, GEAR_DISTANCE, PERSONAL_BESTS, RACE_PREDICTIONS, WEEKLY_SUMMARY,
)
from lake.storage import Lake
from lake.table import (
    delete_rows, in_predicate, open_table, overwrite, read, replace_where, scan, table_exists, upsert,
)
from marts.activity import activity_summary
from marts.daily import HISTORY_DAYS, daily_totals, fitness
from marts.efforts import best_efforts, personal_bests, race_predictions
from marts.gear import gear_distance
from marts.groups import first_per_instant, time_ordered
from marts.edits import ADDED as EDIT_COLUMNS
from marts.edits import effective_laps
from marts.overrides import ADDED as OVERRIDE_COLUMNS
from marts.overrides import summary_with_corrections
from marts.profile import Physiology, check_resolved, in_force, resolve
from marts.weekly import weekly_summary
from pipeline.steps.edits import Edits, corrected_activities
from runlake.settings import Settings

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]

#: Part of every activity's fingerprint: bump it when a per-activity formula changes, so the next
#: incremental build recomputes every activity (as a full build would).
FORMULA_VERSION = "3"


@dataclass
class BuildSummary:
    mode: str  # full | incremental
    today: dt.date
    activities: int = 0
    recomputed: int = 0
    removed: int = 0
    from_day: dt.date | None = None
    days: int = 0
    weeks: int = 0
    seconds: float = 0.0
    public: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, dt.date) else v) for k, v in asdict(self).items()}


def athlete_today(settings: Settings) -> dt.date:
    """Today's date in the athlete's zone (RUNLAKE_TIMEZONE, validated by Settings)."""
    return settings.local_today()


#: `activities` columns added after lakes were built: they count in the fingerprint only when set,
#: so a row that lacks them (null) keeps the fingerprint it had before they existed.
ADDED_LATER = frozenset({"quality_flags", *OVERRIDE_COLUMNS, *EDIT_COLUMNS})


def _fingerprints(acts: pl.DataFrame) -> pl.Series:
    """A stable hash of each activity row plus its physiology (sha1 of the row's text)."""
    cols = sorted(acts.columns)
    parts = [pl.lit(FORMULA_VERSION)] + [
        pl.col(c).cast(pl.String) if c in ADDED_LATER else pl.col(c).cast(pl.String).fill_null("∅") for c in cols
    ]
    texts = acts.select(pl.concat_str(parts, separator="|", ignore_nulls=True))
    return pl.Series("fingerprint", [hashlib.sha1(t.encode()).hexdigest() for t in texts.to_series()], dtype=pl.String)


def _load_activities(lake: Lake, settings: Settings) -> tuple[pl.DataFrame, Edits]:
    """The athlete's live activities as edited and corrected (`corrected_activities`: merges and
    splits, then `private/overrides`), with their physiology and fingerprints — a changed edit or
    correction recomputes its activity; and the edits themselves."""
    profile = scan(lake, athlete_profile.SPEC).filter(pl.col("athlete_id") == settings.athlete_id)
    resolved = resolve(profile, Physiology.from_settings(settings)).collect()
    check_resolved(resolved)
    acts, edits = corrected_activities(lake, settings.athlete_id)
    acts = in_force(acts.lazy(), resolved.lazy()).collect()
    return acts.with_columns(_fingerprints(acts)).sort("activity_id"), edits


#: A build recomputing at least this many activities spreads the records partitions over a pool
#: of processes (one per core): each partition's activities are independent, so the rows are the
#: same as a serial build's. Below it (an incremental day), starting the pool would cost more.
PARALLEL_MIN_ACTIVITIES = 400


def _compute_activities(
    lake: Lake, acts: pl.DataFrame, progress: Progress | None = None, edits: Edits | None = None,
    workers: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """activity_summary and best_efforts rows of `acts`, reading only their records and laps,
    one records partition (UTC year of the start; `record_year` for an edited activity) at a
    time to bound memory; partitions spread over `workers` spawned processes when there are
    `PARALLEL_MIN_ACTIVITIES` or more. `edits`: the athlete's merges and
    splits, applied to the samples."""
    year_of = pl.coalesce("record_year", pl.col("start_time").dt.year()).cast(pl.Int32)
    batches = sorted(
        ((year, batch.drop("_year")) for (year,), batch in acts.with_columns(_year=year_of).group_by("_year")),
        key=lambda item: -item[1].height,  # the biggest first: the pool ends together
    )
    workers = min(workers or 1, len(batches))
    results: dict[int, tuple[pl.DataFrame, pl.DataFrame]] = {}

    def done(year: int, batch: pl.DataFrame, result: tuple[pl.DataFrame, pl.DataFrame]) -> None:
        results[year] = result
        log.info("marts: %d activities of %d computed", len(batch), year)
        if progress is not None:
            progress(len(batch), acts.height)

    if workers > 1 and acts.height >= PARALLEL_MIN_ACTIVITIES:
        # spawn, not fork: deltalake's runtime panics in a forked child.
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(compute_partition, lake, year, batch, edits): (year, batch) for year, batch in batches}
            for future in as_completed(futures):
                done(*futures[future], future.result())
    else:
        for year, batch in batches:
            done(year, batch, compute_partition(lake, year, batch, edits))
    ordered = [results[year] for year in sorted(results)]
    summaries = [ACTIVITY_SUMMARY.empty(), *(summary for summary, _ in ordered)]
    efforts = [BEST_EFFORTS.empty(), *(effort for _, effort in ordered)]
    return pl.concat(summaries), pl.concat(efforts)


def compute_partition(lake: Lake, year: int, batch: pl.DataFrame, edits: Edits | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """activity_summary and best_efforts rows of the activities `batch` whose samples are in the
    `records` partition `year` (a module-level function: it runs in pool processes too)."""
    ids = batch["activity_id"]
    needed = edits.sources_of(ids) if edits is not None else []
    read_ids = pl.concat([ids, pl.Series(needed, dtype=pl.String)]).unique().implode()
    records = scan(lake, records_table.SPEC).filter(
        (pl.col("athlete_id") == batch["athlete_id"][0]) & (pl.col("year") == year) & pl.col("activity_id").is_in(read_ids)
    )
    records = records.select("activity_id", "seq", "timestamp", "lat_deg", "distance_m", "altitude_m", "hr_bpm").collect()
    laps = scan(lake, laps_table.SPEC).filter(pl.col("activity_id").is_in(read_ids))
    if needed:  # merges and splits: the edited activities' samples and laps
        records = edits.records(records).filter(pl.col("activity_id").is_in(ids.implode()))
        laps = effective_laps(laps.collect(), edits.plan).filter(pl.col("activity_id").is_in(ids.implode())).lazy()
    ordered = time_ordered(records)  # one sort of the partition for every stream pass
    lazy = batch.lazy()
    instants = first_per_instant(ordered.lazy()).collect().lazy()
    summary = ACTIVITY_SUMMARY.conform(activity_summary(lazy, records.lazy(), laps, instants))
    efforts = BEST_EFFORTS.conform(best_efforts(ordered.lazy(), lazy.filter(pl.col("sport") == "running"), ordered=True))
    return summary, efforts


def _date_lit(day: dt.date) -> str:
    return f"'{day.isoformat()}'"


def _table_current(lake: Lake, spec) -> bool:
    """The table exists with exactly the declared columns (else: a full build migrates it)."""
    table = open_table(lake, spec)
    return table is not None and [f.name for f in table.schema().fields] == list(spec.schema)


def _replace_athlete(lake: Lake, spec, frame: pl.DataFrame, athlete: str, where: str | None = None) -> None:
    """Replace this athlete's rows (those matching `where` too, when given) with `frame`: other
    athletes' marts in the same lake are never touched. A table written by an older version
    (other columns) is rewritten whole in the declared schema, keeping other athletes' rows."""
    if where is None and table_exists(lake, spec) and not _table_current(lake, spec):
        others = read(lake, spec).filter(pl.col("athlete_id") != athlete)
        overwrite(lake, spec, pl.concat([others, spec.conform(frame)]))
        return
    predicate = in_predicate("athlete_id", [athlete]) + (f" AND {where}" if where else "")
    replace_where(lake, spec, frame, predicate)


def build_marts(
    lake: Lake, settings: Settings, *, full: bool = False, today: dt.date | None = None, progress: Progress | None = None,
    workers: int | None = None,
) -> BuildSummary:
    """Build every private mart, then the public layer when it is installed. See module doc.

    `progress(n, total)` is called as batches of the `total` activities to recompute finish.
    `workers`: processes for a big recomputation (default: `RUNLAKE_WORKERS`, else one per core).
    """
    started = time.perf_counter()
    today = today or athlete_today(settings)
    athlete = settings.athlete_id
    acts, edits = _load_activities(lake, settings)
    mart_tables = (DAILY_LOAD, WEEKLY_SUMMARY, ACTIVITY_SUMMARY, BEST_EFFORTS, BUILD_STATE)
    full = full or not all(_table_current(lake, spec) for spec in mart_tables)
    state = BUILD_STATE.empty() if full else read(lake, BUILD_STATE).filter(pl.col("athlete_id") == athlete)
    full = full or state.is_empty()  # this athlete's first build
    summary = BuildSummary(mode="full" if full else "incremental", today=today, activities=acts.height)

    changed = acts.join(state.select("activity_id", "fingerprint"), on=["activity_id", "fingerprint"], how="anti")
    removed = state.filter(~pl.col("activity_id").is_in(acts["activity_id"].implode()))
    summary.recomputed, summary.removed = changed.height, removed.height
    log.info("marts: %s build, %d activities, %d to recompute, %d removed", summary.mode, acts.height, changed.height, removed.height)

    new_summary, new_efforts = _compute_activities(lake, changed, progress, edits, workers or settings.worker_count())
    new_summary = summary_with_corrections(new_summary, changed)
    touched = set(changed["activity_id"]) | set(removed["activity_id"])
    if full:
        _replace_athlete(lake, ACTIVITY_SUMMARY, new_summary, athlete)
        _replace_athlete(lake, BEST_EFFORTS, new_efforts, athlete)
    elif touched:
        upsert(lake, ACTIVITY_SUMMARY, new_summary)
        if removed.height:
            delete_rows(lake, ACTIVITY_SUMMARY, in_predicate("activity_id", removed["activity_id"]))
        replace_where(lake, BEST_EFFORTS, new_efforts, in_predicate("activity_id", touched))

    all_summary = new_summary if full else read(lake, ACTIVITY_SUMMARY).filter(pl.col("athlete_id") == athlete)
    all_summary = all_summary.sort("date", "start_time", "activity_id")
    _build_daily_weekly(lake, athlete, all_summary, changed, removed, state, today, full, summary)

    efforts_all = read(lake, BEST_EFFORTS).filter(pl.col("athlete_id") == athlete)
    _replace_athlete(lake, PERSONAL_BESTS, personal_bests(efforts_all.lazy()).collect(), athlete)
    _replace_athlete(lake, RACE_PREDICTIONS, race_predictions(efforts_all.lazy(), today).collect(), athlete)

    new_state = changed.select("athlete_id", "activity_id", "fingerprint", "date")
    if full:
        _replace_athlete(lake, BUILD_STATE, new_state, athlete)
    else:
        upsert(lake, BUILD_STATE, new_state)
        if removed.height:
            delete_rows(lake, BUILD_STATE, in_predicate("activity_id", removed["activity_id"]))

    # Gear (small, recomputed whole): distance per shoe from every activity and private/gear.
    gear = scan(lake, gear_table.SPEC).filter(pl.col("athlete_id") == athlete)
    _replace_athlete(lake, GEAR_DISTANCE, gear_distance(acts.lazy(), gear, athlete).collect(), athlete)

    summary.public = _build_public(lake, settings, today)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _build_daily_weekly(lake, athlete, all_summary, changed, removed, state, today, full, summary) -> None:
    if all_summary.is_empty():
        _replace_athlete(lake, DAILY_LOAD, DAILY_LOAD.empty(), athlete)
        _replace_athlete(lake, WEEKLY_SUMMARY, WEEKLY_SUMMARY.empty(), athlete)
        return
    first_day = all_summary["date"].min()
    last_day = max(today, all_summary["date"].max())
    stored = DAILY_LOAD.empty() if full else read(lake, DAILY_LOAD).filter(pl.col("athlete_id") == athlete).sort("date")
    affected = list(changed["date"]) + list(state.filter(pl.col("activity_id").is_in(changed["activity_id"].implode()))["date"])
    affected += list(removed["date"])
    if stored.height:
        affected.append(stored["date"].max() + dt.timedelta(days=1))  # extend to today
    d0 = min(affected) if affected else last_day + dt.timedelta(days=1)
    rebuild_all = full or stored.is_empty() or stored["date"].min() != first_day or d0 <= first_day
    if rebuild_all:
        d0 = first_day
    d0 = min(d0, last_day + dt.timedelta(days=1))
    summary.from_day = d0
    history = None if rebuild_all else stored.filter(pl.col("date") < d0).tail(HISTORY_DAYS)
    if d0 <= last_day:
        totals = daily_totals(all_summary.lazy(), athlete, d0, last_day)
        daily = DAILY_LOAD.conform(fitness(totals, history, first_day=first_day))
    else:
        daily = DAILY_LOAD.empty()
    summary.days = daily.height
    if rebuild_all:
        _replace_athlete(lake, DAILY_LOAD, daily, athlete)
    else:
        _replace_athlete(lake, DAILY_LOAD, daily, athlete, f"date >= {_date_lit(d0)}")
    # Weeks from d0's week onward, from the stored days of that week plus the new ones.
    w0 = d0 - dt.timedelta(days=d0.weekday())
    week_days = daily if rebuild_all else pl.concat([stored.filter((pl.col("date") >= w0) & (pl.col("date") < d0)), daily])
    weeks = WEEKLY_SUMMARY.conform(weekly_summary(week_days.lazy(), all_summary.lazy().filter(pl.col("date") >= w0)))
    summary.weeks = weeks.height
    if rebuild_all:
        _replace_athlete(lake, WEEKLY_SUMMARY, weeks, athlete)
    else:
        _replace_athlete(lake, WEEKLY_SUMMARY, weeks, athlete, f"week_start >= {_date_lit(w0)}")


def _build_public(lake: Lake, settings: Settings, today: dt.date) -> dict:
    """The anonymized public layer, from the marts just built (docs/privacy.md)."""
    from pipeline.steps.build_public import build_public

    return dict(build_public(lake, settings, today=today))
