"""Pure route/sample anonymization rules, on hand-made points."""

from __future__ import annotations

import math

import polars as pl
import pytest

from marts.privacy import (
    COORD_DECIMALS,
    EARTH_RADIUS_M,
    PrivacyZone,
    anonymize_routes,
    inside_any_zone,
    parse_privacy_zones,
)

ZONE = PrivacyZone(48.85, 2.35, 400.0)


def _north_of(zone: PrivacyZone, metres: float) -> tuple[float, float]:
    """Exactly `metres` north along the meridian (haversine distance = metres)."""
    return zone.lat_deg + math.degrees(metres / EARTH_RADIUS_M), zone.lon_deg


def _inside(points) -> list[bool]:
    frame = pl.DataFrame({"lat_deg": [p[0] for p in points], "lon_deg": [p[1] for p in points]})
    return frame.select(inside_any_zone((ZONE,)))[:, 0].to_list()


def test_boundary_counts_as_inside_and_far_points_do_not():
    assert _inside([_north_of(ZONE, 400.0), _north_of(ZONE, 0.0), _north_of(ZONE, 399.0)]) == [True, True, True]
    assert _inside([_north_of(ZONE, 420.0), _north_of(ZONE, 5000.0)]) == [False, False]


def _metres_north(lat: float) -> float:
    return math.radians(lat - ZONE.lat_deg) * EARTH_RADIUS_M


def test_zone_test_applies_to_rounded_published_coordinates():
    limit = ZONE.radius_m * 1.005 + 1.0
    # A raw fix outside the zone (margin included) whose published, rounded latitude is inside.
    candidates = [_north_of(ZONE, limit + i / 100)[0] for i in range(5, 60)]
    lat_out = next(lat for lat in candidates if _metres_north(round(lat, COORD_DECIMALS)) <= limit)
    assert _metres_north(lat_out) > limit
    lats = [lat_out] + [lat_out + math.degrees(d / EARTH_RADIUS_M) for d in range(20, 600, 20)]
    points = pl.LazyFrame({"activity_id": "x", "seq": list(range(len(lats))), "lat_deg": lats, "lon_deg": ZONE.lon_deg})
    out = anonymize_routes(points, (ZONE,), trim_m=0.0).collect()
    assert out.height == len(lats) - 1
    assert min(_metres_north(lat) for lat in out["lat_deg"]) > limit


def test_rounding_then_zone_test_hides_a_point_that_rounds_inside():
    # Build a route heading north away from the zone; the published first point must be outside
    # after rounding, whatever the raw fix was.
    lats = [ZONE.lat_deg + math.degrees(d / EARTH_RADIUS_M) for d in range(0, 2000, 3)]
    points = pl.LazyFrame({"activity_id": "r", "seq": list(range(len(lats))), "lat_deg": lats, "lon_deg": ZONE.lon_deg})
    out = anonymize_routes(points, (ZONE,), trim_m=0.0).collect()
    first = out.sort("seq").row(0, named=True)
    distance = math.radians(first["lat_deg"] - ZONE.lat_deg) * EARTH_RADIUS_M
    assert distance > 400.0 * 1.005 + 1.0
    assert first["lat_deg"] == round(first["lat_deg"], COORD_DECIMALS)


def test_parse_privacy_zones():
    assert parse_privacy_zones("") == ()
    assert parse_privacy_zones(" 48.85, 2.35, 400 ; -33.9,151.2,250;") == (
        PrivacyZone(48.85, 2.35, 400.0),
        PrivacyZone(-33.9, 151.2, 250.0),
    )
    for bad in ("48.85,2.35", "a,b,c", "91,0,100", "48,2,-5", "48,2,0"):
        with pytest.raises(ValueError, match="RUNLAKE_PRIVACY_ZONES"):
            parse_privacy_zones(bad)
