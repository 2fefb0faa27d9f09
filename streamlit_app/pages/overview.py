"""Overview: this week vs last, fitness/fatigue/form, 12- and 52-week volume, all-time totals."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from streamlit_app import charts, data, view
from streamlit_app.units import fmt_hours

st.title("Training")
view.stop_when_empty()
units = view.units()
weekly, daily = view.read(data.weekly), view.read(data.daily)

today = view.read(data.today)
this_monday = today - dt.timedelta(days=today.weekday())
last_monday = this_monday - dt.timedelta(days=7)


def _week(monday: dt.date) -> dict:
    row = weekly.filter(pl.col("week_start") == monday)
    return row.row(0, named=True) if row.height else {"distance_m": 0.0, "duration_s": 0.0, "runs": 0, "trimp": 0.0}


this, last = _week(this_monday), _week(last_monday)
st.subheader("This week")
st.caption(f"Monday {this_monday:%d %b %Y} to today, compared with last week")
row = view.metric_row()
row.metric("Distance", units.fmt_distance(this["distance_m"]),
          f"{units.distance(this['distance_m']) - units.distance(last['distance_m']):+.1f} {units.name}")
row.metric("Time", fmt_hours(this["duration_s"]), f"{(this['duration_s'] - last['duration_s']) / 3600:+.1f} h")
row.metric("Runs", int(this["runs"]), f"{int(this['runs']) - int(last['runs']):+d}")
row.metric("Load", f"{this['trimp']:.0f}", f"{this['trimp'] - last['trimp']:+.0f}", delta_color="off",
          help="Banister TRIMP, summed over the week's public activities")
st.caption(f"Last week: {units.fmt_distance(last['distance_m'])}, {fmt_hours(last['duration_s'])}, {int(last['runs'])} runs.")

st.subheader("Fitness, fatigue and form")
window = st.segmented_control("Window", ["3 months", "1 year", "All"], default="1 year", key="fitness_window",
                              label_visibility="collapsed") or "1 year"
days = {"3 months": 91, "1 year": 365, "All": None}[window]
view.chart(charts.fitness_chart(daily, days))
latest = daily.sort("date").row(-1, named=True)
st.caption(
    f"On {latest['date']:%d %b %Y}: fitness {latest['ctl']:.0f}, fatigue {latest['atl']:.0f}, form {latest['tsb']:+.0f}. "
    "Fitness (CTL) is the 42-day and fatigue (ATL) the 7-day exponentially weighted training load; "
    "form (TSB) is yesterday's fitness minus fatigue."
)

st.subheader("Volume")
recent = weekly.filter(pl.col("week_start") <= this_monday)
last12, last52 = recent.tail(12), recent.tail(52)
row = view.metric_row()
row.metric("Last 12 weeks", units.fmt_distance(last12["distance_m"].sum(), 0),
          help=f"{units.fmt_distance(last12['distance_m'].sum() / max(last12.height, 1))} a week on average")
row.metric("Last 52 weeks", units.fmt_distance(last52["distance_m"].sum(), 0),
          help=f"{units.fmt_distance(last52['distance_m'].sum() / max(last52.height, 1))} a week on average")
row.metric("Weekly average (12 wk)", units.fmt_distance(last12["distance_m"].sum() / max(last12.height, 1)))
view.chart(charts.weekly_volume_chart(weekly, units))
st.caption("Weekly running distance over the last 52 weeks; the last 12 in orange.")

st.subheader("All time")
row = view.metric_row()
row.metric("Distance", units.fmt_distance(weekly["distance_m"].sum(), 0))
row.metric("Time", fmt_hours(weekly["duration_s"].sum()))
row.metric("Runs", f"{int(weekly['runs'].sum()):,}")
first = weekly["week_start"].min()
st.caption(f"Since the week of {first:%d %b %Y}. Totals are sums of the public weekly summary.")
