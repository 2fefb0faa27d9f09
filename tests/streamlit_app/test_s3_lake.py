"""The public layer and the dashboard on an S3 lake (moto server on loopback)."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from apptest_support import assert_clean, charts_of, open_page
from bench.private_history import Run, write_private_lake
from pipeline.steps.build_public import build_public
from lake.public_id_key import read_or_create_public_id_key
from lake.storage import Lake
from runlake.settings import Settings

pytestmark = pytest.mark.e2e


@pytest.fixture()
def s3_lake_uri(monkeypatch):
    boto3 = pytest.importorskip("boto3")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # A separate process: deltalake/polars calls that hold the GIL would starve an in-process
    # (threaded) moto server and hang.
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=1).close()
            break
        except urllib.error.HTTPError:
            break  # it answers
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("moto server did not start")
            time.sleep(0.2)
    env = {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="runlake")
    try:
        yield "s3://runlake/lake"
    finally:
        server.terminate()
        server.wait(10)


def test_build_public_and_dashboard_on_s3(s3_lake_uri, monkeypatch):
    lake = Lake.at(s3_lake_uri)
    t0 = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=10)
    # Runs from four different spots: runs from one spot make it a protected place, with no route.
    write_private_lake(lake, [Run(f"s3run{i}", t0 + dt.timedelta(days=i), 47.0 + i / 10, 8.0, 5000.0, efforts={"5k": 1250.0})
                              for i in range(4)])
    counts = build_public(lake, Settings(lake_uri=s3_lake_uri))
    assert counts["public/activities"] == 4 and counts["public/routes"] > 0
    key = read_or_create_public_id_key(lake)
    assert read_or_create_public_id_key(lake) == key  # created once, kept under private/
    at = open_page("pages/overview.py", s3_lake_uri, monkeypatch)
    assert_clean(at, "overview on S3")
    assert len(charts_of(at)) >= 2
