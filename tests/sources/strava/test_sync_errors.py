"""Bad input, tried as a new user would, and the no-secret-anywhere check."""

from __future__ import annotations

import socket

import polars as pl
import pytest

from lake import activities, records, strava_state
from lake.table import read, table_exists
from sources.strava.errors import StravaAuthError, StravaPayloadError, StravaUnavailable
from pipeline.strava_sync import sync_strava
from tests.sources.strava.conftest import leaked, no_sleep, table_texts
from tests.sources.strava.fake_data import make_run


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wrong_client_secret_is_one_clear_line(make_fake, settings_for, lake):
    fake = make_fake(3)
    settings = settings_for(fake, fake.issue_refresh_token(), strava_client_secret="not-the-secret")
    with pytest.raises(StravaAuthError) as error:
        sync_strava(lake, settings, sleep=no_sleep)
    text = str(error.value)
    assert "client credentials" in text and "RUNLAKE_STRAVA_CLIENT_SECRET" in text and "\n" not in text
    assert "not-the-secret" not in text
    assert not table_exists(lake, activities.SPEC)


def test_revoked_refresh_token_keeps_what_is_stored(make_fake, settings_for, lake):
    fake = make_fake(3)
    settings = settings_for(fake, fake.issue_refresh_token())
    sync_strava(lake, settings, sleep=no_sleep)
    before = read(lake, records.SPEC).height
    checkpoint = strava_state.checkpoint(lake, settings.athlete_id)["checkpoint_start_time"]
    fake.revoke_all()  # the athlete revoked access on strava.com
    with pytest.raises(StravaAuthError, match=r"refused the refresh token from the saved token .*runlake strava auth"):
        sync_strava(lake, settings, sleep=no_sleep)
    assert read(lake, records.SPEC).height == before and read(lake, activities.SPEC).height == 3
    assert strava_state.checkpoint(lake, settings.athlete_id)["checkpoint_start_time"] == checkpoint


def test_missing_credentials_say_which_settings(make_fake, settings_for, lake):
    fake = make_fake(0)
    with pytest.raises(StravaAuthError, match="RUNLAKE_STRAVA_CLIENT_ID and RUNLAKE_STRAVA_CLIENT_SECRET"):
        sync_strava(lake, settings_for(fake, "x", strava_client_id=None), sleep=no_sleep)
    with pytest.raises(StravaAuthError, match="runlake strava auth"):
        sync_strava(lake, settings_for(fake, None), sleep=no_sleep)


def test_no_network(make_fake, settings_for, lake):
    fake = make_fake(0)
    settings = settings_for(fake, "rt_x", strava_url=f"http://127.0.0.1:{closed_port()}", strava_max_retries=1)
    with pytest.raises(StravaUnavailable) as error:
        sync_strava(lake, settings, sleep=no_sleep)
    assert "cannot reach Strava" in str(error.value) and "connection refused" in str(error.value)


def test_malformed_json_page_changes_nothing(make_fake, settings_for, lake):
    fake = make_fake(4)
    settings = settings_for(fake, fake.issue_refresh_token())
    sync_strava(lake, settings, sleep=no_sleep)
    checkpoint = strava_state.checkpoint(lake, settings.athlete_id)["checkpoint_start_time"]
    fake.add(make_run(9001, max(a.start for a in fake.activities.values()), duration_s=60))
    fake.malformed_pages = {1}
    with pytest.raises(StravaPayloadError, match="malformed JSON for athlete/activities page 1"):
        sync_strava(lake, settings, sleep=no_sleep)
    assert read(lake, activities.SPEC).height == 4
    after = strava_state.checkpoint(lake, settings.athlete_id)
    assert after["checkpoint_start_time"] == checkpoint and after["last_outcome"].startswith("failed: Strava answered malformed JSON")
    fake.malformed_pages = set()
    assert sync_strava(lake, settings, sleep=no_sleep).new == 1


def test_activity_without_streams_is_stored_as_a_summary_with_a_reason(make_fake, settings_for, lake):
    fake = make_fake(2)
    manual = make_run(8001, min(a.start for a in fake.activities.values()), manual=True)
    fake.add(manual)
    report = sync_strava(lake, settings_for(fake, fake.issue_refresh_token()), sleep=no_sleep)
    assert report.stored == 3 and [i for i, _ in report.without_streams] == [8001]
    assert "no streams" in report.without_streams[0][1]
    row = read(lake, activities.SPEC).filter(pl.col("strava_id") == 8001)
    assert row["distance_m"][0] == manual.distance
    assert read(lake, records.SPEC).filter(pl.col("activity_id") == "strava-8001").is_empty()
    state = read(lake, strava_state.ACTIVITIES).filter(pl.col("strava_id") == 8001)
    assert state["status"][0] == "stored" and state["has_streams"][0] is False


def test_no_secret_in_logs_tables_or_errors(make_fake, settings_for, lake, all_logs):
    fake = make_fake(6, fault_rate=0.15, seed=11)
    settings = settings_for(fake, fake.issue_refresh_token())
    texts = []
    sync_strava(lake, settings, sleep=no_sleep)
    fake.access_ttl_s = 1  # every activity needs a fresh access token: many rotations
    fake.add(make_run(9100, max(a.start for a in fake.activities.values()), duration_s=60))
    sync_strava(lake, settings, sleep=no_sleep)
    for bad in (dict(strava_client_secret="wrong-" + fake.client_secret[:4]), dict(strava_url=f"http://127.0.0.1:{closed_port()}", strava_max_retries=0)):
        try:
            sync_strava(lake, settings_for(fake, fake.issue_refresh_token(), **bad), sleep=no_sleep)
        except Exception as error:
            texts += [str(error), repr(error), repr(error.__cause__), repr(error.__context__)]
    fake.revoke_all()
    with pytest.raises(StravaAuthError) as error:
        sync_strava(lake, settings, sleep=no_sleep)
    texts += [str(error.value), repr(error.value)]
    texts += [r.getMessage() for r in all_logs.records] + [all_logs.text] + table_texts(lake)
    texts += [repr(settings), str(settings.model_dump())]
    assert len(fake.issued_tokens) > 6
    assert leaked(fake, texts) == []
