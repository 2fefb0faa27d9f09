"""OAuth owned by runlake: rotation persisted at once (in the lake, encrypted), saved token
preferred, first authorization."""

from __future__ import annotations

import json
import stat
from urllib.parse import parse_qs, urlsplit

import requests

from lake import credentials
from lake.storage import Lake
from lake.table import read

from sources.strava.auth import TokenManager, authorize_url, code_from, exchange_code, token_hash, token_store
from sources.strava.client import StravaApi, make_client
from sources.strava.ratelimit import RateLimiter
from pipeline.strava_sync import sync_strava
from tests.sources.strava.conftest import no_sleep


def saved(settings) -> dict:
    """The default athlete's credentials as the lake holds them, decrypted."""
    lake = Lake.at(settings.lake)
    return json.loads(token_store(settings, lake, settings.athlete_id).load().to_json())


def test_rotated_token_is_saved_and_preferred_over_the_unchanged_env_token(make_fake, settings_for, lake):
    fake = make_fake(3)
    first_token = fake.issue_refresh_token()
    settings = settings_for(fake, first_token)
    sync_strava(lake, settings, sleep=no_sleep)
    key_file = settings.home / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert not (settings.home / "strava").exists()  # the lake is the store, not a file
    rotated = saved(settings)
    assert rotated["refresh_token"] != first_token and rotated["refresh_token"] in fake.refresh_tokens
    assert first_token not in fake.refresh_tokens  # invalid after rotation
    assert rotated["env_sha256"] == token_hash(first_token) and rotated["access_token"] in fake.access_tokens
    assert read(lake, credentials.SPEC).height == 1
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
    tokens = TokenManager(settings, token_store(settings, Lake.at(settings.lake), settings.athlete_id), client)
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
    exchange_code(settings, token_store(settings, lake, settings.athlete_id), client, code_from(location))
    assert saved(settings)["strava_athlete_id"] == 1 and saved(settings)["scope"] == "activity:read_all"
    assert sync_strava(lake, settings, sleep=no_sleep).stored == 2  # no env token at all


def test_code_from_accepts_the_code_or_the_redirect_url():
    assert code_from("  abc123 ") == "abc123"
    assert code_from("http://localhost/exchange_token?state=runlake&code=xyz&scope=read,activity:read_all") == "xyz"
