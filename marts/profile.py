"""The athlete's physiology in force on each day.

`athlete_profile` rows say "from `valid_from` on, these values hold"; a null value means
"unchanged". Before the first row, and wherever every row leaves a value null, the `RUNLAKE_*`
settings hold. History is therefore computed with the values of its time: raising HRmax today
does not rewrite last year's TRIMP unless the new row is dated last year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

#: Banister's weighting constant k by sex (Banister 1991): 1.92 men, 1.67 women.
BANISTER_K = {"m": 1.92, "f": 1.67}
#: Threshold HR when none is configured: 90 % of HRmax (a common LTHR rule of thumb).
DEFAULT_THRESHOLD_HR_FRACTION = 0.90
_EPOCH = dt.date(1900, 1, 1)
VALUE_COLUMNS = ("hr_rest_bpm", "hr_max_bpm", "sex", "threshold_hr_bpm", "threshold_pace_s_per_km")


class ProfileError(ValueError):
    """Physiology values that make no sense (one clear line)."""


@dataclass(frozen=True)
class Physiology:
    """One set of values: the settings defaults, or a day's resolved profile."""

    hr_rest_bpm: int
    hr_max_bpm: int
    sex: str
    threshold_hr_bpm: float | None
    threshold_pace_s_per_km: float

    @classmethod
    def from_settings(cls, settings) -> "Physiology":
        return cls(
            hr_rest_bpm=settings.hr_rest_bpm,
            hr_max_bpm=settings.hr_max_bpm,
            sex=settings.athlete_sex.lower(),
            threshold_hr_bpm=settings.threshold_hr_bpm,
            threshold_pace_s_per_km=settings.threshold_pace_s_per_km,
        )


def check_values(rest: int, hr_max: int, sex: str, threshold_hr: float | None, threshold_pace: float, *, where: str = "") -> None:
    """Raise `ProfileError` for values no athlete has (rest >= max, HRmax 400, ...)."""
    at = f" ({where})" if where else ""
    if not 20 <= rest <= 120:
        raise ProfileError(f"resting HR {rest} bpm is not plausible (20-120){at}")
    if not 100 <= hr_max <= 250:
        raise ProfileError(f"maximum HR {hr_max} bpm is not plausible (100-250){at}")
    if rest >= hr_max:
        raise ProfileError(f"resting HR {rest} must be below maximum HR {hr_max}{at}")
    if sex not in BANISTER_K:
        raise ProfileError(f"sex must be m or f, not {sex!r}{at}")
    if threshold_hr is not None and not rest < threshold_hr <= hr_max:
        raise ProfileError(f"threshold HR {threshold_hr} must lie between resting {rest} and maximum {hr_max}{at}")
    if not 100 <= threshold_pace <= 900:
        raise ProfileError(f"threshold pace {threshold_pace} s/km is not plausible (1:40-15:00 per km){at}")


def resolve(profile: pl.LazyFrame, defaults: Physiology) -> pl.LazyFrame:
    """One row per `valid_from` with every value filled (forward, then from `defaults`).

    A first row dated 1900-01-01 carries the defaults, so every day has values in force.
    Adds `k` (Banister) and fills `threshold_hr_bpm` from HRmax when never given.
    """
    base = pl.LazyFrame(
        {
            "valid_from": [_EPOCH],
            "hr_rest_bpm": [defaults.hr_rest_bpm],
            "hr_max_bpm": [defaults.hr_max_bpm],
            "sex": [defaults.sex],
            "threshold_hr_bpm": [defaults.threshold_hr_bpm],
            "threshold_pace_s_per_km": [defaults.threshold_pace_s_per_km],
        },
        schema={
            "valid_from": pl.Date,
            "hr_rest_bpm": pl.Int32,
            "hr_max_bpm": pl.Int32,
            "sex": pl.String,
            "threshold_hr_bpm": pl.Float64,
            "threshold_pace_s_per_km": pl.Float64,
        },
    )
    rows = profile.select(
        pl.col("valid_from"),
        pl.col("hr_rest_bpm").cast(pl.Int32),
        pl.col("hr_max_bpm").cast(pl.Int32),
        pl.col("sex").str.to_lowercase(),
        pl.col("threshold_hr_bpm").cast(pl.Float64),
        pl.col("threshold_pace_s_per_km").cast(pl.Float64),
    ).filter(pl.col("valid_from") > _EPOCH)
    return (
        pl.concat([base, rows])
        .sort("valid_from", maintain_order=True)
        .with_columns(pl.col(c).forward_fill() for c in VALUE_COLUMNS)
        .with_columns(
            pl.col("threshold_hr_bpm").fill_null(pl.col("hr_max_bpm") * DEFAULT_THRESHOLD_HR_FRACTION),
            k=pl.col("sex").replace_strict(BANISTER_K, default=BANISTER_K["m"], return_dtype=pl.Float64),
        )
    )


def in_force(frame: pl.LazyFrame, resolved: pl.LazyFrame, *, date_column: str = "date") -> pl.LazyFrame:
    """`frame` with the physiology in force on its `date_column` joined to each row."""
    return frame.sort(date_column).join_asof(
        resolved.sort("valid_from"), left_on=date_column, right_on="valid_from", strategy="backward"
    ).drop("valid_from")


def check_resolved(resolved: pl.DataFrame) -> None:
    """Validate every resolved row (a dated row may combine badly with the defaults)."""
    for row in resolved.iter_rows(named=True):
        where = "defaults" if row["valid_from"] == _EPOCH else f"in force from {row['valid_from']}"
        check_values(
            row["hr_rest_bpm"], row["hr_max_bpm"], row["sex"], row["threshold_hr_bpm"],
            row["threshold_pace_s_per_km"], where=where,
        )
