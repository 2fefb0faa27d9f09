"""The `ingest-upload` flow (what the web app runs with a Prefect API): its name, its parameters
(an athlete id and an upload folder of that athlete's inbox) and its wiring, through `.fn` as in
test_build_marts_flow.py."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl
import pytest

import flows.ingest_upload as flow_module
from lake import activities
from lake.storage import Lake
from lake.table import read
from pipeline.athletes import add_athlete
from pipeline.steps.ingest_upload import stage_upload
from pipeline.uploads import MB, UploadLimits, unpack
from runlake.errors import RunlakeError
from runlake.settings import Settings
from sources.fit.synthetic import write_run
from streamlit_app import upload_jobs


def test_the_flow_ingests_the_staged_upload_for_that_athlete(tmp_path, monkeypatch):
    monkeypatch.setattr(flow_module, "get_run_logger", lambda: logging.getLogger("test"))
    monkeypatch.setenv("RUNLAKE_INBOX_URI", str(tmp_path / "inbox"))
    settings = Settings(lake_uri=str(tmp_path / "lake"))
    lake = Lake.at(settings.lake)
    ann = add_athlete(lake, settings, "ann")
    write_run(tmp_path / "r.fit", datetime(2025, 3, 10, 7, tzinfo=ZoneInfo("Europe/Oslo")), 3000)
    limits = UploadLimits(max_bytes=MB * 10, max_files=10, max_uncompressed_bytes=MB * 10, max_ratio=100)
    staged = stage_upload(ann.settings, unpack([("r.fit", (tmp_path / "r.fit").read_bytes())], limits).files)

    assert flow_module.ingest_upload_flow.name == flow_module.FLOW_NAME == upload_jobs.FLOW_NAME == "ingest-upload"
    result = flow_module.ingest_upload_flow.fn(athlete=ann.athlete_id, folder=staged.folder, lake_uri=lake.root)
    assert result == {"ingested": 1}
    assert read(lake, activities.SPEC)["athlete_id"].to_list() == [ann.athlete_id]
    with pytest.raises(RunlakeError, match="not an upload folder"):
        flow_module.ingest_upload_flow.fn(athlete=ann.athlete_id, folder="../../elsewhere", lake_uri=lake.root)
    assert read(lake, activities.SPEC).filter(pl.col("athlete_id") != ann.athlete_id).is_empty()
