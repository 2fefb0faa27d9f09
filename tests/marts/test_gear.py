"""marts/gear.py: which gear each activity was worn with, and the distance per gear."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from lake import gear as gear_table
from lake.marts import GEAR_DISTANCE
from marts.activity import with_local_date
from marts.gear import DEFAULT_RETIRE_KM, gear_distance
from tests.marts.factory import activities_frame, activity

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def _gear(gear_id: str, name: str, *, source: str = "manual", retire_km: float | None = None, default: bool = False,
          default_from: dt.date | None = None, retired_at: dt.datetime | None = None, added_at: dt.datetime = NOW) -> dict:
    return {"athlete_id": "me", "gear_id": gear_id, "source": source, "name": name, "brand": None, "model": None,
            "retire_km": retire_km, "is_default": default, "default_from": default_from, "retired_at": retired_at,
            "added_at": added_at, "updated_at": added_at}


def _mart(acts: list[dict], gear: list[dict]) -> pl.DataFrame:
    frame = with_local_date(activities_frame(acts).lazy())
    rows = pl.DataFrame(gear, schema=gear_table.SPEC.schema).lazy()
    return GEAR_DISTANCE.conform(gear_distance(frame, rows, "me"))


def _by_id(mart: pl.DataFrame) -> dict[str, dict]:
    return {r["gear_id"]: r for r in mart.iter_rows(named=True)}


def test_gear_mileage_equals_the_sum_of_its_runs():
    day = dt.datetime(2025, 3, 1, 7)
    acts = [
        activity("a1", day, distance_m=10012.5, gear_id="g1"),
        activity("a2", day + dt.timedelta(days=2), distance_m=21097.5, gear_id="g1"),
        # an archive's activities.csv names the gear: matched to the Strava gear of that name
        activity("a3", day + dt.timedelta(days=5), distance_m=5003.0, gear_id="  fake pegasus "),
        activity("a4", day + dt.timedelta(days=6), distance_m=8000.0, gear_id="g2"),
        activity("a5", day + dt.timedelta(days=7), distance_m=7777.0, gear_id="Old Trail Shoe"),  # unknown name
        activity("a6", day + dt.timedelta(days=8), distance_m=4000.0, gear_id="g1", is_deleted=True),
        activity("a7", day + dt.timedelta(days=9), distance_m=3000.0, gear_id="g1", sport="walking"),
    ]
    gear = [_gear("g1", "Fake Pegasus", source="strava"), _gear("g2", "Racer", source="strava", retire_km=5.0),
            _gear("m-00000001", "Unused")]
    live = [a for a in acts if not a.get("is_deleted")]
    mart = _by_id(_mart(live, gear))
    expected = {g: sum(a["distance_m"] for a in live if a["activity_id"] in ids)
                for g, ids in {"g1": {"a1", "a2", "a3", "a7"}, "g2": {"a4"}, "Old Trail Shoe": {"a5"}}.items()}
    assert set(mart) == {"g1", "g2", "m-00000001", "Old Trail Shoe"}
    for gear_id, metres in expected.items():
        assert mart[gear_id]["distance_m"] == pytest.approx(metres)
        assert mart[gear_id]["distance_km"] == pytest.approx(metres / 1000)
    g1 = mart["g1"]
    assert (g1["activities"], g1["runs"]) == (4, 3)  # the walk counts in distance, not in runs
    assert (g1["first_used"], g1["last_used"]) == (dt.date(2025, 3, 1), dt.date(2025, 3, 10))
    assert g1["retire_km"] == DEFAULT_RETIRE_KM and not g1["over_threshold"]
    assert g1["remaining_km"] == pytest.approx(DEFAULT_RETIRE_KM - g1["distance_km"])
    assert mart["g2"]["over_threshold"] and mart["g2"]["remaining_km"] == 0.0  # 8 km of its 5
    unknown = mart["Old Trail Shoe"]
    assert (unknown["source"], unknown["name"], unknown["runs"]) == ("activity", "Old Trail Shoe", 1)
    unused = mart["m-00000001"]
    assert (unused["distance_m"], unused["runs"], unused["first_used"], unused["retired"]) == (0.0, 0, None, False)


def test_default_gear_wears_runs_without_gear_from_its_date_until_retired():
    day = dt.datetime(2025, 1, 1, 7)
    acts = [activity(f"r{i}", day + dt.timedelta(days=10 * i), distance_m=1000.0 * (i + 1)) for i in range(6)]
    acts.append(activity("ride", day, sport="cycling", distance_m=40000.0))  # no gear, not a run: no default
    acts.append(activity("named", day, distance_m=500.0, gear_id="g9"))  # names its gear: no default
    gear = [
        _gear("m-old", "Old", default=True, retired_at=dt.datetime(2025, 1, 25, tzinfo=dt.UTC)),  # worn to Jan 25
        _gear("m-new", "New", default=True, default_from=dt.date(2025, 1, 31)),
    ]
    mart = _by_id(_mart(acts, gear))
    # r0 Jan 1, r1 Jan 11, r2 Jan 21 → Old; r3 Jan 31, r4 Feb 10, r5 Feb 20 → New
    assert mart["m-old"]["distance_m"] == 1000.0 + 2000.0 + 3000.0 and mart["m-old"]["retired"]
    assert mart["m-new"]["distance_m"] == 4000.0 + 5000.0 + 6000.0 and not mart["m-new"]["retired"]
    assert mart["m-old"]["is_default"] and mart["g9"]["distance_m"] == 500.0
    assert sum(r["activities"] for r in mart.values()) == 7  # the ride is on no gear


def test_a_retired_shoe_keeps_its_distance_and_shows_retired():
    day = dt.datetime(2025, 2, 1, 7)
    acts = [activity("a", day, distance_m=812000.0, gear_id="m-x"), activity("b", day + dt.timedelta(days=1), distance_m=1000.0, gear_id="m-x")]
    retired = dt.datetime(2025, 2, 3, tzinfo=dt.UTC)
    row = _mart(acts, [_gear("m-x", "Worn out", retired_at=retired)]).row(0, named=True)
    assert (row["retired"], row["retired_at"], row["over_threshold"]) == (True, retired, True)
    assert row["distance_km"] == pytest.approx(813.0) and row["runs"] == 2


def test_a_name_shared_by_strava_and_manual_gear_goes_to_the_strava_gear():
    acts = [activity("a", dt.datetime(2025, 2, 1, 7), distance_m=1000.0, gear_id="Twin")]
    mart = _by_id(_mart(acts, [_gear("m-1", "twin"), _gear("g5", "Twin", source="strava")]))
    assert (mart["g5"]["distance_m"], mart["m-1"]["distance_m"]) == (1000.0, 0.0)
