"""The Strava webhook's defences against a flood (api/webhooks.py): anyone can POST, since
Strava does not sign its events, so no request may cost more than the budget allows — a size
cap, the subscription id, a replica's memory of what it queued, and a token bucket of events a
minute. Each refusal writes nothing: the Delta log of `private/strava_events` is counted."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from deltalake import DeltaTable
from fastapi.testclient import TestClient

from api.app import create_app
from lake import strava_events
from lake.storage import Lake
from lake.table import read, table_exists
from runlake.settings import Settings

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
PATH = "/v1/webhooks/strava"


def event(object_id: int = 42, **changes) -> dict:
    return {"object_type": "activity", "object_id": object_id, "aspect_type": "create", "owner_id": 7,
            "subscription_id": 1001, "event_time": 1_772_000_000, "updates": {}, **changes}


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake.at(str(tmp_path / "lake"))


def webhook(lake: Lake, tmp_path, **settings) -> TestClient:
    """A client of the API's app; its lifespan is not entered, so no worker acts on the queue and
    the rows stay as the webhook queued them."""
    config = Settings(home=tmp_path / "home", lake_uri=lake.root, strava_verify_token="vt-test", **settings)
    return TestClient(create_app(config, lake, clock=lambda: NOW))


def commits(lake: Lake) -> int:
    return len(DeltaTable(strava_events.SPEC.uri(lake)).history())


def test_a_flood_of_distinct_events_is_held_to_the_replicas_budget(lake, tmp_path):
    client = webhook(lake, tmp_path, strava_push_rate_limit=3)
    answers, slowest = [], 0.0
    for i in range(8):
        started = time.monotonic()
        answers.append(client.post(PATH, json=event(object_id=1000 + i)))
        slowest = max(slowest, time.monotonic() - started)
    assert slowest < 2.0  # Strava's limit for an answer, commits included
    assert [a.status_code for a in answers] == [200] * 3 + [429] * 5
    assert all(a.json() == {"queued": True} for a in answers[:3])
    # 3 a minute refill one event every 20 s: the first refused waits at most that.
    assert {a.json()["error"] for a in answers[3:]} == {"rate_limited"}
    assert all(1 <= int(a.headers["Retry-After"]) <= 20 for a in answers[3:])
    assert sorted(read(lake, strava_events.SPEC)["object_id"].to_list()) == [1000, 1001, 1002]
    assert commits(lake) == 3
    # Strava retrying an event this replica queued is answered from its memory: no budget (the
    # bucket is empty), no commit.
    again = client.post(PATH, json=event(object_id=1001))
    assert again.status_code == 200 and again.json() == {"queued": False}
    assert commits(lake) == 3


def test_a_body_over_the_size_cap_is_refused_unread_and_unqueued(lake, tmp_path):
    client = webhook(lake, tmp_path, strava_push_max_bytes=1024)
    padded = json.dumps(event(note="x" * 2000)).encode()  # a valid event, but 2 KiB
    declared = client.post(PATH, content=padded, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and declared.json()["error"] == "too_large"

    def chunks():  # no Content-Length: the cap holds while the body streams in
        for start in range(0, len(padded), 256):
            yield padded[start:start + 256]

    streamed = client.post(PATH, content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413
    assert not table_exists(lake, strava_events.SPEC)
    small = client.post(PATH, json=event())
    assert small.status_code == 200 and small.json() == {"queued": True}


def test_events_of_another_subscription_never_reach_the_lake(lake, tmp_path):
    client = webhook(lake, tmp_path, strava_push_subscription_id=1001)
    other = client.post(PATH, json=event(subscription_id=1002))
    missing = client.post(PATH, json={k: v for k, v in event().items() if k != "subscription_id"})
    assert other.status_code == missing.status_code == 403
    assert not table_exists(lake, strava_events.SPEC)
    ours = client.post(PATH, json=event())
    assert ours.status_code == 200 and ours.json() == {"queued": True}
    assert read(lake, strava_events.SPEC)["subscription_id"].to_list() == [1001]
