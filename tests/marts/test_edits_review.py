"""Adversarial review of marts/edits.py (merges and splits): laps as edited."""

from __future__ import annotations

import datetime as dt

import polars as pl

from lake import laps as laps_table
from marts import edits
from tests.marts.test_edits import T0, activity, acts, applied, merge_rows, samples, split_row


def laps_of(activity_id: str, start: dt.datetime, offsets: list[float]) -> pl.DataFrame:
    return laps_table.SPEC.conform(pl.DataFrame({
        "activity_id": activity_id, "athlete_id": "a1", "lap_index": list(range(len(offsets))),
        "start_time": [start + dt.timedelta(seconds=o) for o in offsets], "start_offset_s": offsets,
        "elapsed_s": [100.0] * len(offsets), "distance_m": [300.0] * len(offsets),
    }))


def test_a_split_parts_laps_are_offset_from_the_parts_own_start():
    """laps.start_offset_s is "from the activity's start_time": a part starts at the split."""
    at = T0 + dt.timedelta(seconds=150)
    _, _, plan, _, _ = applied(acts(activity("w", T0, 299, 897.0)), split_row("w", at), samples("w", T0, 300))
    part = plan["parts"][0][0]
    laps = edits.effective_laps(laps_of("w", T0, [0.0, 100.0, 200.0]), plan)
    first_of_part = laps.filter(pl.col("activity_id") == part).to_dicts()[0]
    assert first_of_part["start_offset_s"] == 50.0  # lap at 200 s, part from 150 s


def test_a_merged_recordings_laps_are_offset_from_the_merged_runs_start():
    second = T0 + dt.timedelta(minutes=10)
    activities = acts(activity("a", T0, 299, 897.0), activity("b", second, 199, 597.0))
    records = pl.concat([samples("a", T0, 300), samples("b", second, 200)])
    _, _, plan, _, _ = applied(activities, merge_rows("a", "b"), records)
    laps = edits.effective_laps(pl.concat([laps_of("a", T0, [0.0]), laps_of("b", second, [0.0])]), plan)
    assert laps.sort("lap_index")["start_offset_s"].to_list() == [0.0, 600.0]


def test_merging_a_duplicate_recording_adds_no_laps():
    """A duplicate adds no samples inside the first recording's span (docs: "adds nothing"), so
    its laps over those same minutes must not double the run's laps."""
    activities = acts(activity("a", T0, 299, 897.0), activity("dup", T0 + dt.timedelta(seconds=5), 289, 870.0))
    records = pl.concat([samples("a", T0, 300), samples("dup", T0 + dt.timedelta(seconds=5), 290)])
    _, _, plan, _, recs = applied(activities, merge_rows("a", "dup"), records)
    assert recs.filter(pl.col("activity_id") == "a").height == 300  # no samples added
    laps = edits.effective_laps(pl.concat([laps_of("a", T0, [0.0, 100.0, 200.0]), laps_of("dup", T0 + dt.timedelta(seconds=5), [0.0, 100.0, 200.0])]), plan)
    assert laps.filter(pl.col("activity_id") == "a").height == 3
