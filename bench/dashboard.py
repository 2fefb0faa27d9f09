"""Dashboard benchmark: cold load to the first rendered chart on a long public history.

`python -m bench.dashboard` (BENCH_YEARS, default 10). The public tables of a synthetic history
(doubles most days; every activity with a route and samples) are generated with numpy/polars
straight into `<lake>/public/` under bench/.cache/dashboard-<years>y (only the first run pays).

Measured in the same run, each with a fresh `streamlit run` server (the same command as
`runlake dashboard`) and a fresh Chromium page:

* **cold, history**: server start → health check → first Vega chart drawn on the default page
  (Overview, which reads public/weekly_summary and public/daily_load);
* **cold, empty lake** (the reference): the same on a lake with no public tables, to the empty
  state; the ratio says what the data costs on top of Streamlit's own start;
* **warm**: a second page load on the history server (cached tables) to the first chart.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.public_history import write_public_history
from flows.commands.dashboard import streamlit_command
from lake import public as public_tables
from lake.storage import Lake
from lake.table import table_exists

CACHE = Path(__file__).parent / ".cache"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHART = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
INFO = "[data-testid='stAlert']"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _history(years: float) -> Path:
    root = CACHE / f"dashboard-{years:g}y" / "lake"
    if not table_exists(Lake.at(str(root)), public_tables.SAMPLES_PUBLIC):
        t = time.perf_counter()
        counts = write_public_history(Lake.at(str(root)), years)
        print(f"generated {years:g} years of public tables in {time.perf_counter() - t:.1f} s: {counts}")
    return root


def _serve(lake_dir: Path) -> tuple[subprocess.Popen, str, float]:
    """Start a server; returns it, its URL and the seconds until its health check answered."""
    port = _free_port()
    env = dict(os.environ, RUNLAKE_LAKE_URI=str(lake_dir))
    start = time.perf_counter()
    proc = subprocess.Popen(streamlit_command("127.0.0.1", port), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                return proc, url, time.perf_counter() - start
        except OSError:
            if proc.poll() is not None or time.perf_counter() - start > 120:
                raise RuntimeError("streamlit did not start") from None
            time.sleep(0.05)


def _first_paint(browser, url: str, selector: str) -> float:
    page = browser.new_page(viewport={"width": 1100, "height": 1600})
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector(selector, timeout=180_000)
    elapsed = time.perf_counter() - start
    page.close()
    return elapsed


def _cold(browser, lake_dir: Path, selector: str) -> tuple[float, float, float]:
    proc, url, boot = _serve(lake_dir)
    try:
        first = _first_paint(browser, url, selector)
        warm = _first_paint(browser, url, selector)
    finally:
        proc.terminate()
        proc.wait(20)
    return boot, first, warm


def main() -> None:
    years = float(os.environ.get("BENCH_YEARS", "10"))
    if not Path(CHROMIUM).exists():
        print(f"bench.dashboard: skipped, {CHROMIUM} is not installed (apt-get install chromium)")
        return
    from playwright.sync_api import sync_playwright

    history = _history(years)
    with tempfile.TemporaryDirectory() as empty, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ref_boot, ref_first, _ = _cold(browser, Path(empty) / "lake", INFO)
            boot, first, warm = _cold(browser, history, CHART)
        finally:
            browser.close()
    print(f"dashboard, {years:g}-year public history ({sys.platform}, {os.cpu_count()} cores)")
    print(f"  empty lake (reference): server up {ref_boot:6.2f} s, first paint (info) {ref_first:6.2f} s, total {ref_boot + ref_first:6.2f} s")
    print(f"  history, cold         : server up {boot:6.2f} s, first chart        {first:6.2f} s, total {boot + first:6.2f} s")
    print(f"  history, warm reload  : first chart {warm:6.2f} s")
    print(f"  ratio cold history / empty reference (page to first paint): {first / ref_first:4.2f}x")


if __name__ == "__main__":
    main()
