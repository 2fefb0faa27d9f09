"""Data API benchmark: `GET /v1/days?from&to` under 50 concurrent clients, against the framework floor.

`python -m bench.api` (BENCH_YEARS, default 10; API_REQUESTS, default 5000; API_CLIENTS, 50). The
public tables of a synthetic history (bench/public_history.py, as bench/dashboard.py) are written
once under bench/.cache/api-<years>y. Measured in the same run, each server a fresh process on
loopback served the same way (uvicorn, `flows.commands.api.uvicorn_options`):

* **api**: `runlake api` over that lake; each request asks for a one-year window, a different one
  each time (`from`/`to` move by a day per request), with the default page of 100 days;
* **floor**: a bare FastAPI app whose one endpoint returns a constant — what the framework and
  server cost with no work at all.

The clients are `API_CLIENTS` asyncio tasks, each on its own keep-alive connection (a minimal
HTTP/1.1 client, far cheaper than httpx: it shares the 2 cores with the server), `API_REQUESTS` requests in
all (after a warm-up), capped at `API_SECONDS` (60) each. Prints p50/p95/p99 latency, requests/s
and the ratio of the p95s; record the figures in bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.public_history import write_public_history
from lake import public as public_tables
from lake.storage import Lake
from lake.table import table_exists

CACHE = Path(__file__).parent / ".cache"
END = dt.date(2026, 10, 31)  # fixed, like bench/synthetic_cache.py: the cached lake never goes stale
FLOOR_APP = """
import sys, uvicorn
from fastapi import FastAPI
from flows.commands.api import uvicorn_options
app = FastAPI()
@app.get("/v1/constant")
async def constant():
    return {"ok": True}
uvicorn.run(app, **uvicorn_options("127.0.0.1", int(sys.argv[1])))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lake(years: float) -> Path:
    root = CACHE / f"api-{years:g}y" / "lake"
    if not table_exists(Lake.at(str(root)), public_tables.DAILY_LOAD_PUBLIC):
        started = time.perf_counter()
        counts = write_public_history(Lake.at(str(root)), years, end=END)
        print(f"generated {years:g} years of public tables in {time.perf_counter() - started:.1f} s: {counts}")
    return root


def _start(command: list[str], env: dict[str, str], ready_path: str, port: int) -> tuple[subprocess.Popen, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=2).status_code == 200:
                return proc, time.perf_counter() - started
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.perf_counter() - started > 120:
            proc.kill()
            raise RuntimeError(f"{command[0]} did not become ready: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.05)


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> tuple[int, bytes]:
    """One HTTP/1.1 GET on a kept-alive connection (a minimal client: the load generator shares the
    machine with the server, so it must cost far less than the answer it waits for)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    return status, await reader.readexactly(length)


async def _load(port: int, paths: list[str], clients: int, budget_s: float) -> tuple[list[float], float, int]:
    """Latencies (s) of every request, the wall time, and the bytes of the last answer."""
    latencies: list[float] = []
    size = 0
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(clients)]

    async def worker(connection, queue, deadline: float) -> None:
        nonlocal size
        reader, writer = connection
        for path in queue:
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            status, body = await _get(reader, writer, path)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"{path}: {status} {body[:200]!r}")
            size = len(body)

    try:
        warm_up = iter(paths[: 4 * clients])  # every connection used, the caches warm
        await asyncio.gather(*(worker(c, warm_up, time.perf_counter() + budget_s) for c in connections))
        latencies.clear()
        queue = iter(paths)
        started = time.perf_counter()
        await asyncio.gather(*(worker(c, queue, started + budget_s) for c in connections))
        return latencies, time.perf_counter() - started, size
    finally:
        for _, writer in connections:
            writer.close()


def _measure(name: str, command: list[str], env: dict, ready: str, port: int, paths: list[str], clients: int,
             budget_s: float) -> dict:
    proc, boot = _start(command, env, ready, port)
    try:
        latencies, wall, size = asyncio.run(_load(port, paths, clients, budget_s))
    finally:
        proc.terminate()
        proc.wait(20)
    q = statistics.quantiles(latencies, n=100)
    result = {"name": name, "n": len(latencies), "p50": q[49] * 1e3, "p95": q[94] * 1e3, "p99": q[98] * 1e3,
              "rps": len(latencies) / wall, "bytes": size, "boot": boot}
    print(f"  {name:5}: {result['n']} requests, p50 {result['p50']:6.1f} ms, p95 {result['p95']:6.1f} ms, "
          f"p99 {result['p99']:6.1f} ms, {result['rps']:6.0f} req/s, {size} bytes per answer, ready in {boot:.1f} s",
          flush=True)
    return result


def main() -> None:
    years = float(os.environ.get("BENCH_YEARS", "10"))
    requests = int(os.environ.get("API_REQUESTS", "5000"))
    clients = int(os.environ.get("API_CLIENTS", "50"))
    budget_s = float(os.environ.get("API_SECONDS", "60"))
    lake = _lake(years)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAKE_", "AWS_"))}
    env |= {"RUNLAKE_LAKE_URI": str(lake), "RUNLAKE_HOME": str(lake.parent / "home")}
    first_from = END - dt.timedelta(days=int(years * 365.25) - 400)
    windows = [(first_from + dt.timedelta(days=i % 3000)) for i in range(requests)]
    paths = [f"/v1/days?from={start}&to={start + dt.timedelta(days=364)}" for start in windows]
    runlake = str(Path(sys.executable).parent / "runlake")
    print(f"data API, {years:g}-year public history, {clients} clients, {requests} requests each "
          f"({sys.platform}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f})", flush=True)
    port = _free_port()
    floor = _measure("floor", [sys.executable, "-c", FLOOR_APP, str(port)], env, "/v1/constant", port,
                     ["/v1/constant"] * requests, clients, budget_s)
    port = _free_port()
    api = _measure("api", [runlake, "api", "--port", str(port)], env, "/healthz", port, paths, clients, budget_s)
    print(f"  p95 api / floor: {api['p95'] / floor['p95']:.2f}x (goal ≤ 3x, limit 5x); "
          f"p50 {api['p50'] / floor['p50']:.2f}x; req/s {api['rps'] / floor['rps']:.2f}x of the floor")


if __name__ == "__main__":
    main()
