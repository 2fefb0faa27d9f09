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

Then, on warm servers (each page visited once first, as a running dashboard has been), the
issue-16 target: for each public page, a new browser context (no cache, no cookies) → the first
Vega chart drawn (canvas or svg), against the **floor**: a bare Streamlit script drawing one small
Altair chart, served by `streamlit run` with the same options from the same environment.
BENCH_REPEAT rounds (default 5), pages interleaved; medians. BENCH_PAGES (comma-separated names,
e.g. `sessions,records`) limits the pages; BENCH_COLD=0 skips the cold starts. BENCH_BASE=<path
of another checkout> (e.g. a `git worktree` of main) also serves that checkout's dashboard, from
this environment and with the same options, and visits each page there too, alternately with
this one in every round (A/B under the same load): its rows are marked "(base)". Beside each time, the bytes the page
received: over the websocket (the page's data: elements, tables, chart specs) and over HTTP
(Streamlit's static bundle, the same for every page in a fresh context), until the page is quiet.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.public_history import write_public_history
from flows.commands.dashboard import APP, streamlit_command
from lake import public as public_tables
from lake.storage import Lake
from lake.table import table_exists

CACHE = Path(__file__).parent / ".cache"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHART = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
INFO = "[data-testid='stAlert']"
#: (name, URL path) of the public pages; "" is the default page (Overview, the landing page).
PAGES = [("landing", ""), ("training log", "training_log"), ("sessions", "sessions"), ("records", "records")]
FLOOR_SCRIPT = """import altair as alt
import pandas as pd
import streamlit as st

st.title("Floor")
frame = pd.DataFrame({"x": list(range(20)), "y": [i * i % 7 for i in range(20)]})
st.altair_chart(alt.Chart(frame).mark_line().encode(x="x:Q", y="y:Q"), width="stretch")
"""
QUIET_S = 1.5


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


def _serve(lake_dir: Path, script: Path | None = None, checkout: Path | None = None) -> tuple[subprocess.Popen, str, float]:
    """Start a server (the dashboard, or `script` with the same options; with `checkout`, that
    checkout's code is imported first); returns it, its URL and the seconds until its health check
    answered."""
    port = _free_port()
    env = dict(os.environ, RUNLAKE_LAKE_URI=str(lake_dir))
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    command = streamlit_command("127.0.0.1", port)
    if script is not None:
        command[command.index(str(APP))] = str(script)
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def _visit(browser, url: str) -> tuple[float, int, int]:
    """A new browser context (empty cache) → `url` → first Vega chart drawn; returns the seconds,
    and the bytes received over the websocket and over HTTP until the page is quiet."""
    context = browser.new_context(viewport={"width": 1100, "height": 1600})
    page = context.new_page()
    ws_bytes, last_frame, responses = [0], [time.perf_counter()], []

    def on_frame(payload) -> None:
        ws_bytes[0] += len(payload)
        last_frame[0] = time.perf_counter()

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    page.on("requestfinished", lambda request: responses.append(request))
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector(CHART, timeout=180_000)
    elapsed = time.perf_counter() - start
    while time.perf_counter() - last_frame[0] < QUIET_S:
        page.wait_for_timeout(200)
    http_bytes = 0
    for request in responses:
        sizes = request.sizes()
        http_bytes += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    context.close()
    return elapsed, ws_bytes[0], http_bytes


def _pages(browser, urls: dict[str, str], floor_url: str, rounds: int, pages: list[tuple[str, str]]) -> dict[str, list[tuple[float, int, int]]]:
    """`rounds` rounds of: the floor, then each of `pages` on each server of `urls` (suffix → URL;
    their order alternates from round to round), each in a new context."""
    for url in urls.values():
        for _, path in pages:  # the server has been serving: each page's tables are in its cache
            _visit(browser, f"{url}/{path}")
    _visit(browser, floor_url)
    runs: dict[str, list[tuple[float, int, int]]] = {"floor": []}
    runs.update({name + suffix: [] for name, _ in pages for suffix in urls})
    for n in range(rounds):
        runs["floor"].append(_visit(browser, floor_url))
        order = list(urls.items()) if n % 2 == 0 else list(urls.items())[::-1]
        for name, path in pages:
            for suffix, url in order:
                runs[name + suffix].append(_visit(browser, f"{url}/{path}"))
    return runs


def _per_page(browser, history: Path, rounds: int, pages: list[tuple[str, str]], base: Path | None) -> dict[str, list[tuple[float, int, int]]]:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "floor.py"
        script.write_text(FLOOR_SCRIPT)
        procs, urls = [], {}
        try:
            proc, urls[""], _ = _serve(history)
            procs.append(proc)
            if base is not None:
                proc, urls[" (base)"], _ = _serve(history, base / "streamlit_app" / "app.py", base)
                procs.append(proc)
            floor_proc, floor_url, _ = _serve(history, script)
            procs.append(floor_proc)
            return _pages(browser, urls, floor_url, rounds, pages)
        finally:
            for p in procs:
                p.terminate()
                p.wait(20)


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    years = float(os.environ.get("BENCH_YEARS", "10"))
    if not Path(CHROMIUM).exists():
        print(f"bench.dashboard: skipped, {CHROMIUM} is not installed (apt-get install chromium)")
        return
    from playwright.sync_api import sync_playwright

    rounds = int(os.environ.get("BENCH_REPEAT", "5"))
    wanted = os.environ.get("BENCH_PAGES")
    pages = [p for p in PAGES if wanted is None or p[0] in wanted.split(",")]
    cold = os.environ.get("BENCH_COLD", "1") != "0"
    base = Path(os.environ["BENCH_BASE"]).resolve() if os.environ.get("BENCH_BASE") else None
    history = _history(years)
    load_before = _load()
    with tempfile.TemporaryDirectory() as empty, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            if cold:
                ref_boot, ref_first, _ = _cold(browser, Path(empty) / "lake", INFO)
                boot, first, warm = _cold(browser, history, CHART)
            runs = _per_page(browser, history, rounds, pages, base)
        finally:
            browser.close()
    print(f"dashboard, {years:g}-year public history ({sys.platform}, {os.cpu_count()} cores; {load_before} before, {_load()} after)")
    if cold:
        print(f"  empty lake (reference): server up {ref_boot:6.2f} s, first paint (info) {ref_first:6.2f} s, total {ref_boot + ref_first:6.2f} s")
        print(f"  history, cold         : server up {boot:6.2f} s, first chart        {first:6.2f} s, total {boot + first:6.2f} s")
        print(f"  history, warm reload  : first chart {warm:6.2f} s")
        print(f"  ratio cold history / empty reference (page to first paint): {first / ref_first:4.2f}x (target <= 1.3x)")
    floor = statistics.median(t for t, _, _ in runs["floor"])
    print(f"  warm server, new browser context -> first chart, median of {rounds} (target <= 1.2x the floor):")
    for name, visits in runs.items():
        t = statistics.median(v[0] for v in visits)
        ws, http = statistics.median(v[1] for v in visits), statistics.median(v[2] for v in visits)
        each = ", ".join(f"{v[0]:.2f}" for v in visits)
        print(f"    {name:<19} {t:5.2f} s  {t / floor:4.2f}x  websocket {ws / 1024:7.1f} KiB, HTTP {http / 1024:7.1f} KiB  ({each})")


if __name__ == "__main__":
    main()
