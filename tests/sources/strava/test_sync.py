"""Sync against the fake Strava: first sync, paging, re-runs, changes between runs, checkpoints."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import polars as pl
import pytest

from lake import activities, laps, records, strava_state
from lake.table import read
from sources.strava.client import StravaApi, make_client
from sources.strava.ratelimit import RateLimiter
from pipeline.strava_sync import _list_all, sync_strava
from tests.sources.strava.conftest import no_sleep
from tests.sources.strava.fake_data import make_history, make_run


def streams_fetched(fake, strava_id: int) -> int:
    return fake.count(rf"/api/v3/activities/{strava_id}/streams")


def test_first_sync_stores_activities_laps_and_full_streams(make_fake, settings_for, lake):
    fake = make_fake(12)
    report = sync_strava(lake, settings_for(fake, fake.issue_refresh_token()), sleep=no_sleep)
    assert (report.listed, report.new, report.stored, report.stopped) == (12, 12, 12, None)
    acts = read(lake, activities.SPEC)
    assert sorted(acts["strava_id"].to_list()) == sorted(fake.activities)
    assert set(acts["source"]) == {"strava"} and set(acts["activity_id"]) == {f"strava-{i}" for i in fake.activities}
    assert not acts["is_deleted"].any()
    # every sample of every stream, at full resolution
    recs = read(lake, records.SPEC)
    assert recs.height == sum(len(a.streams["time"]) for a in fake.activities.values())
    one = fake.activities[1003]
    mine = recs.filter(pl.col("activity_id") == "strava-1003").sort("seq")
    assert mine["hr_bpm"].to_list() == one.streams["heartrate"]
    assert mine["lat_deg"].to_list() == [p[0] for p in one.streams["latlng"]]
    assert mine["timestamp"][-1] - mine["timestamp"][0] == timedelta(seconds=one.streams["time"][-1])
    assert read(lake, laps.SPEC).filter(pl.col("activity_id") == "strava-1003").height == len(one.laps)
    stream_calls = [r for r in fake.requests if r.path.endswith("/streams")]
    assert stream_calls and all("resolution" not in r.query for r in stream_calls)
    assert set(stream_calls[0].query["keys"].split(",")) >= {"time", "latlng", "distance", "altitude", "heartrate", "cadence", "velocity_smooth", "moving", "watts", "temp"}
    assert all(r.query.get("per_page") == "200" for r in fake.requests if r.path.endswith("/athlete/activities"))
    # raw JSON archived as Strava sent it
    state = read(lake, strava_state.ACTIVITIES).filter(pl.col("strava_id") == 1003)
    with open(lake.uri(state["raw_uri"][0]), "rb") as fh:
        archived = json.loads(gzip.decompress(fh.read()))
    assert archived["activity"]["id"] == 1003 and archived["streams"]["heartrate"]["data"] == one.streams["heartrate"]
    assert report.requests == 1 + 2 * 12 + 1  # one page, then detail (with laps) + streams each, then gear g1
    assert report.gear == 1 and [r.path for r in fake.requests if "/gear/" in r.path] == ["/api/v3/gear/g1"]


def test_listing_pages_200_at_a_time_until_a_short_page(make_fake):
    fake = make_fake(0)
    for activity in make_history(401, duration_s=5):
        fake.add(activity)
    fake.access_tokens["at_test"] = 4e9
    client, adapter = make_client(fake.url, RateLimiter(), sleep=no_sleep)
    client.access_token = "at_test"
    summaries = _list_all(StravaApi(client, adapter), None, lambda *a: None)
    assert len(summaries) == 401 and len({s["id"] for s in summaries}) == 401
    pages = [r.query["page"] for r in fake.requests if r.path.endswith("/athlete/activities")]
    assert pages == ["1", "2", "3"]
    starts = [s["start_date"] for s in summaries]
    assert starts == sorted(starts, reverse=True)  # newest first without `after`


def test_second_run_downloads_nothing(make_fake, settings_for, lake):
    fake = make_fake(8)
    settings = settings_for(fake, fake.issue_refresh_token())
    sync_strava(lake, settings, sleep=no_sleep)
    before = len(fake.api_requests())
    counts = {s.name: read(lake, s).height for s in (activities.SPEC, laps.SPEC, records.SPEC)}
    report = sync_strava(lake, settings, sleep=no_sleep)
    assert (report.unchanged, report.stored, report.requests) == (8, 0, 1)
    assert len(fake.api_requests()) - before == 1
    assert {s.name: read(lake, s).height for s in (activities.SPEC, laps.SPEC, records.SPEC)} == counts


def test_add_update_delete_between_runs(make_fake, settings_for, lake):
    fake = make_fake(6)
    settings = settings_for(fake, fake.issue_refresh_token())
    sync_strava(lake, settings, sleep=no_sleep)
    ids = sorted(fake.activities)
    fake.add(make_run(5000, fake.activities[ids[-1]].start + timedelta(days=1), duration_s=200))
    fake.activities[ids[0]].name = "Renamed"
    fake.activities[ids[1]].distance = round(fake.activities[ids[1]].distance * 1.1, 1)  # corrected on Strava
    fake.activities[ids[2]].private = True
    fake.delete(ids[3])
    report = sync_strava(lake, settings, sleep=no_sleep)
    assert (report.new, report.updated, report.deleted, report.unchanged) == (1, 3, 1, 2)
    acts = {r["strava_id"]: r for r in read(lake, activities.SPEC).to_dicts()}
    assert acts[ids[0]]["name"] == "Renamed"
    assert acts[ids[2]]["is_private"] is True
    assert acts[ids[3]]["is_deleted"] is True and not any(acts[i]["is_deleted"] for i in ids if i != ids[3])
    assert acts[5000]["source"] == "strava"
    edited = read(lake, records.SPEC).filter(pl.col("activity_id") == f"strava-{ids[1]}")
    assert edited["distance_m"].max() == pytest.approx(fake.activities[ids[1]].distance, rel=1e-6)
    assert edited.height == len(fake.activities[ids[1]].streams["time"])  # replaced, not appended
    assert streams_fetched(fake, ids[4]) == 1 and streams_fetched(fake, ids[1]) == 2
    state = read(lake, strava_state.ACTIVITIES).filter(pl.col("strava_id") == ids[3])
    assert state["status"][0] == "deleted"
    assert fake.count(rf"/api/v3/activities/{ids[3]}", status=404) == 1  # the deletion was confirmed


def test_an_activity_missed_by_the_listing_but_still_on_strava_is_not_deleted(make_fake, settings_for, lake):
    fake = make_fake(3)
    settings = settings_for(fake, fake.issue_refresh_token())
    sync_strava(lake, settings, sleep=no_sleep)
    missed = min(fake.activities)
    fake.hidden_from_listing = {missed}  # pages shifted while they were read
    report = sync_strava(lake, settings, sleep=no_sleep)
    assert report.deleted == 0
    row = read(lake, activities.SPEC).filter(pl.col("strava_id") == missed)
    assert row["is_deleted"].to_list() == [False]


def test_incremental_listing_from_the_checkpoint_catches_late_uploads(make_fake, settings_for, lake):
    fake = make_fake(5)
    settings = settings_for(fake, fake.issue_refresh_token(), strava_full_listing_every=3, strava_overlap_days=14)
    first = sync_strava(lake, settings, sleep=no_sleep)
    assert first.full_listing
    newest = max(a.start for a in fake.activities.values())
    fake.add(make_run(7001, newest + timedelta(days=1), duration_s=120))
    fake.add(make_run(7002, newest - timedelta(days=3), duration_s=120))  # uploaded late, dated earlier
    fake.delete(min(fake.activities))
    second = sync_strava(lake, settings, sleep=no_sleep)
    assert not second.full_listing and second.new == 2 and second.deleted == 0
    listing = [r for r in fake.requests if r.path.endswith("/athlete/activities")][-1]
    assert int(listing.query["after"]) == int((newest - timedelta(days=14)).timestamp())
    checkpoint = strava_state.checkpoint(lake, settings.athlete_id)
    assert checkpoint["checkpoint_start_time"] == newest + timedelta(days=1)
    third = sync_strava(lake, settings, sleep=no_sleep)
    assert not third.full_listing
    fourth = sync_strava(lake, settings, sleep=no_sleep)
    assert fourth.full_listing and fourth.deleted == 1  # deletions only seen by a full listing


def test_lowercase_headers_and_laps_from_their_own_endpoint(make_fake, settings_for, lake):
    fake = make_fake(4, lowercase_headers=True, laps_in_detail=False, read_daily_limit=8)
    report = sync_strava(lake, settings_for(fake, fake.issue_refresh_token(), strava_rate_share=1.0), sleep=no_sleep)
    # 1 page + 3 per activity (detail, streams, laps) within 8 reads: two activities, then a clean
    # stop before the third is started (its 3 requests do not fit)
    assert report.stored == 2 and report.stopped and "daily" in report.stopped
    assert fake.count(r"/api/v3/activities/\d+/laps") == 2
    assert fake.count(r".*", status=429) == 0
    assert read(lake, laps.SPEC).height == sum(len(fake.activities[i].laps) for i in read(lake, activities.SPEC)["strava_id"])


@pytest.mark.slow
def test_sync_into_an_s3_lake(make_fake, settings_for, s3_bucket):
    from pipeline.lake_access import open_lake
    from lake import raw

    fake = make_fake(3, duration_s=60)
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()  # a lake on S3 needs RUNLAKE_SECRET_KEY
    settings = settings_for(fake, fake.issue_refresh_token(), lake_uri=f"{s3_bucket}/lake", secret_key=key)
    lake = open_lake(settings)
    assert lake.is_s3
    report = sync_strava(lake, settings, sleep=no_sleep)
    assert report.stored == 3
    assert read(lake, activities.SPEC).height == 3
    assert read(lake, records.SPEC).height == sum(len(a.streams["time"]) for a in fake.activities.values())
    archived = raw.list_relative(lake, "raw/strava")
    assert len(archived) == 3 and all(p.endswith(".json.gz") for p in archived)
    assert sync_strava(lake, settings, sleep=no_sleep).unchanged == 3
