"""`/me`: the signed-in athlete's own training, from the private marts — every activity,
private ones included, with its time of day, load, fitness and weekly volume, and the distance
on each shoe (marts/gear_distance)."""

import polars as pl
import streamlit as st

from streamlit_app import account, charts, private_data, view

athlete = account.require_athlete()
st.title("Your training")
st.caption(f"Signed in as **{athlete.handle}** · {'public' if athlete.public else 'private'} · {athlete.timezone}")

daily = view.read(private_data.daily, athlete.athlete_id)
weekly = view.read(private_data.weekly, athlete.athlete_id)
acts = view.read(private_data.activities, athlete.athlete_id)
if acts.is_empty():
    st.info("No activities yet: drop FIT files into your inbox (`runlake athlete show`), or connect Strava.", icon="🏁")
    st.stop()

units = view.units()
if daily.height:
    today = daily.row(-1, named=True)
    with view.metric_row():
        st.metric("Fitness (CTL)", f"{today['ctl']:.0f}")
        st.metric("Fatigue (ATL)", f"{today['atl']:.0f}")
        st.metric("Form (TSB)", f"{today['tsb']:.0f}")
    st.subheader("Fitness, fatigue and form")
    view.chart(charts.fitness_chart(daily))
if weekly.height:
    st.subheader("Weekly volume")
    view.chart(charts.weekly_volume_chart(weekly, units))

latest = acts.row(0, named=True)
st.markdown(
    f"Latest: **{latest['local_start']:%a %d %b %Y, %H:%M}** · {units.fmt_distance(latest['distance_m'], 2)}"
    + (" · private" if latest["is_private"] else "")
)
st.subheader("Activities")
shown = acts.select(
    "local_start", "sport", "session_type", "distance_m", "moving_s", "avg_hr_bpm", "trimp", "is_private", "source",
    "corrected_fields",
).with_columns((acts["distance_m"] / units.metres).alias("distance_m"))
st.dataframe(
    shown,
    hide_index=True,
    column_config={
        "local_start": st.column_config.DatetimeColumn("start (local)", format="ddd D MMM YYYY, HH:mm"),
        "distance_m": st.column_config.NumberColumn(units.name, format="%.2f"),
        "moving_s": st.column_config.NumberColumn("moving (s)", format="%d"),
        "avg_hr_bpm": st.column_config.NumberColumn("avg HR (bpm)", format="%d"),
        "trimp": st.column_config.NumberColumn("TRIMP", format="%.0f"),
        "is_private": st.column_config.CheckboxColumn("private"),
        "corrected_fields": st.column_config.TextColumn("corrected", help="set by you with `runlake activity set`"),
    },
)

shoes = view.read(private_data.gear, athlete.athlete_id)
if shoes.height:
    st.subheader("Shoes")
    st.caption("Distance on each shoe (Strava gear, your archive's gear names, `runlake gear add`); "
               "a shoe past its retirement threshold (800 km unless set) is flagged.")
    worn = shoes.select(
        "name", "brand", (pl.col("distance_m") / units.metres).alias("distance"), "runs", "first_used", "last_used",
        (pl.col("retire_km") * 1000 / units.metres).alias("threshold"), "over_threshold", "retired",
    )
    st.dataframe(
        worn,
        hide_index=True,
        column_config={
            "distance": st.column_config.NumberColumn(units.name, format="%.1f"),
            "threshold": st.column_config.NumberColumn(f"retire at ({units.name})", format="%.0f"),
            "over_threshold": st.column_config.CheckboxColumn("past threshold"),
            "retired": st.column_config.CheckboxColumn("retired"),
        },
    )
