"""Distance per piece of gear (`marts/gear_distance`): pure polars, no I/O.

Which gear an activity was worn with, in this order:

1. its `gear_id` when `private/gear` has that id (a Strava gear fetched by the sync, or manual);
2. else its `gear_id` read as a gear *name* (an archive's `activities.csv` gives names, not ids):
   the listed gear with that name, compared case-insensitively without surrounding spaces
   (Strava gear before manual, then the smallest id, when several share it);
3. else its `gear_id` as it is (an unknown gear: source `activity`, the raw value as its name);
4. a *running* activity without `gear_id`: the manual gear marked default whose `default_from`
   (null: any date) is on or before the run's local date and that was not retired before that
   date; the latest `default_from` wins, then the latest added.

Every sport counts when the activity names the gear; defaults apply to runs only. docs/marts.md.
"""

from __future__ import annotations

import polars as pl

#: Retirement threshold of a gear whose `retire_km` is not set, in km (a running shoe's usual life).
DEFAULT_RETIRE_KM = 800.0

_GEAR = ("gear_id", "source", "name", "brand", "model", "retire_km", "is_default", "default_from", "retired_at", "added_at")


def _key(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.to_lowercase()


def worn_gear(activities: pl.LazyFrame, gear: pl.LazyFrame) -> pl.LazyFrame:
    """(`activity_id`, `worn_gear_id`) of every activity that has gear, by the rules above.

    `activities`: activity_id, date (local), sport, gear_id. `gear`: `private/gear` rows of the
    same athlete."""
    listed = gear.select(_GEAR)
    named = activities.filter(pl.col("gear_id").is_not_null())
    by_name = (
        listed.with_columns(_key("name").alias("_name"), (pl.col("source") != "strava").alias("_later"))
        .sort("_name", "_later", "gear_id")
        .group_by("_name", maintain_order=True)
        .first()
        .select("_name", pl.col("gear_id").alias("_by_name"))
    )
    explicit = (
        named.join(listed.select(pl.col("gear_id").alias("_by_id")), left_on="gear_id", right_on="_by_id", how="left", coalesce=False)
        .with_columns(_key("gear_id").alias("_name"))
        .join(by_name, on="_name", how="left")
        .select("activity_id", pl.coalesce("_by_id", "_by_name", "gear_id").alias("worn_gear_id"))
    )
    defaults = listed.filter(pl.col("is_default").fill_null(False)).select(
        pl.col("gear_id").alias("worn_gear_id"), "default_from", "added_at",
        pl.col("retired_at").dt.date().alias("_retired_on"),
    )
    bare = activities.filter(pl.col("gear_id").is_null() & (pl.col("sport") == "running")).select("activity_id", "date")
    by_default = (
        bare.join(defaults, how="cross")
        .filter(
            (pl.col("default_from").is_null() | (pl.col("default_from") <= pl.col("date")))
            & (pl.col("_retired_on").is_null() | (pl.col("date") <= pl.col("_retired_on")))
        )
        .sort("activity_id", pl.col("default_from").fill_null(pl.date(1, 1, 1)), "added_at", descending=[False, True, True])
        .group_by("activity_id", maintain_order=True)
        .first()
        .select("activity_id", "worn_gear_id")
    )
    return pl.concat([explicit, by_default])


def gear_distance(activities: pl.LazyFrame, gear: pl.LazyFrame, athlete_id: str) -> pl.LazyFrame:
    """`marts/gear_distance` rows of one athlete: every listed gear (0 km when unused) and every
    unknown gear an activity names, with the distance, counts and dates of the activities worn on.

    `activities`: the athlete's activities not deleted (activity_id, date, sport, distance_m,
    gear_id); `gear`: its `private/gear` rows."""
    worn = worn_gear(activities, gear).join(
        activities.select("activity_id", "date", "sport", "distance_m"), on="activity_id", how="inner"
    )
    used = worn.group_by(pl.col("worn_gear_id").alias("gear_id")).agg(
        # rounded to the millimetre: a float sum depends on the order of its terms, and a retried or
        # re-run write may store the rows in another order (the same shoe, the same km)
        pl.col("distance_m").fill_null(0.0).sum().round(3).alias("distance_m"),
        pl.len().cast(pl.Int32).alias("activities"),
        (pl.col("sport") == "running").sum().cast(pl.Int32).alias("runs"),
        pl.col("date").min().alias("first_used"),
        pl.col("date").max().alias("last_used"),
    )
    listed = gear.select(_GEAR).drop("default_from", "added_at")
    unknown = used.join(listed, on="gear_id", how="anti").select(
        "gear_id", pl.lit("activity").alias("source"), pl.col("gear_id").alias("name")
    )
    every = pl.concat([listed, unknown], how="diagonal_relaxed")
    km = pl.col("distance_m") / 1000.0
    return (
        every.join(used, on="gear_id", how="left")
        .with_columns(
            pl.lit(athlete_id).alias("athlete_id"),
            pl.col("distance_m").fill_null(0.0),
            pl.col("activities").fill_null(0),
            pl.col("runs").fill_null(0),
            pl.col("retire_km").fill_null(DEFAULT_RETIRE_KM),
            pl.col("is_default").fill_null(False),
        )
        .with_columns(
            km.alias("distance_km"),
            (km >= pl.col("retire_km")).alias("over_threshold"),
            (pl.col("retire_km") - km).clip(lower_bound=0.0).alias("remaining_km"),
            pl.col("retired_at").is_not_null().alias("retired"),
        )
        .sort("gear_id")
    )
