"""AppTest: every dashboard page with data and on an empty lake."""

from __future__ import annotations

import pytest

from apptest_support import MIN_CHARTS, PAGES, assert_clean, charts_of, open_page


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_data(page, history_lake, monkeypatch):
    at = open_page(page, history_lake, monkeypatch)
    assert_clean(at, page)
    charts = charts_of(at)
    assert len(charts) >= MIN_CHARTS[page], page
    assert all(c["_rows"] > 0 for c in charts), f"{page}: a chart without data"
    assert not at.info or page == "pages/sessions.py", [i.value for i in at.info]


@pytest.mark.parametrize("page", PAGES)
def test_empty_lake_shows_info_not_errors(page, tmp_path, monkeypatch):
    at = open_page(page, tmp_path / "nothing-here", monkeypatch)
    assert_clean(at, page)
    if page != "pages/about.py":
        assert any("runlake marts build" in i.value for i in at.info), page
        assert not charts_of(at)
