"""Records: best efforts and personal bests over time, race predictions (public activities only).

The effort is picked with a segmented control and the tables are Markdown, so the progression
chart is the first thing a new visitor's browser has to load code for (see view.markdown_table)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from lake.marts import EFFORTS
from streamlit_app import charts, data, view
from streamlit_app.units import fmt_clock

st.title("Records")
view.stop_when_empty()
units = view.units()
bests, efforts = view.read(data.personal_bests), view.read(data.best_efforts)
predictions = view.read(data.race_predictions)
if efforts.is_empty():
    st.info("No best efforts yet: they come from running activities with a distance stream.", icon="🏁")
    st.stop()

order = list(EFFORTS)
st.subheader("Personal bests")
pb_table = st.empty()  # filled just after the chart below: the first chart is sent first
st.subheader("Personal bests over time")
have = set(efforts["effort"].unique().to_list())
present = [e for e in order if e in have]
default = "5k" if "5k" in present else present[0]
if st.session_state.get("records_effort") not in present:  # first visit, or another athlete's effort
    st.session_state.pop("records_effort", None)
effort = st.segmented_control("Effort", present, default=default, key="records_effort", required=True) or default
view.chart(charts.pb_progression_chart(efforts, effort))

all_time = bests.filter(pl.col("period") == "all").with_columns(rank=pl.col("effort").replace_strict(order, list(range(len(order))), default=99)).sort("rank")
pb_table.markdown(view.markdown_table(
    all_time.select(
        pl.col("effort").alias("Effort"),
        pl.col("elapsed_s").map_elements(fmt_clock, return_dtype=pl.String).alias("Time"),
        (pl.col("pace_s_per_km") * units.metres / 1000).map_elements(fmt_clock, return_dtype=pl.String).alias(f"Pace ({units.pace_label})"),
        pl.col("date").alias("Date"),
    )
))
years = bests.filter(pl.col("period") != "all", pl.col("effort") == effort).sort("year", descending=True)
if years.height:
    st.caption("Best per year: " + " · ".join(f"{r['year']}: {view.escape_markdown(fmt_clock(r['elapsed_s']))}" for r in years.iter_rows(named=True)))

st.subheader("Race predictions")
if predictions.is_empty():
    st.info("No recent best effort of 1500 m or more to predict from.")
else:
    wide = predictions.pivot(on="method", index=["target", "distance_m"], values="predicted_s").sort("distance_m")
    st.markdown(view.markdown_table(
        wide.select(
            pl.col("target").alias("Race"),
            *[pl.col(m).map_elements(fmt_clock, return_dtype=pl.String).alias(label)
              for m, label in (("riegel", "Riegel"), ("vdot", "VDOT")) if m in wide.columns],
        )
    ))
    basis = predictions.row(0, named=True)
    st.caption(
        f"From the {basis['basis_effort']} of {basis['basis_date']:%d %b %Y} ({view.escape_markdown(fmt_clock(basis['basis_elapsed_s']))}, "
        f"VDOT {basis['vdot']:.1f}). Riegel: T₂ = T₁·(D₂/D₁)^1.06; VDOT: Daniels' tables."
    )
