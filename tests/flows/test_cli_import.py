"""`runlake import PATH`: an archive in, progress and a summary out; one clear line on a bad path;
exit 1 only when a member of the archive is damaged (the user must fetch it again)."""

from __future__ import annotations

import gzip
import zipfile
from datetime import UTC, datetime

from sources.fit.synthetic import run_bytes
import pytest

from tests.flows.test_cli_ingest import assert_one_clear_line, runlake
from tests.sources.archive_builders import gpx_from_fit, strava_export_zip


@pytest.fixture
def env(tmp_path) -> dict:
    return {"RUNLAKE_HOME": str(tmp_path / "home"), "RUNLAKE_LAKE_URI": str(tmp_path / "lake"), "COLUMNS": "200"}


def test_import_a_strava_export_twice(tmp_path, env):
    fit = run_bytes(datetime(2025, 5, 1, 6, 0, tzinfo=UTC), 3000, seed=5)
    other = run_bytes(datetime(2025, 5, 2, 6, 0, tzinfo=UTC), 3000, seed=6)
    path = tmp_path / "export.zip"
    path.write_bytes(strava_export_zip([(11, "11.fit", fit, {"name": "Tempo"}), (12, "12.gpx", gpx_from_fit(other), {})]))
    first = runlake("import", str(path), env=env)
    assert first.returncode == 0, first.stderr
    assert "2 activity files" in first.stdout and "2 ingested" in first.stdout
    assert "2 activities given their Strava id" in first.stdout
    again = runlake("import", str(path), env=env)
    assert again.returncode == 0, again.stderr
    assert "0 ingested" in again.stdout and "2 already in the lake" in again.stdout


def test_a_path_that_is_not_an_archive_is_one_line(tmp_path, env):
    (tmp_path / "notes.txt").write_text("hello")
    assert_one_clear_line(runlake("import", str(tmp_path / "notes.txt"), env=env), "not a .zip, .fit, .gpx or .tcx")
    assert_one_clear_line(runlake("import", str(tmp_path / "missing.zip"), env=env), "no such file or folder")


def test_an_unreadable_activities_csv_is_one_line(tmp_path, env):
    fit = run_bytes(datetime(2025, 5, 1, 6, 0, tzinfo=UTC), 3000, seed=5)
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("activities.csv", "Activity ID,Activity Name,Filename\n1," + "x" * 200_000 + ",activities/1.fit\n")
        archive.writestr("activities/1.fit", fit)
    assert_one_clear_line(runlake("import", str(path), env=env), "activities.csv: unreadable at line 2")


def test_a_damaged_member_exits_1_and_the_rest_is_imported(tmp_path, env):
    fit = run_bytes(datetime(2025, 5, 1, 6, 0, tzinfo=UTC), 3000, seed=5)
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("activities/1.fit.gz", gzip.compress(fit))
        archive.writestr("activities/2.fit.gz", gzip.compress(fit)[:100])
    proc = runlake("import", str(path), env=env)
    assert proc.returncode == 1
    assert "1 ingested" in proc.stdout and "unreadable" in proc.stdout and "corrupt archive member" in proc.stdout
