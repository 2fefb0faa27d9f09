"""`private/gear`: the athlete's shoes (and other gear) known by name (key: `athlete_id`, `gear_id`).

Rows come from two places: the Strava sync (`source` = strava: `GET /gear/{id}` for every gear id
its activities carry, `gear_id` being Strava's id such as `g12345`) and the athlete's own list
(`source` = manual: `runlake gear add`, `gear_id` = `m-` and 8 hex digits). Activities point at
gear through `activities.gear_id` (a Strava id, or from an archive's `activities.csv` the gear's
*name*); a manual gear marked default is worn on runs that have none (`pipeline/gear.py`,
`marts/gear.py`). Private: never in the public layer. docs/tables.md, docs/marts.md.
"""

import polars as pl

from lake.table import TableSpec

SPEC = TableSpec(
    name="private/gear",
    grain="one piece of gear of an athlete",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "gear_id": pl.String,  # Strava's id (g…/b…) or m-<8 hex> for a manual entry
            "source": pl.String,  # strava | manual
            "name": pl.String,  # Strava's name, or the athlete's
            "brand": pl.String,
            "model": pl.String,
            "retire_km": pl.Float64,  # retirement threshold; null: the default (marts.gear.DEFAULT_RETIRE_KM)
            "is_default": pl.Boolean,  # manual: worn on runs without gear (from `default_from` on)
            "default_from": pl.Date,  # first local date it is the default; null: since the first run
            "retired_at": pl.Datetime("us", "UTC"),  # null: in use
            "added_at": pl.Datetime("us", "UTC"),
            "updated_at": pl.Datetime("us", "UTC"),
        }
    ),
    key=("athlete_id", "gear_id"),
)
