"""The one write path for activity batches: scope, order and the athlete boundary."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from lake import activities, laps, records
from lake.storage import Lake
from lake.table import read
from pipeline.activity_write import write_activities


def _batch(athlete: str, ids: list[str], samples: int = 3) -> dict:
    start = datetime(2025, 3, 1, 7, tzinfo=UTC)
    recs = pl.DataFrame(
        [{"activity_id": i, "athlete_id": athlete, "year": 2025, "seq": s} for i in ids for s in range(samples)]
    )
    lap_rows = pl.DataFrame([{"activity_id": i, "athlete_id": athlete, "lap_index": 0} for i in ids])
    acts = pl.DataFrame([{"activity_id": i, "athlete_id": athlete, "start_time": start, "source": "fit"} for i in ids])
    return {
        "records": [records.SPEC.conform(recs)],
        "laps": lambda: laps.SPEC.conform(lap_rows),
        "activities": lambda: activities.SPEC.conform(acts),
    }


def _ids(lake: Lake, spec, athlete: str) -> list[tuple[str, int]]:
    frame = read(lake, spec).filter(pl.col("athlete_id") == athlete)
    return frame.group_by("activity_id").len().sort("activity_id").rows()


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake.at(str(tmp_path / "lake"))


def test_a_batch_replaces_its_activities_rows_and_nothing_else(lake):
    write_activities(lake, "a", replace_ids=["a1", "a2"], **_batch("a", ["a1", "a2"]))
    write_activities(lake, "b", replace_ids=["b1"], **_batch("b", ["b1"]))
    write_activities(lake, "a", replace_ids=["a1"], **_batch("a", ["a1"], samples=5))  # a1 again, longer
    assert _ids(lake, records.SPEC, "a") == [("a1", 5), ("a2", 3)]
    assert _ids(lake, records.SPEC, "b") == [("b1", 3)]
    assert _ids(lake, laps.SPEC, "a") == [("a1", 1), ("a2", 1)]
    assert read(lake, activities.SPEC).height == 3


def test_a_rebuild_scope_replaces_every_row_of_the_athlete_only(lake):
    write_activities(lake, "a", replace_ids=["a1", "a2"], **_batch("a", ["a1", "a2"]))
    write_activities(lake, "b", replace_ids=["b1"], **_batch("b", ["b1"]))
    write_activities(lake, "a", replace_ids=None, **_batch("a", ["a3"]))
    assert _ids(lake, records.SPEC, "a") == [("a3", 3)]
    assert _ids(lake, laps.SPEC, "a") == [("a3", 1)]
    assert sorted(read(lake, activities.SPEC)["activity_id"]) == ["a3", "b1"]
    assert _ids(lake, records.SPEC, "b") == [("b1", 3)]


def test_rows_outside_the_batch_are_refused_before_any_commit(lake):
    batch = _batch("a", ["a1", "a2"])
    with pytest.raises(ValueError, match="outside the activities being replaced"):
        write_activities(lake, "a", replace_ids=["a1"], **batch)
    assert read(lake, records.SPEC).is_empty()


def test_before_commit_can_stop_the_batch_before_anything_is_written(lake):
    def stop() -> None:
        raise RuntimeError("the lake moved")

    with pytest.raises(RuntimeError, match="the lake moved"):
        write_activities(lake, "a", replace_ids=["a1"], before_commit=stop, **_batch("a", ["a1"]))
    assert read(lake, records.SPEC).is_empty() and read(lake, activities.SPEC).is_empty()


def test_a_rewritten_activity_leaves_no_records_in_the_year_it_moved_from(lake):
    """The records replace is narrowed to years: the stored start's year is one of them, so an
    activity whose start moves to another UTC year (a corrected clock) leaves no rows behind."""
    old = datetime(2024, 12, 31, 23, 50, tzinfo=UTC)
    recs = records.SPEC.conform(pl.DataFrame([{"activity_id": "a1", "athlete_id": "a", "year": 2024, "seq": s} for s in range(4)]))
    acts = activities.SPEC.conform(pl.DataFrame([{"activity_id": "a1", "athlete_id": "a", "start_time": old, "source": "fit"}]))
    write_activities(lake, "a", replace_ids=["a1"], records=[recs], laps=lambda: laps.SPEC.empty(), activities=lambda: acts)
    write_activities(lake, "a", replace_ids=["a1"], **_batch("a", ["a1"], samples=2))  # starts 2025-03-01
    assert read(lake, records.SPEC).select("year", "seq").sort("seq").rows() == [(2025, 0), (2025, 1)]
