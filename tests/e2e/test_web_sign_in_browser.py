"""Sign in for real: `runlake dashboard` with the RUNLAKE_OIDC_* settings, oidc-provider-mock as
the OpenID Connect provider, Chromium through Playwright. A new identity onboards, sees its own
training on /me, signs out; a second identity sees none of the first one's data, whatever the URL."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app as cli
from sources.fit.synthetic import write_run
from tests.e2e.serving import free_port, serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
RUNLAKE = str(Path(sys.executable).with_name("runlake"))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (/usr/bin/chromium)"),
]


@pytest.fixture(scope="module")
def provider():
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(port=free_port()) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def web(tmp_path_factory, provider):
    root = tmp_path_factory.mktemp("web")
    port = free_port()
    env = dict(
        os.environ,
        RUNLAKE_HOME=str(root / "home"), RUNLAKE_LAKE_URI=str(root / "lake"), RUNLAKE_INBOX_URI=str(root / "inbox"),
        RUNLAKE_OIDC_ISSUER=provider, RUNLAKE_OIDC_CLIENT_ID="runlake-web", RUNLAKE_OIDC_CLIENT_SECRET="mock-secret-4711",
        RUNLAKE_WEB_URL=f"http://localhost:{port}",
    )
    url = f"http://localhost:{port}"
    command = [RUNLAKE, "dashboard", "--port", str(port), "--host", "127.0.0.1"]
    with serving(command, env, url + "/_stcore/health", root / "dashboard.log", what="runlake dashboard"):
        yield {"url": url, "env": env, "root": root}


@pytest.fixture(scope="module")
def api(web):
    """`runlake api` over the same lake, for the token made on /tokens."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving([RUNLAKE, "api", "--port", str(port)], web["env"], url + "/healthz", web["root"] / "api.log",
                 what="runlake api"):
        yield url


def _api_get(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _files_holding(root: Path, needles: list[str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.name.endswith(".log"):
            continue  # the servers' own logs (no athlete data; checked for secrets below)
        text = str(path.relative_to(root))
        data = path.read_bytes() if path.is_file() else b""
        found += [f"{text}: {n}" for n in needles if n in text or n.encode() in data]
    return found


def _cli(env: dict, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={k: v for k, v in env.items() if k.startswith("RUNLAKE_")})
    assert result.exit_code == 0, result.output
    return result.output


def _sign_in(page, url: str, subject: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=sub]").wait_for(timeout=30_000)  # the provider's own form
    page.fill("input[name=sub]", subject)
    page.get_by_role("button", name="Authorize").click()
    page.get_by_role("button", name="Sign out").wait_for(timeout=30_000)  # back in the app, signed in


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    end = page.get_by_role("button", name="End session")  # the provider (mock) confirms its logout
    end.wait_for(timeout=30_000)
    end.click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)


def _onboard(page, url: str, handle: str) -> None:
    page.goto(f"{url}/welcome", wait_until="domcontentloaded")
    page.get_by_label("Handle").fill(handle)
    page.get_by_role("button", name="Create").click()
    page.get_by_text("Your training").first.wait_for(timeout=30_000)


def _text(page, path: str, url: str, wait_for: str) -> str:
    page.goto(f"{url}/{path}", wait_until="domcontentloaded")
    page.get_by_text(wait_for).first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    return page.inner_text("body")


@pytest.mark.timeout(420)
def test_sign_in_onboard_upload_token_sign_out_isolation_and_erasure(web, api, tmp_path):
    from playwright.sync_api import sync_playwright

    from lake import athletes
    from lake.storage import Lake
    from lake.table import read

    url = web["url"]
    run = tmp_path / "dawn.fit"
    write_run(run, datetime(2025, 6, 3, 5, 17, tzinfo=ZoneInfo("Europe/Oslo")), 4200, seed=5)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            first = browser.new_context().new_page()
            _sign_in(first, url, "runner-one")
            _onboard(first, url, "firstrunner")
            assert "No activities yet" in _text(first, "me", url, "Your training")

            # Upload a FIT file on /upload; it becomes this athlete's run, on /me with its time of day.
            _text(first, "upload", url, "Upload FIT files")
            first.locator("input[type=file]").set_input_files(str(run))
            first.get_by_text("dawn.fit").first.wait_for(timeout=30_000)
            first.get_by_role("button", name="Ingest").click()
            first.get_by_text("Done in").first.wait_for(timeout=180_000)
            assert "ingested" in first.inner_text("body")
            mine = _text(first, "me", url, "05:17")
            assert "05:17" in mine, "the runner's own page shows the time of day"

            # A token made on /tokens works on the data API, for this athlete's private data.
            _text(first, "tokens", url, "API tokens")
            first.get_by_label("Name").fill("coach")
            first.get_by_text("Include private data").click()
            first.get_by_role("button", name="Create").click()
            first.get_by_text("Copy it now").wait_for(timeout=30_000)
            token = first.locator("[data-testid='stCode'] code").first.inner_text().strip()
            assert token.startswith("rlk_")
            deadline = time.monotonic() + 10  # a new token takes effect within 5 s
            while True:
                status, body = _api_get(f"{api}/v1/me/activities?from=2025-06-01&to=2025-06-30", token)
                if status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert status == 200 and len(body["items"]) == 1, body

            _sign_out(first)
            after = _text(first, "me", url, "Sign in to see this page")
            assert "05:17" not in after

            second = browser.new_context().new_page()
            _sign_in(second, url, "runner-two")
            _onboard(second, url, "secondrunner")
            for path, shown in (("me", "secondrunner"), ("me?athlete=firstrunner", "secondrunner"),
                                ("me?handle=firstrunner", "secondrunner"), ("settings?athlete=firstrunner", "secondrunner"),
                                ("tokens?athlete=firstrunner", "No tokens yet"), ("my-data?athlete=firstrunner", "Erase your account"),
                                ("upload?athlete=firstrunner", "Upload FIT files")):
                body = _text(second, path, url, shown)
                assert "05:17" not in body and "firstrunner" not in body, path

            # The first runner erases the account from /my-data: nothing of it is left.
            lake = Lake.at(web["env"]["RUNLAKE_LAKE_URI"])
            first_id = read(lake, athletes.SPEC).filter(pl.col("handle") == "firstrunner")["athlete_id"].item()
            first = browser.new_context().new_page()  # a new browser session signs in again
            _sign_in(first, url, "runner-one")
            _text(first, "my-data", url, "Erase your account")
            first.get_by_label("Type your handle to confirm").fill("firstrunner")
            first.get_by_role("button", name="Erase my account").click()
            end = first.get_by_role("button", name="End session")  # signed out: the provider confirms
            end.wait_for(timeout=120_000)
            end.click()
            first.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        finally:
            browser.close()
    status, _ = _api_get(f"{api}/v1/me/days", token)
    deadline = time.monotonic() + 10
    while status != 401 and time.monotonic() < deadline:
        time.sleep(0.5)
        status, _ = _api_get(f"{api}/v1/me/days", token)
    assert status == 401, "the erased athlete's token still works"
    assert _files_holding(web["root"], ["firstrunner", first_id]) == []
    for name in ("dashboard.log", "api.log"):
        text = (web["root"] / name).read_text()
        assert "mock-secret-4711" not in text and token not in text, name
