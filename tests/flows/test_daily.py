"""The `daily-athlete` flow's decisions, without a Prefect server: steps are replaced by
recorded states. (The parent `daily` and its fan-out: tests/flows/test_daily_fanout.py.)

The real subflows, retries and the server run in tests/e2e/test_prefect_local.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from prefect.logging import disable_run_logger
from prefect.states import Completed, Failed

import flows.daily_athlete as daily_mod
from flows.daily import maintenance_due
from flows.daily_athlete import DailyStepsFailed, strava_configured
from lake.storage import LakeConfigError
from runlake.settings import Settings

AMS = timezone(timedelta(hours=1))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    import os

    for name in list(os.environ):
        if name.startswith(("RUNLAKE_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RUNLAKE_HOME", str(tmp_path / "home"))


def at(day: str, hour: int = 4) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:30:00").replace(tzinfo=AMS)


@pytest.mark.parametrize(
    "now,last,due",
    [
        (at("2026-11-25"), None, True),  # never maintained
        (at("2026-11-25"), at("2026-11-17"), True),  # Wednesday, 8 days ago
        (at("2026-11-25"), at("2026-11-22"), False),  # Wednesday, 3 days ago
        (at("2026-11-29"), at("2026-11-25"), True),  # Sunday
        (at("2026-11-29", 6), at("2026-11-29", 4), False),  # Sunday, already done this morning
    ],
)
def test_maintenance_is_weekly(now, last, due):
    assert maintenance_due(now, last)[0] is due


def test_strava_needs_a_client_id_and_a_secret_or_block():
    assert not strava_configured(Settings())
    assert not strava_configured(Settings(strava_client_id="1"))
    assert strava_configured(Settings(strava_client_id="1", strava_client_secret="s"))
    assert strava_configured(Settings(strava_client_id="1", strava_secret_block="runlake-strava"))


class StepRecorder:
    """Stands in for `flows.daily_steps.run_step`: records calls, returns the scripted state."""

    def __init__(self, failing: dict[str, str] | None = None):
        self.failing = failing or {}
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, step, overrides):
        self.calls.append((step.name, dict(overrides)))
        if step.name in self.failing:
            return Failed(message=self.failing[step.name])
        return Completed()

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def run_daily(monkeypatch, recorder, **params):
    monkeypatch.setattr(daily_mod, "run_step", recorder)
    monkeypatch.setattr(daily_mod, "emit_activities_landed", lambda *a, **k: False)
    with disable_run_logger():
        return daily_mod.daily_athlete.fn(**params)


def test_all_steps_run_in_order_and_overrides_pass_down(monkeypatch, tmp_path):
    recorder = StepRecorder()
    lake, inbox = str(tmp_path / "lake"), str(tmp_path / "inbox")
    outcome = run_daily(monkeypatch, recorder, lake_uri=lake, inbox_uri=inbox)
    # No Strava configured: skipped, not failed. Maintenance is the parent's, lake-wide.
    assert recorder.names == ["ingest-fit", "build-marts"]
    assert outcome == {"sync-strava": "skipped", "ingest-fit": "completed", "build-marts": "completed"}
    assert all(o == {"lake_uri": lake, "inbox_uri": inbox, "athlete": "me"} for _, o in recorder.calls)


def test_strava_runs_first_when_configured(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNLAKE_STRAVA_CLIENT_ID", "123")
    monkeypatch.setenv("RUNLAKE_STRAVA_CLIENT_SECRET", "s3cr3t")
    recorder = StepRecorder()
    run_daily(monkeypatch, recorder, lake_uri=str(tmp_path / "lake"))
    assert recorder.names == ["sync-strava", "ingest-fit", "build-marts"]


def test_strava_is_skipped_for_an_athlete_who_never_authorized(monkeypatch, tmp_path):
    from pipeline.lake_access import open_lake
    from pipeline.athletes import add_athlete

    monkeypatch.setenv("RUNLAKE_STRAVA_CLIENT_ID", "123")
    monkeypatch.setenv("RUNLAKE_STRAVA_CLIENT_SECRET", "s3cr3t")
    settings = Settings(lake_uri=str(tmp_path / "lake"))
    add_athlete(open_lake(settings), settings, "kim")
    recorder = StepRecorder()
    outcome = run_daily(monkeypatch, recorder, lake_uri=str(tmp_path / "lake"), athlete="kim")
    assert recorder.names == ["ingest-fit", "build-marts"] and outcome["sync-strava"] == "skipped"
    assert all(o["athlete"] == "kim" for _, o in recorder.calls)


def test_an_unknown_handle_fails_before_any_step(monkeypatch, tmp_path):
    from pipeline.athletes import UnknownAthleteError

    recorder = StepRecorder()
    with pytest.raises(UnknownAthleteError, match="no athlete has the handle 'nobody'"):
        run_daily(monkeypatch, recorder, lake_uri=str(tmp_path / "lake"), athlete="nobody")
    assert recorder.calls == []


def test_a_failed_step_fails_the_run_after_the_others_ran(monkeypatch, tmp_path):
    recorder = StepRecorder(failing={"ingest-fit": "no such file or folder: /nowhere"})
    with pytest.raises(DailyStepsFailed, match=r"1 step\(s\) failed: ingest-fit \(no such file or folder: /nowhere\)"):
        run_daily(monkeypatch, recorder, lake_uri=str(tmp_path / "lake"))
    # Marts still rebuilt from what landed.
    assert recorder.names == ["ingest-fit", "build-marts"]


def test_a_typod_lake_scheme_fails_before_any_step(monkeypatch):
    recorder = StepRecorder()
    with pytest.raises(LakeConfigError, match="unsupported URI scheme 's4'"):
        run_daily(monkeypatch, recorder, lake_uri="s4://bucket/lake")
    assert recorder.calls == []
