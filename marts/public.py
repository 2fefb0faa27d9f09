"""The anonymized public layer as pure transforms (LazyFrame → LazyFrame; no I/O).

`pipeline/steps/build_public.py` reads the private tables and marts, calls these, and overwrites
`<lake>/public/*`. The rules (docs/privacy.md): only public activities (not private by
`RUNLAKE_PRIVATE_ACTIVITIES`, Strava's flag or a privacy mark, not deleted, from a source in
`RUNLAKE_PUBLIC_SOURCES`); keyed-HMAC ids; dates without time of day; aggregates recomputed over
the public activities only, with the marts' own functions so the formulas are the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable

import polars as pl

from lake import public as public_tables
from lake.marts import ZONE_COLUMNS
from lake.table import TableSpec
from marts import visibility
from marts.daily import daily_totals, fitness
from marts.efforts import personal_bests, race_predictions
from marts.weekly import weekly_summary

#: Placeholder owner for the marts' functions, which take one; dropped before publishing.
_NOBODY = "public"

PUBLIC_ID_HEX = 20  # 80 bits: collision-free for any one athlete's history


def source_components(source: pl.Expr) -> pl.Expr:
    """'fit+strava' → ['fit', 'strava'] (lower case)."""
    return source.fill_null("").str.to_lowercase().str.split("+")


def is_public_source(source: pl.Expr, allowed: frozenset[str]) -> pl.Expr:
    """Whether an activity's source may be published.

    A merged 'fit+strava' row counts as a FIT activity (its samples come from the athlete's own
    watch file; Strava only adds name, description, gear and the private flag, none of which is
    published), so it is public when 'fit' is allowed. A Strava-only row needs 'strava' in
    RUNLAKE_PUBLIC_SOURCES: Strava's API terms allow showing a user's Strava data only to that
    user.
    """
    parts = source_components(source)
    effective = pl.when(parts.list.contains("fit")).then(pl.lit("fit")).otherwise(parts.list.first())
    return effective.is_in(sorted(allowed)) if allowed else pl.lit(False)


def public_activity_ids(
    activities: pl.LazyFrame, *, private_ids: Iterable[str], public_sources: frozenset[str], marks: pl.LazyFrame
) -> pl.LazyFrame:
    """The `activity_id`s that may be published (one column), from the `activities` table and the
    athlete's `private/privacy_marks`.

    Hidden: a run flagged private by Strava, named by an entry of `private_ids`
    (RUNLAKE_PRIVATE_ACTIVITIES: activity id, Strava id, `strava-<id>` or Strava URL, any case;
    `marts.visibility`) under any identity it has had, or whose latest privacy mark is private
    (the mark outlives the Strava flag, the Strava id and a rebuild); a deleted run; a run whose
    source RUNLAKE_PUBLIC_SOURCES does not allow.
    """
    state = visibility.privacy_state(activities, marks, visibility.parse_private_entries(private_ids))
    return (
        activities.join(state.select("activity_id", "private"), on="activity_id", how="left")
        .filter(
            ~pl.col("private").fill_null(False)
            & ~pl.col("is_deleted").fill_null(False)
            & is_public_source(pl.col("source"), public_sources)
        )
        .select("activity_id")
        .unique()
    )


def public_id(key: bytes, activity_id: str) -> str:
    """HMAC-SHA256(key, activity_id), hex-truncated: stable for a key, not derivable without it."""
    return hmac.new(key, activity_id.encode("utf-8"), hashlib.sha256).hexdigest()[:PUBLIC_ID_HEX]


def public_id_map(activity_ids: Iterable[str], key: bytes) -> pl.LazyFrame:
    """`activity_id` → `public_activity_id` for the given ids."""
    ids = sorted(set(activity_ids))
    return pl.LazyFrame(
        {"activity_id": ids, "public_activity_id": [public_id(key, i) for i in ids]},
        schema={"activity_id": pl.String, "public_activity_id": pl.String},
    )


def started_before(today: dt.date) -> pl.Expr:
    """An `activities` row whose local start date is before `today`: an activity is published
    only from the day after it, so the moment it appears does not tell when the athlete got home."""
    local = pl.col("start_time") + pl.duration(seconds=pl.col("utc_offset_s").fill_null(0))
    return local.dt.date() < today


def public_activities(
    summary: pl.LazyFrame, id_map: pl.LazyFrame, routed: pl.LazyFrame, shaped: pl.LazyFrame
) -> pl.LazyFrame:
    """marts/activity_summary rows of public activities → public/activities (no time of day).

    `routed` lists the `public_activity_id`s with published route points, `shaped` those with a
    published route shape.
    """
    routed_ids = routed.select("public_activity_id").unique().with_columns(has_route=pl.lit(True))
    shaped_ids = shaped.select("public_activity_id").unique().with_columns(has_route_shape=pl.lit(True))
    return (
        summary.join(id_map, on="activity_id", how="inner")
        .join(routed_ids, on="public_activity_id", how="left")
        .join(shaped_ids, on="public_activity_id", how="left")
        .select(
            "public_activity_id",
            "date",
            "sport",
            "sub_sport",
            "session_type",
            "rep_structure",
            "distance_m",
            pl.col("moving_s").alias("duration_s"),
            "elapsed_s",
            pl.col("moving_pace_s_per_km").alias("pace_s_per_km"),
            "gap_s_per_km",
            "avg_hr_bpm",
            "max_hr_bpm",
            "ascent_m",
            "trimp",
            "trimp_estimated",
            *ZONE_COLUMNS,
            "efficiency_factor",
            "aerobic_decoupling_pct",
            pl.col("has_route").fill_null(False),
            pl.col("has_route_shape").fill_null(False),
        )
        .sort("date", "public_activity_id")
    )


def replace_ids(frame: pl.LazyFrame, id_map: pl.LazyFrame, column: str = "activity_id", to: str = "public_activity_id") -> pl.LazyFrame:
    """Swap a private id column for the public one, keeping only rows of public activities."""
    mapping = id_map.rename({"activity_id": column, "public_activity_id": to})
    return frame.join(mapping, on=column, how="inner").drop(column)


def public_best_efforts(best_efforts: pl.LazyFrame, id_map: pl.LazyFrame) -> pl.LazyFrame:
    """marts/best_efforts of public activities, without `start_offset_s` or private ids."""
    return replace_ids(best_efforts.drop("athlete_id", "start_offset_s", strict=False), id_map).sort(
        "date", "public_activity_id", "distance_m"
    )


def drop_athlete(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.drop("athlete_id", strict=False)


def public_daily_load(public_summary: pl.LazyFrame, today: dt.date) -> pl.LazyFrame:
    """daily_load recomputed over public activities only, with the marts' own functions.

    Days run from the first public activity day to `today` (or the last public day if later),
    as in marts/daily_load, so a hidden activity changes no public number.
    """
    bounds = public_summary.select(pl.col("date").min().alias("first"), pl.col("date").max().alias("last")).collect()
    first, last = bounds["first"][0], bounds["last"][0]
    if first is None:
        return pl.LazyFrame(schema={"date": pl.Date})
    last_day = max(last, today)
    totals = daily_totals(public_summary, _NOBODY, first, last_day)
    return fitness(totals, first_day=first).drop("athlete_id")


def public_weekly_summary(public_daily: pl.LazyFrame, public_summary: pl.LazyFrame) -> pl.LazyFrame:
    """weekly_summary over the public daily rows (same function as the private mart)."""
    if "distance_m" not in public_daily.collect_schema().names():
        return pl.LazyFrame(schema={"week_start": pl.Date})
    return weekly_summary(public_daily.with_columns(athlete_id=pl.lit(_NOBODY)), public_summary).drop("athlete_id")


def public_records(public_efforts: pl.LazyFrame, today: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(public/personal_bests, public/race_predictions) from public best efforts only.

    The marts' own `personal_bests` and `race_predictions` run on the public efforts (the public
    id standing in for the private one), so a private race never becomes a public PB or basis.
    """
    as_private = public_efforts.rename({"public_activity_id": "activity_id"}).with_columns(athlete_id=pl.lit(_NOBODY))
    bests = personal_bests(as_private).drop("athlete_id").rename({"activity_id": "public_activity_id"})
    predictions = (
        race_predictions(as_private, today).drop("athlete_id").rename({"basis_activity_id": "basis_public_activity_id"})
    )
    return bests.collect(), predictions.collect()


def public_layer(
    summary: pl.LazyFrame,
    id_map: pl.LazyFrame,
    efforts: pl.DataFrame,
    routed: pl.LazyFrame,
    shaped: pl.LazyFrame,
    today: dt.date,
) -> list[tuple[TableSpec, pl.DataFrame]]:
    """The small public tables (all but routes, shapes and samples), from the public activities'
    summary rows and efforts; `routed`/`shaped` list the public ids with route points/shapes."""
    daily = public_daily_load(summary, today).collect()
    bests, predictions = public_records(efforts.lazy(), today)
    return [
        (public_tables.DAILY_LOAD_PUBLIC, daily),
        (public_tables.WEEKLY_SUMMARY_PUBLIC, public_weekly_summary(daily.lazy(), summary).collect()),
        (public_tables.ACTIVITIES_PUBLIC, public_activities(summary, id_map, routed, shaped).collect()),
        (public_tables.BEST_EFFORTS_PUBLIC, efforts),
        (public_tables.PERSONAL_BESTS_PUBLIC, bests),
        (public_tables.RACE_PREDICTIONS_PUBLIC, predictions),
    ]


def activity_fingerprints(activities: pl.LazyFrame, settings_fp: str) -> pl.LazyFrame:
    """`activity_id`, `fingerprint`: a hash of the columns that change when an activity's records
    are rewritten (new file, Strava edit, merge) and of how its route is published (`as_shape`,
    from `marts.privacy.plan_routes`), combined with the privacy settings fingerprint (`marts.privacy.RoutePlan.fingerprint`)."""
    cols = ["activity_id", "updated_at", "fit_sha256", "strava_id", "source", "start_time", "distance_m", "elapsed_s",
            "as_shape"]
    text = pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in cols], separator="|")
    if "edited" in activities.collect_schema().names():  # a merge or split (marts/edits.py); null elsewhere
        text = pl.concat_str([text, pl.col("edited")], separator="|", ignore_nulls=True)
    return activities.select(
        "activity_id",
        fingerprint=pl.concat_str([text, pl.lit(settings_fp)], separator="#").map_elements(
            lambda t: hashlib.sha256(t.encode()).hexdigest()[:16], return_dtype=pl.String
        ),
    )
