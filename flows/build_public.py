"""Build the anonymized public layer: read private tables and marts, overwrite `<lake>/public/*`.

Called by the `build-marts` flow (and so by `runlake marts build`) after the private marts. The
public tables are small and rewritten whole on every build, so a changed privacy setting (a new
zone, a longer trim, an activity made private) takes effect everywhere on the next build and
nothing hidden lingers. The rules live in `marts/public.py` and `marts/privacy.py`;
docs/privacy.md explains them.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import polars as pl

from lake import activities as activities_table
from lake import records as records_table
from lake.marts import ACTIVITY_SUMMARY, BEST_EFFORTS
from lake.public_id_key import read_or_create_public_id_key
from lake.storage import Lake
from lake.table import overwrite, scan
from marts import public
from marts.privacy import anonymize_routes, anonymize_samples, parse_privacy_zones
from runlake.settings import Settings

log = logging.getLogger(__name__)


def public_id_key(lake: Lake, settings: Settings) -> bytes:
    """RUNLAKE_PUBLIC_ID_SALT when set, else the lake's own random key (kept under private/)."""
    if settings.public_id_salt is not None and settings.public_id_salt.get_secret_value():
        return settings.public_id_salt.get_secret_value().encode("utf-8")
    return read_or_create_public_id_key(lake)


def athlete_today(settings: Settings) -> dt.date:
    """Today in the athlete's home zone (the public daily rows run up to it)."""
    return dt.datetime.now(ZoneInfo(settings.timezone)).date()


def build_public(lake: Lake, settings: Settings, *, today: dt.date | None = None) -> dict[str, int]:
    """Rewrite every `<lake>/public/` table; returns the row count written per table."""
    zones = parse_privacy_zones(settings.privacy_zones)  # fail before writing anything
    today = today or athlete_today(settings)
    key = public_id_key(lake, settings)

    ids = public.public_activity_ids(
        scan(lake, activities_table.SPEC),
        private_ids=settings.private_activity_ids,
        public_sources=settings.public_source_set,
    ).collect()["activity_id"]
    id_map = public.public_id_map(ids.to_list(), key).collect().lazy()
    log.info("public layer: %d public activities", len(ids))

    summary = scan(lake, ACTIVITY_SUMMARY).filter(pl.col("activity_id").is_in(ids.implode()))
    summary = summary.collect().lazy()
    records = scan(lake, records_table.SPEC).filter(pl.col("activity_id").is_in(ids.implode()))

    trim_m = settings.privacy_trim_m
    routes = public.replace_ids(
        anonymize_routes(records.select("activity_id", "seq", "lat_deg", "lon_deg"), zones, trim_m), id_map
    ).collect()
    samples = public.replace_ids(
        anonymize_samples(
            records.select("activity_id", "seq", "timestamp", "distance_m", "speed_mps", "hr_bpm"), trim_m
        ),
        id_map,
    ).collect()
    efforts = public.public_best_efforts(scan(lake, BEST_EFFORTS), id_map).collect()
    counts = {}
    for spec, frame in public.public_layer(summary, id_map, efforts, routes, samples, today):
        overwrite(lake, spec, frame)
        counts[spec.name] = frame.height
        log.info("public layer: %s ← %d rows", spec.name, frame.height)
    return counts
