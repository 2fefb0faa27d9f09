"""Flow `sync-strava` on a temporary Prefect server, with the refresh token in a Secret block."""

from __future__ import annotations

import json

import pytest

from tests.sources.strava.fake_data import make_history
from tests.sources.strava.fake_server import FakeStrava

pytestmark = pytest.mark.e2e


def test_flow_syncs_and_keeps_the_rotating_token_in_a_secret_block(tmp_path, monkeypatch):
    from prefect.blocks.system import Secret
    from prefect.testing.utilities import prefect_test_harness

    from flows.sync_strava import sync_strava_flow

    with FakeStrava(make_history(5, duration_s=60)) as fake, prefect_test_harness(server_startup_timeout=240):
        first = fake.issue_refresh_token()
        for name, value in {
            "RUNLAKE_STRAVA_URL": fake.url,
            "RUNLAKE_STRAVA_CLIENT_ID": fake.client_id,
            "RUNLAKE_STRAVA_CLIENT_SECRET": fake.client_secret,
            "RUNLAKE_STRAVA_REFRESH_TOKEN": first,
            "RUNLAKE_STRAVA_SECRET_BLOCK": "runlake-strava-test",
        }.items():
            monkeypatch.setenv(name, value)
        report = sync_strava_flow(lake_uri=str(tmp_path / "lake"))
        assert report["stored"] == 5 and report["stopped"] is None
        value = Secret.load("runlake-strava-test").get()  # Prefect parses a JSON string back
        saved = value if isinstance(value, dict) else json.loads(value)
        assert saved["refresh_token"] in fake.refresh_tokens and first not in fake.refresh_tokens
        assert not (tmp_path / "home" / "strava").exists()  # nothing on local disk in deployments
        # the env still holds the first token, now invalid: the block's token carries on
        again = sync_strava_flow(lake_uri=str(tmp_path / "lake"), full_listing_every=1)
        assert again["unchanged"] == 5 and again["stored"] == 0
