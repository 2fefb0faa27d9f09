"""Pure route/sample anonymization rules, on hand-made points."""

from __future__ import annotations

import math

import polars as pl
import pytest

from marts.geo import haversine_np, offset_deg
from marts.places import Place, find_places, hiding_disc, inside_place, route_endpoints
from marts.privacy import (
    COORD_DECIMALS,
    EARTH_RADIUS_M,
    PrivacySettings,
    PrivacyZone,
    ZONE_MARGIN_FRACTION,
    ZONE_MARGIN_M,
    parse_privacy_zones,
    plan_routes,
    positioned_routes,
    route_shapes,
)

ZONE = PrivacyZone(48.85, 2.35, 400.0)


def _north_of(zone: PrivacyZone, metres: float) -> tuple[float, float]:
    """Exactly `metres` north along the meridian (haversine distance = metres)."""
    return zone.lat_deg + math.degrees(metres / EARTH_RADIUS_M), zone.lon_deg


def _inside(points) -> list[bool]:
    frame = pl.DataFrame({"lat_deg": [p[0] for p in points], "lon_deg": [p[1] for p in points]})
    place = Place(ZONE.lat_deg, ZONE.lon_deg, ZONE.radius_m, "")
    return inside_place(frame, (place,), ZONE_MARGIN_FRACTION, ZONE_MARGIN_M).tolist()


def test_boundary_counts_as_inside_and_far_points_do_not():
    assert _inside([_north_of(ZONE, 400.0), _north_of(ZONE, 0.0), _north_of(ZONE, 399.0)]) == [True, True, True]
    assert _inside([_north_of(ZONE, 420.0), _north_of(ZONE, 5000.0)]) == [False, False]


def _metres_north(lat: float) -> float:
    return math.radians(lat - ZONE.lat_deg) * EARTH_RADIUS_M


def _line(activity_id: str, start: tuple[float, float], bearing_deg: float, metres: float, step_m: float = 3.0,
          jitter_s: int = 0, jitter_m: float = 0.0) -> list[tuple]:
    """Fixes along a straight line, optionally after `jitter_s` fixes of jitter at the start."""
    rows = []
    for i in range(jitter_s):
        angle = i * 2.4
        rows.append(offset_deg(*start, jitter_m * math.cos(angle), jitter_m * math.sin(angle)))
    b = math.radians(bearing_deg)
    for k in range(int(metres / step_m) + 1):
        rows.append(offset_deg(*start, k * step_m * math.sin(b), k * step_m * math.cos(b)))
    return [(activity_id, seq, lat, lon) for seq, (lat, lon) in enumerate(rows)]


def _fixes(*routes: list[tuple]) -> pl.LazyFrame:
    rows = [row for route in routes for row in route]
    return pl.LazyFrame(rows, schema=["activity_id", "seq", "lat_deg", "lon_deg"], orient="row")


def _dist(lat1, lon1, lat2, lon2) -> float:
    return float(haversine_np(lat1, lon1, lat2, lon2))


def _plan(fixes: pl.LazyFrame, privacy: PrivacySettings):
    return plan_routes(route_endpoints(fixes).collect(), privacy)


KEY = b"k" * 32


def test_route_from_a_configured_zone_is_published_only_as_a_shape():
    fixes = _fixes(_line("home_run", (ZONE.lat_deg, ZONE.lon_deg), 45.0, 6000.0))
    privacy = PrivacySettings(zones=(ZONE,), key=KEY, place_routes="shape")
    plan = _plan(fixes, privacy)
    assert positioned_routes(fixes, plan).collect().is_empty()
    assert route_shapes(fixes, plan, PrivacySettings(zones=(ZONE,), key=KEY)).collect().is_empty()  # the default
    shape = route_shapes(fixes, plan, privacy).collect()
    assert shape.height > 100 and set(shape.columns) == {"activity_id", "seq", "x_m", "y_m"}
    assert abs(shape["x_m"].mean()) < 5 and abs(shape["y_m"].mean()) < 5  # centred on itself
    # A straight line stays straight and keeps its length (less the trims), whatever its turn.
    length = math.hypot(shape["x_m"][-1] - shape["x_m"][0], shape["y_m"][-1] - shape["y_m"][0])
    assert 6000 - 4 * 200 - 20 <= length <= 6000 - 2 * 200


def test_route_through_a_zone_is_not_placed_on_the_map_but_one_past_its_disc_is():
    start = offset_deg(ZONE.lat_deg, ZONE.lon_deg, 0.0, -4000.0)
    privacy = PrivacySettings(zones=(ZONE,), key=KEY)
    through = _fixes(_line("through", start, 0.0, 8000.0))
    assert positioned_routes(through, _plan(through, privacy)).collect().is_empty()
    # A parallel route 2 km east never enters the disc (at most 1.7 × R + the extra stretch).
    past = _fixes(_line("past", offset_deg(*start, 2000.0, 0.0), 0.0, 8000.0))
    plan = _plan(past, privacy)
    (disc,) = plan.discs
    route = positioned_routes(past, plan).collect()
    assert route.height > 500 and route["segment"].unique().to_list() == [0]
    assert all(_dist(disc.lat_deg, disc.lon_deg, a, b) > disc.radius_m for a, b in zip(route["lat_deg"], route["lon_deg"]))
    assert route["lat_deg"].to_list() == [round(v, COORD_DECIMALS) for v in route["lat_deg"]]


def test_hiding_disc_contains_the_place_off_centre_by_a_keyed_secret():
    place = Place(48.85, 2.35, 500.0, "zone:home")
    offsets = []
    for k in range(40):
        disc = hiding_disc(place, bytes([k]) * 32)
        d = _dist(place.lat_deg, place.lon_deg, disc.lat_deg, disc.lon_deg)
        assert 0.4 * 500 - 1 <= d <= 0.7 * 500 + 1
        assert disc.radius_m >= 500 + d - 1e-6  # contains every point of the place
        offsets.append((disc.lat_deg, disc.lon_deg))
    assert len(set(offsets)) == 40  # the direction and distance depend on the key
    assert hiding_disc(place, KEY) == hiding_disc(place, KEY)  # and only on it: stable across rebuilds


def test_straight_line_trim_is_not_eaten_by_jitter_at_the_door():
    door = (45.5, 5.5)
    fixes = _fixes(_line("jittery", door, 90.0, 5000.0, jitter_s=120, jitter_m=4.0))
    plan = _plan(fixes, PrivacySettings(key=KEY, trim_m=200.0))
    route = positioned_routes(fixes, plan).collect()
    first = _dist(*door, route["lat_deg"][0], route["lon_deg"][0])
    assert 200.0 <= first <= 400.0 + 10.0
    trims = plan.activities.row(0, named=True)
    assert 200 <= trims["trim_start_m"] <= 400 and 200 <= trims["trim_end_m"] <= 400


def test_places_are_found_where_routes_of_several_activities_start_or_end():
    base = (47.0, 8.0)
    near = [offset_deg(*base, 30.0 * i, -20.0 * i) for i in range(3)]
    routes = [_line(f"from_base_{i}", p, 70.0 * i, 3000.0) for i, p in enumerate(near)]
    routes.append(_line("lonely", (46.0, 7.0), 0.0, 3000.0))
    fixes = _fixes(*routes)
    endpoints = route_endpoints(fixes).collect()
    (place,) = find_places(endpoints, radius_m=500.0, join_m=250.0, min_routes=2)
    assert _dist(place.lat_deg, place.lon_deg, *base) < 60 and place.radius_m >= 500
    plan = plan_routes(endpoints, PrivacySettings(key=KEY))
    shaped = dict(plan.activities.select("activity_id", "as_shape").iter_rows())
    assert shaped == {"from_base_0": True, "from_base_1": True, "from_base_2": True, "lonely": False}
    assert find_places(endpoints, radius_m=500.0, join_m=250.0, min_routes=4) == ()


def test_parse_privacy_zones():
    assert parse_privacy_zones("") == ()
    assert parse_privacy_zones(" 48.85, 2.35, 400 ; -33.9,151.2,250;") == (
        PrivacyZone(48.85, 2.35, 400.0),
        PrivacyZone(-33.9, 151.2, 250.0),
    )
    for bad in ("48.85,2.35", "a,b,c", "91,0,100", "48,2,-5", "48,2,0"):
        with pytest.raises(ValueError, match="RUNLAKE_PRIVACY_ZONES"):
            parse_privacy_zones(bad)
