"""Connecting Strava from the web app: a signed state, the code exchanged against our fake
Strava server, the tokens stored encrypted for that athlete only, and a sync that uses them."""

from __future__ import annotations

import datetime as dt
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from lake.storage import Lake
from pipeline.athletes import add_athlete, resolve_athlete
from pipeline.strava_connect import (
    STATE_MAX_AGE_S, ConnectError, complete_connection, connect_url, is_connected, make_state, state_is_valid,
)
from pipeline.strava_sync import sync_strava
from runlake.settings import Settings
from tests.sources.strava.fake_data import make_history
from tests.sources.strava.fake_server import FakeStrava

KEY = "cookie-secret-of-the-web-app-0123456789"
NOW = dt.datetime(2026, 12, 6, 8, tzinfo=dt.UTC)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _approve(url: str) -> dict[str, str]:
    """What the athlete's browser does at Strava: approve, and read where Strava sends it back."""
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(url)
    location = redirect.value.headers["Location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    return {"location": location, **query}


def test_state_is_bound_to_the_athlete_and_expires():
    state = make_state(KEY, "a-1", now=NOW)
    assert state_is_valid(KEY, "a-1", state, now=NOW + dt.timedelta(seconds=60))
    assert not state_is_valid(KEY, "a-2", state, now=NOW)  # another athlete signed in on return
    assert not state_is_valid("another-key", "a-1", state, now=NOW)
    assert not state_is_valid(KEY, "a-1", state, now=NOW + dt.timedelta(seconds=STATE_MAX_AGE_S + 1))
    issued, nonce, mac = state.split(".")
    assert not state_is_valid(KEY, "a-1", f"{int(issued) + 1}.{nonce}.{mac}", now=NOW)
    for junk in ("", "runlake", "1.2", "x.y.z", "9" * 300):
        assert not state_is_valid(KEY, "a-1", junk, now=NOW)


@pytest.fixture
def fake():
    with FakeStrava(make_history(3, duration_s=240)) as server:
        yield server


def _settings(tmp_path, fake: FakeStrava) -> Settings:
    return Settings(home=tmp_path / "home", lake_uri=str(tmp_path / "lake"), strava_url=fake.url,
                    strava_client_id=fake.client_id, strava_client_secret=fake.client_secret,
                    web_url="http://127.0.0.1:8501", oidc_issuer="http://127.0.0.1:9", oidc_client_id="web",
                    oidc_client_secret="x")


def test_a_connection_stores_the_athletes_own_tokens_and_a_sync_uses_them(tmp_path, fake):
    base = _settings(tmp_path, fake)
    lake = Lake.at(base.lake)
    ann = add_athlete(lake, base, "ann")
    bob = add_athlete(lake, base, "bob")
    url = connect_url(ann.settings, key=KEY, now=dt.datetime.now(dt.UTC))
    back = _approve(url)
    assert back["location"].startswith("http://127.0.0.1:8501/strava?")
    with pytest.raises(ConnectError, match="not valid for you"):  # bob signed in when the browser came back
        complete_connection(lake, bob.settings, code=back["code"], state=back["state"], key=KEY, now=dt.datetime.now(dt.UTC))
    complete_connection(lake, ann.settings, code=back["code"], state=back["state"], key=KEY, now=dt.datetime.now(dt.UTC))
    assert is_connected(lake, ann.athlete_id) and not is_connected(lake, bob.athlete_id)
    report = sync_strava(lake, resolve_athlete(lake, base, "ann").settings)
    assert report.stored == 3
    stored = (tmp_path / "lake").rglob("*")
    texts = [p.read_bytes() for p in stored if p.is_file()]
    assert not any(t.encode() in blob for t in fake.issued_tokens for blob in texts), "a Strava token in the lake in clear"


def test_a_used_code_is_refused_with_one_line(tmp_path, fake):
    base = _settings(tmp_path, fake)
    lake = Lake.at(base.lake)
    ann = add_athlete(lake, base, "ann")
    back = _approve(connect_url(ann.settings, key=KEY, now=dt.datetime.now(dt.UTC)))
    complete_connection(lake, ann.settings, code=back["code"], state=back["state"], key=KEY, now=dt.datetime.now(dt.UTC))
    with pytest.raises(Exception, match="refused the authorization code") as err:
        complete_connection(lake, ann.settings, code=back["code"], state=back["state"], key=KEY, now=dt.datetime.now(dt.UTC))
    assert "\n" not in str(err.value)


def test_without_a_strava_application_the_server_says_so(tmp_path):
    settings = Settings(home=tmp_path / "home", lake_uri=str(tmp_path / "lake"))
    with pytest.raises(ConnectError, match="not set up"):
        connect_url(settings, key=KEY, now=NOW)
