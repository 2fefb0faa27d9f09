"""The athlete's gear list (`private/gear`, lake/gear.py): manual entries, retirement, the gear
fetched from Strava, and the live distance per gear (`marts.gear`). docs/product.md ("Gear").

* `add_gear`: a manual entry (`m-` + 8 hex digits); `default=True` makes it the gear of runs
  without one, from `default_from` (a local date; None: every run) on.
* `retire_gear`: sets `retired_at` (kept by later Strava syncs); a retired default stops being
  worn after its retirement date.
* `strava_gear_to_fetch` / `store_strava_gear`: the Strava sync fetches `GET /gear/{id}` for the
  Strava gear ids its activities carry that the list does not have yet, and stores name, brand and
  model (a gear already listed is not fetched again).
* `gear_report`: `marts/gear_distance` rows computed now from the lake (what `runlake gear list`
  prints; the mart itself is written by the marts build).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

import polars as pl

from lake import activities as activities_table
from lake import gear as gear_table
from lake.storage import Lake
from lake.table import scan, upsert
from marts.gear import gear_distance
from pipeline.steps.edits import corrected_activities
from runlake.errors import RunlakeError

#: What a Strava gear id looks like (shoes g…, bikes b…); an archive's gear *name* does not.
STRAVA_GEAR_ID = re.compile(r"[gb][0-9]+")
MAX_NAME = 100


def list_gear(lake: Lake, athlete_id: str) -> pl.DataFrame:
    """The athlete's `private/gear` rows, by id."""
    return scan(lake, gear_table.SPEC).filter(pl.col("athlete_id") == athlete_id).collect().sort("gear_id")


def _text(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_NAME:
        raise RunlakeError(f"{what} must be 1 to {MAX_NAME} characters")
    return value


def add_gear(
    lake: Lake, athlete_id: str, *, name: str, brand: str | None = None, model: str | None = None,
    retire_km: float | None = None, default: bool = False, default_from: dt.date | None = None, now: dt.datetime,
) -> dict:
    """Add a manual gear; returns its row. The name must not be that of another gear in use."""
    name = _text(name, "the gear's name")
    if retire_km is not None and not (0 < retire_km <= 100_000):
        raise RunlakeError(f"--retire-km must be between 0 and 100000 km, not {retire_km}")
    if default_from is not None and not default:
        raise RunlakeError("--from only applies with --default (the date from which it is worn on runs without gear)")
    known = list_gear(lake, athlete_id)
    clash = known.filter(pl.col("retired_at").is_null() & (pl.col("name").str.to_lowercase() == name.lower()))
    if clash.height:
        raise RunlakeError(f"gear {clash['gear_id'][0]} in use is already called {name!r}")
    row = {
        "athlete_id": athlete_id, "gear_id": f"m-{secrets.token_hex(4)}", "source": "manual", "name": name,
        "brand": _text(brand, "--brand"), "model": _text(model, "--model"), "retire_km": retire_km,
        "is_default": default, "default_from": default_from, "retired_at": None, "added_at": now, "updated_at": now,
    }
    upsert(lake, gear_table.SPEC, pl.DataFrame([row], schema=gear_table.SPEC.schema))
    return row


def retire_gear(lake: Lake, athlete_id: str, gear_id: str, *, now: dt.datetime) -> dict:
    """Retire one of the athlete's gear (manual or Strava); returns its row."""
    found = list_gear(lake, athlete_id).filter(pl.col("gear_id") == gear_id)
    if found.is_empty():
        raise RunlakeError(f"no gear {gear_id!r} for this athlete (see `runlake gear list`)")
    row = found.row(0, named=True)
    if row["retired_at"] is not None:
        raise RunlakeError(f"gear {gear_id} was already retired on {row['retired_at']:%Y-%m-%d}")
    row.update(retired_at=now, updated_at=now)
    upsert(lake, gear_table.SPEC, pl.DataFrame([row], schema=gear_table.SPEC.schema))
    return row


def strava_gear_to_fetch(lake: Lake, athlete_id: str) -> list[str]:
    """Strava gear ids on the athlete's Strava activities that `private/gear` does not list yet."""
    ids = (
        scan(lake, activities_table.SPEC)
        .filter((pl.col("athlete_id") == athlete_id) & pl.col("strava_id").is_not_null() & pl.col("gear_id").is_not_null())
        .select(pl.col("gear_id").unique())
        .collect()["gear_id"]
    )
    listed = set(list_gear(lake, athlete_id)["gear_id"])
    return sorted(g for g in ids if STRAVA_GEAR_ID.fullmatch(g) and g not in listed)


def store_strava_gear(lake: Lake, athlete_id: str, details: list[dict], *, now: dt.datetime) -> int:
    """Store Strava gear details (`GET /gear/{id}` answers); returns how many. A gear Strava
    marks retired gets `retired_at` = now."""
    rows = [
        {
            "athlete_id": athlete_id, "gear_id": str(d["id"]), "source": "strava",
            "name": (d.get("name") or d.get("nickname") or str(d["id"]))[:MAX_NAME],
            "brand": d.get("brand_name"), "model": d.get("model_name"), "retire_km": None, "is_default": False,
            "default_from": None, "retired_at": now if d.get("retired") else None, "added_at": now, "updated_at": now,
        }
        for d in details
    ]
    if rows:
        upsert(lake, gear_table.SPEC, pl.DataFrame(rows, schema=gear_table.SPEC.schema))
    return len(rows)


def gear_report(lake: Lake, athlete_id: str) -> pl.DataFrame:
    """Distance per gear computed now from the lake (the `marts/gear_distance` rows), from the
    activities as the marts build reads them: the athlete's corrections, merges and splits
    applied (`corrected_activities`)."""
    acts, _ = corrected_activities(lake, athlete_id)
    gear = scan(lake, gear_table.SPEC).filter(pl.col("athlete_id") == athlete_id)
    return gear_distance(acts.lazy(), gear, athlete_id).collect()
