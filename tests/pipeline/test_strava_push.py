"""Strava push events without a server: the queue's shape checks and de-duplication, and how an
event finds its athlete (pipeline/strava_push.py). The served end-to-end test is
tests/e2e/test_strava_push.py."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import polars as pl
import pytest

from lake import strava_events
from lake.storage import Lake
from lake.table import read
from pipeline.strava_push import InvalidEvent, enqueue_event, parse_event, process_queue
from pipeline.strava_push_events import athlete_for_owner
from runlake.settings import Settings
from sources.strava.auth import TokenManager, exchange_code, token_store
from sources.strava.client import make_client
from sources.strava.ratelimit import RateLimiter
from tests.sources.strava.fake_data import make_history
from tests.sources.strava.fake_server import FakeStrava

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _body(**changes) -> bytes:
    event = {"object_type": "activity", "object_id": 42, "aspect_type": "create", "owner_id": 7,
             "subscription_id": 1001, "event_time": 1_772_000_000, "updates": {}}
    return json.dumps({**event, **changes}).encode()


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake.at(str(tmp_path / "lake"))


def receive(lake: Lake, body: bytes, *, now: datetime) -> bool:
    return enqueue_event(lake, parse_event(body, now=now))


def test_an_event_is_queued_once_whatever_how_often_it_is_sent(lake):
    assert receive(lake, _body(), now=NOW) is True
    assert receive(lake, _body(), now=NOW) is False  # Strava retries: same object, aspect, time
    assert receive(lake, _body(aspect_type="update"), now=NOW) is True
    assert receive(lake, _body(event_time=1_772_000_001), now=NOW) is True
    rows = read(lake, strava_events.SPEC)
    assert rows.height == 3
    assert rows["status"].to_list() == [strava_events.QUEUED] * 3
    assert rows["event_time"].min() == datetime(2026, 2, 25, 6, 13, 20, tzinfo=UTC)


@pytest.mark.parametrize("body, message", [
    (b"not json", "not JSON"),
    (b"[]", "not a JSON object"),
    (_body(object_type="route"), "object_type"),
    (_body(aspect_type="rename"), "aspect_type"),
    (_body(object_id="42"), "object_id"),
    (_body(owner_id=-1), "owner_id"),
    (_body(event_time=True), "event_time"),
    (_body(updates=["x"]), "updates"),
])
def test_a_body_that_is_not_a_strava_event_is_refused(body, message):
    with pytest.raises(InvalidEvent, match=message):
        parse_event(body, now=NOW)


def test_an_event_of_a_strava_athlete_nobody_connected_is_ignored(lake, tmp_path):
    settings = Settings(home=tmp_path / "home", lake_uri=str(tmp_path / "lake"))
    receive(lake, _body(owner_id=999), now=NOW)
    report = process_queue(lake, settings)
    assert [r["status"] for r in report.processed] == [strava_events.IGNORED]
    row = read(lake, strava_events.SPEC).to_dicts()[0]
    assert row["athlete_id"] is None and row["attempts"] == 1 and "999" in row["outcome"]
    assert process_queue(lake, settings).processed == []  # not tried again


def test_the_strava_athlete_id_survives_token_rotation_and_is_learned_when_missing(lake, tmp_path):
    with FakeStrava(make_history(1)) as fake:
        settings = Settings(home=tmp_path / "home", lake_uri=str(tmp_path / "lake"), strava_url=fake.url,
                            strava_client_id=fake.client_id, strava_client_secret=fake.client_secret)
        store = token_store(settings, lake, settings.athlete_id)
        client, _ = make_client(fake.url, RateLimiter())
        fake.codes.add("c1")
        exchange_code(settings, store, client, "c1")
        assert store.load().strava_athlete_id == 1
        TokenManager(settings, store, client).refresh()  # rotates: the refresh answer names no athlete
        assert store.load().strava_athlete_id == 1
        assert athlete_for_owner(lake, settings, 1).athlete_id == settings.athlete_id
        assert athlete_for_owner(lake, settings, 2) is None

        # a token pasted into RUNLAKE_STRAVA_REFRESH_TOKEN never said whose it is: asked once
        store.save(replace(store.load(), strava_athlete_id=None))
        before = fake.count(r"/api/v3/athlete")
        assert athlete_for_owner(lake, settings, 1).athlete_id == settings.athlete_id
        assert store.load().strava_athlete_id == 1
        athlete_for_owner(lake, settings, 1)
        assert fake.count(r"/api/v3/athlete") == before + 1


def test_a_failed_event_is_retried_until_its_attempts_run_out(lake, tmp_path):
    with FakeStrava(make_history(1)) as fake:
        settings = Settings(home=tmp_path / "home", lake_uri=str(tmp_path / "lake"), strava_url=fake.url,
                            strava_client_id=fake.client_id, strava_client_secret=fake.client_secret,
                            strava_push_max_attempts=2, strava_max_retries=0)
        client, _ = make_client(fake.url, RateLimiter())
        fake.codes.add("c1")
        exchange_code(settings, token_store(settings, lake, settings.athlete_id), client, "c1")
        receive(lake, _body(owner_id=1, object_id=1000), now=NOW)
        fake.fault_rate = 1.0  # every API request answers 5xx
        assert [r["status"] for r in process_queue(lake, settings).processed] == [strava_events.FAILED]
        assert [r["status"] for r in process_queue(lake, settings).processed] == [strava_events.FAILED]
        assert process_queue(lake, settings).processed == []  # two attempts: it stays failed
        row = read(lake, strava_events.SPEC).filter(pl.col("object_id") == 1000).to_dicts()[0]
        assert row["attempts"] == 2 and "Strava" in row["outcome"]


def test_an_event_whose_athlete_cannot_be_looked_up_now_is_retried_not_ignored(lake, tmp_path):
    with FakeStrava(make_history(1)) as fake:
        settings = Settings(home=tmp_path / "home", lake_uri=str(tmp_path / "lake"), strava_url=fake.url,
                            strava_client_id=fake.client_id, strava_client_secret=fake.client_secret, strava_max_retries=0)
        store = token_store(settings, lake, settings.athlete_id)
        client, _ = make_client(fake.url, RateLimiter())
        fake.codes.add("c1")
        exchange_code(settings, store, client, "c1")
        store.save(replace(store.load(), strava_athlete_id=None))  # must ask Strava (/athlete)
        receive(lake, _body(owner_id=1, object_id=1000), now=NOW)
        fake.fault_rate = 1.0
        assert [r["status"] for r in process_queue(lake, settings).processed] == [strava_events.FAILED]
        fake.fault_rate = 0.0
        assert [r["status"] for r in process_queue(lake, settings).processed] == [strava_events.DONE]
        assert read(lake, strava_events.SPEC)["athlete_id"].to_list() == [settings.athlete_id]
