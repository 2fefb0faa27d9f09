"""Build the anonymized public layer: read private tables and marts, write `<lake>/public/*`.

Called by the `build-marts` flow (and so by `runlake marts build`) after the private marts, as
`build_public(lake, settings, today=…)`. The small tables (daily, weekly, activities, efforts,
PBs, predictions) are rewritten whole on every build, so a changed privacy setting or an
activity made private takes effect everywhere at once. Routes and samples, which need the
records, are recomputed only for activities whose fingerprint changed (activity row, zones,
trim, id key; `private/public_build_state`), and removed for activities no longer public; a
first build, or one whose public tables are missing, computes them all. The rules live in
`marts/public.py` and `marts/privacy.py`; docs/privacy.md explains them.
"""

from __future__ import annotations

import datetime as dt
import logging

import polars as pl

from flows.steps.visibility import public_activity_ids
from lake import activities as activities_table
from lake import public as public_tables
from lake import public_state
from lake import records as records_table
from lake.marts import ACTIVITY_SUMMARY, BEST_EFFORTS
from lake.public_id_key import read_or_create_public_id_key
from lake.storage import Lake
from lake.table import TableSpec, overwrite, read, replace_rows, scan, table_exists
from marts import public
from marts.privacy import PrivacyZone, anonymize_routes, anonymize_samples, parse_privacy_zones
from runlake.settings import Settings

log = logging.getLogger(__name__)


def public_id_key(lake: Lake, settings: Settings) -> bytes:
    """RUNLAKE_PUBLIC_ID_SALT when set, else the lake's own random key (kept under private/)."""
    if settings.public_id_salt is not None and settings.public_id_salt.get_secret_value():
        return settings.public_id_salt.get_secret_value().encode("utf-8")
    return read_or_create_public_id_key(lake)


def athlete_today(settings: Settings) -> dt.date:
    """Today in the athlete's home zone (the public daily rows run up to it)."""
    return settings.local_today()


def build_public(lake: Lake, settings: Settings, *, today: dt.date | None = None) -> dict[str, int]:
    """Write every `<lake>/public/` table; returns the rows written (or rewritten) per table."""
    zones = parse_privacy_zones(settings.privacy_zones)  # fail before writing anything
    public_ids = public_activity_ids(lake, settings)  # fails on an unmatched private entry; records privacy marks
    today = today or athlete_today(settings)
    key = public_id_key(lake, settings)

    activities = public_ids.join(scan(lake, activities_table.SPEC), on="activity_id").collect()
    ids = activities["activity_id"]
    id_map = public.public_id_map(ids.to_list(), key).collect()
    log.info("public layer: %d public activities", len(ids))

    settings_fp = public.settings_fingerprint(",".join(map(repr, zones)), settings.privacy_trim_m, key)
    state = _update_tracks(lake, activities, id_map, zones, settings.privacy_trim_m, settings_fp)
    counts = {public_tables.ROUTES_PUBLIC.name: state.pop("routes"), public_tables.SAMPLES_PUBLIC.name: state.pop("samples")}

    summary = scan(lake, ACTIVITY_SUMMARY).filter(pl.col("activity_id").is_in(ids.implode())).collect().lazy()
    efforts = public.public_best_efforts(scan(lake, BEST_EFFORTS), id_map.lazy()).collect()
    routed = read(lake, public_state.SPEC).filter(pl.col("has_route")).select("public_activity_id").lazy()
    for spec, frame in public.public_layer(summary, id_map.lazy(), efforts, routed, today):
        overwrite(lake, spec, frame)
        counts[spec.name] = frame.height
        log.info("public layer: %s ← %d rows", spec.name, frame.height)
    return counts


def _update_tracks(
    lake: Lake,
    activities: pl.DataFrame,
    id_map: pl.DataFrame,
    zones: tuple[PrivacyZone, ...],
    trim_m: float,
    settings_fp: str,
) -> dict[str, int]:
    """Recompute routes and samples of new or changed public activities; drop the others'."""
    wanted = public.activity_fingerprints(activities.lazy(), settings_fp).collect().join(id_map, on="activity_id")
    complete = all(table_exists(lake, s) for s in (public_tables.ROUTES_PUBLIC, public_tables.SAMPLES_PUBLIC))
    previous = read(lake, public_state.SPEC) if complete else public_state.SPEC.empty()
    unchanged = wanted.join(previous.select("activity_id", "fingerprint", "public_activity_id"),
                            on=["activity_id", "fingerprint", "public_activity_id"], how="semi")
    todo = wanted.join(unchanged.select("activity_id"), on="activity_id", how="anti")
    stale = set(previous["public_activity_id"]) - set(unchanged["public_activity_id"])
    log.info("public layer: routes/samples of %d activities to compute, %d to drop", todo.height, len(stale))

    todo_ids = todo["activity_id"].implode()
    records = scan(lake, records_table.SPEC).filter(pl.col("activity_id").is_in(todo_ids))
    todo_map = todo.select("activity_id", "public_activity_id").lazy()
    routes = public.replace_ids(
        anonymize_routes(records.select("activity_id", "seq", "lat_deg", "lon_deg"), zones, trim_m), todo_map
    ).collect().sort("public_activity_id", "seq")
    samples = public.replace_ids(
        anonymize_samples(records.select("activity_id", "seq", "timestamp", "distance_m", "speed_mps", "hr_bpm"), trim_m),
        todo_map,
    ).collect().sort("public_activity_id", "seq")

    touched = stale | set(todo["public_activity_id"])
    for spec, frame in ((public_tables.ROUTES_PUBLIC, routes), (public_tables.SAMPLES_PUBLIC, samples)):
        _replace_activities(lake, spec, frame, touched, complete)

    routed = set(routes["public_activity_id"])
    new_state = pl.concat([
        previous.join(unchanged.select("activity_id"), on="activity_id", how="semi"),
        todo.select("activity_id", "public_activity_id", "fingerprint",
                    has_route=pl.col("public_activity_id").is_in(list(routed))),
    ], how="vertical_relaxed")
    overwrite(lake, public_state.SPEC, new_state)  # last: a crash before it only means recomputing
    return {"routes": routes.height, "samples": samples.height}


def _replace_activities(lake: Lake, spec: TableSpec, frame: pl.DataFrame, touched: set[str], complete: bool) -> None:
    if not complete:
        overwrite(lake, spec, frame)
    elif touched:
        replace_rows(lake, spec, frame, by="public_activity_id", values=touched)
