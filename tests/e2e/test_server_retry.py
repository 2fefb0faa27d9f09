"""The retry logic of the e2e helpers, without a server: fake responses and a fake command runner."""

from __future__ import annotations

import subprocess

import httpx

from tests.e2e.server_retry import ATTEMPTS, MAX_DELAY_S, backoff_delays, run_command_retrying, send_retrying

RUN_ID = "0b5e2c1a-93f4-4a8e-9d1c-3f1e2a4b5c6d"


def completed(returncode: int, stdout: str, stderr: str = "") -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess(["prefect"], returncode, stdout, stderr)


class Script:
    """Hands out the scripted results in order and counts the calls."""

    def __init__(self, *results):
        self.results, self.calls = list(results), 0

    def __call__(self):
        self.calls += 1
        return self.results.pop(0)


def test_backoff_doubles_and_is_bounded():
    assert list(backoff_delays(attempts=4, base_s=1.0, cap_s=100.0)) == [1.0, 2.0, 4.0]
    assert list(backoff_delays(attempts=8, base_s=1.0, cap_s=5.0)) == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]


def test_command_is_run_again_after_a_503_before_any_flow_run_was_created():
    runner = Script(
        completed(1, "Creating flow run for deployment 'daily/local'...", "httpx.HTTPStatusError: Server error "
                  "'503 Service Unavailable' for url 'http://127.0.0.1:4200/api/deployments/x/create_flow_run'"),
        completed(0, f"Created flow run 'brave-fox'.\n└── UUID: {RUN_ID}\nFlow run finished successfully"),
    )
    waits: list[float] = []
    done = run_command_retrying(runner, sleep=waits.append)
    assert runner.calls == 2 and done.returncode == 0 and RUN_ID in done.stdout
    assert waits == [1.0]


def test_too_many_requests_is_retried_too():
    runner = Script(completed(1, "", "Client error '429 Too Many Requests'"), completed(0, f"UUID: {RUN_ID}"))
    assert run_command_retrying(runner, sleep=lambda s: None).returncode == 0
    assert runner.calls == 2


def test_command_is_not_run_again_once_a_flow_run_id_was_printed():
    """The run exists: a second command would create a second run."""
    failed_watch = completed(1, f"Created flow run 'brave-fox'.\n└── UUID: {RUN_ID}\n", "503 Service Unavailable")
    runner = Script(failed_watch, completed(0, "never reached"))
    assert run_command_retrying(runner, sleep=lambda s: None) is failed_watch
    assert runner.calls == 1


def test_other_failures_are_not_retried():
    not_found = completed(1, "Deployment 'nope/local' not found!")
    runner = Script(not_found, completed(0, "never reached"))
    assert run_command_retrying(runner, sleep=lambda s: None) is not_found
    assert runner.calls == 1


def test_a_server_busy_for_good_gives_up_after_a_bounded_number_of_tries():
    busy = completed(1, "", "503 Service Unavailable")
    runner = Script(*[busy] * (ATTEMPTS + 3))
    waits: list[float] = []
    assert run_command_retrying(runner, sleep=waits.append) is busy
    assert runner.calls == ATTEMPTS and len(waits) == ATTEMPTS - 1 and max(waits) <= MAX_DELAY_S


def test_http_call_retries_503_and_429_then_returns_the_answer():
    request = httpx.Request("POST", "http://127.0.0.1:1/api/deployments/x/create_flow_run")
    send = Script(
        httpx.Response(503, request=request),
        httpx.Response(429, request=request, headers={"Retry-After": "3"}),
        httpx.Response(201, request=request, json={"id": RUN_ID}),
    )
    waits: list[float] = []
    response = send_retrying(send, sleep=waits.append)
    assert response.status_code == 201 and response.json()["id"] == RUN_ID
    assert waits == [1.0, 3.0]  # backoff, then the server's Retry-After


def test_http_call_does_not_retry_a_client_error():
    request = httpx.Request("GET", "http://127.0.0.1:1/api/flow_runs/x")
    send = Script(httpx.Response(404, request=request), httpx.Response(200, request=request))
    assert send_retrying(send, sleep=lambda s: None).status_code == 404
    assert send.calls == 1
