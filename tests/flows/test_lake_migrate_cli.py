"""`runlake lake migrate` on a lake written by the single-athlete version, and the guard on every
other command that writes: one line naming `runlake lake migrate`, nothing changed."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lake import migrations, registry
from lake.storage import Lake
from lake.table import read, table_exists
from tests.flows.test_cli_ingest import assert_one_clear_line, runlake
from tests.lake.migration_support import FIXTURE_TODAY, LAKE_V1, LAKE_V1_INPUTS, copy_v1_lake, snapshot

#: Every command that writes the lake, with arguments that would work on a current lake.
WRITING_COMMANDS = [
    ("ingest", "fit", str(LAKE_V1_INPUTS)),
    ("marts", "build", "--today", FIXTURE_TODAY),
    ("lake", "rebuild"),
    ("lake", "maintain"),
    ("sync", "strava"),
    ("athlete", "set", "--hr-max", "190"),
    ("activity", "set", "fit-0", "--private"),
    ("token", "create", "--name", "coach"),
]


@pytest.fixture
def v1_env(tmp_path) -> dict:
    lake = copy_v1_lake(tmp_path / "lake")
    return {"RUNLAKE_HOME": str(tmp_path / "home"), "RUNLAKE_LAKE_URI": str(lake), "RUNLAKE_TIMEZONE": "Europe/Amsterdam",
            "COLUMNS": "200"}


@pytest.mark.parametrize("command", WRITING_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_version_1_lake_is_refused_with_one_line_and_left_as_it_was(v1_env, command):
    lake = Path(v1_env["RUNLAKE_LAKE_URI"])
    before = snapshot(lake)
    proc = runlake(*command, env=v1_env)
    assert_one_clear_line(proc, "version 1", "runlake lake migrate")
    assert snapshot(lake) == before


def test_the_flows_refuse_it_the_same_way(v1_env, monkeypatch):
    from pipeline.lake_access import open_lake
    from runlake.errors import RunlakeError
    from runlake.settings import Settings

    for name, value in v1_env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RunlakeError, match="runlake lake migrate"):
        open_lake(Settings())


def test_migrate_upgrades_and_a_rerun_writes_nothing(v1_env):
    lake = Path(v1_env["RUNLAKE_LAKE_URI"])
    proc = runlake("lake", "migrate", env=v1_env)
    assert proc.returncode == 0, proc.stderr
    assert "v2 many_athletes" in proc.stdout
    assert "public/activities: column athlete added" in proc.stdout
    assert migrations.current_version(Lake.at(str(lake))) == 2

    before = snapshot(lake)
    again = runlake("lake", "migrate", env=v1_env)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout
    assert snapshot(lake) == before


#: Marts added after the v1 fixture was made (issue 18's distance per shoe): a build after the
#: migration writes them too. (Columns added later are read back in the current schema.)
ADDED_SINCE_V1 = {"marts/gear_distance"}


def _marts(lake: Lake) -> dict[str, pl.DataFrame]:
    """Private marts and the public layer (without the new `athlete` column), in key order."""
    specs = [s for s in registry.PRIVATE if s.name.startswith("marts/")] + list(registry.PUBLIC)
    return {s.name: read(lake, s).drop("athlete", strict=False).sort([k for k in s.key if k != "athlete"])
            for s in specs if table_exists(lake, s)}


def _counts(lake: Lake) -> dict[str, int]:
    return {s.name: read(lake, s).height for s in registry.ALL if table_exists(lake, s)}


def test_after_migrating_a_full_build_and_a_reingest_change_nothing(v1_env):
    lake = Lake.at(v1_env["RUNLAKE_LAKE_URI"])
    expected = _marts(Lake.at(str(LAKE_V1)))
    assert runlake("lake", "migrate", env=v1_env).returncode == 0

    build = runlake("marts", "build", "--full", "--today", FIXTURE_TODAY, env=v1_env)
    assert build.returncode == 0, build.stderr
    got = _marts(lake)
    assert got.keys() - expected.keys() == ADDED_SINCE_V1
    for name in expected:
        assert_frame_equal(got[name], expected[name], check_row_order=False)
    public_rows = read(lake, registry.by_name("public/activities"))
    assert public_rows["athlete"].to_list() == ["me"] * public_rows.height

    counts = _counts(lake)
    ingest = runlake("ingest", "fit", str(LAKE_V1_INPUTS), env=v1_env)
    assert ingest.returncode == 0, ingest.stderr
    assert "7 already in the lake" in ingest.stdout
    assert _counts(lake) == counts


def test_a_new_lake_needs_no_migration(tmp_path):
    env = {"RUNLAKE_HOME": str(tmp_path / "home"), "RUNLAKE_LAKE_URI": str(tmp_path / "lake"), "COLUMNS": "200"}
    first = runlake("lake", "migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "nothing to do" in first.stdout
    ingest = runlake("ingest", "fit", str(LAKE_V1_INPUTS), env=env)
    assert ingest.returncode == 0, ingest.stderr
    assert runlake("marts", "build", "--today", FIXTURE_TODAY, env=env).returncode == 0
    assert migrations.current_version(Lake.at(env["RUNLAKE_LAKE_URI"])) == migrations.LATEST
    before = snapshot(tmp_path / "lake")
    again = runlake("lake", "migrate", env=env)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert snapshot(tmp_path / "lake") == before
