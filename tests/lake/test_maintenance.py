"""`runlake lake maintain`: compaction, and a vacuum that keeps what the retention promises."""

from __future__ import annotations

import os
import time

import polars as pl

from lake.maintenance import maintain_table
from lake.storage import Lake
from lake.table import TableSpec, read, upsert

SPEC = TableSpec(name="t", grain="a row", schema=pl.Schema({"k": pl.Int64, "v": pl.String}), key=("k",))


def test_files_of_a_failed_write_go_once_older_than_the_retention_and_young_ones_stay(tmp_path):
    lake = Lake.at(str(tmp_path / "lake"))
    upsert(lake, SPEC, pl.DataFrame({"k": [1, 2], "v": ["a", "b"]}))
    folder = tmp_path / "lake" / "t"
    old_orphan, young_orphan = folder / "part-old-orphan.parquet", folder / "part-young-orphan.parquet"
    for orphan in (old_orphan, young_orphan):
        pl.DataFrame({"k": [9], "v": ["never committed"]}).write_parquet(orphan)
    two_days_ago = time.time() - 48 * 3600
    os.utime(old_orphan, (two_days_ago, two_days_ago))
    maintain_table(lake, "t", retention_hours=24)
    assert not old_orphan.exists(), "a failed write's file older than the retention stays forever"
    assert young_orphan.exists(), "a file younger than the retention (a write in progress) was deleted"
    assert read(lake, SPEC).sort("k")["v"].to_list() == ["a", "b"]
