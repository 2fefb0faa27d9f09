"""Sign in for real: `runlake dashboard` with the RUNLAKE_OIDC_* settings, oidc-provider-mock as
the OpenID Connect provider, Chromium through Playwright. A new identity onboards, sees its own
training on /me, signs out; a second identity sees none of the first one's data, whatever the URL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from flows.cli import app as cli
from sources.fit.synthetic import write_run

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
RUNLAKE = str(Path(sys.executable).with_name("runlake"))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (/usr/bin/chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def provider():
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(port=_free_port()) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def web(tmp_path_factory, provider):
    root = tmp_path_factory.mktemp("web")
    port = _free_port()
    env = dict(
        os.environ,
        RUNLAKE_HOME=str(root / "home"), RUNLAKE_LAKE_URI=str(root / "lake"), RUNLAKE_INBOX_URI=str(root / "inbox"),
        RUNLAKE_OIDC_ISSUER=provider, RUNLAKE_OIDC_CLIENT_ID="runlake-web", RUNLAKE_OIDC_CLIENT_SECRET="mock-secret-4711",
        RUNLAKE_WEB_URL=f"http://localhost:{port}",
    )
    log = open(root / "dashboard.log", "w+")
    proc = subprocess.Popen([RUNLAKE, "dashboard", "--port", str(port), "--host", "127.0.0.1"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"runlake dashboard did not start:\n{log.read()}")
                time.sleep(0.3)
        yield {"url": url, "env": env, "root": root, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
    end = page.get_by_role("button", name="End session")  # the provider asks to confirm its logout
    try:
        end.wait_for(timeout=5_000)
    except Exception:  # noqa: BLE001 — Playwright's timeout: the provider did not ask
        return
    end.click()


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


@pytest.mark.timeout(300)
def test_sign_in_onboard_see_own_data_sign_out_and_a_second_identity_sees_nothing(web, tmp_path):
    from playwright.sync_api import sync_playwright

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
            _cli(web["env"], "ingest", "fit", str(run), "--athlete", "firstrunner")
            _cli(web["env"], "marts", "build", "--athlete", "firstrunner", "--today", "2025-06-10")
            mine = _text(first, "me", url, "Fitness, fatigue and form")
            assert "05:17" in mine, "the runner's own page shows the time of day"
            _sign_out(first)
            after = _text(first, "me", url, "Sign in to see this page")
            assert "05:17" not in after

            second = browser.new_context().new_page()
            _sign_in(second, url, "runner-two")
            _onboard(second, url, "secondrunner")
            for path, shown in (("me", "secondrunner"), ("me?athlete=firstrunner", "secondrunner"),
                                ("me?handle=firstrunner", "secondrunner"), ("settings?athlete=firstrunner", "secondrunner"),
                                ("tokens?athlete=firstrunner", "No tokens yet"), ("my-data?athlete=firstrunner", "Erase your account")):
                body = _text(second, path, url, shown)
                assert "05:17" not in body and "firstrunner" not in body, path
        finally:
            browser.close()
    web["log"].seek(0)
    assert "mock-secret-4711" not in web["log"].read()
