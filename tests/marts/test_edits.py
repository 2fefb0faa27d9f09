"""marts/edits.py: merges and splits applied to activities, samples and laps (pure functions)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from lake import activities as activities_table
from lake import activity_edits
from lake import laps as laps_table
from lake import records as records_table
from marts import edits

T0 = dt.datetime(2025, 4, 7, 5, 30, tzinfo=dt.UTC)
SET = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)


def activity(activity_id: str, start: dt.datetime, seconds: int, metres: float, **extra) -> dict:
    return {"activity_id": activity_id, "athlete_id": "a1", "sport": "running", "start_time": start, "utc_offset_s": 3600,
            "distance_m": metres, "elapsed_s": float(seconds), "moving_s": float(seconds) - 10, "ascent_m": 40.0,
            "descent_m": 40.0, "calories_kcal": 300.0, "avg_hr_bpm": 150.0, "max_hr_bpm": 170.0, **extra}


def acts(*rows: dict) -> pl.DataFrame:
    return activities_table.SPEC.conform(pl.DataFrame(list(rows)))


def samples(activity_id: str, start: dt.datetime, n: int, step_m: float = 3.0, first_m: float = 0.0) -> pl.DataFrame:
    """`n` samples 1 s apart, `step_m` apart."""
    return records_table.SPEC.conform(pl.DataFrame({
        "athlete_id": "a1", "year": start.year, "activity_id": activity_id, "seq": list(range(n)),
        "timestamp": [start + dt.timedelta(seconds=i) for i in range(n)],
        "distance_m": [first_m + i * step_m for i in range(n)], "hr_bpm": [140 + i % 20 for i in range(n)],
    }))


def edit_rows(*rows: dict) -> pl.DataFrame:
    base = {"athlete_id": "a1", "kind": None, "strava_id": None, "fit_sha256": None, "session_index": None,
            "split_at": None, "set_at": SET}
    return activity_edits.SPEC.conform(pl.DataFrame([base | r for r in rows]))


def merge_rows(into: str, other: str, **ids) -> pl.DataFrame:
    eid = edits.edit_id(edits.MERGE, "a1", into, other)
    return edit_rows({"edit_id": eid, "role": edits.INTO, "kind": edits.MERGE, "activity_id": into},
                     {"edit_id": eid, "role": edits.FROM, "kind": edits.MERGE, "activity_id": other, **ids})


def split_row(activity_id: str, at: dt.datetime) -> pl.DataFrame:
    eid = edits.edit_id(edits.SPLIT, "a1", activity_id, at.isoformat())
    return edit_rows({"edit_id": eid, "role": edits.AT, "kind": edits.SPLIT, "activity_id": activity_id, "split_at": at})


def applied(activities: pl.DataFrame, rows: pl.DataFrame, records: pl.DataFrame):
    merges, splits = edits.resolve(activities, rows)
    plan = edits.plan(activities, merges, splits)
    eff = edits.effective_activities(activities, merges, splits)
    recs = edits.effective_records(records, plan)
    return merges, splits, plan, edits.edited_stats(eff, recs, activities), recs


def test_a_restarted_watch_merges_into_one_run_with_continued_distance():
    first, second = T0, T0 + dt.timedelta(minutes=10)
    activities = acts(activity("a", first, 299, 897.0), activity("b", second, 199, 597.0), activity("c", T0 + dt.timedelta(days=1), 99, 297.0))
    records = pl.concat([samples("a", first, 300), samples("b", second, 200, first_m=5.0), samples("c", T0 + dt.timedelta(days=1), 100)])
    merges, _, plan, eff, recs = applied(activities, merge_rows("a", "b"), records)
    assert merges.select("target_id", "source_id").rows() == [("a", "b")]
    assert sorted(eff["activity_id"]) == ["a", "c"]
    run = eff.filter(pl.col("activity_id") == "a").to_dicts()[0]
    assert run["edited"].startswith("merge:b#") and run["record_year"] == 2025
    assert run["distance_m"] == 897.0 + 597.0  # each piece's distance
    assert run["elapsed_s"] == 299.0 + 199.0  # each piece's span, not the gap between them
    assert run["avg_hr_bpm"] is None  # from the samples
    mine = recs.filter(pl.col("activity_id") == "a").sort("seq")
    assert mine.height == 500 and mine["seq"].to_list() == list(range(500))
    assert mine["timestamp"].is_sorted()
    distance = mine["distance_m"].to_list()
    assert distance[299] == 897.0 and distance[300] == 897.0 and distance[-1] == 897.0 + 597.0  # continues, no jump
    assert mine["source_activity_id"].to_list() == ["a"] * 300 + ["b"] * 200
    # Another activity's samples pass through untouched, in their order.
    assert recs.filter(pl.col("activity_id") == "c").drop("source_activity_id").equals(records.filter(pl.col("activity_id") == "c"))


def test_a_duplicate_recording_adds_nothing_inside_the_first_ones_span():
    activities = acts(activity("a", T0, 299, 897.0), activity("dup", T0 + dt.timedelta(seconds=10), 299, 900.0))
    records = pl.concat([samples("a", T0, 300), samples("dup", T0 + dt.timedelta(seconds=10), 300, step_m=3.01)])
    _, _, _, eff, recs = applied(activities, merge_rows("a", "dup"), records)
    assert eff["activity_id"].to_list() == ["a"]
    mine = recs.filter(pl.col("activity_id") == "a")
    assert mine.height == 310  # the duplicate's last 10 s (after a ends) are all it adds
    assert mine.filter(pl.col("source_activity_id") == "dup")["timestamp"].min() > T0 + dt.timedelta(seconds=299)


def test_a_split_makes_a_second_activity_from_the_split_instant_with_its_own_distance():
    at = T0 + dt.timedelta(seconds=120)
    activities = acts(activity("w", T0, 299, 897.0))
    rows = split_row("w", at)
    part = rows["edit_id"][0]
    _, splits, plan, eff, recs = applied(activities, rows, samples("w", T0, 300))
    assert splits.rows() == [(part, "w", at)]
    by_id = {r["activity_id"]: r for r in eff.to_dicts()}
    assert set(by_id) == {"w", part}
    assert by_id[part]["start_time"] == at and by_id[part]["edited"] == "split:part of w"
    assert by_id["w"]["distance_m"] == 119 * 3.0 and by_id[part]["distance_m"] == 179 * 3.0
    assert by_id["w"]["elapsed_s"] == 119.0 and by_id[part]["elapsed_s"] == 179.0
    assert by_id[part]["moving_s"] == pytest.approx(289.0 * 179 / 299)  # the source's moving time, in proportion
    second = recs.filter(pl.col("activity_id") == part).sort("seq")
    assert second.height == 180 and second["timestamp"].min() == at and second["distance_m"][0] == 0.0
    laps = laps_table.SPEC.conform(pl.DataFrame({
        "activity_id": "w", "athlete_id": "a1", "lap_index": [0, 1, 2],
        "start_time": [T0, T0 + dt.timedelta(seconds=100), T0 + dt.timedelta(seconds=200)],
    }))
    split_laps = edits.effective_laps(laps, plan)
    assert split_laps.select("activity_id", "lap_index").sort("activity_id").rows() == [(part, 0), ("w", 0), ("w", 1)]


def test_an_edit_finds_its_run_after_the_run_changed_identity():
    """Merged while Strava-only (`strava-9`), the run is now the watch file's (`fit-…`, Strava 9)."""
    activities = acts(activity("fit-abc", T0, 299, 897.0, strava_id=9), activity("b", T0 + dt.timedelta(minutes=10), 199, 597.0))
    merges, _ = edits.resolve(activities, merge_rows("strava-9", "b") .with_columns(
        strava_id=pl.when(pl.col("role") == edits.INTO).then(pl.lit(9, pl.Int64)))
    )
    assert merges.select("target_id", "source_id").rows() == [("fit-abc", "b")]


def test_untouched_activities_are_returned_as_they_were():
    activities = acts(activity("a", T0, 299, 897.0))
    records = samples("a", T0, 300)
    merges, splits = edits.resolve(activities, edit_rows().head(0))
    assert merges.is_empty() and splits.is_empty()
    eff = edits.effective_activities(activities, merges, splits)
    assert eff.drop(edits.ADDED).equals(activities)
    assert edits.effective_records(records, edits.plan(activities, merges, splits)).drop("source_activity_id").equals(records)
