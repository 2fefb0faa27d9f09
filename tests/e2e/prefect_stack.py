"""Real components for the end-to-end tests, started on loopback and always stopped.

A `prefect server start` with its own PREFECT_HOME, process workers, a tiny HTTP receiver that
plays the notification webhook, and helpers to run the `prefect`/`runlake` commands the way a
user would. Every process runs in its own session so teardown can stop its whole group.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.e2e.server_retry import UUID_RE, run_command_retrying, send_retrying

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
# Every Prefect client of the test server (CLI, workers, flow runs) retries 429/502/503/408 with
# exponential backoff 2, 4, 8, … s (those codes are built in; PREFECT_CLIENT_RETRY_EXTRA_CODES only
# adds others). Seven retries instead of the default five: up to ~4 min for a busy SQLite server.
CLIENT_MAX_RETRIES = "7"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without PREFECT_*, RUNLAKE_* or AWS_*, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RUNLAKE_", "AWS_"))}
    env.update({
        "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "NO_COLOR": "1",
        "PREFECT_CLIENT_MAX_RETRIES": CLIENT_MAX_RETRIES,
    })
    env.update(extra)
    return env


def stop_process(proc: subprocess.Popen, grace_s: float = 20) -> None:
    """SIGTERM the process group, then SIGKILL what is left."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def prefect_server(workdir: Path, start_timeout_s: float = 180) -> Iterator[dict[str, str]]:
    """A real Prefect server; yields the environment every client of it needs."""
    home = workdir / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = clean_env(PREFECT_HOME=str(home), PREFECT_UI_ENABLED="false")
    log = (workdir / "server.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prefect server exited: {(workdir / 'server.log').read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("prefect server did not become healthy in time")
            time.sleep(0.5)
        yield {**env, "PREFECT_API_URL": url}
    finally:
        stop_process(proc)
        log.close()


@contextlib.contextmanager
def process_worker(env: dict[str, str], workdir: Path, name: str) -> Iterator[subprocess.Popen]:
    """`prefect worker start` on runlake-local with `env` (flow runs inherit it)."""
    log = (workdir / f"worker-{name}.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "prefect"), "worker", "start", "--pool", "runlake-local", "--type", "process", "--name", name],
        env={**env, "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_HEARTBEAT_SECONDS": "5"},
        cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        yield proc
    finally:
        stop_process(proc)
        log.close()


def run(args: list[str], env: dict[str, str], timeout_s: float = 600) -> subprocess.CompletedProcess:
    """A command from the repo root, as a user would type it there."""
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout_s)


def deployment_run(name: str, env: dict[str, str], **params: str) -> tuple[subprocess.CompletedProcess, str]:
    """`prefect deployment run NAME --watch`; returns the result and the flow run id.

    Run again (with backoff) only when the server refused with 429/502/503 before a flow run id
    was printed, so a run is never created twice.
    """
    args = [str(BIN / "prefect"), "deployment", "run", name, "--watch", "--watch-timeout", "420"]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    done = run_command_retrying(lambda: run(args, env, timeout_s=480))
    ids = UUID_RE.findall(done.stdout + done.stderr)
    assert ids, f"no flow run id in the output of {name}: {done.stdout}{done.stderr}"
    return done, ids[0]


class Api:
    """The few REST calls the tests make (no Prefect client settings to juggle in-process).

    Each call retries 429/502/503 with bounded backoff, like the Prefect client (server_retry.py).
    """

    def __init__(self, url: str):
        self.http = httpx.Client(base_url=url.rstrip("/") + "/", timeout=30)

    def get(self, path: str):
        response = send_retrying(lambda: self.http.get(path))
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict):
        response = send_retrying(lambda: self.http.post(path, json=body))
        response.raise_for_status()
        return response.json()

    def deployment(self, full_name: str) -> dict:
        return self.get(f"deployments/name/{full_name}")

    def flow_run(self, run_id: str) -> dict:
        return self.get(f"flow_runs/{run_id}")

    def create_run(self, full_name: str, **params) -> str:
        # The idempotency key makes a retried POST return the run the first one may have created.
        deployment = self.deployment(full_name)
        body = {"parameters": params, "idempotency_key": f"runlake-e2e-{uuid.uuid4()}"}
        return self.post(f"deployments/{deployment['id']}/create_flow_run", body)["id"]

    def wait(self, run_id: str, timeout_s: float = 300) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            flow_run = self.flow_run(run_id)
            if flow_run["state"]["type"] in TERMINAL:
                return flow_run
            time.sleep(1)
        raise TimeoutError(f"flow run {run_id} did not finish in {timeout_s} s")

    def events(self, name: str) -> list[dict]:
        body = {"filter": {"event": {"name": [name]}, "occurred": {"since": "2000-01-01T00:00:00Z"}}, "limit": 50}
        return self.post("events/filter", body)["events"]

    def logs(self, run_id: str) -> str:
        rows = self.post("logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200})
        return "\n".join(r["message"] for r in rows)


class WebhookReceiver:
    """Records the JSON bodies POSTed to it: the notification block's destination."""

    def __init__(self):
        self.bodies: list[dict] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                with contextlib.suppress(ValueError):
                    received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, text: str, timeout_s: float = 90) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for body in list(self.bodies):
                if text in json.dumps(body):
                    return body
            time.sleep(1)
        raise TimeoutError(f"no notification mentioning {text!r}; got {self.bodies}")
