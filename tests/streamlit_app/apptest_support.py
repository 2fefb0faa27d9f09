"""Shared AppTest helpers for the dashboard tests: a public history lake, fresh caches, page runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import streamlit_app
from bench.public_history import write_public_history
from lake.storage import Lake

APP = str(Path(streamlit_app.__file__).resolve().parent / "app.py")
PAGES = ["pages/overview.py", "pages/training_log.py", "pages/sessions.py", "pages/records.py", "pages/about.py"]
#: Charts each page draws when the lake has data.
MIN_CHARTS = {"pages/overview.py": 2, "pages/training_log.py": 1, "pages/sessions.py": 3, "pages/records.py": 1, "pages/about.py": 0}


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch):
    for name in ("RUNLAKE_PRIVACY_ZONES", "RUNLAKE_PUBLIC_ID_SALT"):
        monkeypatch.delenv(name, raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="session")
def history_lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("public") / "lake"
    write_public_history(Lake.at(str(root)), years=1.5, end=dt.date.today())
    return root


def charts_of(at: AppTest) -> list[dict]:
    """Vega-Lite specs on the page, with their inline datasets."""
    specs = []
    for el in at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart"):
        proto = el.proto
        spec = json.loads(proto.spec)
        spec["_rows"] = sum(len(d) for d in spec.get("datasets", {}).values()) + sum(
            pa.ipc.open_stream(named.data.data).read_all().num_rows for named in proto.datasets
        )
        specs.append(spec)
    return specs


def open_page(page: str, lake_dir, monkeypatch, **env) -> AppTest:
    monkeypatch.setenv("RUNLAKE_LAKE_URI", str(lake_dir))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page != "pages/overview.py":
        at.switch_page(page)
        at.run()
    return at


def assert_clean(at: AppTest, page: str) -> None:
    assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"


