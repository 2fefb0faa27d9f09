"""AppTest: each public page sends its first chart before anything a new visitor's browser must
load more code for (issue 16: a visitor's first chart), and the controls moved for it still work."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pyarrow as pa
import pytest
from streamlit.delta_generator import DeltaGenerator

from apptest_support import assert_clean, open_page
from lake import public as public_tables
from lake.storage import Lake
from lake.table import read
from streamlit_app import charts
from streamlit_app.view import markdown_table

CHARTS = {"arrow_vega_lite_chart", "vega_lite_chart"}
#: Elements whose code every page has loaded with its sidebar and title (Markdown, metrics, the
#: units' segmented control) or that need none: what may come before the first chart.
LIGHT = {"heading", "markdown", "metric", "button_group", "empty", "alert"}
PUBLIC_WITH_CHARTS = ["pages/overview.py", "pages/training_log.py", "pages/sessions.py", "pages/records.py"]


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """The element types the script sends, in the order it sends them."""
    types: list[str] = []
    enqueue = DeltaGenerator._enqueue

    def recording(self, delta_type, *args, **kwargs):
        types.append(delta_type)
        return enqueue(self, delta_type, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "_enqueue", recording)
    return types


@pytest.mark.parametrize("page", PUBLIC_WITH_CHARTS)
def test_first_chart_is_sent_before_widgets_and_tables(page, history_lake, monkeypatch, sent):
    at = open_page(page, history_lake, monkeypatch)
    assert_clean(at, page)
    sent.clear()
    at.run()  # a visit: the whole script, the page already chosen
    first_chart = next(i for i, t in enumerate(sent) if t in CHARTS)
    assert set(sent[:first_chart]) <= LIGHT, f"{page}: {sent[:first_chart]} sent before the first chart"
    assert not {"arrow_data_frame", "arrow_table"} & set(sent), f"{page}: a data grid or Arrow table: {sent}"


def test_sessions_filters_and_listing_in_popovers(history_lake, monkeypatch):
    at = open_page("pages/sessions.py", history_lake, monkeypatch)
    acts = read(Lake.at(str(history_lake)), public_tables.ACTIVITIES_PUBLIC)
    assert [b.type for b in at.main if b.type == "popover"], "the filters are not in a popover"
    since = at.date_input(key="sessions_since").value
    kind = acts.filter(pl.col("session_type").is_not_null(), pl.col("date") >= since)["session_type"].mode()[0]
    at.multiselect(key="sessions_types").set_value([kind]).run()
    assert_clean(at, "sessions")
    expected = acts.filter(pl.col("session_type") == kind, pl.col("date").is_between(since, acts["date"].max()))
    assert at.caption[0].value.startswith(f"{expected.height} sessions")
    assert at.selectbox(key="session").value in expected["public_activity_id"].to_list()
    (listing,) = [m.value for m in at.markdown if m.value.startswith("| Date |")]
    assert len(listing.splitlines()) == 2 + expected.height
    assert [b.proto.popover.label for b in at.main if b.type == "popover"] == ["Filters", f"All {expected.height} sessions"]

    at.slider(key="sessions_min_km").set_value(at.slider(key="sessions_min_km").max).run()
    assert_clean(at, "sessions")
    assert any("No session matches" in i.value for i in at.info)
    assert at.multiselect(key="sessions_types").value == [kind]  # the filters stay to be changed back


def test_training_log_year_and_records_effort_controls(history_lake, monkeypatch):
    at = open_page("pages/training_log.py", history_lake, monkeypatch)
    years = at.button_group(key="log_year").options
    assert len(years) >= 2
    at.button_group(key="log_year").set_value(int(years[-1])).run()
    assert_clean(at, "training log")
    assert at.metric[0].label == f"{years[-1]} distance"

    at = open_page("pages/records.py", history_lake, monkeypatch)
    assert at.button_group(key="records_effort").value == "5k"
    at.button_group(key="records_effort").set_value("1k").run()
    assert_clean(at, "records")
    efforts = read(Lake.at(str(history_lake)), public_tables.BEST_EFFORTS_PUBLIC)
    (chart,) = at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")
    drawn = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_all().column("best").to_pylist()
    assert drawn == charts.pb_progression_chart(efforts, "1k").data["best"].to_list()
    assert drawn != charts.pb_progression_chart(efforts, "5k").data["best"].to_list()


def test_markdown_table_escapes_and_formats():
    frame = pl.DataFrame({"Date": [dt.date(2025, 11, 25), None], "Distance (km)": [10.5, None],
                          "Time": ["1:02:05", "a|b *c* $d$"]})
    assert markdown_table(frame).splitlines() == [
        "| Date | Distance (km) | Time |",
        "| :--- | ---: | :--- |",
        "| Tue 25 Nov 2025 | 10.5 | 1\\:02\\:05 |",
        "| – | – | a\\|b \\*c\\* \\$d\\$ |",
    ]
