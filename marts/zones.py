"""Five heart-rate zones on heart-rate reserve (Karvonen).

Zones are fractions of heart-rate reserve, HRR = (HR - rest) / (max - rest) (Karvonen, Kentala &
Mustala 1957), the same quantity Banister's TRIMP weights, so zones and load agree:

    Z1 < 60 % HRR (recovery; includes everything below), Z2 60-70 % (aerobic endurance),
    Z3 70-80 % (tempo), Z4 80-90 % (threshold), Z5 >= 90 % (VO2max and above).

A value on a boundary belongs to the upper zone. Zone time uses the same intervals as TRIMP
(marts/load.py): an interval counts with the HR of its end sample; pauses (> 30 s) and intervals
without HR count nowhere.
"""

from __future__ import annotations

import polars as pl

from lake.marts import ZONE_COLUMNS

#: Lower HRR bounds of zones 2..5.
ZONE_BOUNDS_HRR = (0.60, 0.70, 0.80, 0.90)


def zone_index(hrr: pl.Expr) -> pl.Expr:
    """Zone number 1..5 for an HRR expression (null stays null)."""
    z = pl.lit(1, dtype=pl.Int8)
    for bound in ZONE_BOUNDS_HRR:
        z = z + (hrr >= bound).cast(pl.Int8)
    return pl.when(hrr.is_null()).then(None).otherwise(z)


def zone_time_exprs(zone: pl.Expr, seconds: pl.Expr) -> list[pl.Expr]:
    """Aggregations: seconds spent in each zone (0.0 when none)."""
    return [
        seconds.filter(zone == i + 1).sum().cast(pl.Float64).alias(name)
        for i, name in enumerate(ZONE_COLUMNS)
    ]
