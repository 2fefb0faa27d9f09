"""Three athletes in one lake (one private), a file given by two of them: nothing mixes."""

from __future__ import annotations

import shutil

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from lake import activities, fit_files, laps, quarantine, records, registry
from lake.marts import DAILY_LOAD, WEEKLY_SUMMARY
from lake.storage import Lake
from lake.table import read
from tests.file_texts import holds

TODAY = "2025-03-31"


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def lake(tmp_path, monkeypatch, fit_folder) -> Lake:
    monkeypatch.setenv("RUNLAKE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RUNLAKE_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setenv("RUNLAKE_INBOX_URI", str(tmp_path / "inbox"))
    files = sorted(fit_folder.rglob("*.[fF][iI][tT]"))
    mine, shared, theirs = files[:3], files[3], files[4:]
    for name, chosen in (("me", [*mine, shared]), ("ann", [shared, *theirs]), ("bob", theirs)):
        folder = tmp_path / "given" / name
        folder.mkdir(parents=True)
        for f in chosen:
            shutil.copy(f, folder / f.name)
    run("athlete", "add", "ann", "--timezone", "Europe/Oslo", "--public")
    run("athlete", "add", "bob", "--display-name", "Bob B.")  # private by default
    run("ingest", "fit", str(tmp_path / "given" / "me"))
    run("ingest", "fit", str(tmp_path / "given" / "ann"), "--athlete", "ann")
    run("ingest", "fit", str(tmp_path / "given" / "bob"), "--athlete", "bob")
    run("marts", "build", "--today", TODAY)
    return Lake.at(str(tmp_path / "lake"))


def _ids(lake: Lake) -> dict[str, str]:
    return dict(read(lake, registry.PRIVATE[0]).select("handle", "athlete_id").iter_rows()) | {"me": "me"}


def test_list_shows_every_athlete_handle_first(lake):
    lines = run("athlete", "list").strip().splitlines()
    assert [line.split()[0] for line in lines] == ["me", "ann", "bob"]
    assert "private" in lines[2] and "public" in lines[1] and "Bob B." in lines[2]


def test_each_table_keeps_athletes_apart_and_a_shared_file_is_two_activities(lake):
    ids = _ids(lake)
    acts = read(lake, activities.SPEC)
    assert acts["activity_id"].is_unique().all()
    per_athlete = dict(acts.group_by("athlete_id").len().iter_rows())
    assert per_athlete == {ids["me"]: 4, ids["ann"]: 3, ids["bob"]: 2}
    files = read(lake, fit_files.SPEC)
    assert files.select("athlete_id", "sha256").is_unique().all()
    shared = files.group_by("sha256").agg(pl.col("athlete_id").n_unique().alias("n")).filter(pl.col("n") > 1)
    assert shared.height == 3  # the file me and ann gave, and bob's two that ann gave too
    for spec in (records.SPEC, laps.SPEC):
        rows = read(lake, spec).join(acts.select("activity_id", pl.col("athlete_id").alias("owner")), on="activity_id")
        assert (rows["athlete_id"] == rows["owner"]).all(), spec.name
    assert read(lake, quarantine.SPEC).is_empty()


def test_marts_per_athlete_equal_a_single_athlete_build_of_the_same_files(lake, tmp_path, monkeypatch):
    ids = _ids(lake)
    alone = tmp_path / "alone"
    monkeypatch.setenv("RUNLAKE_LAKE_URI", str(alone))
    run("ingest", "fit", str(tmp_path / "given" / "ann"))
    run("athlete", "set", "--timezone", "Europe/Oslo")
    run("marts", "build", "--today", TODAY)
    single = Lake.at(str(alone))
    for spec, key in ((DAILY_LOAD, "date"), (WEEKLY_SUMMARY, "week_start")):
        shared = read(lake, spec).filter(pl.col("athlete_id") == ids["ann"]).drop("athlete_id").sort(key)
        own = read(single, spec).drop("athlete_id").sort(key)
        assert shared.equals(own), spec.name


def test_an_unknown_athlete_is_one_line(lake):
    result = CliRunner().invoke(app, ["ingest", "fit", "--athlete", "nobody"])
    assert result.exit_code == 1 and "no athlete has the handle 'nobody'" in result.output


def test_handles_are_validated(lake):
    for bad, why in (("Me", "reserved"), ("ann", "taken"), ("x", "2-32 characters"), ("a b", "2-32 characters"),
                     ("a-0123456789abcdef0123", "reserved")):
        result = CliRunner().invoke(app, ["athlete", "add", bad])
        assert result.exit_code == 1 and why in result.output, (bad, result.output)


def test_privacy_settings_of_the_environment_describe_the_default_athlete_only(lake, monkeypatch):
    from pipeline.athletes import resolve_athlete
    from runlake.settings import Settings

    monkeypatch.setenv("RUNLAKE_PRIVACY_ZONES", "48.85,2.35,600")
    monkeypatch.setenv("RUNLAKE_PRIVACY_TRIM_M", "350")
    settings = Settings()
    me, ann = resolve_athlete(lake, settings), resolve_athlete(lake, settings, "ann")
    assert me.settings.privacy_zones == "48.85,2.35,600" and me.settings.privacy_trim_m == 350
    assert ann.settings.privacy_zones == "" and ann.settings.privacy_trim_m == 200
    assert ann.settings.timezone == "Europe/Oslo" and ann.settings.inbox.endswith(f"/athletes/{ann.athlete_id}")
    run("athlete", "set", "--athlete", "ann", "--trim-m", "300", "--privacy-zones", "59.9,10.7,800")
    ann = resolve_athlete(lake, settings, "ann")
    assert ann.settings.privacy_trim_m == 300 and ann.settings.privacy_zones == "59.9,10.7,800"


def _public_handles(lake: Lake) -> dict[str, set[str]]:
    return {spec.name: set(read(lake, spec)["athlete"].unique()) for spec in registry.PUBLIC}


def test_public_layer_holds_only_public_athletes_and_follows_a_change(lake, tmp_path):
    handles = _public_handles(lake)
    assert handles["public/activities"] == {"me", "ann"} and handles["public/daily_load"] == {"me", "ann"}
    assert all(h <= {"me", "ann"} for h in handles.values())
    for spec in registry.PUBLIC:
        assert "athlete_id" not in read(lake, spec).columns
    ann_id = _ids(lake)["ann"]
    run("athlete", "set", "--athlete", "ann", "--private")
    run("athlete", "set", "--athlete", "bob", "--public")
    run("marts", "build", "--today", TODAY)
    handles = _public_handles(lake)
    assert handles["public/activities"] == {"me", "bob"}
    # Ann's rows are gone from every file of the public layer, history included.
    for path in (tmp_path / "lake" / "public").rglob("*"):
        if path.is_file():
            assert not holds(path, ann_id)
    assert not any("ann" in h for hs in handles.values() for h in hs)


def test_a_second_writer_of_the_same_athlete_waits_then_gives_up_with_one_line(lake, monkeypatch, fit_folder):
    from lake.lease import acquire

    ids = _ids(lake)
    monkeypatch.setenv("RUNLAKE_LEASE_WAIT_S", "1")
    with acquire(lake, ids["ann"], "marts build"):  # held by this (live) process
        result = CliRunner().invoke(app, ["ingest", "fit", str(fit_folder), "--athlete", "ann"])
        assert result.exit_code == 1 and "busy" in result.output and "marts build" in result.output
        run("ingest", "fit", str(fit_folder), "--athlete", "bob")  # another athlete is not held up


def test_a_new_handle_leaves_no_public_row_under_the_old_one(lake):
    run("athlete", "set", "--athlete", "ann", "--handle", "anna")
    assert "ann" not in _public_handles(lake)["public/activities"]
    run("marts", "build", "--today", TODAY)
    handles = _public_handles(lake)
    assert handles["public/activities"] == {"me", "anna"}
    assert all("ann" not in h for h in handles.values())
