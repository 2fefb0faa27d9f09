"""Start a server process for an end-to-end test and stop it after: a free loopback port, a log
file, and a wait until its health URL answers 200 (the test fails with the log otherwise)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(command: list[str], env: dict, health_url: str, log_path: Path, *, what: str,
            timeout_s: float = 90) -> Iterator[Path]:
    """Run `command` until the block ends; yields the log's path once `health_url` is 200."""
    log = open(log_path, "w+")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(health_url, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"{what} did not start:\n{log.read()}")
                time.sleep(0.3)
        yield log_path
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
