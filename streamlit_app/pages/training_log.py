"""Training log: a calendar heatmap of a year and the weekly table.

The year is picked with a segmented control and the table is Markdown: neither loads a
JavaScript chunk the sidebar has not loaded already, so the heatmap is a new visitor's first
thing to draw (see view.markdown_table)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from streamlit_app import charts, data, view
from streamlit_app.units import fmt_hours

st.title("Training log")
view.stop_when_empty()
units = view.units()
weekly, daily = view.read(data.weekly), view.read(data.daily)

years = sorted(daily["date"].dt.year().unique().to_list(), reverse=True)
if st.session_state.get("log_year") not in years:  # first visit, or a year another athlete has
    st.session_state.pop("log_year", None)
year = st.segmented_control("Year", years, default=years[0], key="log_year", required=True) or years[0]
view.chart(charts.calendar_heatmap(daily, year, units))
in_year = daily.filter(pl.col("date").dt.year() == year)
row = view.metric_row()
row.metric(f"{year} distance", units.fmt_distance(in_year["distance_m"].sum(), 0))
row.metric("Time", fmt_hours(in_year["duration_s"].sum()))
row.metric("Runs", int(in_year["runs"].sum()))

st.subheader("Weeks")
table = (
    weekly.filter(pl.col("week_start").dt.year() == year)
    .sort("week_start", descending=True)
    .select(
        pl.col("week_start").alias("Week of"),
        (pl.col("distance_m") / units.metres).round(1).alias(f"Distance ({units.name})"),
        (pl.col("duration_s") / 3600).round(1).alias("Time (h)"),
        pl.col("runs").alias("Runs"),
        (pl.col("longest_run_m") / units.metres).round(1).alias(f"Longest ({units.name})"),
        pl.col("trimp").fill_nan(None).round(0).cast(pl.Int64).alias("Load"),
        pl.col("monotony").fill_nan(None).round(2).alias("Monotony"),
        pl.col("strain").fill_nan(None).round(0).cast(pl.Int64).alias("Strain"),
    )
)
st.markdown(view.markdown_table(table))
st.caption("Load: Banister TRIMP. Monotony and strain: Foster (1998); empty when the week's daily load does not vary.")
