"""What the Delta log says: the last maintenance and row counts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl
from deltalake import DeltaTable

from lake.history import last_operation_at, row_count
from lake.storage import Lake
from lake.table import TableSpec, upsert

SPEC = TableSpec("things", "one thing", pl.Schema({"id": pl.Int64, "v": pl.String}), key=("id",))


def test_last_maintenance_comes_from_the_log(tmp_path):
    lake = Lake.at(str(tmp_path))
    assert last_operation_at(lake, SPEC) is None and row_count(lake, SPEC) == 0
    for i in range(3):
        upsert(lake, SPEC, pl.DataFrame({"id": [i], "v": ["x"]}))
    assert last_operation_at(lake, SPEC) is None  # writes only
    assert row_count(lake, SPEC) == 3
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    DeltaTable(SPEC.uri(lake)).optimize.compact()
    when = last_operation_at(lake, SPEC)
    assert when is not None and before <= when <= datetime.now(timezone.utc) + timedelta(seconds=5)
    assert last_operation_at(lake, SPEC, ["VACUUM END"]) is None
