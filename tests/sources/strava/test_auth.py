"""OAuth owned by runlake: rotation persisted at once, saved token preferred, first authorization."""

from __future__ import annotations

import json
import stat
from urllib.parse import parse_qs, urlsplit

import requests

from sources.strava.auth import FileTokenStore, TokenManager, authorize_url, code_from, exchange_code, token_hash, token_store
from sources.strava.client import StravaApi, make_client
from sources.strava.ratelimit import RateLimiter
from sources.strava.sync import sync_strava
from tests.sources.strava.conftest import no_sleep


def saved(settings) -> dict:
    return json.loads(token_store(settings).path.read_text())


def test_rotated_token_is_saved_and_preferred_over_the_unchanged_env_token(make_fake, settings_for, lake):
    fake = make_fake(3)
    first_token = fake.issue_refresh_token()
    settings = settings_for(fake, first_token)
    sync_strava(lake, settings, sleep=no_sleep)
    path = token_store(settings).path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    rotated = saved(settings)
    assert rotated["refresh_token"] != first_token and rotated["refresh_token"] in fake.refresh_tokens
    assert first_token not in fake.refresh_tokens  # invalid after rotation
    assert rotated["env_sha256"] == token_hash(first_token) and first_token not in path.read_text()
    # the env still holds the first (now invalid) token: the second run works anyway
    report = sync_strava(lake, settings, sleep=no_sleep)
    assert report.unchanged == 3
    assert saved(settings)["refresh_token"] in fake.refresh_tokens


def test_a_changed_env_token_wins_over_the_saved_one(make_fake, settings_for, lake):
    fake = make_fake(1)
    settings = settings_for(fake, fake.issue_refresh_token())
    sync_strava(lake, settings, sleep=no_sleep)
    stale_saved = saved(settings)["refresh_token"]
    new_authorization = fake.issue_refresh_token()
    sync_strava(lake, settings_for(fake, new_authorization), sleep=no_sleep)
    assert new_authorization not in fake.refresh_tokens  # it was the one used (and rotated)
    assert stale_saved in fake.refresh_tokens  # the saved one was not
    assert saved(settings)["env_sha256"] == token_hash(new_authorization)


def test_access_token_refreshes_during_a_long_run_and_each_rotation_is_saved(make_fake, settings_for, lake):
    fake = make_fake(4, access_ttl_s=1)  # every access token is already "about to expire"
    settings = settings_for(fake, fake.issue_refresh_token())
    sync_strava(lake, settings, sleep=no_sleep)
    assert fake.count("/oauth/token") == 5  # the first, then one before each activity
    assert saved(settings)["refresh_token"] in fake.refresh_tokens and len(fake.refresh_tokens) == 1


def test_a_401_mid_run_refreshes_once_and_goes_on(make_fake, settings_for):
    fake = make_fake(2)
    settings = settings_for(fake, fake.issue_refresh_token())
    client, adapter = make_client(fake.url, RateLimiter(), sleep=no_sleep)
    tokens = TokenManager(settings, token_store(settings), client)
    tokens.refresh()
    fake.access_tokens.clear()  # Strava forgot the access token
    api = StravaApi(client, adapter, reauthorize=tokens.refresh)
    assert len(api.list_page(1)) == 2 and tokens.refreshes == 2


def test_first_authorization_through_the_authorize_url(make_fake, settings_for, lake):
    fake = make_fake(2)
    settings = settings_for(fake, None)
    url = authorize_url(settings)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert url.startswith(fake.url + "/oauth/authorize?")
    assert query["scope"] == ["activity:read_all"] and query["client_id"] == [fake.client_id] and query["response_type"] == ["code"]
    # the browser step: Strava redirects to the redirect URI with a one-time code
    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    assert location.startswith("http://localhost/exchange_token?")
    client, _ = make_client(settings.strava_url, RateLimiter(), sleep=no_sleep)
    exchange_code(settings, token_store(settings), client, code_from(location))
    assert sync_strava(lake, settings, sleep=no_sleep).stored == 2  # no env token at all


def test_code_from_accepts_the_code_or_the_redirect_url():
    assert code_from("  abc123 ") == "abc123"
    assert code_from("http://localhost/exchange_token?state=runlake&code=xyz&scope=read,activity:read_all") == "xyz"


def test_file_store_round_trip_and_tightening(tmp_path):
    from sources.strava.auth import StoredToken

    store = FileTokenStore(tmp_path / "a" / "t.json")
    assert store.load() is None
    store.save(StoredToken("rt_1", "h", "now"))
    store.path.chmod(0o644)
    assert store.load().refresh_token == "rt_1"
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert "rt_1" not in repr(store.load())
