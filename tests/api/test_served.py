"""`runlake api --port P` as a process over RUNLAKE_LAKE_URI, and schemathesis against its schema."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pipeline.tokens import create_token, revoke_token
from tests.api.conftest import bearer
from tests.api.support import wait_ready
from tests.conftest import free_port

pytestmark = pytest.mark.slow
RUNLAKE = Path(sys.executable).parent / "runlake"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.fixture
def served(three, tmp_path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAKE_", "AWS_"))} | three.env
    env["RUNLAKE_API_TOKEN_RATE_LIMIT"] = "1000000"  # schemathesis sends thousands of requests
    log = (tmp_path / "api.log").open("w")
    proc = subprocess.Popen([str(RUNLAKE), "api", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "api.log").read_text()
            try:
                httpx.get(url + "/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "runlake api did not listen within 60 s"
                time.sleep(0.1)
        wait_ready(lambda path: httpx.get(url + path, timeout=5))
        yield url
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
    assert "Traceback" not in (tmp_path / "api.log").read_text()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)  # the served process checks expiry on the real clock


def test_served_api_answers_on_loopback_and_sees_token_changes_within_5_s(served, three):
    me = three.ids["me"]
    assert httpx.get(served + "/v1/days", params={"from": "2025-03-10", "to": "2025-03-12"}).json()["items"][0]["date"] == "2025-03-10"
    assert [a["handle"] for a in httpx.get(served + "/v1/athletes").json()["items"]] == ["ann", "me"]
    assert httpx.get(served + "/v1/me/days").status_code == 401
    token = create_token(three.lake, me, name="served", scopes=("read:private",), now=_now())
    _within_5_s(lambda: httpx.get(served + "/v1/me/weeks", headers=bearer(token)).status_code == 200)
    revoke_token(three.lake, me, "served", now=_now())
    _within_5_s(lambda: httpx.get(served + "/v1/me/weeks", headers=bearer(token)).status_code == 401)
    assert httpx.get(served + "/v1/me/weeks", headers=bearer(token)).json()["error"] == "revoked_token"
    assert httpx.get(served + "/openapi.json").json()["paths"]["/v1/days"]


def test_schemathesis_finds_no_server_error(served, three, tmp_path):
    token = create_token(three.lake, three.ids["ann"], name="schemathesis", scopes=("read:private",), now=_now())
    done = subprocess.run(
        [str(SCHEMATHESIS), "run", served + "/openapi.json", "--header", f"Authorization: Bearer {token}",
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
         "--phases", "examples,coverage,fuzzing", "--max-examples", "10", "--workers", "2", "--seed", "14",
         "--max-time", "40", "--no-color"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    # 26 operations: the views under /v1, /v1/athletes/{handle} and /v1/me, /v1/athletes, /v1/me/gear
    assert "26 passed" in done.stdout or "Tested: 26" in done.stdout, done.stdout[-2000:]
    assert "/v1/me/gear" in httpx.get(served + "/openapi.json").json()["paths"]


def _within_5_s(condition) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "the token change did not take effect within 5 s"
        time.sleep(0.1)
