"""`runlake activity set ID --public|--private`: ids in every form, one-line errors."""

from __future__ import annotations

import datetime as dt

import pytest
import typer
from typer.testing import CliRunner

from bench.private_history import Run, write_private_lake
from flows.commands import activity
from lake import overrides, privacy_marks
from lake.storage import Lake
from lake.table import read

T0 = dt.datetime(2025, 3, 10, 6, 30, tzinfo=dt.UTC)

app = typer.Typer()
app.add_typer(activity.app, name="activity")


@pytest.fixture
def lake(tmp_path, monkeypatch) -> Lake:
    monkeypatch.setenv("RUNLAKE_LAKE_URI", str(tmp_path / "lake"))
    lake = Lake.at(str(tmp_path / "lake"))
    write_private_lake(lake, [
        Run("fit-merged", T0, source="fit+strava", strava_id=99),
        Run("fit-flagged", T0 + dt.timedelta(days=1), source="fit+strava", strava_id=77, is_private=True),
    ])
    return lake


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_set_private_then_public_by_strava_url_and_id(lake):
    result = run("activity", "set", "STRAVA-99", "--private")
    assert result.exit_code == 0, result.output
    assert "activity fit-merged (Strava 99) is now private" in result.output
    result = run("activity", "set", "https://www.strava.com/activities/99?ref=x", "--public")
    assert result.exit_code == 0, result.output
    marks = read(lake, privacy_marks.SPEC)
    assert marks.select("activity_id", "strava_id", "is_private", "reason").rows() == [("fit-merged", 99, False, "set_public")]


def test_publishing_a_run_strava_still_calls_private_is_refused(lake):
    result = run("activity", "set", "77", "--public")
    assert result.exit_code == 1
    assert "fit-flagged is private on Strava" in result.output
    assert read(lake, privacy_marks.SPEC).is_empty()  # no publication recorded


def test_unknown_id_and_missing_option_fail_with_one_line(lake):
    result = run("activity", "set", "strava-12345", "--public")
    assert result.exit_code == 1 and "no activity matches 'strava-12345'" in result.output
    result = run("activity", "set", "fit-merged")
    assert result.exit_code == 1 and "give --public or --private" in result.output


def test_corrections_and_privacy_in_one_call_by_athlete_handle(lake):
    result = run("activity", "set", "strava-99", "--athlete", "me", "--sport", "Running", "--race",
                 "--exclude-from-load", "--distance-km", "10.0", "--private")
    assert result.exit_code == 0, result.output
    assert "activity fit-merged: sport, is_race, exclude_from_load, distance_m corrected" in result.output
    assert "activity fit-merged (Strava 99) is now private" in result.output
    rows = read(lake, overrides.SPEC).select("activity_id", "strava_id", "sport", "is_race", "exclude_from_load", "distance_m")
    assert rows.rows() == [("fit-merged", 99, "running", True, True, 10000.0)]
    assert read(lake, privacy_marks.SPEC)["reason"].to_list() == ["set_private"]


def test_a_bad_correction_writes_nothing(lake):
    assert run("activity", "set", "fit-merged", "--race").exit_code == 0
    result = run("activity", "set", "fit-merged", "--clear-corrections", "--distance-km", "0", "--private")
    assert result.exit_code == 1 and "--distance-km must be a positive number" in result.output
    assert read(lake, overrides.SPEC).height == 1 and read(lake, privacy_marks.SPEC).is_empty()
    result = run("activity", "set", "99", "--clear-corrections")
    assert result.exit_code == 0 and "activity fit-merged: corrections cleared (is_race)" in result.output
    assert read(lake, overrides.SPEC).is_empty()
