"""Restore: Delta time travel as one commit, within the retention that `lake maintain` keeps."""

from __future__ import annotations

import datetime as dt
import time

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from lake import quarantine
from lake.maintenance import RetentionError, check_retention, maintain_table
from lake.purge import purge_history
from lake.restore import RestoreRefused, commit_times, restorable_spec, restore_table
from lake.storage import Lake
from lake.table import open_table, overwrite, read

SPEC = quarantine.SPEC
NOW = dt.datetime.now(dt.UTC)


def rows(*names: str) -> pl.DataFrame:
    return pl.DataFrame({"sha256": [n * 8 for n in names], "athlete_id": ["me"] * len(names), "file_name": list(names)})


@pytest.fixture
def versions(local_lake: Lake) -> dict[int, pl.DataFrame]:
    """Versions 0, 1, 2 of a small table, a few ms apart."""
    contents = {}
    for i, names in enumerate((("a", "b"), ("c",), ("d", "e", "f"))):
        overwrite(local_lake, SPEC, rows(*names))
        contents[i] = read(local_lake, SPEC).sort("sha256")
        time.sleep(0.02)
    assert open_table(local_lake, SPEC).version() == 2
    return contents


def test_restore_by_version_brings_back_its_rows_as_a_new_commit(local_lake, versions):
    done = restore_table(local_lake, SPEC, version=0, retention_hours=168)
    assert read(local_lake, SPEC).sort("sha256").equals(versions[0])
    assert (done.restored_version, done.previous_version, done.new_version) == (0, 2, 3)
    restore_table(local_lake, SPEC, version=done.previous_version, retention_hours=168)  # undo
    assert read(local_lake, SPEC).sort("sha256").equals(versions[2])


def test_restore_by_timestamp_takes_the_version_current_then(local_lake, versions):
    times = commit_times(open_table(local_lake, SPEC))
    done = restore_table(local_lake, SPEC, timestamp=times[1] + dt.timedelta(milliseconds=1), retention_hours=168)
    assert done.restored_version == 1 and read(local_lake, SPEC).sort("sha256").equals(versions[1])


def test_a_version_older_than_the_retention_is_refused(local_lake, versions):
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=200)
    with pytest.raises(RestoreRefused, match=r"version 0 was replaced more than RUNLAKE_VACUUM_RETENTION_HOURS=168 h ago"):
        restore_table(local_lake, SPEC, version=0, retention_hours=168, now=later)
    with pytest.raises(RestoreRefused, match="RUNLAKE_VACUUM_RETENTION_HOURS=168"):
        restore_table(local_lake, SPEC, timestamp=later - dt.timedelta(hours=169), retention_hours=168, now=later)
    assert open_table(local_lake, SPEC).version() == 2  # nothing written


def test_the_current_version_an_unknown_one_and_a_purged_past_are_refused(local_lake, versions):
    with pytest.raises(RestoreRefused, match="at version 2 already"):
        restore_table(local_lake, SPEC, version=2, retention_hours=168)
    with pytest.raises(RestoreRefused, match="no version 9 in its log"):
        restore_table(local_lake, SPEC, version=9, retention_hours=168)
    purge_history(local_lake, SPEC)
    with pytest.raises(RestoreRefused, match="no version 0 in its log .its history was purged"):
        restore_table(local_lake, SPEC, version=0, retention_hours=168)


def test_public_privacy_and_unknown_tables_are_never_restored():
    with pytest.raises(RestoreRefused, match="public/activities is not restored: the public layer is rebuilt"):
        restorable_spec("public/activities")
    with pytest.raises(RestoreRefused, match="a run once private stays private"):
        restorable_spec("private/privacy_marks")
    with pytest.raises(RestoreRefused, match="revoked API tokens"):
        restorable_spec("private/api_tokens")
    with pytest.raises(RestoreRefused, match="no table 'nope'.*activities, laps, records"):
        restorable_spec("nope")
    assert restorable_spec("activities").name == "activities"


def test_maintenance_keeps_every_version_of_the_retention_window(local_lake, versions):
    maintain_table(local_lake, SPEC.name, retention_hours=168)
    restore_table(local_lake, SPEC, version=0, retention_hours=168)
    assert read(local_lake, SPEC).sort("sha256").equals(versions[0])


def test_a_shorter_vacuum_retention_than_promised_is_refused(tmp_path, monkeypatch):
    with pytest.raises(RetentionError, match="shorter than RUNLAKE_VACUUM_RETENTION_HOURS=168"):
        check_retention(1, 168)
    check_retention(500, 168)
    monkeypatch.setenv("RUNLAKE_LAKE_URI", str(tmp_path / "lake"))
    result = CliRunner().invoke(app, ["lake", "maintain", "--retention-hours", "0"])
    assert result.exit_code == 1 and "shorter than RUNLAKE_VACUUM_RETENTION_HOURS=168" in result.output


def test_restore_command_round_trip_and_refusals(local_lake, versions, monkeypatch):
    monkeypatch.setenv("RUNLAKE_LAKE_URI", local_lake.root)
    result = CliRunner().invoke(app, ["lake", "restore", "--table", "quarantine", "--version", "1"])
    assert result.exit_code == 0, result.output
    assert "quarantine: restored version 1" in result.output and "rows 3 → 1" in result.output
    assert "runlake lake check" in result.output and "--version 2" in result.output
    assert read(local_lake, SPEC).sort("sha256").equals(versions[1])
    result = CliRunner().invoke(app, ["lake", "restore", "--table", "quarantine", "--timestamp", NOW.isoformat(), "--yes"])
    assert result.exit_code == 1 and "no version at" in result.output  # before its first commit
    result = CliRunner().invoke(app, ["lake", "restore", "--table", "public/routes", "--version", "0"])
    assert result.exit_code == 1 and "public layer is rebuilt" in result.output
    result = CliRunner().invoke(app, ["lake", "restore", "--table", "quarantine"])
    assert result.exit_code == 1 and "give --version or --timestamp" in result.output
