"""An upload job with a Prefect API (streamlit_app/upload_jobs.py): a run of
`ingest-upload/<RUNLAKE_WEB_DEPLOYMENT>` named after the athlete id, followed to its end, and the
per-file results read from the lake. Prefect's client is replaced by a fake whose
`run_deployment` runs the flow body as a worker would (`.fn`): a real server and worker cost
minutes here and are covered for the other deployments by tests/e2e."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import polars as pl
import prefect.client.orchestration
import prefect.deployments
import pytest
from prefect.exceptions import ObjectNotFound

import flows.ingest_upload as flow_module
from lake import activities
from lake.storage import Lake
from lake.table import read
from pipeline.athletes import add_athlete
from pipeline.uploads import MB, UploadLimits, unpack
from runlake.settings import Settings
from sources.fit.synthetic import write_run
from streamlit_app import upload_jobs

LIMITS = UploadLimits(max_bytes=10 * MB, max_files=10, max_uncompressed_bytes=10 * MB, max_ratio=100)


class FakeClient:
    """`get_client(sync_client=True)`: every run it is asked about has completed."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read_flow_run(self, run_id):
        state = SimpleNamespace(name="Completed", is_final=lambda: True, is_completed=lambda: True)
        return SimpleNamespace(id=run_id, state=state)


@pytest.fixture
def setup(tmp_path, monkeypatch):
    for name, value in (("RUNLAKE_LAKE_URI", tmp_path / "lake"), ("RUNLAKE_INBOX_URI", tmp_path / "inbox")):
        monkeypatch.setenv(name, str(value))  # the worker's environment: the same lake and inbox
    monkeypatch.setattr(flow_module, "get_run_logger", lambda: logging.getLogger("test"))
    monkeypatch.setattr(prefect.client.orchestration, "get_client", lambda sync_client: FakeClient())
    settings = Settings()
    lake = Lake.at(settings.lake)
    ann = add_athlete(lake, settings, "ann")
    write_run(tmp_path / "r.fit", datetime(2025, 3, 10, 7, tzinfo=ZoneInfo("Europe/Oslo")), 3000)
    upload = unpack([("r.fit", (tmp_path / "r.fit").read_bytes()), ("x.txt", b"x")], LIMITS)
    return lake, ann, upload


def finished(job: upload_jobs.UploadJob) -> upload_jobs.JobState:
    deadline = time.monotonic() + 120
    while not job.state().finished:
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.2)
    return job.state()


def test_with_a_prefect_api_the_upload_is_a_flow_run_named_by_the_athlete_id(setup, monkeypatch):
    lake, ann, upload = setup
    calls = []

    def run_deployment(name, *, parameters, flow_run_name, timeout):
        calls.append((name, parameters, flow_run_name, timeout))
        flow_module.ingest_upload_flow.fn(**parameters)  # what the worker runs
        return SimpleNamespace(id="run-1")

    monkeypatch.setattr(prefect.deployments, "run_deployment", run_deployment)
    state = finished(upload_jobs.UploadJob(lake, ann, unpacked=upload, deployment="k8s").start())

    assert state.error is None
    assert [(r.file, r.result) for r in state.results] == [("r.fit", "ingested"), ("x.txt", "refused")]
    [(name, parameters, run_name, timeout)] = calls
    assert name == "ingest-upload/k8s" and timeout == 0
    assert run_name == f"ingest-upload-{ann.athlete_id}" and parameters["athlete"] == ann.athlete_id
    assert parameters["folder"].startswith("uploads/") and "ann" not in str(parameters) + run_name
    assert read(lake, activities.SPEC).filter(pl.col("athlete_id") == ann.athlete_id).height == 1


def test_a_missing_deployment_is_one_plain_sentence(setup, monkeypatch):
    lake, ann, upload = setup

    def run_deployment(name, **_):
        raise ObjectNotFound(None)

    monkeypatch.setattr(prefect.deployments, "run_deployment", run_deployment)
    state = finished(upload_jobs.UploadJob(lake, ann, unpacked=upload, deployment="local").start())
    assert state.error == upload_jobs.NOT_DEPLOYED and state.results is None
    assert read(lake, activities.SPEC).is_empty()
