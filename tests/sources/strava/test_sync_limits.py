"""Rate limits and faults: a backfill larger than the daily limit, 429s, 5xx faults, timeouts."""

from __future__ import annotations

from collections import Counter

import polars as pl

from lake import activities, records, strava_state
from lake.table import read
from pipeline.strava_sync import sync_strava
from tests.sources.strava.conftest import no_sleep


def fetched_ok(fake, kind: str) -> Counter:
    pattern = {"detail": r"/api/v3/activities/(\d+)", "streams": r"/api/v3/activities/(\d+)/streams"}[kind]
    import re

    rx = re.compile(pattern)
    return Counter(int(m.group(1)) for r in fake.requests if r.status == 200 and (m := rx.fullmatch(r.path)))


def test_daily_limit_smaller_than_the_backfill_spans_runs_without_duplicates(make_fake, settings_for, lake):
    fake = make_fake(20, read_daily_limit=17, duration_s=60)
    settings = settings_for(fake, fake.issue_refresh_token(), strava_rate_share=1.0, strava_commit_every=5)
    runs = []
    for _ in range(4):
        runs.append(sync_strava(lake, settings, sleep=no_sleep))
        if not runs[-1].stopped:
            break
        # stopped: what was fetched is committed, the checkpoint stops before the first missing
        stored = read(lake, strava_state.ACTIVITIES)
        checkpoint = strava_state.checkpoint(lake, settings.athlete_id)
        first_missing = min(a.start for i, a in fake.activities.items() if i not in set(stored["strava_id"]))
        assert checkpoint["checkpoint_start_time"] < first_missing
        assert checkpoint["last_outcome"].startswith("stopped")
        fake.new_day()
    # 17 reads a day: the listing, then 8 activities × (detail + streams); a commit every 5
    assert [r.stored for r in runs] == [8, 8, 4]
    assert "daily rate limit" in runs[0].stopped and runs[0].left == 12
    assert runs[-1].stopped is None
    # nothing fetched twice, nothing stored twice, no 429 provoked
    assert set(fetched_ok(fake, "streams").values()) == {1} and len(fetched_ok(fake, "streams")) == 20
    assert set(fetched_ok(fake, "detail").values()) == {1}
    assert fake.count(r".*", status=429) == 0
    acts = read(lake, activities.SPEC)
    assert acts.height == 20 and acts["activity_id"].n_unique() == 20
    assert read(lake, records.SPEC).height == sum(len(a.streams["time"]) for a in fake.activities.values())


def test_a_429_mid_activity_stops_cleanly_and_the_next_run_resumes(make_fake, settings_for, lake):
    # headers promise 1000 reads a day, the server enforces 10: the client meets a real 429
    fake = make_fake(8, read_daily_limit=10, advertised_read_daily_limit=1000, duration_s=120)
    settings = settings_for(fake, fake.issue_refresh_token(), strava_rate_share=1.0)
    first = sync_strava(lake, settings, sleep=no_sleep)
    assert first.stopped and "429" in first.stopped
    assert first.stored == 4  # 1 page + 4 × 2 = 9 reads; the 5th activity's detail is the 10th, its streams the 429
    assert read(lake, activities.SPEC).height == 4
    fake.new_day()
    fake.read_daily_limit = 1000
    second = sync_strava(lake, settings, sleep=no_sleep)
    assert second.stopped is None and second.stored == 4
    assert read(lake, activities.SPEC)["activity_id"].n_unique() == 8
    streams = fetched_ok(fake, "streams")
    assert len(streams) == 8 and set(streams.values()) == {1}
    assert sum(fetched_ok(fake, "detail").values()) == 9  # only the interrupted activity's detail twice


def test_ten_percent_server_errors_are_retried(make_fake, settings_for, lake):
    fake = make_fake(30, fault_rate=0.10, duration_s=60, seed=3)
    report = sync_strava(lake, settings_for(fake, fake.issue_refresh_token()), sleep=no_sleep)
    faults = sum(1 for r in fake.requests if r.status >= 500)
    assert faults >= 3, "the fake should have injected faults"
    assert report.stopped is None and report.stored == 30 and not report.skipped
    assert report.faults == faults
    assert read(lake, activities.SPEC).height == 30
    assert read(lake, records.SPEC).height == sum(len(a.streams["time"]) for a in fake.activities.values())


def test_timeouts_are_retried(make_fake, settings_for, lake):
    fake = make_fake(3, slow_rate=0.3, slow_s=1.0, duration_s=60, seed=5)
    report = sync_strava(lake, settings_for(fake, fake.issue_refresh_token(), strava_timeout_s=0.3), sleep=no_sleep)
    assert report.stored == 3 and report.faults >= 1


def test_backoff_starts_at_a_quarter_second_and_is_capped(make_fake, settings_for, lake):
    fake = make_fake(1, fault_rate=1.0)
    slept: list[float] = []
    settings = settings_for(fake, fake.issue_refresh_token(), strava_max_retries=7)
    try:
        sync_strava(lake, settings, sleep=slept.append)
    except Exception as error:  # every answer is a 5xx: Strava "kept failing"
        assert "kept failing" in str(error)
    assert slept[0] <= 0.5 and slept == sorted(slept) and max(slept) <= 8.0 and len(slept) == 7
    assert read(lake, strava_state.SYNC)["checkpoint_start_time"].to_list() == [None]
    assert pl.DataFrame(read(lake, strava_state.SYNC))["last_outcome"][0].startswith("failed")
