"""Strava push on a served instance: `runlake api` as a process, the project's fake Strava POSTing
events to its `/v1/webhooks/strava` — subscription validation, create, update, delete and
deauthorization, a duplicate event and forged ones (docs/strava.md "Push")."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest

from lake import activities, credentials, strava_events
from lake.marts import ACTIVITY_SUMMARY
from lake.storage import Lake
from lake.table import read, scan
from pipeline.steps.build_marts import build_marts
from pipeline.strava_sync import sync_strava
from runlake.settings import Settings
from sources.strava.auth import exchange_code, token_store
from sources.strava.client import make_client
from sources.strava.ratelimit import RateLimiter
from tests.e2e.serving import free_port, serving
from tests.sources.strava.fake_data import make_history, make_run
from tests.sources.strava.fake_server import FakeStrava

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # a server process: run alone, after the parallel suite
RUNLAKE = Path(sys.executable).parent / "runlake"
VERIFY = "vt-" + "5f1c0e9a7d3b4c2a"
NEW_ID = 5001


def _wait(condition, what: str, within_s: float = 60.0) -> float:
    """Seconds until `condition()` held; fails after `within_s`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within_s, f"{what}: not within {within_s:.0f} s"
        time.sleep(0.25)
    return time.monotonic() - started


def _event(lake: Lake, object_id: int, aspect: str) -> pl.DataFrame:
    return read(lake, strava_events.SPEC).filter((pl.col("object_id") == object_id) & (pl.col("aspect_type") == aspect))


def _processed(lake: Lake, object_id: int, aspect: str) -> bool:
    rows = _event(lake, object_id, aspect)
    return rows.height > 0 and rows["status"].is_in([strava_events.DONE, strava_events.IGNORED]).all()


def _activity(lake: Lake, strava_id: int) -> pl.DataFrame:
    return read(lake, activities.SPEC).filter(pl.col("strava_id") == strava_id)


def _in_marts(lake: Lake, strava_id: int) -> bool:
    ids = _activity(lake, strava_id).filter(~pl.col("is_deleted").fill_null(False))["activity_id"].to_list()
    return bool(ids) and scan(lake, ACTIVITY_SUMMARY).filter(pl.col("activity_id").is_in(ids)).collect().height == len(ids)


@pytest.fixture
def fake():
    fake = FakeStrava(make_history(3)).start()
    yield fake
    fake.stop()


@pytest.fixture
def setup(fake, tmp_path):
    """An athlete connected to the fake Strava (code exchange), synced once, marts built."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAKE_", "AWS_", "STRAVA_", "PREFECT_"))}
    env |= {"RUNLAKE_HOME": str(tmp_path / "home"), "RUNLAKE_LAKE_URI": str(tmp_path / "lake"), "RUNLAKE_STRAVA_URL": fake.url,
            "RUNLAKE_STRAVA_CLIENT_ID": fake.client_id, "RUNLAKE_STRAVA_CLIENT_SECRET": fake.client_secret,
            "RUNLAKE_STRAVA_VERIFY_TOKEN": VERIFY}
    settings = Settings(home=tmp_path / "home", lake_uri=str(tmp_path / "lake"), strava_url=fake.url,
                        strava_client_id=fake.client_id, strava_client_secret=fake.client_secret)
    lake = Lake.at(str(tmp_path / "lake"))
    fake.codes.add("code-1")
    client, _ = make_client(fake.url, RateLimiter())
    exchange_code(settings, token_store(settings, lake, settings.athlete_id), client, "code-1")
    assert sync_strava(lake, settings).stored == 3
    build_marts(lake, settings)
    return env, lake


def test_push_events_on_a_served_api(fake, setup, tmp_path):
    env, lake = setup
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    hook = url + "/v1/webhooks/strava"
    with serving([str(RUNLAKE), "api", "--port", str(port)], env, url + "/healthz", tmp_path / "api.log", what="runlake api") as log:
        # --- verification: only the configured token gets the challenge back
        ok = httpx.get(hook, params={"hub.mode": "subscribe", "hub.challenge": "c-123", "hub.verify_token": VERIFY})
        assert ok.status_code == 200 and ok.json() == {"hub.challenge": "c-123"}
        wrong = httpx.get(hook, params={"hub.mode": "subscribe", "hub.challenge": "c-123", "hub.verify_token": "guess"})
        assert wrong.status_code == 403 and "c-123" not in wrong.text
        assert "/v1/webhooks/strava" not in httpx.get(url + "/openapi.json").json()["paths"]  # outside schemathesis

        done = subprocess.run([str(RUNLAKE), "strava", "subscribe", "--callback", hook], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert [s["callback_url"] for s in fake.subscriptions.values()] == [hook]
        again = subprocess.run([str(RUNLAKE), "strava", "subscribe", "--callback", hook], env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and "Already subscribed" in again.stdout
        assert VERIFY not in done.stdout + done.stderr + again.stdout + again.stderr

        # --- create: a new run is in the lake and the marts within a minute; the POST answers within 2 s
        fake.add(make_run(NEW_ID, datetime.now(UTC) - timedelta(hours=2), duration_s=600, name="Fresh run"))
        created_at = int(time.time())
        status, seconds = fake.push_event("activity", NEW_ID, "create", event_time=created_at)
        assert status == 200 and seconds < 2.0
        took = _wait(lambda: _in_marts(lake, NEW_ID), "the pushed run in the lake and the marts")
        assert took < 60
        assert _activity(lake, NEW_ID)["name"].to_list() == ["Fresh run"]

        # --- the same event again (Strava retries): one queue row, nothing new
        status, _ = fake.push_event("activity", NEW_ID, "create", event_time=created_at)
        assert status == 200
        assert _event(lake, NEW_ID, "create").height == 1
        assert _activity(lake, NEW_ID).height == 1

        # --- forged create: no such activity on Strava, nothing changes
        status, _ = fake.push_event("activity", 999_999, "create")
        assert status == 200
        _wait(lambda: _processed(lake, 999_999, "create"), "the forged event processed")
        assert _event(lake, 999_999, "create")["status"].to_list() == [strava_events.IGNORED]
        assert _activity(lake, 999_999).is_empty()

        # --- update: renamed on Strava
        fake.activities[NEW_ID].name = "Renamed on Strava"
        fake.push_event("activity", NEW_ID, "update", updates={"title": "Renamed on Strava"})
        _wait(lambda: _activity(lake, NEW_ID)["name"].to_list() == ["Renamed on Strava"], "the update")

        # --- forged delete: the activity is still on Strava, it stays
        fake.push_event("activity", 1000, "delete")
        _wait(lambda: _processed(lake, 1000, "delete"), "the forged delete processed")
        assert _event(lake, 1000, "delete")["status"].to_list() == [strava_events.IGNORED]
        assert _in_marts(lake, 1000)

        # --- delete: gone on Strava, retired in the lake and the marts
        fake.delete(NEW_ID)
        fake.push_event("activity", NEW_ID, "delete")
        _wait(lambda: _processed(lake, NEW_ID, "delete"), "the delete processed")
        assert _activity(lake, NEW_ID)["is_deleted"].to_list() == [True]
        assert not _in_marts(lake, NEW_ID)

        # --- forged deauthorization: Strava still accepts the token, nothing is deleted
        fake.push_event("athlete", 1, "update", updates={"authorized": "false"}, event_time=int(time.time()) - 5)
        _wait(lambda: _processed(lake, 1, "update"), "the forged deauthorization processed")
        assert read(lake, credentials.SPEC).height == 1

        # --- deauthorization: the athlete revoked access on Strava
        fake.revoke_all()
        fake.push_event("athlete", 1, "update", updates={"authorized": "false"})
        _wait(lambda: read(lake, credentials.SPEC).is_empty(), "the credentials deleted")
        _wait(lambda: read(lake, activities.SPEC).filter(pl.col("strava_id").is_not_null()).is_empty(), "the Strava-only runs deleted")
        assert not (Path(env["RUNLAKE_LAKE_URI"]) / "raw" / "strava").exists() or not any((Path(env["RUNLAKE_LAKE_URI"]) / "raw" / "strava").rglob("*.gz"))
        _wait(lambda: _processed(lake, 1, "update"), "the deauthorization recorded as processed")
        events = read(lake, strava_events.SPEC)
        assert events.filter(pl.col("status").is_in([strava_events.FAILED, strava_events.QUEUED])).is_empty(), events.to_dicts()
        assert events.filter(pl.col("object_type") == "athlete")["status"].sort().to_list() == [strava_events.DONE, strava_events.IGNORED]
    text = log.read_text()
    assert "Traceback" not in text
    assert VERIFY not in text and fake.client_secret not in text
