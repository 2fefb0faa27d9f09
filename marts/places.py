"""Protected places: where routes start and end often (home, a camp's lodging), and the discs the
public layer hides around them and around the configured privacy zones (pure; no I/O).

A stalker who knows the published routes looks where they begin and end. So:

* **Places are found, not only configured.** Every route's first and last GPS fix is an
  endpoint; an endpoint with endpoints of at least `min_routes` different activities within
  about `join_m` (a 3×3 block of `join_m / 2` grid cells: 125–350 m for the default 250 m) is *at
  a place*. Connected cells of such endpoints form one `Place`; its centre is the median of its
  endpoints and its radius covers them all (at least the privacy radius R).
* **A disc hides more than the place, off-centre, by a secret.** Each protected place or
  configured zone (radius `r`, at least R) is hidden by a disc of radius `r + d` whose centre is
  moved by `d` = (0.4 … 0.7) × `r` in a direction drawn from the key: it always contains the
  place, but its centre — which a circle fitted to the published points finds — is `d` away from
  the place. The draw is keyed on a coarse cell of the place, so it is the same on every rebuild.

`marts.privacy` uses both: a route that starts or ends at a place (or inside a zone) is published
only as a shape without position; any other route loses the points inside every disc.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from marts.geo import EARTH_RADIUS_M, haversine_np, keyed_unit, offset_deg

#: Grid cell (degrees) that keys a place's secret offset: a place whose centre drifts by a few
#: metres as runs are added keeps its disc.
PLACE_KEY_CELL_DEG = 0.01
#: A place's centre is rounded to this many decimals of a degree (~110 m of latitude), so that a
#: new run from home moves no disc (and recomputes no route) unless the median really moves.
PLACE_CENTRE_DECIMALS = 3
OFFSET_MIN_FRACTION = 0.4
OFFSET_SPAN_FRACTION = 0.3


@dataclass(frozen=True)
class Place:
    """A protected place: found from route endpoints, or a configured zone."""

    lat_deg: float
    lon_deg: float
    radius_m: float
    label: str  # what keys its secret offset (never published)


@dataclass(frozen=True)
class Disc:
    """A circle hidden from positioned routes (always contains its place)."""

    lat_deg: float
    lon_deg: float
    radius_m: float
    place_radius_m: float  # r of the place it hides: scales the per-route extra stretch


def route_endpoints(fixes: pl.LazyFrame) -> pl.LazyFrame:
    """`activity_id`, `seq`, `lat_deg`, `lon_deg` fixes → one row per activity with its first and
    last valid fix: `start_lat`, `start_lon`, `end_lat`, `end_lon` (no sort of the whole history:
    the fixes with the smallest and largest `seq` of each activity)."""
    first, last = pl.col("seq").arg_min(), pl.col("seq").arg_max()
    return fixes.filter(
        pl.col("lat_deg").is_between(-90, 90) & pl.col("lon_deg").is_between(-180, 180)
    ).group_by("activity_id").agg(
        start_lat=pl.col("lat_deg").get(first),
        start_lon=pl.col("lon_deg").get(first),
        end_lat=pl.col("lat_deg").get(last),
        end_lon=pl.col("lon_deg").get(last),
    )


def _cells(lat: pl.Expr, lon: pl.Expr, cell_m: float) -> tuple[pl.Expr, pl.Expr]:
    north = (lat.radians() * EARTH_RADIUS_M / cell_m).floor().cast(pl.Int64)
    east = (lon.radians() * EARTH_RADIUS_M * lat.radians().cos() / cell_m).floor().cast(pl.Int64)
    return north, east


def endpoints_long(endpoints: pl.DataFrame) -> pl.DataFrame:
    """The per-activity endpoints as one row per endpoint: `activity_id`, `end`, `lat_deg`, `lon_deg`."""
    return pl.concat([
        endpoints.select("activity_id", end=pl.lit("start"), lat_deg="start_lat", lon_deg="start_lon"),
        endpoints.select("activity_id", end=pl.lit("end"), lat_deg="end_lat", lon_deg="end_lon"),
    ]).drop_nulls(["lat_deg", "lon_deg"])


def endpoints_at_places(endpoints: pl.DataFrame, *, join_m: float, min_routes: int) -> pl.DataFrame:
    """Each endpoint (`endpoints_long` rows) with `cell_n`, `cell_e` and `at_place`: whether
    endpoints of at least `min_routes` activities lie in its 3×3 cell block."""
    cell_m = join_m / 2
    north, east = _cells(pl.col("lat_deg"), pl.col("lon_deg"), cell_m)
    points = endpoints_long(endpoints).with_columns(cell_n=north, cell_e=east)
    shifts = pl.DataFrame({"dn": [dn for dn in (-1, 0, 1) for _ in range(3)], "de": [-1, 0, 1] * 3})
    neighbourhood = (
        points.select("activity_id", "cell_n", "cell_e").join(shifts, how="cross")
        .select("activity_id", cell_n=pl.col("cell_n") + pl.col("dn"), cell_e=pl.col("cell_e") + pl.col("de"))
        .group_by("cell_n", "cell_e").agg(routes=pl.col("activity_id").n_unique())
    )
    return points.join(neighbourhood, on=["cell_n", "cell_e"], how="left").with_columns(
        at_place=pl.col("routes").fill_null(0) >= min_routes
    ).drop("routes")


def find_places(endpoints: pl.DataFrame, *, radius_m: float, join_m: float, min_routes: int) -> tuple[Place, ...]:
    """The places where routes start or end often, from `route_endpoints` rows."""
    marked = endpoints_at_places(endpoints, join_m=join_m, min_routes=min_routes).filter("at_place")
    if marked.is_empty():
        return ()
    cells = {(n, e) for n, e in marked.select("cell_n", "cell_e").unique().iter_rows()}
    component: dict[tuple[int, int], int] = {}
    for start in sorted(cells):  # connected components of 8-adjacent cells
        if start in component:
            continue
        label, stack = len(set(component.values())), [start]
        component[start] = label
        while stack:
            n, e = stack.pop()
            for other in ((n + dn, e + de) for dn in (-1, 0, 1) for de in (-1, 0, 1)):
                if other in cells and other not in component:
                    component[other] = label
                    stack.append(other)
    marked = marked.with_columns(
        place=pl.struct("cell_n", "cell_e").map_elements(
            lambda c: component[(c["cell_n"], c["cell_e"])], return_dtype=pl.Int64
        )
    )
    places = []
    for (_,), members in sorted(marked.group_by("place"), key=lambda g: g[0]):
        lat = round(float(members["lat_deg"].median()), PLACE_CENTRE_DECIMALS)
        lon = round(float(members["lon_deg"].median()), PLACE_CENTRE_DECIMALS)
        spread = float(haversine_np(lat, lon, members["lat_deg"].to_numpy(), members["lon_deg"].to_numpy()).max())
        cell = (round(lat / PLACE_KEY_CELL_DEG), round(lon / PLACE_KEY_CELL_DEG))
        places.append(Place(lat, lon, max(radius_m, spread + join_m / 2), f"place:{cell[0]}:{cell[1]}"))
    return tuple(places)


def hiding_disc(place: Place, key: bytes) -> Disc:
    """The secret, off-centre disc that hides `place` (see the module docstring)."""
    fraction = OFFSET_MIN_FRACTION + OFFSET_SPAN_FRACTION * keyed_unit(key, "disc-offset", place.label)
    angle = 2 * math.pi * keyed_unit(key, "disc-angle", place.label)
    d = fraction * place.radius_m
    lat, lon = offset_deg(place.lat_deg, place.lon_deg, d * math.cos(angle), d * math.sin(angle))
    actual = float(haversine_np(place.lat_deg, place.lon_deg, lat, lon))  # the projection's d, measured
    return Disc(lat, lon, place.radius_m + actual, place.radius_m)


def inside_place(points: pl.DataFrame, places: tuple[Place, ...], margin_fraction: float, margin_m: float) -> np.ndarray:
    """Whether each (`lat_deg`, `lon_deg`) row lies within (or on, or within the margin of) a place."""
    inside = np.zeros(points.height, dtype=bool)
    lat, lon = points["lat_deg"].to_numpy(), points["lon_deg"].to_numpy()
    for place in places:
        inside |= haversine_np(lat, lon, place.lat_deg, place.lon_deg) <= place.radius_m * (1 + margin_fraction) + margin_m
    return inside
