"""Small geodesy and keyed-randomness helpers shared by the privacy transforms (pure, no I/O).

Distances are great-circle (haversine on a sphere of `EARTH_RADIUS_M`); local metric coordinates
use an equirectangular projection around a reference point, which is within a fraction of a
per cent over the few kilometres a privacy disc or a route shape spans.
"""

from __future__ import annotations

import hashlib
import hmac
import math

import numpy as np
import polars as pl

EARTH_RADIUS_M = 6_371_000.0


def haversine_m(lat1: pl.Expr, lon1: pl.Expr, lat2: pl.Expr | float, lon2: pl.Expr | float) -> pl.Expr:
    """Great-circle distance in metres between two (lat, lon) points given in degrees."""
    lat2 = lat2 if isinstance(lat2, pl.Expr) else pl.lit(lat2)
    lon2 = lon2 if isinstance(lon2, pl.Expr) else pl.lit(lon2)
    phi1, phi2 = lat1.radians(), lat2.radians()
    dphi = (lat2 - lat1).radians()
    dlmb = (lon2 - lon1).radians()
    a = (dphi / 2).sin() ** 2 + phi1.cos() * phi2.cos() * (dlmb / 2).sin() ** 2
    return 2 * EARTH_RADIUS_M * a.clip(0.0, 1.0).sqrt().arcsin()


def haversine_np(lat1, lon1, lat2, lon2) -> np.ndarray:
    """`haversine_m` on NumPy arrays (degrees in, metres out)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def offset_deg(lat_deg: float, lon_deg: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point `east_m`, `north_m` metres from (lat, lon), in degrees (equirectangular)."""
    lat = lat_deg + math.degrees(north_m / EARTH_RADIUS_M)
    lon = lon_deg + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat_deg))))
    return lat, lon


def keyed_unit(key: bytes, *labels: object) -> float:
    """A number in [0, 1) that only the holder of `key` can compute from the labels.

    Every random choice of the privacy layer (a disc's offset, a route's trim radius, a shape's
    rotation) comes from here, so it is the same on every rebuild (old and new versions of the
    public tables cannot be averaged) and unpredictable without the key.
    """
    message = "\x1f".join(str(label) for label in labels).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
