"""The athlete's corrections (`runlake activity set --sport/--race/--exclude-from-load/--distance-km`,
`private/overrides`) survive the merge with the watch file, a re-sync, `runlake lake rebuild` and
`runlake marts build --full`, reach the public layer, and an incremental build equals a full one.

Real watch files (synthetic FIT generator) through the real ingest, Strava through the real sync
against the fake server, the real marts build (which ends with the public layer).
"""

from __future__ import annotations

import datetime as dt
import shutil
from datetime import timedelta

import polars as pl
import pytest

from lake import activities, overrides
from lake import marts as mart_tables
from lake import public as public_tables
from lake.storage import Lake
from lake.table import read
from pipeline.checks.marts import marts_daily_sums
from pipeline.checks.tables import keys_unique
from pipeline.steps.build_marts import build_marts
from pipeline.steps.overrides import Correction, clear_overrides, set_overrides
from pipeline.steps.rebuild import rebuild_from_raw
from pipeline.strava_sync import sync_strava
from runlake.errors import RunlakeError
from tests.sources.strava.conftest import WATCH_T0, no_sleep
from tests.sources.strava.fake_data import make_run
from tests.sources.strava.test_sticky_privacy import ingest

T0 = WATCH_T0  # race.fit's start (the watch_files fixture)
TODAY = dt.date(2025, 4, 20)


def summary_of(lake: Lake, activity_id: str) -> dict:
    rows = read(lake, mart_tables.ACTIVITY_SUMMARY).filter(pl.col("activity_id") == activity_id)
    assert rows.height == 1, activity_id
    return rows.to_dicts()[0]


def assert_corrected(lake: Lake, activity_id: str) -> None:
    row = summary_of(lake, activity_id)
    assert row["distance_m"] == 10000.0
    assert row["session_type"] == "race"
    assert row["trimp"] == 0.0 and row["trimp_method"] == "excluded"
    assert row["corrected_fields"] == "distance,race,load"
    day = read(lake, mart_tables.DAILY_LOAD).filter(pl.col("date") == row["date"]).to_dicts()[0]
    assert day["trimp"] == 0.0 and day["distance_m"] == 10000.0


def test_corrections_survive_merge_resync_rebuild_and_full_build(make_fake, settings_for, watch_files, tmp_path):
    fake = make_fake(0)
    corrected = make_run(701, T0 + timedelta(seconds=20), external_id="race.fit", duration_s=300)
    fake.add(corrected)
    fake.add(make_run(702, T0 + timedelta(days=1), sport_type="Ride", duration_s=300))  # a run recorded as a ride
    settings = settings_for(fake, fake.issue_refresh_token())
    lake = Lake.at(settings.lake)

    sync_strava(lake, settings, sleep=no_sleep)
    build_marts(lake, settings, today=TODAY)
    assert summary_of(lake, "strava-702")["sport"] != "running"
    assert summary_of(lake, "strava-701")["corrected_fields"] is None
    # Corrected while Strava-only, by URL and by Strava id.
    set_overrides(lake, settings, "https://www.strava.com/activities/701",
                  Correction(distance_m=10000.0, is_race=True, exclude_from_load=True))
    set_overrides(lake, settings, "702", Correction(sport="Running"))
    build = build_marts(lake, settings, today=TODAY)
    assert build.mode == "incremental" and build.recomputed == 2  # only the corrected activities
    assert_corrected(lake, "strava-701")
    ride = summary_of(lake, "strava-702")
    assert ride["sport"] == "running" and ride["is_running"] and ride["corrected_fields"] == "sport"

    ingest(lake, settings, watch_files)  # the watch file merges with Strava 701: a new activity_id
    merged = read(lake, activities.SPEC).filter(pl.col("strava_id") == 701)["activity_id"].item()
    plain = read(lake, activities.SPEC).filter(pl.col("strava_id").is_null())["activity_id"].item()
    assert merged.startswith("fit-")
    build_marts(lake, settings, today=TODAY)
    assert_corrected(lake, merged)
    assert summary_of(lake, plain)["corrected_fields"] is None
    published = read(lake, public_tables.ACTIVITIES_PUBLIC)
    assert 10000.0 in published["distance_m"].to_list()  # the public layer shows the corrected run

    corrected.name = "Renamed on Strava"  # a re-sync fetches and rewrites the row
    fake.delete(702)
    fake.add(make_run(702, T0 + timedelta(days=1), sport_type="Ride", duration_s=300, name="Still a ride"))
    report = sync_strava(lake, settings, sleep=no_sleep)
    assert report.stored >= 1
    build_marts(lake, settings, today=TODAY)
    assert_corrected(lake, merged)
    assert summary_of(lake, "strava-702")["sport"] == "running"
    # `lake check` recomputes the days with the same corrections: no false finding.
    assert marts_daily_sums(lake, {settings.athlete_id}).ok
    assert keys_unique(lake, overrides.SPEC).ok

    # An incremental build equals a full one, the corrections included.
    full_root = tmp_path / "full"
    shutil.copytree(settings.lake, full_root)
    full = Lake.at(str(full_root))
    build_marts(full, settings.model_copy(update={"lake_uri": str(full_root)}), full=True, today=TODAY)
    for spec in (*mart_tables.ALL, *public_tables.ALL):
        key = list(spec.key)
        assert read(lake, spec).sort(key).equals(read(full, spec).sort(key)), spec.name

    rebuild_from_raw(lake, settings, workers=1)
    build_marts(lake, settings, full=True, today=TODAY)
    assert_corrected(lake, merged)
    assert summary_of(lake, "strava-702")["corrected_fields"] == "sport"


def test_a_later_correction_keeps_the_earlier_fields_and_bad_values_are_refused(make_fake, settings_for):
    fake = make_fake(0)
    fake.add(make_run(801, T0, duration_s=300))
    settings = settings_for(fake, fake.issue_refresh_token())
    lake = Lake.at(settings.lake)
    sync_strava(lake, settings, sleep=no_sleep)
    set_overrides(lake, settings, "strava-801", Correction(distance_m=5000.0), now=T0)
    set_overrides(lake, settings, "801", Correction(is_race=True), now=T0 + timedelta(hours=1))
    set_overrides(lake, settings, "801", Correction(distance_m=5100.0), now=T0 + timedelta(hours=2))
    row = read(lake, overrides.SPEC).to_dicts()
    assert len(row) == 1
    assert (row[0]["distance_m"], row[0]["is_race"], row[0]["strava_id"]) == (5100.0, True, 801)
    with pytest.raises(RunlakeError, match="--distance-km must be a positive number"):
        set_overrides(lake, settings, "801", Correction(distance_m=-1.0))
    with pytest.raises(RunlakeError, match="no activity matches"):
        set_overrides(lake, settings, "strava-9", Correction(is_race=True))
    build_marts(lake, settings, today=TODAY)
    row = summary_of(lake, "strava-801")
    assert row["distance_m"] == 5100.0 and row["corrected_fields"] == "distance,race"

    cleared = clear_overrides(lake, settings, "https://www.strava.com/activities/801")
    assert cleared.fields == ("is_race", "distance_m") and read(lake, overrides.SPEC).is_empty()
    assert build_marts(lake, settings, today=TODAY).recomputed == 1
    row = summary_of(lake, "strava-801")
    assert row["distance_m"] == read(lake, activities.SPEC)["distance_m"].item() != 5100.0
    assert row["corrected_fields"] is None
