"""Flow `sync-strava` on a temporary Prefect server: the token of the Prefect Secret block that
used to be the store is imported once into the lake (encrypted), which keeps the rotating token."""

from __future__ import annotations

import json

import pytest

from tests.sources.strava.fake_data import make_history
from tests.sources.strava.fake_server import FakeStrava

pytestmark = pytest.mark.e2e


def test_flow_imports_the_secret_block_token_and_keeps_the_rotating_token_in_the_lake(tmp_path, monkeypatch):
    from cryptography.fernet import Fernet
    from prefect.blocks.system import Secret
    from prefect.testing.utilities import prefect_test_harness

    from flows.sync_strava import sync_strava_flow
    from lake.storage import Lake
    from runlake.settings import Settings
    from sources.strava.auth import token_store

    with FakeStrava(make_history(5, duration_s=60)) as fake, prefect_test_harness(server_startup_timeout=240):
        first = fake.issue_refresh_token()
        Secret(value=json.dumps({"refresh_token": first, "env_sha256": None, "saved_at": ""})).save("runlake-strava-test")
        for name, value in {
            "RUNLAKE_HOME": str(tmp_path / "home"),
            "RUNLAKE_STRAVA_URL": fake.url,
            "RUNLAKE_STRAVA_CLIENT_ID": fake.client_id,
            "RUNLAKE_STRAVA_CLIENT_SECRET": fake.client_secret,
            "RUNLAKE_STRAVA_SECRET_BLOCK": "runlake-strava-test",
            "RUNLAKE_SECRET_KEY": Fernet.generate_key().decode(),
        }.items():
            monkeypatch.setenv(name, value)
        report = sync_strava_flow(lake_uri=str(tmp_path / "lake"))
        assert report["stored"] == 5 and report["stopped"] is None
        settings = Settings(lake_uri=str(tmp_path / "lake"))
        saved = token_store(settings, Lake.at(settings.lake), settings.athlete_id).load()
        assert saved.refresh_token in fake.refresh_tokens and first not in fake.refresh_tokens
        assert not (tmp_path / "home").exists()  # nothing on local disk: the key is the setting
        # the block still holds the first token, now invalid: the lake's token carries on
        assert first in json.dumps(Secret.load("runlake-strava-test").get())
        again = sync_strava_flow(lake_uri=str(tmp_path / "lake"), full_listing_every=1)
        assert again["unchanged"] == 5 and again["stored"] == 0
