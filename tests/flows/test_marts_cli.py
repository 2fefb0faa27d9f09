"""`runlake marts build` and `runlake athlete set|show`: results and one-line errors."""

from __future__ import annotations

import datetime as dt

import pytest
import typer
from typer.testing import CliRunner

from flows.commands import athlete, marts
from lake import athlete_profile
from lake.marts import DAILY_LOAD
from lake.storage import Lake
from lake.table import read, upsert
from lake import activities as A
from tests.marts.factory import activities_frame, activity

app = typer.Typer()
app.add_typer(athlete.app, name="athlete")
app.add_typer(marts.app, name="marts")


@pytest.fixture
def lake_env(tmp_path, monkeypatch):
    root = tmp_path / "lake"
    monkeypatch.setenv("RUNLAKE_LAKE_URI", str(root))
    return Lake.at(str(root))


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_marts_build_on_an_empty_lake_then_with_a_run(lake_env):
    result = run("marts", "build", "--today", "2025-01-10")
    assert result.exit_code == 0, result.output
    assert "0 activities" in result.output
    upsert(lake_env, A.SPEC, activities_frame([activity("a", dt.datetime(2025, 1, 8, 7), avg_hr=150.0)]))
    result = run("marts", "build", "--today", "2025-01-10")
    assert result.exit_code == 0 and "marts full: 1 activities" in result.output  # first data: full
    result = run("marts", "build", "--today", "2025-01-10")
    assert result.exit_code == 0 and "incremental: 1 activities (0 recomputed" in result.output
    assert read(lake_env, DAILY_LOAD).sort("date")["date"].to_list() == [dt.date(2025, 1, 8), dt.date(2025, 1, 9), dt.date(2025, 1, 10)]
    assert run("marts", "build", "--full", "--today", "2025-01-10").exit_code == 0


def test_athlete_set_and_show(lake_env):
    result = run("athlete", "set", "--hr-max", "192", "--hr-rest", "44", "--threshold-pace", "3:15", "--from", "2025-01-01")
    assert result.exit_code == 0, result.output
    result = run("athlete", "set", "--threshold-hr", "172", "--from", "2025-01-01")  # same day: merged
    assert result.exit_code == 0, result.output
    row = read(lake_env, athlete_profile.SPEC).row(0, named=True)
    assert (row["hr_max_bpm"], row["hr_rest_bpm"], row["threshold_hr_bpm"], row["threshold_pace_s_per_km"]) == (192, 44, 172, 195.0)
    shown = run("athlete", "show").output
    assert "from 2025-01-01: HR rest 44 max 192 bpm" in shown and "3:15.0/km" in shown


@pytest.mark.parametrize(
    "args, message",
    [
        (["--hr-rest", "60", "--hr-max", "55"], "maximum HR 55 bpm is not plausible"),
        (["--hr-rest", "110", "--hr-max", "105"], "resting HR 110 must be below maximum HR 105"),
        (["--hr-max", "400"], "maximum HR 400 bpm is not plausible"),
        (["--sex", "x"], "sex must be m or f"),
        (["--threshold-pace", "fast"], "threshold pace 'fast'"),
        (["--hr-max", "190", "--from", "yesterday"], "--from 'yesterday' is not a date"),
        ([], "give at least one of"),
    ],
)
def test_athlete_set_rejects_nonsense_with_one_line(lake_env, args, message):
    result = run("athlete", "set", *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert read(lake_env, athlete_profile.SPEC).is_empty()


def test_bad_settings_fail_with_one_line(lake_env, monkeypatch):
    monkeypatch.setenv("RUNLAKE_HR_REST_BPM", "100")
    monkeypatch.setenv("RUNLAKE_HR_MAX_BPM", "100")
    result = run("marts", "build")
    assert result.exit_code == 2 and "RUNLAKE_HR_REST_BPM must be below RUNLAKE_HR_MAX_BPM" in result.output
