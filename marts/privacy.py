"""Route and sample anonymization (pure polars): protected places, start/end trim, shapes.

What a stalker has is the published routes; docs/privacy.md lists the attacks this is measured
against (tests/privacy). The rules, in order:

1. **Places.** Every route's first and last fix is an endpoint; places where endpoints of
   `place_min_routes` activities meet (home, a camp's lodging, a partner's flat) are protected
   without configuration, beside the configured zones (`marts.places`).
2. **Routes at a place have no position.** A route that starts or ends at a protected place or
   inside a configured zone, or that enters the hiding disc of any (step 4), is not on the map: by default not at all, or, when the
   athlete opts in (`place_routes="shape"`), as a shape in metres in a frame centred on the route
   and turned by a keyed angle, with no latitude or longitude (`public/route_shapes`).
3. **Straight-line trim.** Every route hides its points until it has first left a circle of a
   keyed radius between `trim_m` and 2 × `trim_m` around its first fix, and after it last
   enters the same kind of circle around its last fix; standing at the door never eats it.
4. **Discs.** Each place and zone has a secret off-centre disc (`marts.places.hiding_disc`),
   widened per route by a keyed extra stretch of up to `EXTRA_STRETCH_FRACTION` × the place's
   radius. A route with any raw fix inside one is not placed on the map at all: measured, the
   points where routes cross a disc give the place away (tests/privacy, docs/privacy.md).
5. Downsample (a point every `ROUTE_SPACING_M`, at most `MAX_ROUTE_POINTS`) and round to
   `COORD_DECIMALS`. `segment` is 0 on every route (nothing is cut out of a published route).

Radii, offsets and the trim are never published.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import polars as pl

from marts.geo import EARTH_RADIUS_M, haversine_m, keyed_unit
from marts.groups import by_id_and_seq
from runlake.privacy_zones import PrivacyZone, parse_privacy_zones
from marts.places import Disc, Place, endpoints_at_places, find_places, hiding_disc, inside_place, route_endpoints

__all__ = ["EARTH_RADIUS_M", "PrivacyZone", "haversine_m", "parse_privacy_zones"]

COORD_DECIMALS = 5  # ~1.1 m of latitude
ROUTE_SPACING_M = 10.0
MAX_ROUTE_POINTS = 800
#: A point this much beyond a disc's radius still counts as inside: haversine on a sphere and
#: ellipsoidal distances differ by up to ~0.5 %, and hiding a few metres more is the safe side.
ZONE_MARGIN_FRACTION = 0.005
ZONE_MARGIN_M = 1.0
SAMPLE_STEP_S = 10.0
MAX_SAMPLES = 720
DEFAULT_PLACE_RADIUS_M = 500.0
PLACE_JOIN_M = 250.0
DEFAULT_PLACE_MIN_ROUTES = 2
EXTRA_STRETCH_FRACTION = 0.3
SHAPE_DECIMALS = 0  # shapes in whole metres


@dataclass(frozen=True)
class PrivacySettings:
    """Everything the public layer's privacy depends on, for one athlete.

    `zones` are the configured discs that must be hidden; `place_radius_m` (R) is the smallest
    radius of any protected place or zone; `trim_m` the smallest straight-line trim; `key` the
    secret behind every random choice and the public ids; `private_entries` the normalised
    private-activity list; `public_sources` the sources that may be published.
    """

    zones: tuple[PrivacyZone, ...] = ()
    trim_m: float = 200.0
    place_radius_m: float = DEFAULT_PLACE_RADIUS_M
    place_min_routes: int = DEFAULT_PLACE_MIN_ROUTES
    key: bytes = b""
    private_entries: frozenset[str] = field(default_factory=frozenset)
    public_sources: frozenset[str] = frozenset({"fit", "gpx", "tcx"})
    #: Routes that start or end at a protected place: "none" (not published) or "shape".
    place_routes: str = "none"

    def zone_places(self) -> tuple[Place, ...]:
        """The configured zones as places (radius at least R)."""
        return tuple(
            Place(z.lat_deg, z.lon_deg, max(z.radius_m, self.place_radius_m), f"zone:{z.lat_deg!r}:{z.lon_deg!r}")
            for z in self.zones
        )

    def fingerprint(self, places: tuple[Place, ...] = ()) -> str:
        """What published routes depend on besides the activity: settings, places, key."""
        text = repr((self.zones, self.trim_m, self.place_radius_m, self.place_min_routes, self.place_routes, places))
        return hashlib.sha256(text.encode() + hashlib.sha256(self.key).digest()).hexdigest()[:16]


@dataclass(frozen=True)
class RoutePlan:
    """Per activity: how its route is published (`activities`), and the discs every positioned
    route avoids. `activities` has `activity_id`, `as_shape`, `start_lat`, `start_lon`,
    `end_lat`, `end_lon`, `trim_start_m`, `trim_end_m`, `extra_u`, `angle_rad`."""

    activities: pl.DataFrame
    places: tuple[Place, ...]
    discs: tuple[Disc, ...]

    def fingerprint(self, privacy: PrivacySettings) -> str:
        return privacy.fingerprint(self.places)


def plan_routes(endpoints: pl.DataFrame, privacy: PrivacySettings) -> RoutePlan:
    """The plan for every activity of `endpoints` (`marts.places.route_endpoints` rows of *all*
    the athlete's routes, private ones included: they find the places)."""
    found = find_places(endpoints, radius_m=privacy.place_radius_m, join_m=PLACE_JOIN_M,
                        min_routes=privacy.place_min_routes)
    zones = privacy.zone_places()
    marked = endpoints_at_places(endpoints, join_m=PLACE_JOIN_M, min_routes=privacy.place_min_routes)
    configured = tuple(Place(z.lat_deg, z.lon_deg, z.radius_m, "") for z in privacy.zones)
    marked = marked.with_columns(
        at_place=pl.col("at_place") | pl.Series(inside_place(marked, configured, ZONE_MARGIN_FRACTION, ZONE_MARGIN_M))
    )
    shaped = marked.group_by("activity_id").agg(as_shape=pl.col("at_place").any())
    ids = endpoints["activity_id"].to_list()
    key = privacy.key
    keyed = pl.DataFrame(
        {
            "activity_id": ids,
            "trim_start_m": [privacy.trim_m * (1 + keyed_unit(key, "trim-start", i)) for i in ids],
            "trim_end_m": [privacy.trim_m * (1 + keyed_unit(key, "trim-end", i)) for i in ids],
            "extra_u": [keyed_unit(key, "extra", i) for i in ids],
            "angle_rad": [2 * math.pi * keyed_unit(key, "shape-angle", i) for i in ids],
        },
        schema={"activity_id": pl.String, "trim_start_m": pl.Float64, "trim_end_m": pl.Float64,
                "extra_u": pl.Float64, "angle_rad": pl.Float64},
    )
    activities = (
        endpoints.join(shaped, on="activity_id", how="left")
        .with_columns(pl.col("as_shape").fill_null(False))
        .join(keyed, on="activity_id")
    )
    places = found + zones
    return RoutePlan(activities, places, tuple(hiding_disc(p, key) for p in places))


def _trimmed(fixes: pl.LazyFrame, plan: RoutePlan, *, placed: bool) -> pl.LazyFrame:
    """Valid fixes of the planned activities whose route is `placed` (starts or ends at a
    protected place, or enters any hiding disc) or not, trimmed by the straight-line rule and
    downsampled.

    Every step after the choice is per activity, so an activity left out changes nothing for the
    others: the activities on the other side are dropped first, before the sort and the windows.
    An activity planned as a shape is placed without looking at its fixes; the discs are
    searched only on the others' fixes.
    """
    by = "activity_id"
    start = haversine_m(pl.col("lat_deg"), pl.col("lon_deg"), pl.col("start_lat"), pl.col("start_lon"))
    end = haversine_m(pl.col("lat_deg"), pl.col("lon_deg"), pl.col("end_lat"), pl.col("end_lon"))
    valid = fixes.filter(pl.col("lat_deg").is_between(-90, 90) & pl.col("lon_deg").is_between(-180, 180))
    searched = plan.activities.filter(~pl.col("as_shape"))
    in_disc = (
        valid.join(searched.select(by, "extra_u").lazy(), on=by, how="inner")
        .filter(_inside_discs(plan.discs))
        .select(by).unique().with_columns(in_disc=pl.lit(True))
    )
    chosen = (
        valid.join((plan.activities if placed else searched).lazy(), on=by, how="inner")
        .join(in_disc, on=by, how="left")
        .filter((pl.col("as_shape") | pl.col("in_disc").fill_null(False)) == placed)
        .drop("in_disc")
    )
    kept = (
        chosen.sort(by, "seq")
        .with_columns(
            left_start=(start > pl.col("trim_start_m")).cum_max().over(by),
            before_end=(end > pl.col("trim_end_m")).cum_max(reverse=True).over(by),
        )
        .filter(pl.col("left_start") & pl.col("before_end"))
        .with_columns(
            step_m=haversine_m(
                pl.col("lat_deg"), pl.col("lon_deg"), pl.col("lat_deg").shift(1).over(by), pl.col("lon_deg").shift(1).over(by)
            ).fill_null(0.0)
        )
        .with_columns(along_m=pl.col("step_m").cum_sum().over(by), total_m=pl.col("step_m").sum().over(by))
    )
    spacing = pl.max_horizontal(pl.lit(ROUTE_SPACING_M), pl.col("total_m") / MAX_ROUTE_POINTS)
    return (
        kept.with_columns(bucket=(pl.col("along_m") / spacing).floor())
        .filter(pl.col("bucket").is_first_distinct().over(by))
    )


def positioned_routes(fixes: pl.LazyFrame, plan: RoutePlan) -> pl.LazyFrame:
    """Raw fixes (`activity_id`, `seq`, `lat_deg`, `lon_deg`) of planned activities → published
    points of the routes that may be placed on a map (neither starting or ending at a protected
    place nor entering any hiding disc): `activity_id`, `seq` (0…n-1), `segment` (always 0:
    a route is published whole or not on the map at all), `lat_deg`, `lon_deg`."""
    by = "activity_id"
    return (
        _trimmed(fixes, plan, placed=False)
        .select(
            by,
            seq=pl.int_range(pl.len()).over(by).cast(pl.Int32),
            segment=pl.lit(0, dtype=pl.Int32),
            lat_deg=pl.col("lat_deg").round(COORD_DECIMALS),
            lon_deg=pl.col("lon_deg").round(COORD_DECIMALS),
        )
    )


def _inside_discs(discs: tuple[Disc, ...]) -> pl.Expr:
    """True for a raw fix inside any disc widened by the route's keyed extra stretch (a fix on
    the boundary, or within the margin beyond it, counts as inside)."""
    if not discs:
        return pl.lit(False)
    return pl.any_horizontal([
        haversine_m(pl.col("lat_deg"), pl.col("lon_deg"), d.lat_deg, d.lon_deg)
        <= (d.radius_m + pl.col("extra_u") * EXTRA_STRETCH_FRACTION * d.place_radius_m) * (1 + ZONE_MARGIN_FRACTION)
        + ZONE_MARGIN_M
        for d in discs
    ])


def route_shapes(fixes: pl.LazyFrame, plan: RoutePlan, privacy: PrivacySettings) -> pl.LazyFrame:
    """Routes that start or end at a protected place, or pass through a hiding disc → shapes
    without position: `activity_id`,
    `seq`, `x_m` (east), `y_m` (north) in metres from the route's own centre, turned by the
    route's keyed angle (so neither the place nor the streets' orientation can be read off).
    Empty unless `privacy.place_routes` is "shape"."""
    by = "activity_id"
    if privacy.place_routes != "shape":
        fixes = fixes.filter(pl.lit(False))
    lat0 = pl.col("lat_deg").mean().over(by)
    lon0 = pl.col("lon_deg").mean().over(by)
    east = (pl.col("lon_deg") - lon0).radians() * EARTH_RADIUS_M * lat0.radians().cos()
    north = (pl.col("lat_deg") - lat0).radians() * EARTH_RADIUS_M
    cos, sin = pl.col("angle_rad").cos(), pl.col("angle_rad").sin()
    return (
        _trimmed(fixes, plan, placed=True)
        .with_columns(east=east, north=north)
        .select(
            by,
            seq=pl.int_range(pl.len()).over(by).cast(pl.Int32),
            x_m=(pl.col("east") * cos - pl.col("north") * sin).round(SHAPE_DECIMALS),
            y_m=(pl.col("east") * sin + pl.col("north") * cos).round(SHAPE_DECIMALS),
        )
    )


def publish_routes(fixes: pl.LazyFrame, privacy: PrivacySettings) -> pl.LazyFrame:
    """The positioned routes of `fixes`, with places found from these same routes (what the
    attack suite runs against; the public build plans over all of the athlete's routes)."""
    plan = plan_routes(route_endpoints(fixes).collect(), privacy)
    return positioned_routes(fixes, plan)


def _kept_after_trim(along: str, total: str, trim_m: float) -> pl.Expr:
    """Points at least `trim_m` from both ends, on routes longer than twice the trim."""
    return (pl.col(total) > 2 * trim_m) & (pl.col(along) >= trim_m) & (pl.col(total) - pl.col(along) >= trim_m)


def anonymize_samples(samples: pl.LazyFrame, trim_m: float) -> pl.LazyFrame:
    """Raw samples (`activity_id`, `seq`, `timestamp`, `distance_m`, `speed_mps`, `hr_bpm`) →
    downsampled pace/HR slices with times relative to the start and the ends trimmed like routes.

    The trim uses the distance stream (treadmill runs have no GPS); without a distance stream an
    activity publishes no samples. Returns `activity_id`, `seq`, `elapsed_s`, `distance_m`,
    `speed_mps`, `hr_bpm`.
    """
    by = "activity_id"
    base = (
        samples.filter(pl.col("timestamp").is_not_null())
        .map_batches(by_id_and_seq, streamable=False)
        .with_columns(
            elapsed_s=(pl.col("timestamp") - pl.col("timestamp").first().over(by)).dt.total_microseconds() / 1e6,
            dist_m=pl.col("distance_m").forward_fill().over(by) - pl.col("distance_m").drop_nulls().first().over(by),
        )
        .with_columns(total_m=pl.col("dist_m").max().over(by), duration_s=pl.col("elapsed_s").max().over(by))
        .filter(pl.col("dist_m").is_not_null() & _kept_after_trim("dist_m", "total_m", trim_m))
    )
    step = pl.max_horizontal(pl.lit(SAMPLE_STEP_S), pl.col("duration_s") / MAX_SAMPLES)
    sliced = (
        base.with_columns(slice=(pl.col("elapsed_s") / step).floor())
        .group_by(by, "slice")
        .agg(
            elapsed_s=pl.col("elapsed_s").min(),
            distance_m=pl.col("dist_m").min(),
            speed_mps=pl.col("speed_mps").mean(),
            end_s=pl.col("elapsed_s").max(),
            end_m=pl.col("dist_m").max(),
            hr_bpm=pl.col("hr_bpm").cast(pl.Float64).mean(),
        )
        .sort(by, "slice")
    )
    # Where the device gave no speed, use distance over time within the slice.
    derived = (pl.col("end_m") - pl.col("distance_m")) / (pl.col("end_s") - pl.col("elapsed_s"))
    return sliced.select(
        by,
        seq=pl.int_range(pl.len()).over(by).cast(pl.Int32),
        elapsed_s="elapsed_s",
        distance_m="distance_m",
        speed_mps=pl.coalesce(pl.col("speed_mps"), pl.when(pl.col("end_s") > pl.col("elapsed_s")).then(derived)),
        hr_bpm="hr_bpm",
    )
