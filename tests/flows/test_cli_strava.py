"""`runlake sync strava` and `runlake strava auth` as a user meets them (real processes, no
Prefect server), against the fake Strava server running in this test process."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from runlake.settings import Settings
from sources.strava.auth import authorize_url
from tests.flows.test_cli_ingest import REPO, assert_one_clear_line, runlake
from tests.sources.strava.fake_data import make_history
from tests.sources.strava.fake_server import FakeStrava


@pytest.fixture
def fake():
    with FakeStrava(make_history(10, duration_s=120)) as server:
        yield server


def strava_env(tmp_path, fake: FakeStrava, **extra) -> dict:
    env = {
        "RUNLAKE_HOME": str(tmp_path / "home"),
        "RUNLAKE_LAKE_URI": str(tmp_path / "lake"),
        "RUNLAKE_STRAVA_URL": fake.url,
        "RUNLAKE_STRAVA_CLIENT_ID": fake.client_id,
        "RUNLAKE_STRAVA_CLIENT_SECRET": fake.client_secret,
        "COLUMNS": "200",
    }
    env.update(extra)
    return env


def test_sync_prints_a_summary(tmp_path, fake):
    env = strava_env(tmp_path, fake, RUNLAKE_STRAVA_REFRESH_TOKEN=fake.issue_refresh_token())
    first = runlake("sync", "strava", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "10 listed" in first.stdout and "10 new" in first.stdout and "10 stored" in first.stdout
    assert not any(s in first.stdout + first.stderr for s in fake.issued_tokens + [fake.client_secret])


def test_a_rate_limit_stop_exits_0_and_says_so(tmp_path, fake):
    fake.read_daily_limit = 9
    env = strava_env(tmp_path, fake, RUNLAKE_STRAVA_REFRESH_TOKEN=fake.issue_refresh_token(), RUNLAKE_STRAVA_RATE_SHARE="1")
    proc = runlake("sync", "strava", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "stopped cleanly: daily rate limit reached" in proc.stdout and "6 activities left for the next run" in proc.stdout


def test_wrong_client_secret_is_one_line_and_exit_1(tmp_path, fake):
    env = strava_env(tmp_path, fake, RUNLAKE_STRAVA_REFRESH_TOKEN=fake.issue_refresh_token(), RUNLAKE_STRAVA_CLIENT_SECRET="wrong-secret")
    proc = runlake("sync", "strava", env=env)
    assert_one_clear_line(proc, "runlake:", "client credentials", "RUNLAKE_STRAVA_CLIENT_SECRET")
    assert "wrong-secret" not in proc.stderr


def test_auth_walks_through_the_first_authorization(tmp_path, fake):
    env = strava_env(tmp_path, fake)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAKE_", "AWS_"))} | env
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "strava", "auth"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, cwd=REPO,
    )
    url = proc.stdout.readline().strip()
    assert url.startswith(fake.url + "/oauth/authorize?")
    assert parse_qs(urlsplit(url).query)["scope"] == ["activity:read_all"]
    redirect = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]  # the browser's part
    stdout, stderr = proc.communicate(redirect + "\n", timeout=120)
    assert proc.returncode == 0, stderr
    assert "Saved the Strava refresh token" in stdout
    assert not any(t in stdout + stderr for t in fake.issued_tokens)
    synced = runlake("sync", "strava", env=env)  # no RUNLAKE_STRAVA_REFRESH_TOKEN needed now
    assert synced.returncode == 0 and "10 stored" in synced.stdout, synced.stderr


def test_auth_with_a_used_code_is_one_clear_line(tmp_path, fake):
    proc = runlake("strava", "auth", "--code", "code_not_issued", env=strava_env(tmp_path, fake))
    assert_one_clear_line(proc, "authorization code")


def lake_files_holding(lake_root, secrets: list[str]) -> list[str]:
    """Every file under the lake folder whose bytes contain one of `secrets` (path: secret kind)."""
    found = []
    for path in sorted(p for p in lake_root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.relative_to(lake_root)}: {secret[:3]}…" for secret in secrets if secret.encode() in data]
    return found


def authorize(fake: FakeStrava, env: dict) -> None:
    """`runlake strava auth --code <redirect URL>`, the browser step done with requests."""
    settings = Settings(strava_url=fake.url, strava_client_id=fake.client_id, strava_client_secret=fake.client_secret)
    redirect = requests.get(authorize_url(settings), allow_redirects=False, timeout=5).headers["Location"]
    proc = runlake("strava", "auth", "--code", redirect, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Saved the Strava refresh token to the lake" in proc.stdout


def test_tokens_are_in_the_lake_only_as_ciphertext(tmp_path, fake):
    env = strava_env(tmp_path, fake)
    authorize(fake, env)
    lake_root = tmp_path / "lake"
    credential_files = list((lake_root / "private" / "credentials").rglob("*.parquet"))
    assert credential_files and len(fake.issued_tokens) == 2  # the code grant: one access, one refresh token
    assert lake_files_holding(lake_root, fake.issued_tokens + [fake.client_secret]) == []
    synced = runlake("sync", "strava", env=env)  # rotates the refresh token: saved again, encrypted
    assert synced.returncode == 0 and "10 stored" in synced.stdout, synced.stderr
    assert len(fake.issued_tokens) == 4
    assert lake_files_holding(lake_root, fake.issued_tokens + [fake.client_secret]) == []
    assert not (tmp_path / "home" / "strava").exists()


def test_a_wrong_secret_key_is_one_clear_line_without_secrets(tmp_path, fake):
    from cryptography.fernet import Fernet

    first_key, other_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    authorize(fake, strava_env(tmp_path, fake, RUNLAKE_SECRET_KEY=first_key))
    proc = runlake("sync", "strava", env=strava_env(tmp_path, fake, RUNLAKE_SECRET_KEY=other_key))
    assert_one_clear_line(proc, "runlake:", "encrypted with key", "RUNLAKE_SECRET_KEY")
    leaked = [s for s in fake.issued_tokens + [fake.client_secret, first_key, other_key] if s in proc.stdout + proc.stderr]
    assert leaked == []
    again = runlake("sync", "strava", env=strava_env(tmp_path, fake, RUNLAKE_SECRET_KEY=first_key))  # nothing was touched
    assert again.returncode == 0 and "10 stored" in again.stdout, again.stderr


def test_a_malformed_secret_key_is_refused_without_echoing_it(tmp_path, fake):
    env = strava_env(tmp_path, fake, RUNLAKE_STRAVA_REFRESH_TOKEN=fake.issue_refresh_token(), RUNLAKE_SECRET_KEY="not-a-fernet-key-0123456789")
    proc = runlake("sync", "strava", env=env)
    assert_one_clear_line(proc, "RUNLAKE_SECRET_KEY must be a Fernet key")
    assert "not-a-fernet-key-0123456789" not in proc.stdout + proc.stderr


def test_subscribe_refuses_without_a_verify_token_or_over_another_callback(tmp_path, fake):
    proc = runlake("strava", "subscribe", "--callback", "https://example.org/v1/webhooks/strava", env=strava_env(tmp_path, fake))
    assert_one_clear_line(proc, "RUNLAKE_STRAVA_VERIFY_TOKEN")
    assert fake.subscriptions == {}

    other = {"id": 77, "application_id": 4242, "callback_url": "https://old.example.org/hook"}
    fake.subscriptions[77] = other
    env = strava_env(tmp_path, fake, RUNLAKE_STRAVA_VERIFY_TOKEN="vt-secret-1")
    proc = runlake("strava", "subscribe", "--callback", "https://example.org/v1/webhooks/strava", env=env)
    assert_one_clear_line(proc, "77", "--replace")
    assert fake.subscriptions == {77: other}

    # --replace deletes the old one; Strava then cannot validate a callback nobody serves
    proc = runlake("strava", "subscribe", "--replace", "--callback", "http://127.0.0.1:9/v1/webhooks/strava", env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    said = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "deleted push subscription 77" in said[0] and "did not create" in said[-1] and "callback url" in said[-1]
    assert fake.subscriptions == {}
    assert "vt-secret-1" not in proc.stdout + proc.stderr and fake.client_secret not in proc.stdout + proc.stderr
