"""Many athletes on the public dashboard: a picker, `?athlete=HANDLE`, and nothing of anyone else."""

from __future__ import annotations

import datetime as dt

import polars as pl
from streamlit.testing.v1 import AppTest

from bench.public_history import write_public_history
from lake import public as public_tables
from lake.storage import Lake
from lake.table import read
from tests.streamlit_app.apptest_support import APP, assert_clean

END = dt.date(2026, 11, 30)


def _two_athletes(tmp_path) -> Lake:
    lake = Lake.at(str(tmp_path / "lake"))
    write_public_history(lake, 0.5, end=END, seed=7, athlete="me")
    mine = {spec.name: read(lake, spec) for spec in public_tables.ALL}
    write_public_history(lake, 0.25, end=END, seed=11, athlete="ann")
    from lake.table import overwrite

    for spec in public_tables.ALL:  # both athletes' rows, as the per-athlete public build leaves them
        overwrite(lake, spec, pl.concat([mine[spec.name], read(lake, spec)], how="vertical_relaxed"))
    return lake


def _app(lake: Lake, monkeypatch, **query) -> AppTest:
    monkeypatch.setenv("RUNLAKE_LAKE_URI", lake.root)
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    return at


def _total_km(at: AppTest) -> str:
    return " ".join(str(m.value) for m in at.metric)


def test_picker_lists_public_athletes_and_the_default_opens(tmp_path, monkeypatch):
    lake = _two_athletes(tmp_path)
    at = _app(lake, monkeypatch)
    assert_clean(at, "overview")
    (picker,) = [s for s in at.sidebar.selectbox if s.label == "Athlete"]
    assert picker.options == ["ann", "me"] and picker.value == "me"


def test_query_parameter_chooses_the_athlete_and_an_unknown_one_falls_back(tmp_path, monkeypatch):
    lake = _two_athletes(tmp_path)
    mine, anns = _total_km(_app(lake, monkeypatch)), _total_km(_app(lake, monkeypatch, athlete="ann"))
    assert mine and anns and mine != anns
    for other in ("bob", "ANN' OR 1=1", ""):  # a private or unknown handle shows the default athlete
        assert _total_km(_app(lake, monkeypatch, athlete=other)) == mine
