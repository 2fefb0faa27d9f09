"""Routes and samples are recomputed only where needed, and an incremental build equals a full one."""

from __future__ import annotations

import datetime as dt
import logging

import polars as pl

from bench.private_history import Run, write_private_lake
from flows.steps.build_public import build_public
from lake import public as public_tables
from lake import public_state
from lake.storage import Lake
from lake.table import read
from runlake.settings import Settings

TODAY = dt.date(2025, 4, 1)
T0 = dt.datetime(2025, 3, 1, 7, tzinfo=dt.timezone.utc)


def _runs(n: int, **overrides) -> list[Run]:
    return [Run(f"run{i}", T0 + dt.timedelta(days=i), 46.0, 6.0 + i / 50, 3000.0 + 100 * i, **overrides) for i in range(n)]


def _settings(root, **extra) -> Settings:
    return Settings(lake_uri=str(root), public_id_salt="s" * 43, timezone="UTC", **extra)


def _snapshot(lake: Lake) -> dict[str, pl.DataFrame]:
    out = {}
    for spec in public_tables.ALL:
        frame = read(lake, spec)
        out[spec.name] = frame.sort(frame.columns)
    return out


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].equals(b[name]), name


def test_incremental_equals_full_rebuild(tmp_path, caplog):
    inc = Lake.at(str(tmp_path / "inc"))
    write_private_lake(inc, _runs(4))
    build_public(inc, _settings(inc.root), today=TODAY)
    # Two more runs, one run made private, one deleted; then a second build.
    runs = _runs(6)
    runs[1].is_private = True
    runs[2].is_deleted = True
    write_private_lake(inc, runs)
    with caplog.at_level(logging.INFO, logger="flows.steps.build_public"), caplog.at_level(logging.INFO, logger="pipeline.public_withdraw"):
        build_public(inc, _settings(inc.root), today=TODAY)
    # Two runs left the public layer: every public table is a fresh snapshot, its history purged.
    assert "tracks of 4 activities to compute (fresh snapshot)" in caplog.text
    assert "history of every public table purged" in caplog.text

    full = Lake.at(str(tmp_path / "full"))
    write_private_lake(full, runs)
    build_public(full, _settings(full.root), today=TODAY)
    _assert_same(_snapshot(inc), _snapshot(full))
    assert read(inc, public_tables.ACTIVITIES_PUBLIC).height == 4


def test_unchanged_build_recomputes_nothing(tmp_path, caplog):
    lake = Lake.at(str(tmp_path / "lake"))
    write_private_lake(lake, _runs(3))
    build_public(lake, _settings(lake.root), today=TODAY)
    before = _snapshot(lake)
    with caplog.at_level(logging.INFO, logger="flows.steps.build_public"):
        build_public(lake, _settings(lake.root), today=TODAY)
    assert "tracks of 0 activities to compute\n" in caplog.text and "purged" not in caplog.text
    _assert_same(before, _snapshot(lake))


def test_new_runs_alone_are_added_without_a_fresh_snapshot(tmp_path, caplog):
    apart = _apart
    lake = Lake.at(str(tmp_path / "lake"))
    write_private_lake(lake, apart(3))
    build_public(lake, _settings(lake.root), today=TODAY)
    write_private_lake(lake, apart(5))
    with caplog.at_level(logging.INFO, logger="flows.steps.build_public"):
        build_public(lake, _settings(lake.root), today=TODAY)
    assert "tracks of 2 activities to compute\n" in caplog.text and "purged" not in caplog.text
    full = Lake.at(str(tmp_path / "full"))
    write_private_lake(full, apart(5))
    build_public(full, _settings(full.root), today=TODAY)
    _assert_same(_snapshot(lake), _snapshot(full))


def _apart(n: int) -> list[Run]:
    """Runs that no two start or end together (no place appears), 1° of latitude apart."""
    return [Run(f"run{i}", T0 + dt.timedelta(days=i), 40.0 + i, 6.0, 3000.0) for i in range(n)]


def test_new_privacy_zone_reaches_existing_routes(tmp_path):
    lake = Lake.at(str(tmp_path / "lake"))
    write_private_lake(lake, _apart(3))
    build_public(lake, _settings(lake.root), today=TODAY)
    first = read(lake, public_tables.ROUTES_PUBLIC)
    assert first["public_activity_id"].n_unique() == 3
    build_public(lake, _settings(lake.root, privacy_zones="41.0,6.0,500"), today=TODAY)
    routes = read(lake, public_tables.ROUTES_PUBLIC)
    assert routes["public_activity_id"].n_unique() == 2
    assert ((routes["lat_deg"] - 41.0).abs() > 0.1).all()


def test_state_is_private_and_rebuilt_when_public_tables_vanish(tmp_path):
    import shutil

    lake = Lake.at(str(tmp_path / "lake"))
    write_private_lake(lake, _runs(3))
    build_public(lake, _settings(lake.root), today=TODAY)
    assert public_state.SPEC.name.startswith("private/")
    before = _snapshot(lake)
    shutil.rmtree(tmp_path / "lake" / "public")
    build_public(lake, _settings(lake.root), today=TODAY)
    _assert_same(before, _snapshot(lake))
