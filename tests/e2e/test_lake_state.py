"""The concurrency test's end-state comparison fails when it should (no server needed).

A writer that bypassed the athlete's lease — one that read the lake before another ingest
committed and then wrote the same batch blindly — leaves duplicate keys: `duplicate_keys`,
`runlake lake check`'s `keys_unique` and the end-state comparison must all see them. A lost
write must change the end state too.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from deltalake import write_deltalake

from lake import activities, records
from lake.table import delete_rows, read
from pipeline.lake_access import open_lake
from pipeline.lake_check import check_lake
from pipeline.steps.ingest_fit import ingest_fit_files, resolve_inputs
from runlake.settings import Settings
from tests.e2e.lake_state import duplicate_keys, lake_state


@pytest.fixture
def ingested(tmp_path):
    from sources.fit.synthetic import write_run

    start = datetime(2025, 3, 2, 7, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    for i in range(2):
        write_run(tmp_path / "inbox" / f"run-{i}.fit", start.replace(day=2 + i), 2000.0, 300.0, seed=i)
    settings = Settings(lake_uri=str(tmp_path / "lake"), inbox_uri=str(tmp_path / "inbox"))
    lake = open_lake(settings)
    items, options = resolve_inputs(settings, None)
    ingest_fit_files(lake, settings, items, read_options=options)
    return lake, settings


def test_a_healthy_lake_has_no_duplicate_and_a_stable_state(ingested):
    lake, settings = ingested
    assert set(duplicate_keys(lake).values()) == {0}
    assert check_lake(lake, settings).ok
    state = lake_state(lake)
    assert len(state["activity_ids"]) == 2 and all(n > 100 for n in state["records_per_activity"].values())
    assert lake_state(lake) == state


def test_a_blind_write_that_bypassed_the_lease_is_caught(ingested):
    lake, settings = ingested
    before = lake_state(lake)
    one = read(lake, activities.SPEC)["activity_id"][0]
    again = read(lake, records.SPEC).filter(pl.col("activity_id") == one)
    write_deltalake(records.SPEC.uri(lake), again.to_arrow(), mode="append",
                    partition_by=list(records.SPEC.partition_by) or None, storage_options=lake.storage_options)

    assert duplicate_keys(lake)[records.SPEC.name] == again.height
    report = check_lake(lake, settings)
    assert [(f.invariant, f.table) for f in report.violations] == [("keys_unique", records.SPEC.name)]
    after = lake_state(lake)
    assert after != before
    assert after["records_per_activity"][one] == 2 * before["records_per_activity"][one]


def test_a_lost_write_changes_the_end_state(ingested):
    lake, _ = ingested
    before = lake_state(lake)
    one = read(lake, activities.SPEC)["activity_id"][0]
    delete_rows(lake, records.SPEC, f"activity_id = '{one}'")
    assert set(duplicate_keys(lake).values()) == {0}
    assert lake_state(lake)["records_per_activity"] != before["records_per_activity"]
