"""Streamlit AppTest for every dashboard page: with data, on an empty lake, with the private
tables removed, with old data, and in miles."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import streamlit_app
from bench.public_history import write_public_history
from lake import public as public_tables
from lake.storage import Lake
from lake.table import read

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


@pytest.fixture(scope="module")
def history_lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("public") / "lake"
    write_public_history(Lake.at(str(root)), years=1.5, end=dt.date.today())
    return root


def _charts(at: AppTest) -> list[dict]:
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


def _open(page: str, lake_dir, monkeypatch, **env) -> AppTest:
    monkeypatch.setenv("RUNLAKE_LAKE_URI", str(lake_dir))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page != "pages/overview.py":
        at.switch_page(page)
        at.run()
    return at


def _assert_clean(at: AppTest, page: str) -> None:
    assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_data(page, history_lake, monkeypatch):
    at = _open(page, history_lake, monkeypatch)
    _assert_clean(at, page)
    charts = _charts(at)
    assert len(charts) >= MIN_CHARTS[page], page
    assert all(c["_rows"] > 0 for c in charts), f"{page}: a chart without data"
    assert not at.info or page == "pages/sessions.py", [i.value for i in at.info]


@pytest.mark.parametrize("page", PAGES)
def test_empty_lake_shows_info_not_errors(page, tmp_path, monkeypatch):
    at = _open(page, tmp_path / "nothing-here", monkeypatch)
    _assert_clean(at, page)
    if page != "pages/about.py":
        assert any("runlake marts build" in i.value for i in at.info), page
        assert not _charts(at)


def test_overview_shows_fitness_chart_for_old_data(tmp_path, monkeypatch):
    write_public_history(Lake.at(str(tmp_path / "lake")), years=0.5, end=dt.date.today() - dt.timedelta(days=3 * 365))
    at = _open("pages/overview.py", tmp_path / "lake", monkeypatch)
    _assert_clean(at, "overview")
    fitness = [c for c in _charts(at) if "Fitness (CTL)" in json.dumps(c)]
    assert fitness and fitness[0]["_rows"] > 100


def test_all_time_totals_equal_weekly_sums(history_lake, monkeypatch):
    at = _open("pages/overview.py", history_lake, monkeypatch)
    weekly = read(Lake.at(str(history_lake)), public_tables.WEEKLY_SUMMARY_PUBLIC)
    metrics = {m.label: m.value for m in at.metric}
    distance = [m.value for m in at.metric if m.label == "Distance"][-1]  # the "All time" block
    assert distance == f"{weekly['distance_m'].sum() / 1000:,.0f} km"
    assert metrics["Runs"] and [m.value for m in at.metric if m.label == "Runs"][-1] == f"{int(weekly['runs'].sum()):,}"


def test_miles_switch(history_lake, monkeypatch):
    at = _open("pages/overview.py", history_lake, monkeypatch)
    at.button_group(key="units").set_value("mi").run()
    weekly = read(Lake.at(str(history_lake)), public_tables.WEEKLY_SUMMARY_PUBLIC)
    distance = [m.value for m in at.metric if m.label == "Distance"][-1]
    assert distance == f"{weekly['distance_m'].sum() / 1609.344:,.0f} mi"


def test_session_detail_shows_pace_hr_and_route(history_lake, monkeypatch):
    at = _open("pages/sessions.py", history_lake, monkeypatch)
    acts = read(Lake.at(str(history_lake)), public_tables.ACTIVITIES_PUBLIC)
    target = acts.sort("date").row(-3, named=True)["public_activity_id"]
    at.selectbox[0].set_value(target).run()
    chosen = acts.filter(pl.col("public_activity_id") == target).row(0, named=True)
    assert at.metric[0].value == f"{chosen['distance_m'] / 1000:,.2f} km"
    _assert_clean(at, "sessions")
    text = json.dumps(_charts(at))
    assert "lat_deg" in text and "hr_bpm" in text and "pace" in text


def test_dashboard_works_with_private_tables_removed(tmp_path, monkeypatch):
    from bench.private_history import Run, write_private_lake
    from flows.build_public import build_public
    from runlake.settings import Settings

    lake_dir = tmp_path / "lake"
    t0 = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=20)
    runs = [Run(f"r{i}", t0 + dt.timedelta(days=i), 47.0, 8.0 + i / 100, 6000.0 + 500 * i, efforts={"1k": 220.0 - i, "5k": 1200.0 - i}) for i in range(8)]
    lake = Lake.at(str(lake_dir))
    write_private_lake(lake, runs)
    build_public(lake, Settings(lake_uri=str(lake_dir)))
    for child in lake_dir.iterdir():
        if child.name != "public":
            shutil.rmtree(child)
    assert [p.name for p in lake_dir.iterdir()] == ["public"]
    for page in PAGES:
        at = _open(page, lake_dir, monkeypatch)
        _assert_clean(at, page)
        assert len(_charts(at)) >= min(MIN_CHARTS[page], 1), page
        st.cache_data.clear()
        st.cache_resource.clear()


def test_loaders_refuse_private_tables():
    from lake.marts import DAILY_LOAD
    from streamlit_app import data

    with pytest.raises(ValueError, match="public tables only"):
        data._read(DAILY_LOAD)


def test_public_history_is_consistent(history_lake):
    lake = Lake.at(str(history_lake))
    weekly = read(lake, public_tables.WEEKLY_SUMMARY_PUBLIC)
    daily = read(lake, public_tables.DAILY_LOAD_PUBLIC)
    acts = read(lake, public_tables.ACTIVITIES_PUBLIC)
    assert weekly["distance_m"].sum() == pytest.approx(daily["distance_m"].sum())
    assert daily["distance_m"].sum() == pytest.approx(acts.filter(pl.col("sport") == "running")["distance_m"].sum())
