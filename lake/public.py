"""The anonymized public layer: what `<lake>/public/` holds and the dashboard reads.

Public tables are the one exception to "`athlete_id` on every table": their rows carry the
public athlete's handle (`athlete`) instead, only of athletes whose `public` is true, and nothing
that identifies them beyond it, their devices or their homes.
No column bears a time of day (only local `date`s and durations from an activity's start), ids
are `public_activity_id`s (keyed HMACs, see docs/privacy.md), and the daily/weekly aggregates are
recomputed over the public activities only. `pipeline.steps.build_public.build_public` rewrites the small
tables whole on every build and updates routes/samples per changed activity. docs/privacy.md
documents each rule.
"""

import polars as pl

from lake.marts import BEST_EFFORTS, DAILY_LOAD, PERSONAL_BESTS, RACE_PREDICTIONS, WEEKLY_SUMMARY, ZONE_COLUMNS
from lake.table import TableSpec

#: Columns never allowed in any public table, whatever a future mart adds.
FORBIDDEN_COLUMNS = frozenset(
    {
        "athlete_id",
        "activity_id",
        "strava_id",
        "fit_sha256",
        "device_serial",
        "device_manufacturer",
        "device_product",
        "name",
        "description",
        "gear_id",
        "start_time",
        "utc_offset_s",
        "timestamp",
        "updated_at",
        "ingested_at",
        "start_offset_s",
        "source",
        "is_private",
    }
)


def _without_athlete(
    spec: TableSpec,
    name: str,
    grain: str,
    drop: tuple[str, ...] = (),
    add: dict | None = None,
    key: tuple[str, ...] | None = None,
) -> TableSpec:
    """The public twin of a mart: the public `athlete` handle instead of `athlete_id`, then the
    mart's other columns (minus `drop`)."""
    schema = {"athlete": pl.String} | {c: t for c, t in spec.schema.items() if c != "athlete_id" and c not in drop}
    schema.update(add or {})
    if key is None:
        key = ("athlete", *(c for c in spec.key if c != "athlete_id" and c not in drop))
    return TableSpec(name=name, grain=grain, schema=pl.Schema(schema), key=key)


WEEKLY_SUMMARY_PUBLIC = _without_athlete(
    WEEKLY_SUMMARY, "public/weekly_summary", "one local Monday-to-Sunday week, public activities only"
)
DAILY_LOAD_PUBLIC = _without_athlete(
    DAILY_LOAD, "public/daily_load", "one local calendar day, public activities only"
)

ACTIVITIES_PUBLIC = TableSpec(
    name="public/activities",
    grain="one public activity",
    schema=pl.Schema(
        {
            "athlete": pl.String,  # the public athlete's handle
            "public_activity_id": pl.String,  # HMAC of the private id; stable, not derivable
            "date": pl.Date,  # local date of the start; no time of day
            "sport": pl.String,
            "sub_sport": pl.String,
            "session_type": pl.String,  # easy | long | intervals | tempo | race | treadmill | other
            "rep_structure": pl.String,
            "distance_m": pl.Float64,
            "duration_s": pl.Float64,  # moving time
            "elapsed_s": pl.Float64,
            "pace_s_per_km": pl.Float64,  # moving pace
            "gap_s_per_km": pl.Float64,  # grade-adjusted pace (Minetti)
            "avg_hr_bpm": pl.Float64,
            "max_hr_bpm": pl.Float64,
            "ascent_m": pl.Float64,
            "trimp": pl.Float64,
            "trimp_estimated": pl.Boolean,
            **{c: pl.Float64 for c in ZONE_COLUMNS},
            "efficiency_factor": pl.Float64,
            "aerobic_decoupling_pct": pl.Float64,
            "has_route": pl.Boolean,  # public/routes has points for it (a route placed on a map)
            "has_route_shape": pl.Boolean,  # public/route_shapes has its shape (no position)
        }
    ),
    key=("public_activity_id",),
)

BEST_EFFORTS_PUBLIC = _without_athlete(
    BEST_EFFORTS,
    "public/best_efforts",
    "one public running activity and one target distance it covers",
    drop=("activity_id", "start_offset_s"),
    add={"public_activity_id": pl.String},
    key=("public_activity_id", "effort"),
)

PERSONAL_BESTS_PUBLIC = _without_athlete(
    PERSONAL_BESTS,
    "public/personal_bests",
    "one effort and one period, over public activities",
    drop=("activity_id",),
    add={"public_activity_id": pl.String},
)

RACE_PREDICTIONS_PUBLIC = _without_athlete(
    RACE_PREDICTIONS,
    "public/race_predictions",
    "one target race and one method, from public bests",
    drop=("basis_activity_id",),
    add={"basis_public_activity_id": pl.String},
)

ROUTES_PUBLIC = TableSpec(
    name="public/routes",
    grain="one published point of a public activity's route",
    schema=pl.Schema(
        {
            "athlete": pl.String,  # the public athlete's handle
            "public_activity_id": pl.String,
            "seq": pl.Int32,  # order of the published points (renumbered from 0)
            "segment": pl.Int32,  # from 0 on every route; +1 after each hidden stretch inside a route
            "lat_deg": pl.Float64,  # rounded to 5 decimals (~1 m)
            "lon_deg": pl.Float64,
        }
    ),
    key=("public_activity_id", "seq"),
)

ROUTE_SHAPES_PUBLIC = TableSpec(
    name="public/route_shapes",
    grain="one published point of the shape of a route that starts or ends at a protected place",
    schema=pl.Schema(
        {
            "athlete": pl.String,  # the public athlete's handle
            "public_activity_id": pl.String,
            "seq": pl.Int32,  # order of the published points (from 0)
            "x_m": pl.Float64,  # metres from the route's own centre, turned by a secret angle: no position
            "y_m": pl.Float64,
        }
    ),
    key=("public_activity_id", "seq"),
)

SAMPLES_PUBLIC = TableSpec(
    name="public/samples",
    grain="one downsampled slice of a public activity (pace and HR charts)",
    schema=pl.Schema(
        {
            "athlete": pl.String,  # the public athlete's handle
            "public_activity_id": pl.String,
            "seq": pl.Int32,
            "elapsed_s": pl.Float64,  # from the activity's first sample, not a clock time
            "distance_m": pl.Float64,  # from the activity's first sample
            "speed_mps": pl.Float64,
            "hr_bpm": pl.Float64,
        }
    ),
    key=("public_activity_id", "seq"),
)

ALL = (
    WEEKLY_SUMMARY_PUBLIC,
    DAILY_LOAD_PUBLIC,
    ACTIVITIES_PUBLIC,
    BEST_EFFORTS_PUBLIC,
    PERSONAL_BESTS_PUBLIC,
    RACE_PREDICTIONS_PUBLIC,
    ROUTES_PUBLIC,
    ROUTE_SHAPES_PUBLIC,
    SAMPLES_PUBLIC,
)

#: The per-activity tables `pipeline.steps.build_public` updates incrementally.
TRACKS = (ROUTES_PUBLIC, ROUTE_SHAPES_PUBLIC, SAMPLES_PUBLIC)

for _spec in ALL:  # a guard at definition time: a forbidden column is a bug, not a setting
    _leaks = FORBIDDEN_COLUMNS.intersection(_spec.schema.names())
    assert not _leaks, f"{_spec.name} would publish {_leaks}"
