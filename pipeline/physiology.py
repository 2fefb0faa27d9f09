"""Dated physiology (`athlete_profile`): values that hold for an athlete from a local date on.

`record_physiology` is what `runlake athlete set --hr-max … --from DATE` and the web app's
settings page both call: values not given keep what that day already had, and the resulting
history is checked as a whole (`marts.profile.check_resolved`) before anything is written, so a
nonsensical combination (rest above max, …) is refused with one line (`ProfileError`).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from lake import athlete_profile
from lake.storage import Lake
from lake.table import read, upsert
from marts.profile import Physiology, ProfileError, check_resolved, resolve
from runlake.settings import Settings

#: The columns a caller may set (units in the names).
FIELDS = ("hr_max_bpm", "hr_rest_bpm", "threshold_hr_bpm", "threshold_pace_s_per_km", "sex")


def profile_rows(lake: Lake, athlete_id: str) -> pl.DataFrame:
    """The athlete's stored physiology rows, oldest first."""
    return read(lake, athlete_profile.SPEC).filter(pl.col("athlete_id") == athlete_id).sort("valid_from")


def resolved_profile(lake: Lake, settings: Settings) -> pl.DataFrame:
    """The physiology in force from each date, defaults (RUNLAKE_*) first."""
    return resolve(profile_rows(lake, settings.athlete_id).lazy(), Physiology.from_settings(settings)).collect()


def record_physiology(lake: Lake, settings: Settings, day: dt.date, given: dict, *, now: dt.datetime) -> dict:
    """Store the values of `given` (keys from FIELDS; None = unchanged) as holding from `day` for
    the athlete of `settings` (its effective settings). Returns the values written."""
    unknown = set(given) - set(FIELDS)
    if unknown:
        raise ValueError(f"not physiology fields: {sorted(unknown)}")
    existing = profile_rows(lake, settings.athlete_id)
    same_day = existing.filter(pl.col("valid_from") == day)
    old = same_day.row(0, named=True) if same_day.height else {}
    values = {k: (given.get(k) if given.get(k) is not None else old.get(k)) for k in FIELDS}
    if values["sex"] is not None:
        values["sex"] = str(values["sex"]).lower()
    row = values | {"athlete_id": settings.athlete_id, "valid_from": day, "updated_at": now}
    new = athlete_profile.SPEC.conform(pl.DataFrame([row], schema=athlete_profile.SPEC.schema))
    merged = pl.concat([existing.filter(pl.col("valid_from") != day), new])
    check_resolved(resolve(merged.lazy(), Physiology.from_settings(settings)).collect())
    upsert(lake, athlete_profile.SPEC, new)
    return {k: v for k, v in given.items() if v is not None}


def parse_pace(text: str) -> float:
    """'3:30' (min:s per km) or '210' (s per km) -> seconds per km."""
    try:
        if ":" in text:
            minutes, seconds = text.split(":")
            return int(minutes) * 60 + float(seconds)
        return float(text)
    except ValueError:
        raise ProfileError(f"threshold pace {text!r} is not m:ss per km or seconds per km") from None
