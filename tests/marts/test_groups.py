"""The shared per-partition ordering of the full build equals the per-pass sorts it replaced."""

import datetime as dt

import numpy as np
import polars as pl

from marts.groups import by_id_and_seq, first_per_instant, time_ordered


def _records(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = 5000
    ids = [f"act-{i}" for i in rng.integers(0, 40, n)] + ["Z-upper", "a-lower", "é-utf8"] * 10
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    seconds = rng.integers(0, 600, len(ids))  # many repeated timestamps within an activity
    stamps = [start + dt.timedelta(seconds=int(s)) if rng.random() > 0.05 else None for s in seconds]
    return pl.DataFrame({
        "activity_id": ids, "seq": np.arange(len(ids), dtype=np.int32)[::-1].copy(),
        "timestamp": pl.Series(stamps, dtype=pl.Datetime("us", "UTC")), "hr_bpm": rng.integers(0, 200, len(ids)),
    }).sample(fraction=1.0, shuffle=True, seed=seed)


def test_time_ordered_is_the_string_sort():
    for seed in range(3):
        records = _records(seed)
        expected = records.filter(pl.col("timestamp").is_not_null()).sort("activity_id", "timestamp", "seq")
        assert time_ordered(records).equals(expected)


def test_time_ordered_of_a_stored_partition_is_the_string_sort_and_falls_back_when_time_goes_back():
    """As stored (each activity's rows in seq order, timestamps rising with seq) the stable rank
    sort suffices; a timestamp that goes back within an activity, or a repeated one with seq out
    of order, makes the full sort run: the same rows in the same order either way."""
    records = _records(3).filter(pl.col("timestamp").is_not_null())
    stored = (
        records.sort("activity_id", "timestamp", "seq")
        .with_columns(seq=pl.int_range(pl.len(), dtype=pl.Int32).over("activity_id"))
        .sort(pl.col("activity_id").str.reverse(), maintain_order=True)
    )
    expected = stored.sort("activity_id", "timestamp", "seq")
    assert not stored.equals(expected)
    assert time_ordered(stored).equals(expected)
    went_back = stored.with_columns(  # one activity's clock jumps back halfway
        timestamp=pl.when((pl.col("activity_id") == "act-1") & (pl.col("seq") > 20))
        .then(pl.col("timestamp") - dt.timedelta(hours=1)).otherwise("timestamp")
    )
    assert time_ordered(went_back).equals(went_back.sort("activity_id", "timestamp", "seq"))


def test_first_per_instant_is_unique_keep_first():
    records = _records(7)
    ordered = time_ordered(records)
    expected = ordered.unique(subset=["activity_id", "timestamp"], keep="first", maintain_order=True)
    got = first_per_instant(ordered.lazy()).collect()
    assert got.height < ordered.height  # the fixture does repeat timestamps
    assert got.equals(expected)


def test_by_id_and_seq_is_the_string_sort_stored_or_shuffled():
    for seed in range(3):
        shuffled = _records(seed)
        expected = shuffled.sort("activity_id", "seq")
        # as a partition is stored: each activity's rows in seq order, the activities not in id order
        stored = expected.sort(pl.col("activity_id").str.reverse(), maintain_order=True)
        assert not stored.equals(expected)
        assert by_id_and_seq(stored).equals(expected)  # the stable rank sort suffices
        assert by_id_and_seq(shuffled).equals(expected)  # seq out of order: the full sort
