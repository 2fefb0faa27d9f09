"""The athlete's corrections (`private/overrides`) applied to activities, as pure functions.

Applied by the marts build to the activities it loads, before their fingerprints are computed:
a new or changed correction changes the activity's fingerprint, so an incremental build
recomputes that activity exactly as a full build does. An override row finds its activity through
any identity they share (activity id, Strava id, FIT file and session: `marts.visibility`), so a
correction made while a run was Strava-only still applies after its watch file merged with it,
and after `runlake lake rebuild`. When several rows reach one activity, each field takes the
latest non-null value (`set_at`).

* `sport`, `distance_m` replace the activity's values: summaries, paces, session type, daily and
  weekly distance and the public layer use them. Best efforts come from the records stream
  (its cumulative distance), so a corrected distance does not change them.
* `is_race` makes the session type `race` (`summary_with_corrections`).
* `exclude_from_load` makes the activity's `trimp` 0 (`trimp_method` `excluded`), so it adds
  nothing to `daily_load`'s load, fitness and fatigue.
* `corrected_fields` (e.g. "distance,race") names what was corrected, on `activity_summary`.
"""

from __future__ import annotations

import polars as pl

from marts.edits import is_part
from marts.visibility import activity_tokens, mark_tokens

#: (override column, name in `corrected_fields`), in the order `corrected_fields` lists them.
FIELDS = (("sport", "sport"), ("distance_m", "distance"), ("is_race", "race"), ("exclude_from_load", "load"))

#: Columns `apply_overrides` adds to activities: null on an activity without a correction.
ADDED = ("override_race", "override_no_load", "corrected_fields")

EXCLUDED = "excluded"


def corrections(activities: pl.LazyFrame, overrides: pl.LazyFrame) -> pl.LazyFrame:
    """(`activity_id`, sport, distance_m, is_race, exclude_from_load): per activity reached by an
    override, each field's latest non-null value. Activities without an override are absent."""
    covering = activity_tokens(_own_identities(activities)).join(mark_tokens(overrides), on="token").select("activity_id", "mark_id").unique()
    values = overrides.select(pl.col("activity_id").alias("mark_id"), "set_at", *[c for c, _ in FIELDS])
    return (
        covering.join(values, on="mark_id")
        .sort("set_at", "mark_id")
        .group_by("activity_id")
        .agg(*[pl.col(c).drop_nulls().last().alias(c) for c, _ in FIELDS])
    )


def _own_identities(activities: pl.LazyFrame) -> pl.LazyFrame:
    """A split's part (marts/edits.py) is corrected only under its own id: it shares its
    activity's Strava id and FIT file, whose corrections are the first part's."""
    if "edited" not in activities.collect_schema().names():
        return activities
    return activities.with_columns(
        [pl.when(is_part()).then(None).otherwise(pl.col(c)).alias(c) for c in ("strava_id", "fit_sha256", "session_index")]
    )


def apply_overrides(activities: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """`activities` with their corrections: `sport` and `distance_m` replaced, plus the `ADDED`
    columns (`override_race`, `override_no_load`: true or null; `corrected_fields`: the corrected
    field names joined by ",", or null). Without a correction a row is unchanged but for the
    null `ADDED` columns."""
    found = corrections(activities.lazy(), overrides.lazy()).collect()
    names = [
        pl.when(pl.col(f"_o_{c}").is_not_null() if c in ("sport", "distance_m") else pl.col(f"_o_{c}").fill_null(False))
        .then(pl.lit(name))
        for c, name in FIELDS
    ]
    joined = activities.join(found.rename({c: f"_o_{c}" for c, _ in FIELDS}), on="activity_id", how="left")
    listed = pl.concat_str(names, separator=",", ignore_nulls=True)
    return joined.with_columns(
        sport=pl.coalesce("_o_sport", "sport"),
        distance_m=pl.coalesce("_o_distance_m", "distance_m"),
        override_race=pl.when(pl.col("_o_is_race")).then(True),
        override_no_load=pl.when(pl.col("_o_exclude_from_load")).then(True),
        corrected_fields=pl.when(listed != "").then(listed),
    ).drop([f"_o_{c}" for c, _ in FIELDS])


def summary_with_corrections(summary: pl.DataFrame, activities: pl.DataFrame) -> pl.DataFrame:
    """`activity_summary` rows with the corrections that act after the computation: a race's
    session type, an excluded activity's load (0). `activities`: rows from `apply_overrides`."""
    flags = activities.select("activity_id", "override_race", "override_no_load")
    return (
        summary.join(flags, on="activity_id", how="left")
        .with_columns(
            session_type=pl.when(pl.col("override_race")).then(pl.lit("race")).otherwise("session_type"),
            trimp=pl.when(pl.col("override_no_load")).then(pl.lit(0.0)).otherwise("trimp"),
            trimp_method=pl.when(pl.col("override_no_load")).then(pl.lit(EXCLUDED)).otherwise("trimp_method"),
        )
        .select(summary.columns)
    )
