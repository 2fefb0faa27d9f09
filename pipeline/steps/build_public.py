"""Build the anonymized public layer: read private tables and marts, write `<lake>/public/*`.

Called by the `build-marts` flow (and so by `runlake marts build`) after the private marts, as
`build_public(lake, settings, today=…)`. The small tables (daily, weekly, activities, efforts,
PBs, predictions) are rewritten whole on every build, so a changed privacy setting or an
activity made private takes effect everywhere at once. Routes, route shapes and samples, which
need the records, are recomputed only for activities whose fingerprint changed (activity row,
privacy settings, protected places, id key; `private/public_build_state`).

When privacy tightens — an activity leaves the public layer, or the privacy settings or the
protected places change — every public table is written as a fresh snapshot (a plain overwrite,
so no commit lists the ids that changed) and its history is purged at once, so neither old data
files nor the Delta log still hold what is no longer public. The rules live in
`marts/public.py`, `marts/privacy.py` and `marts/places.py`; docs/privacy.md explains them.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import polars as pl

from pipeline.steps.edits import Edits, edited_activities, hidden_parts, load_edits
from pipeline.steps.edits import public_ids as edited_public_ids
from pipeline.steps.visibility import public_activity_ids
from pipeline.public_withdraw import purge_public, withdraw_public
from lake import activities as activities_table
from lake import public as public_tables
from lake import public_state
from lake import records as records_table
from lake.marts import ACTIVITY_SUMMARY, BEST_EFFORTS
from lake.public_id_key import read_or_create_public_id_key
from lake.storage import Lake
from lake.table import TableSpec, overwrite, read, replace_rows, scan, table_exists
from marts import public
from marts.places import route_endpoints
from marts.privacy import PrivacySettings, RoutePlan, anonymize_samples, parse_privacy_zones, plan_routes, positioned_routes, route_shapes
from runlake.settings import Settings

log = logging.getLogger(__name__)

#: Tracks of at least this many activities to compute (a fresh public layer) spread the `records`
#: partitions over a pool of processes (`RUNLAKE_WORKERS`); the rows are a serial build's.
PARALLEL_MIN_ACTIVITIES = 400


def public_id_key(lake: Lake, settings: Settings) -> bytes:
    """RUNLAKE_PUBLIC_ID_SALT when set, else the lake's own random key (kept under private/)."""
    if settings.public_id_salt is not None and settings.public_id_salt.get_secret_value():
        return settings.public_id_salt.get_secret_value().encode("utf-8")
    return read_or_create_public_id_key(lake)


def privacy_settings(lake: Lake, settings: Settings) -> PrivacySettings:
    """The athlete's privacy settings in one object (a malformed zone raises before any write)."""
    return PrivacySettings(
        zones=parse_privacy_zones(settings.privacy_zones),
        trim_m=settings.privacy_trim_m,
        place_radius_m=settings.privacy_radius_m,
        place_min_routes=settings.privacy_place_min_routes,
        key=public_id_key(lake, settings),
        private_entries=settings.private_activity_ids,
        public_sources=settings.public_source_set,
        place_routes=settings.privacy_place_routes,
    )


def athlete_today(settings: Settings) -> dt.date:
    """Today in the athlete's home zone (the public daily rows run up to it)."""
    return settings.local_today()


def build_public(lake: Lake, settings: Settings, *, today: dt.date | None = None) -> dict[str, int]:
    """Write the athlete's rows of every `<lake>/public/` table (`settings` are the athlete's
    effective settings, pipeline.athletes); returns the rows written per table. An athlete
    who is not public has its rows withdrawn instead."""
    if not settings.athlete_public:
        return withdraw_public(lake, settings.athlete_id, settings.athlete_handle)
    handle = settings.athlete_handle
    privacy = privacy_settings(lake, settings)  # fail before writing anything
    # The athlete's merges and splits (marts/edits.py): a merged run is public only when each of
    # its recordings is, a split's part when its activity is and the part is not private itself.
    live = scan(lake, activities_table.SPEC).filter(pl.col("athlete_id") == settings.athlete_id).collect()
    live = live.filter(~pl.col("is_deleted").fill_null(False))
    edits = load_edits(lake, settings.athlete_id, live)
    parts = edits.splits["edit_id"].to_list()
    # fails on an unmatched private entry (a part's id is a match)
    public_ids = public_activity_ids(lake, settings.athlete_id, privacy, also_known=parts)
    today = today or athlete_today(settings)

    edited = edited_activities(lake, settings.athlete_id, live, edits)
    hidden = hidden_parts(lake, settings.athlete_id, edits, privacy.private_entries)
    activities = (
        edited_public_ids(public_ids.collect(), edits, hidden).lazy().join(edited.lazy(), on="activity_id")
        .filter(public.started_before(today))
        .collect()
    )
    ids = activities["activity_id"]
    id_map = public.public_id_map(ids.to_list(), privacy.key).collect()
    log.info("public layer of %s: %d public activities", handle, len(ids))

    years = _record_years(lake, settings.athlete_id)
    plan = plan_routes(_route_endpoints(lake, settings.athlete_id, years, edits), privacy)
    log.info("public layer of %s: %d protected places", handle, len(plan.places))
    all_state = read(lake, public_state.SPEC)
    tracks = _update_tracks(lake, activities, id_map, plan, privacy, handle,
                            all_state.filter(pl.col("athlete_id") == settings.athlete_id), settings.athlete_id, years, edits,
                            settings.worker_count())
    counts = tracks.counts

    summary = scan(lake, ACTIVITY_SUMMARY).filter(pl.col("activity_id").is_in(ids.implode())).collect().lazy()
    efforts = public.public_best_efforts(scan(lake, BEST_EFFORTS), id_map.lazy()).collect()
    routed = tracks.state.filter(pl.col("has_route")).select("public_activity_id").lazy()
    shaped = tracks.state.filter(pl.col("has_shape")).select("public_activity_id").lazy()
    for spec, frame in public.public_layer(summary, id_map.lazy(), efforts, routed, shaped, today):
        _write_athlete_rows(lake, spec, frame.with_columns(athlete=pl.lit(handle)), handle, whole=tracks.tightened)
        counts[spec.name] = frame.height
        log.info("public layer of %s: %s ← %d rows", handle, spec.name, frame.height)
    if tracks.tightened:
        purge_public(lake)
    # Last: a crash before this only means recomputing (and, after a tightening, purging again).
    others = all_state.filter(pl.col("athlete_id") != settings.athlete_id)
    overwrite(lake, public_state.SPEC, pl.concat([others, tracks.state], how="vertical_relaxed"))
    return counts


def _write_athlete_rows(lake: Lake, spec: TableSpec, mine: pl.DataFrame, handle: str, *, whole: bool) -> None:
    """Replace the athlete's rows of a public table: as a fresh snapshot of the whole table (a
    plain overwrite with the other athletes' rows, so no commit names what left), or by a
    replacement of the rows of this handle."""
    if whole or not table_exists(lake, spec):
        others = read(lake, spec).filter(pl.col("athlete") != handle) if table_exists(lake, spec) else spec.empty()
        overwrite(lake, spec, pl.concat([others, spec.conform(mine)], how="vertical_relaxed"))
    else:
        replace_rows(lake, spec, mine, by="athlete", values=[handle])


def _record_years(lake: Lake, athlete_id: str) -> list[int]:
    """The `records` partitions (UTC start years) holding the athlete's samples."""
    years = scan(lake, records_table.SPEC).filter(pl.col("athlete_id") == athlete_id).select("year").unique().collect()
    return sorted(years["year"].drop_nulls().to_list())


def _partition(lake: Lake, athlete_id: str, year: int) -> pl.LazyFrame:
    """One `records` partition: an activity never spans two, so per-activity results computed one
    partition at a time are those of the whole history, with memory bounded by the partition."""
    return scan(lake, records_table.SPEC).filter((pl.col("athlete_id") == athlete_id) & (pl.col("year") == year))


def _edited(records: pl.LazyFrame, edits: Edits) -> pl.LazyFrame:
    """`records` with the athlete's merges and splits applied (only their sources' rows are read)."""
    if edits.empty:
        return records
    sources = edits.plan["source_id"].unique().implode()
    changed = edits.records(records.filter(pl.col("activity_id").is_in(sources)).collect())
    return pl.concat([records.filter(~pl.col("activity_id").is_in(sources)), changed.lazy()])


def partition_tracks(
    lake: Lake, athlete_id: str, year: int, todo_map: pl.DataFrame, edits: Edits, plan: RoutePlan, privacy: PrivacySettings,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(routes, shapes, samples) of the activities of `todo_map` (activity_id → public_activity_id)
    whose samples are in the `records` partition `year` (module-level: it runs in pool processes)."""
    todo_ids = todo_map["activity_id"]
    read_ids = pl.concat([todo_ids, pl.Series(edits.sources_of(todo_ids), dtype=pl.String)]).unique()
    records = _partition(lake, athlete_id, year).filter(pl.col("activity_id").is_in(read_ids.implode()))
    records = _edited(records, edits).filter(pl.col("activity_id").is_in(todo_ids.implode()))
    records = records.select("athlete_id", "activity_id", "seq", "timestamp", "lat_deg", "lon_deg", "distance_m",
                             "speed_mps", "hr_bpm").collect().lazy()
    ids = todo_map.lazy()
    fixes = _fixes(records)
    routes = public.replace_ids(positioned_routes(fixes, plan), ids).collect()
    shapes = public.replace_ids(route_shapes(fixes, plan, privacy), ids).collect()
    samples = public.replace_ids(
        anonymize_samples(records.select("activity_id", "seq", "timestamp", "distance_m", "speed_mps", "hr_bpm"), privacy.trim_m),
        ids,
    ).collect()
    return routes, shapes, samples


def _fixes(records: pl.LazyFrame, activity_ids: pl.Series | None = None) -> pl.LazyFrame:
    records = records.select("athlete_id", "activity_id", "seq", "lat_deg", "lon_deg")
    if activity_ids is not None:
        records = records.filter(pl.col("activity_id").is_in(activity_ids.implode()))
    return records.filter(pl.col("lat_deg").is_not_null() & pl.col("lon_deg").is_not_null())


def _route_endpoints(lake: Lake, athlete_id: str, years: list[int], edits: Edits) -> pl.DataFrame:
    """`marts.places.route_endpoints` of all the athlete's routes (as edited), one records partition at a time."""
    parts = [route_endpoints(_fixes(_edited(_partition(lake, athlete_id, year), edits))).collect() for year in years]
    return pl.concat(parts) if parts else route_endpoints(_fixes(records_table.SPEC.empty().lazy())).collect()


def _previous_state(state: pl.DataFrame) -> pl.DataFrame | None:
    """The athlete's last build state, or None when it was written before shapes and settings
    fingerprints existed (those columns read as nulls)."""
    stale = state["settings_fingerprint"].null_count() or state["has_shape"].null_count()
    return None if stale else state


@dataclass(frozen=True)
class _Tracks:
    counts: dict[str, int]  # rows written per track table
    tightened: bool  # something left the public layer, or the privacy fingerprint changed
    state: pl.DataFrame  # the new private/public_build_state


def _update_tracks(
    lake: Lake, activities: pl.DataFrame, id_map: pl.DataFrame, plan: RoutePlan, privacy: PrivacySettings,
    handle: str, stored_state: pl.DataFrame, athlete_id: str, years: list[int], edits: Edits, workers: int,
) -> _Tracks:
    """Recompute routes, shapes and samples of new or changed public activities.

    When an activity left the public layer or the privacy fingerprint changed, every track table
    is rewritten whole (the caller then purges history), so no commit names a hidden id. Many
    activities to compute (a fresh layer) spread the partitions over `workers` processes.
    """
    settings_fp = plan.fingerprint(privacy)
    shaped = plan.activities.select("activity_id", "as_shape")
    with_plan = activities.join(shaped, on="activity_id", how="left").with_columns(pl.col("as_shape").fill_null(False))
    wanted = (
        public.activity_fingerprints(with_plan.lazy(), settings_fp).collect()
        .join(id_map, on="activity_id")
        .join(with_plan.select("activity_id", "as_shape", "athlete_id"), on="activity_id")
    )
    complete = all(table_exists(lake, s) for s in public_tables.TRACKS) and table_exists(lake, public_state.SPEC)
    previous = _previous_state(stored_state) if complete else None
    if previous is None:  # first build, or a state written before shapes and settings fingerprints
        complete, previous = False, public_state.SPEC.empty()
    unchanged = wanted.join(previous.select("activity_id", "fingerprint", "public_activity_id"),
                            on=["activity_id", "fingerprint", "public_activity_id"], how="semi")
    left = set(previous["public_activity_id"]) - set(wanted["public_activity_id"])
    settings_changed = bool(set(previous["settings_fingerprint"].drop_nulls()) - {settings_fp})
    # A route that was on the map and now starts or ends at a (new) place: its old version must go.
    now_shapes = wanted.filter(pl.col("as_shape")).select("activity_id")
    unplaced = previous.filter(pl.col("has_route")).join(now_shapes, on="activity_id", how="semi").height
    tightened = complete and bool(left or settings_changed or unplaced)
    full = not complete or tightened
    todo = wanted if full else wanted.join(unchanged.select("activity_id"), on="activity_id", how="anti")
    log.info("public layer: tracks of %d activities to compute%s", todo.height, " (fresh snapshot)" if full else "")

    todo_map = todo.select("activity_id", "public_activity_id")
    parts: dict[str, list[pl.DataFrame]] = {"routes": [], "shapes": [], "samples": []}
    jobs = [(lake, athlete_id, year, todo_map, edits, plan, privacy) for year in (years if todo.height else [])]
    if workers > 1 and len(jobs) > 1 and todo.height >= PARALLEL_MIN_ACTIVITIES:
        # One records partition per process (spawn: deltalake's runtime panics in a forked child).
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=get_context("spawn")) as pool:
            computed = list(pool.map(partition_tracks, *zip(*jobs)))
    else:
        computed = [partition_tracks(*job) for job in jobs]  # one records partition in memory at a time
    for routes_part, shapes_part, samples_part in computed:
        parts["routes"].append(routes_part)
        parts["shapes"].append(shapes_part)
        parts["samples"].append(samples_part)

    def joined(name: str, spec: TableSpec) -> pl.DataFrame:
        columns = [c for c in spec.schema if c != "athlete"]
        frames = [part.select(columns) for part in parts[name]] or [spec.empty().select(columns)]
        return pl.concat(frames).sort("public_activity_id", "seq")

    routes = joined("routes", public_tables.ROUTES_PUBLIC)
    shapes = joined("shapes", public_tables.ROUTE_SHAPES_PUBLIC)
    samples = joined("samples", public_tables.SAMPLES_PUBLIC)

    frames = ((public_tables.ROUTES_PUBLIC, routes), (public_tables.ROUTE_SHAPES_PUBLIC, shapes),
              (public_tables.SAMPLES_PUBLIC, samples))
    for spec, frame in frames:
        mine = frame.with_columns(athlete=pl.lit(handle))
        if full:
            _write_athlete_rows(lake, spec, mine, handle, whole=True)
        elif todo.height:
            replace_rows(lake, spec, mine, by="public_activity_id", values=set(todo["public_activity_id"]))

    computed = todo.select(
        "athlete_id", "activity_id", "public_activity_id", "fingerprint", settings_fingerprint=pl.lit(settings_fp),
        has_route=pl.col("public_activity_id").is_in(routes["public_activity_id"].unique().implode()),
        has_shape=pl.col("public_activity_id").is_in(shapes["public_activity_id"].unique().implode()),
    )
    kept = previous.join(unchanged.select("activity_id"), on="activity_id", how="semi") if not full else None
    new_state = computed if kept is None else pl.concat([kept, computed], how="vertical_relaxed")
    counts = {spec.name: frame.height for spec, frame in frames}
    return _Tracks(counts, tightened, public_state.SPEC.conform(new_state))
