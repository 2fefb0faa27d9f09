"""Retrying the test helpers' calls to a real Prefect server on 429/502/503, as Prefect's client does.

A freshly started `prefect server` (SQLite) sometimes answers 503 while it is busy, and CI
runs have failed on one such answer. The Prefect client retries those codes with exponential
backoff (`PREFECT_CLIENT_MAX_RETRIES`); the helpers that talk to the server without it (raw
httpx calls, `prefect deployment run` as a whole command) do the same here, bounded in both the
number of attempts and the wait between them.

Pure and injectable (`sleep`, the command runner), so tests/e2e/test_server_retry.py checks the
logic without a server.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator

import httpx

RETRY_STATUS = frozenset({429, 502, 503})
ATTEMPTS = 6
BASE_DELAY_S = 1.0
MAX_DELAY_S = 20.0
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_BUSY_OUTPUT = re.compile(r"\b(429|502|503)\b|Service Unavailable|Too Many Requests|Bad Gateway", re.IGNORECASE)


def backoff_delays(attempts: int = ATTEMPTS, base_s: float = BASE_DELAY_S, cap_s: float = MAX_DELAY_S) -> Iterator[float]:
    """The waits between `attempts` tries: base, 2·base, 4·base, …, each at most `cap_s`."""
    for n in range(attempts - 1):
        yield min(cap_s, base_s * 2**n)


def _retry_after_s(response: httpx.Response, fallback_s: float) -> float:
    """The server's Retry-After (seconds) when it gives one, bounded like our own backoff."""
    value = response.headers.get("Retry-After", "")
    return min(MAX_DELAY_S, float(value)) if value.replace(".", "", 1).isdigit() else fallback_s


def send_retrying(
    send: Callable[[], httpx.Response], sleep: Callable[[float], None] = time.sleep
) -> httpx.Response:
    """`send()` again while the server answers 429/502/503; the last response otherwise."""
    response = send()
    for delay in backoff_delays():
        if response.status_code not in RETRY_STATUS:
            break
        sleep(_retry_after_s(response, delay))
        response = send()
    return response


def server_was_busy(output: str) -> bool:
    """The command's output shows the server refusing with 429/502/503."""
    return bool(_BUSY_OUTPUT.search(output))


def run_command_retrying(
    run: Callable[[], subprocess.CompletedProcess], sleep: Callable[[float], None] = time.sleep
) -> subprocess.CompletedProcess:
    """Run a `prefect …` command again only when it failed on a busy server before creating anything.

    "Before creating anything" means no flow run id in its output: once an id was printed the run
    exists, and running the command again would start a second one.
    """
    done = run()
    for delay in backoff_delays():
        output = (done.stdout or "") + (done.stderr or "")
        if done.returncode == 0 or UUID_RE.search(output) or not server_was_busy(output):
            break
        sleep(delay)
        done = run()
    return done
