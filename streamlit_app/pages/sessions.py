"""Sessions: the public activities with filters, and one session's detail (pace, HR, zones, route).

A new visitor's browser loads the code of each kind of element as it arrives, and draws what it
is sent in one go. So the chosen session's charts are sent first: the filters, the session picker
and the listing are drawn into their places above the charts (slots made in page order) only
after the first chart, their values read from the session state their widgets keep (defaults on
a first visit). The filters and the listing (a Markdown table, see view.markdown_table) are in
popovers: their content is drawn, and the filters' widget code loaded, only when opened.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from streamlit_app import charts, data, view
from streamlit_app.units import fmt_clock

st.title("Sessions")
view.stop_when_empty()
units = view.units()
acts = view.read(data.activities)
if acts.is_empty():
    st.info("No public sessions yet.", icon="🏁")
    st.stop()

first, last = acts["date"].min(), acts["date"].max()
types = sorted(t for t in acts["session_type"].unique().to_list() if t)
longest = float(round(units.distance(acts["distance_m"].max()) + 1))
#: The filters' widget keys and their values on a first visit.
FILTERS = {
    "sessions_since": max(first, last - dt.timedelta(days=90)),
    "sessions_until": last,
    "sessions_types": [],
    f"sessions_min_{units.name}": 0.0,
}
state = {key: st.session_state.get(key, default) for key, default in FILTERS.items()}
since, until = state["sessions_since"], state["sessions_until"]
chosen = [t for t in state["sessions_types"] if t in types]
min_dist = min(state[f"sessions_min_{units.name}"], longest)

filters_slot = st.container()
summary_slot = st.empty()


def draw_filters() -> None:
    """The Filters expander in its slot (the values above are what these widgets hold)."""
    with filters_slot.popover("Filters", icon=":material/filter_list:"):
        st.date_input("From", FILTERS["sessions_since"], min_value=first, max_value=last, key="sessions_since")
        st.date_input("To", FILTERS["sessions_until"], min_value=first, max_value=last, key="sessions_until")
        st.multiselect("Session type", types, default=[], key="sessions_types")
        st.slider(f"At least ({units.name})", 0.0, longest, 0.0, 1.0, key=f"sessions_min_{units.name}")


shown = acts.filter(pl.col("date").is_between(since, until), (pl.col("distance_m").fill_null(0) / units.metres) >= min_dist)
if chosen:
    shown = shown.filter(pl.col("session_type").is_in(chosen))
summary_slot.caption(f"{shown.height} sessions · {units.fmt_distance(shown['distance_m'].sum(), 0)}")
if shown.is_empty():
    draw_filters()
    st.info("No session matches these filters.")
    st.stop()

pace = units.metres / 1000.0
listing = shown.select(
    pl.col("date").alias("Date"),
    pl.col("session_type").fill_null(pl.col("sport")).alias("Type"),
    (pl.col("distance_m") / units.metres).round(2).alias(f"Distance ({units.name})"),
    pl.col("duration_s").map_elements(fmt_clock, return_dtype=pl.String).alias("Time"),
    (pl.col("pace_s_per_km") * pace).map_elements(fmt_clock, return_dtype=pl.String).alias(f"Pace ({units.pace_label})"),
    pl.col("avg_hr_bpm").round(0).cast(pl.Int64).alias("HR"),
    pl.col("rep_structure").fill_null("").alias("Reps"),
)
listing_slot = st.container()

st.subheader("Session")
labels = {
    r["public_activity_id"]: f"{r['date']:%a %d %b %Y} · {units.fmt_distance(r['distance_m'], 1)} · {r['session_type'] or r['sport']}"
    for r in shown.iter_rows(named=True)
}
if st.session_state.get("session") not in labels:  # a first visit, or filtered out: the latest shown
    st.session_state.pop("session", None)
chosen_id = st.session_state.get("session", next(iter(labels)))
picker_slot = st.empty()
act = shown.filter(pl.col("public_activity_id") == chosen_id).row(0, named=True)

row = view.metric_row()
row.metric("Distance", units.fmt_distance(act["distance_m"], 2))
row.metric("Moving time", view.escape_markdown(fmt_clock(act["duration_s"])))  # 1:02:05 is no emoji name
row.metric("Pace", units.fmt_pace(act["pace_s_per_km"]), help=f"Grade-adjusted: {units.fmt_pace(act['gap_s_per_km'])}")
row.metric("Avg HR", "–" if act["avg_hr_bpm"] is None else f"{act['avg_hr_bpm']:.0f}")
if act["rep_structure"]:
    st.markdown(f"**Workout:** {view.escape_markdown(act['rep_structure'])}")

series = view.read(data.samples, chosen_id)
if series.height:
    view.chart(charts.pace_chart(series, units))
    if series["hr_bpm"].drop_nulls().len():
        view.chart(charts.hr_chart(series, units))
else:
    st.info("No pace or heart-rate samples are published for this session.")
# The first chart is sent: now the widgets and the listing, into their slots above it.
draw_filters()
picker_slot.selectbox("Session", list(labels), format_func=labels.get, label_visibility="collapsed", key="session")
with listing_slot.popover(f"All {shown.height} sessions", icon=":material/list:"):
    st.markdown(view.markdown_table(listing))
if any((act.get(f"time_z{i}_s") or 0) > 0 for i in range(1, 6)):
    st.markdown("**Time in heart-rate zones**")
    view.chart(charts.zones_chart(act))

route = view.read(data.route, chosen_id)
shape = view.read(data.route_shape, chosen_id) if act.get("has_route_shape") else None
if route.height:
    st.markdown("**Route** (start, finish and private places hidden)")
    view.chart(charts.route_map(route))
elif shape is not None and shape.height:
    st.markdown("**Route shape** (this run starts or ends at a private place: shown without position or direction)")
    view.chart(charts.route_shape_chart(shape))
elif act["has_route"] is False:
    st.caption("No route is published for this session: no GPS, too short once its ends are hidden, "
               "or it starts, ends or passes where the athlete lives or stays.")
