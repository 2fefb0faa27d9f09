"""Fixtures shared by every test layer: the shared FIT corpus, lakes, an S3 stand-in."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.shared_data import shared_data_dir, shared_fit_dir_or_none


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def shared_fit_dir() -> Path:
    """`<repo>/../shared/data/fit`; tests that need it skip cleanly when it is absent."""
    path = shared_fit_dir_or_none()
    if path is None:
        pytest.skip(f"shared FIT corpus not found at {shared_data_dir() / 'fit'}")
    return path


@pytest.fixture(autouse=True)
def _isolated_runlake_env(monkeypatch, tmp_path_factory) -> None:
    """No test reads the developer's real RUNLAKE_* settings, home folder or AWS keys."""
    import os

    for name in list(os.environ):
        if name.startswith(("RUNLAKE_", "AWS_")) and name != "RUNLAKE_TEST_SHARED_DATA":
            monkeypatch.delenv(name)
    monkeypatch.setenv("RUNLAKE_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture(autouse=True)
def _restore_umask():
    """Flows set the process umask (runlake/files.py); a flow run in-process must not change it
    for the tests after it."""
    import os

    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


@pytest.fixture
def local_lake(tmp_path):
    from lake.storage import Lake

    return Lake.at(str(tmp_path / "lake"))


_MOTO_MAIN = """
import sys, threading
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
print("ready", flush=True)
sys.stdin.read()  # until the test session closes our stdin
server.stop()
"""


@pytest.fixture(scope="session")
def moto_server() -> Iterator[dict[str, str]]:
    """A real S3 endpoint (moto's ThreadedMotoServer) on loopback, in its own process.

    Its own process, not a thread of the test process: deltalake calls can hold the GIL while
    they wait on the network, which would starve an in-process server. Yields the AWS variables.
    """
    import subprocess
    import sys

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", _MOTO_MAIN, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # its request log
        text=True,
    )
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("moto server did not start")
        yield {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing-secret",
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def s3_bucket(moto_server, monkeypatch) -> str:
    """A fresh bucket on the moto server, with the AWS variables set; yields `s3://bucket`."""
    import boto3

    for k, v in moto_server.items():
        monkeypatch.setenv(k, v)
    name = f"runlake-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=moto_server["AWS_ENDPOINT_URL"], region_name="us-east-1").create_bucket(Bucket=name)
    return f"s3://{name}"
