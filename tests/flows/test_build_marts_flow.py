"""The `build-marts` Prefect flow: its name and its wiring (parameters override settings).

The flow body runs through `.fn` with Prefect's run logger swapped for a plain one: starting a
temporary Prefect server costs a minute on a busy machine and tests nothing of ours. The real
server path is covered by the deployment end-to-end tests.
"""

from __future__ import annotations

import datetime as dt
import logging

import flows.build_marts as flow_module
from lake import activities as A
from lake.marts import DAILY_LOAD
from lake.storage import Lake
from lake.table import read, upsert
from tests.marts.factory import activities_frame, activity


def test_flow_builds_the_marts(tmp_path, monkeypatch):
    monkeypatch.setattr(flow_module, "get_run_logger", lambda: logging.getLogger("test"))
    lake = Lake.at(str(tmp_path / "lake"))
    upsert(lake, A.SPEC, activities_frame([activity("a", dt.datetime(2025, 1, 8, 7), avg_hr=150.0)]))
    assert flow_module.build_marts_flow.name == "build-marts"
    result = flow_module.build_marts_flow.fn(lake_uri=lake.root, today="2025-01-09")
    assert result["mode"] == "full" and result["activities"] == 1 and result["today"] == "2025-01-09"
    assert read(lake, DAILY_LOAD).height == 2
    again = flow_module.build_marts_flow.fn(lake_uri=lake.root, today="2025-01-09", full=True)
    assert again["mode"] == "full" and again["recomputed"] == 1
