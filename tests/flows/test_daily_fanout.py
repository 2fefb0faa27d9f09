"""`daily` fans out to one `daily-athlete` run per athlete and ends Failed when any failed.

The parent's decisions run through `.fn` with scripted child results (no server). The last test
runs `daily` for real, in-process (children as subflows) on a temporary Prefect server, on a lake
of three athletes one of whom has broken settings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from prefect.logging import disable_run_logger
from prefect.states import Completed

import flows.daily as daily_mod
from flows.daily_fanout import AthletesFailed, ChildResult, child_parameters, summarize
from pipeline.lake_access import open_lake
from pipeline.athletes import add_athlete, inbox_of, list_athletes
from lake import activities
from lake import athletes as athletes_table
from lake.marts import DAILY_LOAD
from lake.table import read, upsert
from runlake.settings import Settings


def child(handle: str, ok: bool = True, message: str = "") -> ChildResult:
    athlete_id = f"a-{handle}"
    return ChildResult(handle, athlete_id, f"daily-athlete-{athlete_id}", ok, "" if ok else message)


def test_summary_names_failed_athletes_by_id_and_keeps_handles_for_the_outcome():
    summary = summarize([child("ann"), child("bob", False, "build-marts (bad zone)"), child("cat")])
    assert [r.handle for r in summary.completed] == ["ann", "cat"] and not summary.all_failed
    assert summary.error() == "1 of 3 athletes failed: a-bob (run daily-athlete-a-bob: build-marts (bad zone))"
    assert "bob" not in summary.error().replace("a-bob", "")
    assert summary.outcome() == {"ann": "completed", "bob": "failed: build-marts (bad zone)", "cat": "completed"}
    assert summarize([child("bob", False, "x")]).all_failed and not summarize([]).failed


def test_a_child_gets_its_handle_and_only_the_given_overrides(tmp_path):
    settings = Settings(lake_uri=str(tmp_path / "lake"))
    me = list_athletes(open_lake(settings), settings)[0]
    assert child_parameters(me, {"lake_uri": "/l", "inbox_uri": None}) == {"athlete": "me", "lake_uri": "/l"}


class Children:
    """Stands in for `run_children`: records the athletes, returns scripted results."""

    def __init__(self, failing: dict[str, str] | None = None):
        self.failing = failing or {}
        self.handles: list[str] = []

    def __call__(self, athletes, overrides):
        self.handles = [a.handle for a in athletes]
        return [
            ChildResult(a.handle, a.athlete_id, f"daily-athlete-{a.athlete_id}", a.handle not in self.failing,
                        self.failing.get(a.handle, ""))
            for a in athletes
        ]


def run_parent(monkeypatch, children, steps: list[str], **params):
    monkeypatch.setattr(daily_mod, "run_children", children)
    monkeypatch.setattr(daily_mod, "run_step", lambda step, overrides: steps.append(step.name) or Completed())
    with disable_run_logger():
        return daily_mod.daily.fn(**params)


@pytest.fixture
def three(tmp_path):
    settings = Settings(lake_uri=str(tmp_path / "lake"))
    lake = open_lake(settings)
    ids = {h: add_athlete(lake, settings, h).athlete_id for h in ("bob", "cat")}
    return str(tmp_path / "lake"), ids


def test_every_athlete_gets_a_child_and_maintenance_runs_once_for_the_lake(monkeypatch, three):
    lake_uri, _ = three
    children, steps = Children(), []
    outcome = run_parent(monkeypatch, children, steps, lake_uri=lake_uri)
    assert children.handles == ["me", "bob", "cat"]
    assert steps == ["maintain-lake", "lake-check"]  # a fresh lake has never been maintained
    assert outcome == {"athletes": {"bob": "completed", "cat": "completed", "me": "completed"}, "maintain-lake": "completed",
                       "lake-check": "completed"}


def test_one_failing_athlete_fails_the_parent_after_all_children_and_maintenance(monkeypatch, three):
    lake_uri, ids = three
    children, steps = Children(failing={"bob": "sync-strava (Strava refused the refresh token)"}), []
    with pytest.raises(AthletesFailed) as failed:
        run_parent(monkeypatch, children, steps, lake_uri=lake_uri)
    assert str(failed.value) == (
        f"1 of 3 athletes failed: {ids['bob']} (run daily-athlete-{ids['bob']}: sync-strava (Strava refused the refresh token))"
    )
    assert children.handles == ["me", "bob", "cat"] and steps == ["maintain-lake", "lake-check"]


def test_no_maintenance_when_every_athlete_failed_but_the_lake_is_still_checked(monkeypatch, three):
    lake_uri, _ = three
    children, steps = Children(failing={"me": "x", "bob": "y", "cat": "z"}), []
    with pytest.raises(AthletesFailed, match="3 of 3 athletes failed"):
        run_parent(monkeypatch, children, steps, lake_uri=lake_uri, maintain=True)
    assert steps == ["lake-check"]


def test_a_typod_lake_scheme_fails_before_any_child(monkeypatch):
    from lake.storage import LakeConfigError

    children, steps = Children(), []
    with pytest.raises(LakeConfigError, match="unsupported URI scheme 's4'"):
        run_parent(monkeypatch, children, steps, lake_uri="s4://bucket/lake")
    assert children.handles == [] and steps == []


# --- for real: in-process subflows on a temporary Prefect server --------------------------------------


def write_fit(folder, days_ago: int, seed: int) -> None:
    from sources.fit.synthetic import write_run

    zone = ZoneInfo("Europe/Amsterdam")
    start = datetime.now(zone).replace(hour=7, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    folder.mkdir(parents=True, exist_ok=True)
    write_run(folder / f"run-{seed}.fit", start, 3000.0, 280.0, seed=seed)


def break_privacy_zones(lake, athlete_id: str) -> None:
    """Store zones no parser accepts (as an older runlake or a hand edit might have): only the
    public build of this athlete reads them."""
    row = read(lake, athletes_table.SPEC).filter(pl.col("athlete_id") == athlete_id).to_dicts()[0]
    row |= {"privacy_zones": "somewhere near home", "public": True}
    upsert(lake, athletes_table.SPEC, athletes_table.SPEC.conform(pl.DataFrame([row])))


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_daily_in_process_fails_only_the_athlete_with_broken_settings(tmp_path, monkeypatch):
    from prefect.testing.utilities import prefect_test_harness

    lake_uri, inbox = str(tmp_path / "lake"), tmp_path / "inbox"
    settings = Settings(lake_uri=lake_uri, inbox_uri=str(inbox))
    lake = open_lake(settings)
    good, bad = add_athlete(lake, settings, "good"), add_athlete(lake, settings, "bad")
    break_privacy_zones(lake, bad.athlete_id)
    write_fit(inbox, 2, seed=1)
    write_fit(Path(inbox_of(settings, good.athlete_id)), 1, seed=2)
    write_fit(Path(inbox_of(settings, bad.athlete_id)), 1, seed=3)
    monkeypatch.setenv("RUNLAKE_LAKE_URI", lake_uri)
    monkeypatch.setenv("RUNLAKE_INBOX_URI", str(inbox))

    with prefect_test_harness(server_startup_timeout=240):
        state = daily_mod.daily(maintain=False, return_state=True)
    assert state.is_failed()
    assert f"1 of 3 athletes failed: {bad.athlete_id} (run daily-athlete-{bad.athlete_id}: " in state.message
    assert "RUNLAKE_PRIVACY_ZONES" in state.message and "bad" not in state.message.replace(bad.athlete_id, "")
    per_athlete = read(lake, activities.SPEC).group_by("athlete_id").len()
    assert dict(per_athlete.iter_rows()) == {"me": 1, good.athlete_id: 1, bad.athlete_id: 1}  # every inbox ingested
    built = read(lake, DAILY_LOAD)["athlete_id"].unique().to_list()
    assert {"me", good.athlete_id} <= set(built)
