"""Route and sample anonymization: privacy zones, start/end trim, downsampling (pure polars).

The order is fixed because each step must not undo the one before (docs/privacy.md):

1. along-route distance from the raw GPS fixes (haversine between consecutive fixes);
2. trim: hide `trim_m` from the first and from the last fix; a route shorter than twice the trim
   publishes nothing;
3. downsample (a point every `spacing` metres, at most `MAX_ROUTE_POINTS` per route) and round
   coordinates to `COORD_DECIMALS`;
4. privacy zones, tested on the rounded coordinates that are published: a point on the boundary
   (or within a small margin beyond it, for the difference between geodesic models) is inside.

Removing points inside a zone splits a route into `segment`s so that no line is drawn across the
hidden stretch.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

EARTH_RADIUS_M = 6_371_000.0
COORD_DECIMALS = 5  # ~1.1 m of latitude
ROUTE_SPACING_M = 10.0
MAX_ROUTE_POINTS = 800
#: A point this much beyond a zone's radius still counts as inside: haversine on a sphere and
#: ellipsoidal distances differ by up to ~0.5 %, and hiding a few metres more is the safe side.
ZONE_MARGIN_FRACTION = 0.005
ZONE_MARGIN_M = 1.0
SAMPLE_STEP_S = 10.0
MAX_SAMPLES = 720


@dataclass(frozen=True)
class PrivacyZone:
    lat_deg: float
    lon_deg: float
    radius_m: float


def parse_privacy_zones(text: str) -> tuple[PrivacyZone, ...]:
    """`'lat,lon,radius_m;…'` (RUNLAKE_PRIVACY_ZONES) → zones; a malformed entry is an error.

    Errors name the entry by its position (1 = first, counting every `;`), never by its text: the
    text is the athlete's private places, and error messages end up in logs and flow states.
    """
    zones = []
    for position, raw in enumerate(text.replace("\n", ";").split(";"), start=1):
        entry = raw.strip()
        if not entry:
            continue
        which = f"entry {position} of RUNLAKE_PRIVACY_ZONES"
        parts = [p.strip() for p in entry.split(",")]
        try:
            lat, lon, radius = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"{which} is not 'lat,lon,radius_m' (e.g. '48.8566,2.3522,500')") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"{which} has a latitude/longitude out of range")
        if not radius > 0:
            raise ValueError(f"{which} needs a positive radius in metres")
        zones.append(PrivacyZone(lat, lon, radius))
    return tuple(zones)


def haversine_m(lat1: pl.Expr, lon1: pl.Expr, lat2: pl.Expr | float, lon2: pl.Expr | float) -> pl.Expr:
    """Great-circle distance in metres between two (lat, lon) points given in degrees."""
    lat2 = lat2 if isinstance(lat2, pl.Expr) else pl.lit(lat2)
    lon2 = lon2 if isinstance(lon2, pl.Expr) else pl.lit(lon2)
    phi1, phi2 = lat1.radians(), lat2.radians()
    dphi = (lat2 - lat1).radians()
    dlmb = (lon2 - lon1).radians()
    a = (dphi / 2).sin() ** 2 + phi1.cos() * phi2.cos() * (dlmb / 2).sin() ** 2
    return 2 * EARTH_RADIUS_M * a.clip(0.0, 1.0).sqrt().arcsin()


def inside_any_zone(zones: tuple[PrivacyZone, ...], lat: str = "lat_deg", lon: str = "lon_deg") -> pl.Expr:
    """True for a point within (or on the boundary of, or within the margin of) any zone."""
    if not zones:
        return pl.lit(False)
    tests = [
        haversine_m(pl.col(lat), pl.col(lon), z.lat_deg, z.lon_deg)
        <= z.radius_m * (1 + ZONE_MARGIN_FRACTION) + ZONE_MARGIN_M
        for z in zones
    ]
    return pl.any_horizontal(tests)


def _kept_after_trim(along: str, total: str, trim_m: float) -> pl.Expr:
    """Points at least `trim_m` from both ends, on routes longer than twice the trim."""
    return (pl.col(total) > 2 * trim_m) & (pl.col(along) >= trim_m) & (pl.col(total) - pl.col(along) >= trim_m)


def anonymize_routes(points: pl.LazyFrame, zones: tuple[PrivacyZone, ...], trim_m: float) -> pl.LazyFrame:
    """Raw GPS fixes (`activity_id`, `seq`, `lat_deg`, `lon_deg`) → published route points.

    Returns `activity_id`, `seq` (renumbered 0…n-1), `segment`, `lat_deg`, `lon_deg`.
    """
    by = "activity_id"
    fixes = (
        points.filter(pl.col("lat_deg").is_not_null() & pl.col("lon_deg").is_not_null())
        .filter(pl.col("lat_deg").is_between(-90, 90) & pl.col("lon_deg").is_between(-180, 180))
        .sort(by, "seq")
        .with_columns(
            step_m=haversine_m(
                pl.col("lat_deg"), pl.col("lon_deg"), pl.col("lat_deg").shift(1).over(by), pl.col("lon_deg").shift(1).over(by)
            ).fill_null(0.0)
        )
        .with_columns(along_m=pl.col("step_m").cum_sum().over(by), total_m=pl.col("step_m").sum().over(by))
    )
    spacing = pl.max_horizontal(pl.lit(ROUTE_SPACING_M), pl.col("total_m") / MAX_ROUTE_POINTS)
    kept = (
        fixes.filter(_kept_after_trim("along_m", "total_m", trim_m))
        .with_columns(bucket=(pl.col("along_m") / spacing).floor())
        .filter(pl.col("bucket").is_first_distinct().over(by))
        .with_columns(pl.col("lat_deg").round(COORD_DECIMALS), pl.col("lon_deg").round(COORD_DECIMALS))
        .with_columns(inside=inside_any_zone(zones))
        .with_columns(
            segment=(pl.col("inside").not_() & pl.col("inside").shift(1, fill_value=False).over(by)).cum_sum().over(by)
        )
        .filter(~pl.col("inside"))
    )
    return kept.select(
        by,
        seq=(pl.int_range(pl.len()).over(by)).cast(pl.Int32),
        segment=pl.col("segment").cast(pl.Int32),
        lat_deg="lat_deg",
        lon_deg="lon_deg",
    )


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
        .sort(by, "seq")
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
