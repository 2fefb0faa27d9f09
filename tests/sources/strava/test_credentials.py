"""Strava credentials per athlete in the lake (`private/credentials`, encrypted), and the one-time
import of the token file that used to be the store."""

from __future__ import annotations

import json

import pytest

from lake import credentials
from lake.table import read
from sources.strava.auth import StoredToken, choose_refresh_token, token_hash, token_store
from sources.strava.errors import StravaAuthError
from pipeline.strava_sync import sync_strava
from tests.sources.strava.conftest import no_sleep

OTHER = "a-0123456789abcdef0123"


def stored(settings, lake, athlete_id: str) -> StoredToken | None:
    return token_store(settings, lake, athlete_id).load()


def test_two_athletes_credentials_are_isolated(make_fake, settings_for, lake):
    fake = make_fake(0)
    settings = settings_for(fake, fake.issue_refresh_token())  # the env token is the default athlete's
    mine, theirs = token_store(settings, lake, settings.athlete_id), token_store(settings, lake, OTHER)
    mine.save(StoredToken("rt_mine", None, "t1"))
    assert theirs.load() is None
    with pytest.raises(StravaAuthError, match="no Strava refresh token"):  # never the default athlete's env token
        choose_refresh_token(settings, theirs)
    theirs.save(StoredToken("rt_theirs", None, "t2"))
    mine.save(StoredToken("rt_mine_2", None, "t3"))
    assert stored(settings, lake, settings.athlete_id).refresh_token == "rt_mine_2"
    assert stored(settings, lake, OTHER).refresh_token == "rt_theirs"
    rows = read(lake, credentials.SPEC).sort("athlete_id")
    assert rows["athlete_id"].to_list() == sorted([settings.athlete_id, OTHER]) and set(rows["provider"]) == {"strava"}
    assert not any("rt_" in text for text in rows["ciphertext"].to_list())


def test_the_legacy_token_file_is_imported_once_and_removed(make_fake, settings_for, lake, all_logs):
    fake = make_fake(2)
    legacy_token = fake.issue_refresh_token()
    settings = settings_for(fake, None)  # no env token: only the old file knows the token
    legacy = settings.home / "strava" / f"{settings.athlete_id}.token.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps({"refresh_token": legacy_token, "env_sha256": None, "saved_at": "2025-01-01T00:00:00+00:00"}))
    assert token_store(settings, lake, OTHER).load() is None  # another athlete never imports it
    assert legacy.exists()

    assert sync_strava(lake, settings, sleep=no_sleep).stored == 2
    assert not legacy.exists()
    imported = [r.getMessage() for r in all_logs.records if "imported the Strava token" in r.getMessage()]
    assert len(imported) == 1 and str(legacy) in imported[0] and legacy_token not in imported[0]
    assert legacy_token not in fake.refresh_tokens  # used, rotated: the lake holds the new one
    assert stored(settings, lake, settings.athlete_id).refresh_token in fake.refresh_tokens
    assert sync_strava(lake, settings, sleep=no_sleep).unchanged == 2
    assert len([r for r in all_logs.records if "imported the Strava token" in r.getMessage()]) == 1
    assert not any(t in r.getMessage() for r in all_logs.records for t in fake.issued_tokens)


def test_a_legacy_file_beside_lake_credentials_is_not_read(make_fake, settings_for, lake):
    fake = make_fake(1)
    settings = settings_for(fake, fake.issue_refresh_token())
    sync_strava(lake, settings, sleep=no_sleep)
    legacy = settings.home / "strava" / f"{settings.athlete_id}.token.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text("not json")  # would fail if it were read
    assert sync_strava(lake, settings, sleep=no_sleep).unchanged == 1
    assert legacy.exists()


def test_rotation_is_saved_in_the_lake_before_the_next_use(make_fake, settings_for, lake):
    fake = make_fake(3, access_ttl_s=1)  # every access token is "about to expire": a refresh per activity
    first = fake.issue_refresh_token()
    settings = settings_for(fake, first)
    sync_strava(lake, settings, sleep=no_sleep)
    after_first = stored(settings, lake, settings.athlete_id)
    assert fake.refresh_tokens == {after_first.refresh_token} and after_first.env_sha256 == token_hash(first)
    assert sync_strava(lake, settings, sleep=no_sleep).unchanged == 3  # the env still holds the first, dead token
    after_second = stored(settings, lake, settings.athlete_id)
    assert after_second.refresh_token != after_first.refresh_token and fake.refresh_tokens == {after_second.refresh_token}
    assert read(lake, credentials.SPEC).height == 1
