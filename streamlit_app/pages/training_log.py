"""Training log: a calendar heatmap of a year and the weekly table."""

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
year = st.selectbox("Year", years, index=0)
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
        pl.col("trimp").round(0).alias("Load"),
        pl.col("monotony").round(2).alias("Monotony"),
        pl.col("strain").round(0).alias("Strain"),
    )
)
st.dataframe(table, hide_index=True, column_config={"Week of": view.date_column("Week of")})
st.caption("Load: Banister TRIMP. Monotony and strain: Foster (1998); empty when the week's daily load does not vary.")
