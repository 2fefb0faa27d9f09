"""AppTest: old data, totals, units, session detail, private tables removed, public-only loaders."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import polars as pl
import pytest
import streamlit as st

from bench.public_history import write_public_history
from apptest_support import MIN_CHARTS, PAGES, assert_clean, charts_of, open_page
from lake import public as public_tables
from lake.storage import Lake
from lake.table import read

def test_overview_shows_fitness_chart_for_old_data(tmp_path, monkeypatch):
    write_public_history(Lake.at(str(tmp_path / "lake")), years=0.5, end=dt.date.today() - dt.timedelta(days=3 * 365))
    at = open_page("pages/overview.py", tmp_path / "lake", monkeypatch)
    assert_clean(at, "overview")
    fitness = [c for c in charts_of(at) if "Fatigue" in json.dumps(c)]
    assert fitness and fitness[0]["_rows"] > 100


def test_all_time_totals_equal_weekly_sums(history_lake, monkeypatch):
    at = open_page("pages/overview.py", history_lake, monkeypatch)
    weekly = read(Lake.at(str(history_lake)), public_tables.WEEKLY_SUMMARY_PUBLIC)
    metrics = {m.label: m.value for m in at.metric}
    distance = [m.value for m in at.metric if m.label == "Distance"][-1]  # the "All time" block
    assert distance == f"{weekly['distance_m'].sum() / 1000:,.0f} km"
    assert metrics["Runs"] and [m.value for m in at.metric if m.label == "Runs"][-1] == f"{int(weekly['runs'].sum()):,}"


def test_miles_switch(history_lake, monkeypatch):
    at = open_page("pages/overview.py", history_lake, monkeypatch)
    at.button_group(key="units").set_value("mi").run()
    weekly = read(Lake.at(str(history_lake)), public_tables.WEEKLY_SUMMARY_PUBLIC)
    distance = [m.value for m in at.metric if m.label == "Distance"][-1]
    assert distance == f"{weekly['distance_m'].sum() / 1609.344:,.0f} mi"


def test_session_detail_shows_pace_hr_and_route(history_lake, monkeypatch):
    at = open_page("pages/sessions.py", history_lake, monkeypatch)
    acts = read(Lake.at(str(history_lake)), public_tables.ACTIVITIES_PUBLIC)
    target = acts.sort("date").row(-3, named=True)["public_activity_id"]
    at.selectbox[0].set_value(target).run()
    chosen = acts.filter(pl.col("public_activity_id") == target).row(0, named=True)
    assert at.metric[0].value == f"{chosen['distance_m'] / 1000:,.2f} km"
    assert_clean(at, "sessions")
    text = json.dumps(charts_of(at))
    assert "lat_deg" in text and "hr_bpm" in text and "pace" in text


def test_dashboard_works_with_private_tables_removed(tmp_path, monkeypatch):
    from bench.private_history import Run, write_private_lake
    from pipeline.steps.build_public import build_public
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
        at = open_page(page, lake_dir, monkeypatch)
        assert_clean(at, page)
        assert len(charts_of(at)) >= min(MIN_CHARTS[page], 1), page
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


def test_about_page_publishes_no_trim_distance(history_lake, monkeypatch):
    """How much of each route end is hidden stays private: the page says it in words only."""
    at = open_page("pages/about.py", history_lake, monkeypatch, RUNLAKE_PRIVACY_TRIM_M="347")
    assert_clean(at, "pages/about.py")
    text = "\n".join(m.value for m in at.markdown)
    assert "start and the end of every other route" in text
    assert "347" not in text and "694" not in text
    assert not re.search(r"\d+\s*(m|km|metres|meters)\b", text), "a distance is published on the About page"
