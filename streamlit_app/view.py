"""What every page shares: the chosen units and the empty state."""

from __future__ import annotations

import streamlit as st

from streamlit_app import data
from streamlit_app.units import Units, units_named


def units() -> Units:
    return units_named(st.session_state.get("units"))


def stop_when_empty() -> None:
    """Show the empty state (st.info, never an error) and stop the page when there is no data."""
    if not data.has_data():
        st.info(data.NO_DATA, icon="🏁")
        st.stop()


def chart(chart_obj) -> None:
    st.altair_chart(chart_obj, width="stretch")


def date_column(label: str):
    """A date column shown as 'Tue 25 Nov 2025' (no time: public data has none)."""
    return st.column_config.DateColumn(label, format="ddd D MMM YYYY")


def metric_row():
    """A row of metrics that wraps on a phone (two or three a line) instead of stacking one per
    line as `st.columns` does below 640 px."""
    return st.container(horizontal=True, wrap=True, gap="medium")



