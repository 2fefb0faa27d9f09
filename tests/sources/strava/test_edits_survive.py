"""Merges and splits (`runlake activity merge|split`, private/activity_edits) made while runs
were Strava-only survive a re-sync, the watch file merging with its Strava copy (a new
activity_id), `runlake lake rebuild` and `marts build --full`.

Strava through the real sync against the fake server, watch files through the real ingest.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from lake import activities
from lake import marts as mart_tables
from lake.storage import Lake
from lake.table import read
from pipeline.steps.build_marts import build_marts
from pipeline.steps.edits import merge_activities, split_activity
from pipeline.steps.rebuild import rebuild_from_raw
from pipeline.strava_sync import sync_strava
from tests.sources.strava.conftest import no_sleep
from tests.sources.strava.fake_data import make_run
from tests.sources.strava.test_overrides_survive import T0, TODAY
from tests.sources.strava.test_sticky_privacy import ingest


def summaries(lake: Lake) -> dict[str, dict]:
    return {r["activity_id"]: r for r in read(lake, mart_tables.ACTIVITY_SUMMARY).to_dicts()}


def test_edits_made_while_strava_only_survive_resync_watch_file_and_rebuild(make_fake, settings_for, watch_files):
    fake = make_fake(0)
    fake.add(make_run(701, T0 + timedelta(seconds=20), external_id="race.fit", duration_s=600))  # its watch file comes later
    fake.add(make_run(703, T0 + timedelta(days=5), duration_s=600))
    fake.add(make_run(704, T0 + timedelta(days=5, minutes=12), duration_s=300))  # the same run, watch restarted
    settings = settings_for(fake, fake.issue_refresh_token())
    lake = Lake.at(settings.lake)
    sync_strava(lake, settings, sleep=no_sleep)

    change = split_activity(lake, settings, "https://www.strava.com/activities/701", "+5:00")
    part = change.text.rsplit(" ", 1)[-1]
    merge_activities(lake, settings, "703", "strava-704")
    build_marts(lake, settings, today=TODAY)
    before = summaries(lake)
    assert {"strava-701", part, "strava-703"} <= set(before) and "strava-704" not in before
    assert before[part]["start_time"] == T0 + timedelta(seconds=320)

    sync_strava(lake, settings, sleep=no_sleep)  # a re-sync: nothing new, the edits stay
    ingest(lake, settings, watch_files)  # race.fit merges with Strava 701: a new activity_id
    watch = read(lake, activities.SPEC).filter(pl.col("strava_id") == 701)["activity_id"].item()
    assert watch.startswith("fit-")
    build_marts(lake, settings, today=TODAY)
    after = summaries(lake)
    assert {watch, part} <= set(after) and "strava-701" not in after  # the split follows the run
    assert after[part]["start_time"] == T0 + timedelta(seconds=320)
    assert after[watch]["corrected_fields"] == after[part]["corrected_fields"] == "split"
    assert after["strava-703"]["corrected_fields"] == "merged" and "strava-704" not in after

    rebuild_from_raw(lake, settings, workers=1)
    build_marts(lake, settings, full=True, today=TODAY)
    rebuilt = summaries(lake)
    assert set(rebuilt) == set(after)
    for activity_id, row in after.items():
        assert rebuilt[activity_id]["distance_m"] == row["distance_m"], activity_id
