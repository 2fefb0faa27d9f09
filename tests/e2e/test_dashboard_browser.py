"""Serve the dashboard for real and look at it in Chromium (Playwright): charts render, no exception."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.public_history import write_public_history
from flows.commands.dashboard import streamlit_command
from lake.storage import Lake
from tests.e2e.serving import free_port, serving

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
EXCEPTION_MARKERS = ("Traceback", "Exception:", "Error:", "StreamlitAPIException")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (/usr/bin/chromium)"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    lake_dir = tmp_path_factory.mktemp("dash") / "lake"
    write_public_history(Lake.at(str(lake_dir)), years=2)
    port = free_port()
    env = dict(os.environ, RUNLAKE_LAKE_URI=str(lake_dir), RUNLAKE_TIMEZONE="Europe/Zurich")
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("log") / "streamlit.log"
    with serving(streamlit_command("127.0.0.1", port), env, url + "/_stcore/health", log, what="streamlit"):
        yield url


#: (url path, screenshot name, charts expected, text of the page's last element)
PAGES = [
    ("", "overview", 2, "sums of the public weekly summary"),
    ("training_log", "training_log", 1, "Foster (1998)"),
    ("sessions", "sessions", 4, "start, finish and private places hidden"),
    ("records", "records", 1, "Daniels' tables"),
    ("about", "about", 0, "sums of the public weekly summary"),
]


@pytest.mark.timeout(180)
def test_every_page_renders_charts_without_exceptions(served):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for viewport, suffix in (({"width": 1100, "height": 1800}, ""), ({"width": 390, "height": 1700}, "_phone")):
                page = browser.new_page(viewport=viewport)
                for path, name, charts, last_text in PAGES:
                    page.goto(f"{served}/{path}", wait_until="domcontentloaded")
                    page.get_by_text(last_text).first.wait_for(timeout=60_000)  # the script ran to its end
                    page.wait_for_function(
                        f"document.querySelectorAll(\"[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg.marks\").length >= {charts}",
                        timeout=60_000,
                    )
                    page.wait_for_timeout(800)  # let vega finish drawing before the screenshot
                    page.screenshot(path=str(ARTIFACTS / f"dashboard_{name}{suffix}.png"), full_page=True)
                    text = page.inner_text("body")
                    assert page.locator("[data-testid='stException']").count() == 0, f"{name}: exception shown"
                    assert not any(m in text for m in EXCEPTION_MARKERS), f"{name}: error text on the page"
                page.close()
        finally:
            browser.close()
