"""Purging a table's history: after `replace_snapshot`, no byte under the table's folder (data
files, commits, checkpoints, folder names) holds an earlier row's values — locally and on S3."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import boto3
import polars as pl
import pytest
from deltalake import DeltaTable
from polars.testing import assert_frame_equal

from lake import purge
from lake.purge import DEFAULT_TOMBSTONE_RETENTION, TOMBSTONE_RETENTION, purge_history, replace_snapshot
from lake.storage import Lake
from lake.table import TableSpec, delete_rows, open_table, overwrite, read, upsert

SPEC = TableSpec(
    "secrets",
    "one place",
    pl.Schema({"place_id": pl.String, "athlete_id": pl.String, "label": pl.String, "lat_deg": pl.Float64, "count": pl.Int64}),
    key=("place_id",),
    partition_by=("athlete_id",),
)

SECRET_LABEL = "zebra-crossing-7f3a"
SECRET_ATHLETE = "athlete-q9x2"
SECRET_LAT = 52.3731234
SECRET_COUNT = 918273645

#: Every form in which an earlier row's values could survive in a file or a path.
NEEDLES = {
    "label": SECRET_LABEL.encode(),
    "athlete (partition value)": SECRET_ATHLETE.encode(),
    "lat as float64": struct.pack("<d", SECRET_LAT),
    "lat as text": repr(SECRET_LAT).encode(),
    "count as int64": struct.pack("<q", SECRET_COUNT),
    "count as int32": struct.pack("<i", SECRET_COUNT),
    "count as text": str(SECRET_COUNT).encode(),
}

NEW_ROWS = pl.DataFrame(
    {"place_id": ["p3"], "athlete_id": ["public"], "label": ["park"], "lat_deg": [48.1], "count": [3]}
)


@pytest.fixture(params=["local", "s3"])
def lake(request) -> Lake:
    if request.param == "local":
        return request.getfixturevalue("local_lake")
    return Lake.at(request.getfixturevalue("s3_bucket") + "/lake")


def _files(lake: Lake, spec) -> dict[str, bytes]:
    """Every file under the table's folder (relative path → bytes), listed from storage itself."""
    uri = spec.uri(lake)
    if not lake.is_s3:
        root = Path(uri)
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    o = lake.storage_options
    s3 = boto3.client("s3", endpoint_url=o["AWS_ENDPOINT_URL"], region_name=o["AWS_REGION"],
                      aws_access_key_id=o["AWS_ACCESS_KEY_ID"], aws_secret_access_key=o["AWS_SECRET_ACCESS_KEY"])
    keys = [obj["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
            for obj in page.get("Contents", [])]
    return {k.removeprefix(prefix + "/"): s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def _folders(lake: Lake, spec) -> list[str]:
    if lake.is_s3:  # S3 has no folders, only keys (checked by _traces)
        return []
    root = Path(spec.uri(lake))
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir()]


def _traces(lake: Lake, spec) -> dict[str, list[str]]:
    """Which needles each file (by its bytes or its path) or local folder still holds."""
    found: dict[str, list[str]] = {}
    for path, data in _files(lake, spec).items():
        hits = [what for what, needle in NEEDLES.items() if needle in data or needle in path.encode()]
        if hits:
            found[path] = hits
    for folder in _folders(lake, spec):
        hits = [what for what, needle in NEEDLES.items() if needle in folder.encode()]
        if hits:
            found[folder + "/"] = hits
    return found


def _write_a_history(lake: Lake) -> None:
    """Commits of every kind that record values: a create, a merge whose predicate names a
    partition value, a checkpoint, a delete by predicate."""
    upsert(lake, SPEC, pl.DataFrame({"place_id": ["p1"], "athlete_id": [SECRET_ATHLETE], "label": [SECRET_LABEL],
                                     "lat_deg": [SECRET_LAT], "count": [SECRET_COUNT]}))
    upsert(lake, SPEC, pl.DataFrame({"place_id": ["p1", "p2"], "athlete_id": [SECRET_ATHLETE, "other"],
                                     "label": [SECRET_LABEL, "bench"], "lat_deg": [SECRET_LAT, 1.5], "count": [SECRET_COUNT, 2]}))
    open_table(lake, SPEC).create_checkpoint()
    delete_rows(lake, SPEC, f"label = '{SECRET_LABEL}'")


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return SPEC.conform(frame).sort("place_id")


def test_replace_snapshot_leaves_no_trace_of_earlier_rows(lake):
    _write_a_history(lake)
    before = _traces(lake, SPEC)
    assert {w for hits in before.values() for w in hits} == set(NEEDLES)  # the test can fail

    purged = replace_snapshot(lake, SPEC, NEW_ROWS)

    assert _traces(lake, SPEC) == {}
    assert purged.data_files_removed >= 2 and purged.log_entries_removed >= 4
    assert_frame_equal(_sorted(read(lake, SPEC)), _sorted(NEW_ROWS))
    log_entries = sorted(p for p in _files(lake, SPEC) if p.startswith("_delta_log/"))
    v = purged.checkpoint_version
    assert log_entries == [f"_delta_log/{v:020d}.checkpoint.parquet", f"_delta_log/{v:020d}.json",
                           f"_delta_log/{v + 1:020d}.json", "_delta_log/_last_checkpoint"]
    assert open_table(lake, SPEC).version() == v + 1  # the restored tombstone retention


def test_the_table_is_writable_after_a_purge(lake):
    _write_a_history(lake)
    replace_snapshot(lake, SPEC, NEW_ROWS)

    more = pl.DataFrame({"place_id": ["p4"], "athlete_id": ["public"], "label": ["lake"], "lat_deg": [1.0], "count": [4]})
    upsert(lake, SPEC, more)
    assert_frame_equal(_sorted(read(lake, SPEC)), _sorted(pl.concat([NEW_ROWS, more])))
    overwrite(lake, SPEC, more)
    assert_frame_equal(_sorted(read(lake, SPEC)), _sorted(more))
    table = open_table(lake, SPEC)
    assert [h["operation"] for h in table.history()][:2] == ["WRITE", "MERGE"]
    assert table.metadata().configuration[TOMBSTONE_RETENTION] == DEFAULT_TOMBSTONE_RETENTION


def test_a_plain_reader_opens_the_table_right_after_a_purge(lake):
    _write_a_history(lake)
    replace_snapshot(lake, SPEC, NEW_ROWS)

    uri = SPEC.uri(lake)
    by_deltalake = pl.from_arrow(DeltaTable(uri, storage_options=lake.storage_options).to_pyarrow_table())
    by_polars = pl.scan_delta(uri, storage_options=lake.polars_options()).collect()
    assert_frame_equal(_sorted(by_deltalake), _sorted(NEW_ROWS))
    assert_frame_equal(_sorted(by_polars), _sorted(NEW_ROWS))


def test_purge_of_a_single_version_table_is_harmless(local_lake):
    overwrite(local_lake, SPEC, NEW_ROWS)
    files_before = {p for p in _files(local_lake, SPEC) if not p.startswith("_delta_log/")}

    purged = purge_history(local_lake, SPEC)

    assert purged.data_files_removed == 0
    assert {p for p in _files(local_lake, SPEC) if not p.startswith("_delta_log/")} == files_before
    assert_frame_equal(_sorted(read(local_lake, SPEC)), _sorted(NEW_ROWS))
    purge_history(local_lake, SPEC)  # and again
    assert_frame_equal(_sorted(read(local_lake, SPEC)), _sorted(NEW_ROWS))


def test_purge_of_a_missing_table_does_nothing(local_lake):
    assert purge_history(local_lake, SPEC) is None
    assert open_table(local_lake, SPEC) is None


def test_purge_keeps_a_table_s_own_tombstone_retention(local_lake):
    overwrite(local_lake, SPEC, NEW_ROWS)
    open_table(local_lake, SPEC).alter.set_table_properties({TOMBSTONE_RETENTION: "interval 2 days"})
    purge_history(local_lake, SPEC)
    assert open_table(local_lake, SPEC).metadata().configuration[TOMBSTONE_RETENTION] == "interval 2 days"


def test_purge_fails_loudly_when_the_checkpoint_keeps_tombstones(local_lake, monkeypatch):
    _write_a_history(local_lake)
    overwrite(local_lake, SPEC, NEW_ROWS)
    monkeypatch.setattr(purge, "_set_tombstone_retention", lambda *a, **k: None)  # one week: tombstones stay
    with pytest.raises(RuntimeError, match="tombstones"):
        purge_history(local_lake, SPEC)


def test_a_plain_overwrite_commit_names_no_row_values(local_lake):
    _write_a_history(local_lake)
    overwrite(local_lake, SPEC, NEW_ROWS)
    newest = open_table(local_lake, SPEC).history(limit=1)[0]
    assert newest["operation"] == "WRITE"
    assert set(newest["operationParameters"]) == {"mode", "partitionBy"}
    assert SECRET_LABEL not in json.dumps(newest) and SECRET_ATHLETE not in json.dumps(newest)
