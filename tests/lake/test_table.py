"""The generic table machinery: schema conformance, merge by key, atomic child-row replacement,
and concurrent writers (spawned processes) against a local folder (see the note on S3 below)."""

from __future__ import annotations

from multiprocessing import get_context

import polars as pl
import pytest
from deltalake.exceptions import CommitFailedError, DeltaError

from lake import activities, records
from lake.storage import Lake
from lake.table import TableSpec, read, read_versioned, replace_rows, scan, table_exists, table_version, upsert, upsert_at_version

SPEC = TableSpec("things", "one thing", pl.Schema({"id": pl.String, "n": pl.Int64, "label": pl.String}), key=("id",))


def test_scan_of_a_missing_table_is_empty_with_the_schema(local_lake):
    assert not table_exists(local_lake, SPEC)
    assert scan(local_lake, SPEC).collect().schema == SPEC.schema


def test_conform_rejects_unknown_columns_and_fills_missing():
    out = SPEC.conform(pl.DataFrame({"id": ["a"], "n": [1]}))
    assert out.columns == ["id", "n", "label"] and out["label"].to_list() == [None]
    with pytest.raises(ValueError, match="not in the schema"):
        SPEC.conform(pl.DataFrame({"id": ["a"], "oops": [1]}))


def test_upsert_updates_matches_and_inserts_the_rest(local_lake):
    upsert(local_lake, SPEC, pl.DataFrame({"id": ["a", "b"], "n": [1, 2]}))
    upsert(local_lake, SPEC, pl.DataFrame({"id": ["b", "c"], "n": [20, 3]}))
    got = read(local_lake, SPEC).sort("id")
    assert got["id"].to_list() == ["a", "b", "c"] and got["n"].to_list() == [1, 20, 3]


def test_upsert_refuses_duplicate_keys(local_lake):
    with pytest.raises(ValueError, match="duplicate keys"):
        upsert(local_lake, SPEC, pl.DataFrame({"id": ["a", "a"], "n": [1, 2]}))


def test_read_versioned_gives_the_version_and_its_rows(local_lake):
    version, rows = read_versioned(local_lake, SPEC)
    assert version is None and table_version(local_lake, SPEC) is None
    assert rows.is_empty() and rows.schema == SPEC.schema
    upsert(local_lake, SPEC, pl.DataFrame({"id": ["a"], "n": [1]}))
    upsert(local_lake, SPEC, pl.DataFrame({"id": ["b"], "n": [2]}))
    version, rows = read_versioned(local_lake, SPEC)
    assert version == table_version(local_lake, SPEC) == 1
    assert rows.sort("id")["id"].to_list() == ["a", "b"] and rows.schema == SPEC.schema


def test_upsert_at_version_merges_onto_an_unchanged_table(local_lake):
    upsert_at_version(local_lake, SPEC, pl.DataFrame({"id": ["a"], "n": [1]}), version=None)
    version, _ = read_versioned(local_lake, SPEC)
    upsert_at_version(local_lake, SPEC, pl.DataFrame({"id": ["a", "b"], "n": [10, 2]}), version=version)
    assert read(local_lake, SPEC).sort("id")["n"].to_list() == [10, 2]
    assert table_version(local_lake, SPEC) == version + 1


def test_upsert_at_version_refuses_a_snapshot_another_writer_has_moved_past(local_lake):
    with pytest.raises(ValueError, match="duplicate keys"):
        upsert_at_version(local_lake, SPEC, pl.DataFrame({"id": ["a", "a"], "n": [1, 2]}), version=None)
    upsert(local_lake, SPEC, pl.DataFrame({"id": ["a"], "n": [1]}))
    stale, _ = read_versioned(local_lake, SPEC)
    upsert(local_lake, SPEC, pl.DataFrame({"id": ["b"], "n": [2]}))  # another writer
    with pytest.raises(CommitFailedError):
        upsert_at_version(local_lake, SPEC, pl.DataFrame({"id": ["c"], "n": [3]}), version=stale)
    with pytest.raises(DeltaError, match="already exists"):  # "no table yet" is stale once it exists
        upsert_at_version(local_lake, SPEC, pl.DataFrame({"id": ["c"], "n": [3]}), version=None)
    assert read(local_lake, SPEC).sort("id")["id"].to_list() == ["a", "b"]


def _samples(activity_id: str, n: int, year: int = 2024) -> pl.DataFrame:
    return pl.DataFrame({"athlete_id": "me", "year": year, "activity_id": activity_id, "seq": list(range(n))})


def test_replace_rows_swaps_an_activity_s_samples_atomically(local_lake):
    replace_rows(local_lake, records.SPEC, pl.concat([_samples("a", 5), _samples("b", 3)]), by="activity_id", values=["a", "b"])
    replace_rows(local_lake, records.SPEC, _samples("a", 2), by="activity_id", values=["a"])
    counts = dict(read(local_lake, records.SPEC).group_by("activity_id").len().iter_rows())
    assert counts == {"a": 2, "b": 3}


def test_replace_rows_refuses_rows_outside_the_replaced_set(local_lake):
    with pytest.raises(ValueError, match="outside"):
        replace_rows(local_lake, records.SPEC, _samples("x", 1), by="activity_id", values=["a"])


def _writer(root: str, options: dict, ids: list[str], barrier) -> None:
    lake = Lake(root, options)
    barrier.wait()
    for aid in ids:
        replace_rows(lake, records.SPEC, _samples(aid, 50), by="activity_id", values=[aid])
        upsert(lake, activities.SPEC, pl.DataFrame({"activity_id": [aid], "athlete_id": ["me"]}))


def _race(lake: Lake, writers: int = 3) -> None:
    ctx = get_context("spawn")  # deltalake's runtime panics in a forked child
    barrier = ctx.Barrier(writers)
    ids = [f"act-{i}" for i in range(4)]
    procs = [ctx.Process(target=_writer, args=(lake.root, lake.storage_options, ids, barrier)) for _ in range(writers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    per_activity = read(lake, records.SPEC).group_by("activity_id").len()
    assert sorted(per_activity["activity_id"].to_list()) == ids
    assert set(per_activity["len"].to_list()) == {50}, "a concurrent writer doubled or lost samples"
    assert read(lake, activities.SPEC).height == len(ids)


@pytest.mark.slow
def test_concurrent_writers_neither_lose_nor_double_rows_locally(local_lake):
    _race(local_lake)


# No S3 (moto) twin of this race: moto's conditional put is not atomic, so two Delta commits of
# the same version can both land there where real S3 refuses one — the test then failed now and
# then for moto's reason, not runlake's. The local file system (atomic create) is the
# authoritative race test; on S3, writers of one athlete are serialised by its lease
# (lake/lease.py), so two of them never race.
