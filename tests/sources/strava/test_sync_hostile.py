"""Hostile Strava answers (docs/strava.md, "Hostile values"): a non-JSON activity body, summaries
without `start_date` or `distance`, an unknown `sport_type` — each one activity's problem, never
the sync's."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from lake import activities, strava_state
from lake.table import read
from pipeline.strava_sync import sync_strava
from tests.sources.strava.conftest import no_sleep
from tests.sources.strava.fake_data import make_run


def _start_of(fake) -> object:
    return min(a.start for a in fake.activities.values())


def test_a_non_json_activity_body_skips_that_activity_only(make_fake, settings_for, lake):
    fake = make_fake(3)
    bad = sorted(fake.activities)[1]
    fake.malformed_details = {bad}
    report = sync_strava(lake, settings_for(fake, fake.issue_refresh_token()), sleep=no_sleep)
    assert report.stored == 2 and report.stopped is None
    assert [i for i, _ in report.skipped] == [bad]
    assert report.skipped[0][1].startswith(f"unusable data: Strava answered malformed JSON for activity {bad}")
    state = read(lake, strava_state.ACTIVITIES).filter(pl.col("strava_id") == bad)
    assert state["status"][0] == strava_state.SKIPPED
    assert read(lake, strava_state.SYNC)["last_outcome"][0] == "complete"


def test_a_listed_summary_without_start_date_is_skipped_with_a_reason(make_fake, settings_for, lake):
    fake = make_fake(2)
    fake.add(replace(make_run(8101, _start_of(fake)), omit=("start_date",)))
    settings = settings_for(fake, fake.issue_refresh_token())
    report = sync_strava(lake, settings, sleep=no_sleep)
    assert report.stored == 2 and report.skipped == [(8101, "listed without a readable start_date (None)")]
    assert read(lake, activities.SPEC).filter(pl.col("strava_id") == 8101).is_empty()
    assert read(lake, strava_state.SYNC)["last_outcome"][0] == "complete"
    again = sync_strava(lake, settings, sleep=no_sleep)  # tried again, still one clear line
    assert again.skipped == report.skipped and again.unchanged == 2


def test_a_detail_without_start_date_is_skipped_with_a_reason(make_fake, settings_for, lake):
    fake = make_fake(1)
    run = make_run(8102, _start_of(fake))
    fake.add(run)
    original = run.detail
    run.detail = lambda **kw: {k: v for k, v in original(**kw).items() if k != "start_date"}  # listing has it
    report = sync_strava(lake, settings_for(fake, fake.issue_refresh_token()), sleep=no_sleep)
    assert report.stored == 1
    assert report.skipped == [(8102, "unusable data: a Strava activity without id, start_date or start_date_local")]


def test_missing_distance_is_stored_as_null(make_fake, settings_for, lake):
    fake = make_fake(1)
    fake.add(replace(make_run(8103, _start_of(fake)), omit=("distance",)))
    report = sync_strava(lake, settings_for(fake, fake.issue_refresh_token()), sleep=no_sleep)
    assert report.stored == 2 and report.skipped == []
    row = read(lake, activities.SPEC).filter(pl.col("strava_id") == 8103)
    assert row["distance_m"][0] is None and row["sport"][0] == "running"


def test_an_unknown_sport_type_is_stored_as_generic(make_fake, settings_for, lake):
    fake = make_fake(1)
    fake.add(make_run(8104, _start_of(fake), sport_type="Quidditch"))
    report = sync_strava(lake, settings_for(fake, fake.issue_refresh_token()), sleep=no_sleep)
    assert report.stored == 2 and report.skipped == []
    row = read(lake, activities.SPEC).filter(pl.col("strava_id") == 8104)
    assert (row["sport"][0], row["sub_sport"][0]) == ("generic", None)
