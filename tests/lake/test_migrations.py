"""lake.migrations: versions, the v2 many-athletes migration, re-runs and runs killed half-way."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from deltalake import write_deltalake

from lake import activities, migrations, public, public_state, registry
from lake.meta import MIGRATIONS as LOG
from lake.migrations import MigrationContext, v2_many_athletes
from lake.storage import Lake
from lake.table import overwrite, read, table_exists
from tests.lake.migration_support import copy_v1_lake, snapshot

CTX = MigrationContext(default_athlete_id="me", default_handle="me")


@pytest.fixture
def v1(tmp_path) -> Lake:
    return Lake.at(str(copy_v1_lake(tmp_path / "lake")))


def _tables(lake: Lake) -> dict[str, pl.DataFrame]:
    """Every registered table's rows, in key order."""
    return {spec.name: read(lake, spec).sort(list(spec.key)) for spec in registry.PRIVATE + registry.PUBLIC if table_exists(lake, spec)}


def test_the_fixture_is_a_version_1_lake(v1):
    assert migrations.LATEST == 2
    assert migrations.current_version(v1) == 1
    assert [m.VERSION for m in migrations.pending(v1)] == [2]
    assert not table_exists(v1, LOG)


def test_migrate_brings_version_1_to_2(v1):
    before = _tables(v1)
    assert migrations.migrate(v1, CTX) == [2]
    assert migrations.current_version(v1) == 2
    assert migrations.pending(v1) == []
    log = read(v1, LOG)
    assert log["version"].to_list() == [2] and log["name"].to_list() == ["many_athletes"]
    after = _tables(v1)
    for spec in registry.PUBLIC:
        frame = after[spec.name]
        assert frame.columns[0] == "athlete", spec.name
        assert frame["athlete"].to_list() == ["me"] * frame.height, spec.name
        assert_frame_equal(frame.drop("athlete"), before[spec.name].drop("athlete"))
    for spec in registry.PRIVATE:
        if spec.name in before:
            assert_frame_equal(after[spec.name], before[spec.name])


def test_only_tables_that_need_it_are_written(v1):
    root = Path(v1.root)
    private_before = {s.name: snapshot(root / s.name) for s in registry.PRIVATE if table_exists(v1, s)}
    migrations.migrate(v1, CTX)
    for name, files in private_before.items():  # every private row of the fixture has its athlete_id
        assert snapshot(root / name) == files, name


def test_a_second_run_is_a_no_op_that_writes_nothing(v1, tmp_path):
    migrations.migrate(v1, CTX)
    before = snapshot(tmp_path / "lake")
    lines = []
    assert migrations.migrate(v1, CTX, progress=lines.append) == []
    assert lines == []
    assert snapshot(tmp_path / "lake") == before


def test_a_finished_v2_finds_nothing_to_do(v1, tmp_path):
    migrations.migrate(v1, CTX)
    before = snapshot(tmp_path / "lake")
    assert v2_many_athletes.apply(v1, CTX) == []
    assert snapshot(tmp_path / "lake") == before


def test_a_migration_killed_half_way_completes_on_a_rerun(v1, tmp_path, monkeypatch):
    reference = Lake.at(str(copy_v1_lake(tmp_path / "reference")))
    migrations.migrate(reference, CTX)

    real_overwrite = v2_many_athletes.overwrite
    written = []

    def overwrite_then_die(lake, spec, frame, **kwargs):
        if written:
            raise KeyboardInterrupt("killed")
        real_overwrite(lake, spec, frame, **kwargs)
        written.append(spec.name)

    monkeypatch.setattr(v2_many_athletes, "overwrite", overwrite_then_die)
    with pytest.raises(KeyboardInterrupt):
        migrations.migrate(v1, CTX)
    assert written == [registry.PUBLIC[0].name]
    assert migrations.current_version(v1) == 1  # not recorded: the migration did not finish
    monkeypatch.setattr(v2_many_athletes, "overwrite", real_overwrite)

    lines = []
    assert migrations.migrate(v1, CTX, progress=lines.append) == [2]
    assert f"  {written[0]}: athlete already set" in lines
    assert migrations.current_version(v1) == 2
    expected, got = _tables(reference), _tables(v1)
    assert got.keys() == expected.keys()
    for name in expected:
        assert_frame_equal(got[name], expected[name], check_row_order=False)


def test_rows_without_an_athlete_id_get_the_default_and_the_others_stay(v1):
    rows = read(v1, activities.SPEC).sort("activity_id")
    ids = rows["activity_id"].to_list()
    orphaned = rows.with_columns(
        athlete_id=pl.when(pl.col("activity_id") == ids[0]).then(None)
        .when(pl.col("activity_id") == ids[1]).then(pl.lit("a-0123456789abcdef0123"))
        .otherwise(pl.col("athlete_id"))
    )
    overwrite(v1, activities.SPEC, orphaned)
    # a build state written before it had athlete_id: the column is not in its files
    state = read(v1, public_state.SPEC)
    write_deltalake(public_state.SPEC.uri(v1), state.drop("athlete_id").to_arrow(), mode="overwrite", schema_mode="overwrite")

    migrations.migrate(v1, MigrationContext(default_athlete_id="runner-1", default_handle="me"))

    after = read(v1, activities.SPEC).sort("activity_id")
    owners = dict(zip(after["activity_id"], after["athlete_id"]))
    assert owners[ids[0]] == "runner-1"
    assert owners[ids[1]] == "a-0123456789abcdef0123"
    assert {owners[i] for i in ids[2:]} == {"me"}
    assert_frame_equal(after.drop("athlete_id"), rows.drop("athlete_id"))
    new_state = read(v1, public_state.SPEC).sort("activity_id")
    assert new_state["athlete_id"].to_list() == ["runner-1"] * state.height
    assert_frame_equal(new_state.drop("athlete_id"), state.sort("activity_id").drop("athlete_id"))


def test_a_new_lake_needs_no_migration_and_migrate_writes_nothing(tmp_path):
    lake = Lake.at(str(tmp_path / "new"))
    assert migrations.current_version(lake) == migrations.LATEST
    assert migrations.pending(lake) == []
    assert migrations.migrate(lake, CTX) == []
    assert not (tmp_path / "new").exists()


def test_a_new_lake_is_stamped_once_before_its_first_write(tmp_path):
    lake = Lake.at(str(tmp_path / "new"))
    assert migrations.stamp_new_lake(lake)
    assert read(lake, LOG)["version"].to_list() == [m.VERSION for m in migrations.ALL]
    before = snapshot(tmp_path / "new")
    assert not migrations.stamp_new_lake(lake)
    assert snapshot(tmp_path / "new") == before
    overwrite(lake, public.DAILY_LOAD_PUBLIC, public.DAILY_LOAD_PUBLIC.empty())
    assert migrations.current_version(lake) == migrations.LATEST


def test_a_version_1_lake_is_not_stamped(v1, tmp_path):
    assert not migrations.stamp_new_lake(v1)
    assert not (tmp_path / "lake" / "_meta").exists()


def test_the_first_table_written_to_a_new_lake_stamps_it(tmp_path):
    lake = Lake.at(str(tmp_path / "fresh"))
    overwrite(lake, activities.SPEC, activities.SPEC.empty())
    assert read(lake, LOG)["version"].to_list() == [m.VERSION for m in migrations.ALL]
    assert migrations.current_version(lake) == migrations.LATEST
