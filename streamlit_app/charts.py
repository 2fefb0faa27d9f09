"""Altair chart builders: public frames in, charts out (no Streamlit, so they are testable).

Each chart embeds only the columns it draws (its data goes to every visitor's browser): one row
per day, week or sample slice, never extra columns or a long format where a fold does.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from streamlit_app.units import CLOCK_LABEL_EXPR, PACE_LABEL_EXPR, Units

FITNESS = "#1f77b4"
FATIGUE = "#e4572e"
FORM = "#76b041"
ACCENT = "#fc4c02"
MUTED = "#c9ced6"
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def fitness_chart(daily: pl.DataFrame, days: int | None = 365) -> alt.LayerChart:
    """Fitness (CTL), fatigue (ATL) and form (TSB) over the last `days` of the data.

    The window ends at the last public day, not at today, so the chart has lines however long
    ago the last activity was.
    """
    frame = daily.select("date", Fitness="ctl", Fatigue="atl", Form="tsb").sort("date")
    if days is not None and frame.height:
        frame = frame.filter(pl.col("date") > frame["date"].max() - dt.timedelta(days=days))
    color = alt.Color(
        "series:N",
        scale=alt.Scale(domain=["Fitness", "Fatigue", "Form"], range=[FITNESS, FATIGUE, FORM]),
        legend=alt.Legend(orient="top", title=None, symbolOpacity=1, symbolType="stroke", symbolStrokeWidth=3),
    )
    base = alt.Chart(frame).transform_fold(["Fitness", "Fatigue", "Form"], as_=["series", "value"]).encode(
        x=alt.X("date:T", title=None),
        y=alt.Y("value:Q", title="load (TRIMP/day)"),
        color=color,
        tooltip=[alt.Tooltip("date:T"), "series:N", alt.Tooltip("value:Q", format=".1f")],
    )
    lines = base.transform_filter("datum.series != 'Form'").mark_line(strokeWidth=2)
    form = base.transform_filter("datum.series == 'Form'").mark_area(opacity=0.25, line={"strokeWidth": 1})
    zero = alt.Chart(pl.DataFrame({"y": [0]})).mark_rule(color="#888", strokeDash=[3, 3]).encode(y="y:Q")
    return alt.layer(form, lines, zero).properties(height=300)


def weekly_volume_chart(weekly: pl.DataFrame, units: Units, weeks: int = 52, highlight: int = 12) -> alt.Chart:
    """Weekly running distance over the last `weeks`, the last `highlight` weeks in colour."""
    frame = weekly.sort("week_start").tail(weeks).select(
        "week_start", "runs",
        distance=pl.col("distance_m") / units.metres,
        recent=pl.int_range(pl.len()) >= pl.len() - highlight,
    )
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadiusTopLeft=2, cornerRadiusTopRight=2, width=alt.RelativeBandSize(0.8))
        .encode(
            x=alt.X("week_start:T", timeUnit="yearweek", title=None,
                    axis=alt.Axis(format="%b", labelAngle=0, tickCount="month")),
            y=alt.Y("distance:Q", title=f"{units.name} / week"),
            color=alt.condition("datum.recent", alt.value(ACCENT), alt.value(MUTED)),
            tooltip=[alt.Tooltip("week_start:T", title="week of"), alt.Tooltip("distance:Q", format=".1f", title=units.name), "runs:Q"],
        )
        .properties(height=220)
    )


def calendar_heatmap(daily: pl.DataFrame, year: int, units: Units) -> alt.Chart:
    """One square per day of `year` (columns = weeks, rows = weekdays), shaded by distance."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    days = pl.DataFrame({"date": pl.date_range(start, end, "1d", eager=True)})
    frame = (
        days.join(daily.select("date", "distance_m", "runs"), on="date", how="left")
        .with_columns(
            distance=pl.col("distance_m").fill_null(0.0) / units.metres,
            runs=pl.col("runs").fill_null(0),
            weekday=pl.col("date").dt.weekday() - 1,
            week=pl.col("date").dt.truncate("1w"),
        )
        .select("date", "distance", "runs", "week", day=pl.col("weekday").replace_strict(list(range(7)), WEEKDAYS, return_dtype=pl.String))
    )
    return (
        alt.Chart(frame)
        .mark_rect(cornerRadius=2, stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("week:O", title=None, axis=alt.Axis(
                ticks=False, domain=False, labelAngle=0, labelAlign="left",
                labelExpr="date(toDate(datum.value)) <= 7 ? timeFormat(toDate(datum.value), '%b') : ''",
            )),
            y=alt.Y("day:O", sort=WEEKDAYS, title=None),
            color=alt.condition(
                "datum.distance > 0",
                alt.Color("distance:Q", scale=alt.Scale(scheme="oranges"), title=units.name, legend=alt.Legend(orient="bottom")),
                alt.value("#eef0f3"),
            ),
            tooltip=[alt.Tooltip("date:T"), alt.Tooltip("distance:Q", format=".1f", title=units.name), "runs:Q"],
        )
        .properties(height=240)
    )


def pace_chart(samples: pl.DataFrame, units: Units) -> alt.Chart:
    """Pace along the run (faster up), from public samples' speed."""
    frame = samples.filter(pl.col("speed_mps") > 0.5).select(
        pace=units.metres / pl.col("speed_mps"), along=pl.col("distance_m") / units.metres
    )
    return (
        alt.Chart(frame)
        .mark_line(color=ACCENT, interpolate="monotone")
        .encode(
            x=alt.X("along:Q", title=units.name),
            y=alt.Y("pace:Q", title=f"pace (min{units.pace_label})", scale=alt.Scale(reverse=True, zero=False),
                    axis=alt.Axis(labelExpr=PACE_LABEL_EXPR)),
        )
        .properties(height=200)
    )


def hr_chart(samples: pl.DataFrame, units: Units) -> alt.Chart:
    frame = samples.filter(pl.col("hr_bpm").is_not_null()).select("hr_bpm", along=pl.col("distance_m") / units.metres)
    return (
        alt.Chart(frame)
        .mark_line(color=FATIGUE, interpolate="monotone")
        .encode(x=alt.X("along:Q", title=units.name), y=alt.Y("hr_bpm:Q", title="heart rate (bpm)", scale=alt.Scale(zero=False)))
        .properties(height=180)
    )


def route_map(route: pl.DataFrame) -> alt.Chart:
    """The anonymized route as lines on a Mercator projection (no map tiles: nothing is fetched
    from a third party, and the trimmed ends stay hidden)."""
    return (
        alt.Chart(route.select("seq", "segment", "lat_deg", "lon_deg"))
        .mark_line(color=ACCENT, strokeWidth=3, strokeCap="round")
        .encode(longitude="lon_deg:Q", latitude="lat_deg:Q", detail="segment:N", order="seq:Q")
        .project(type="mercator")
        .properties(height=320)
    )


def route_shape_chart(shape: pl.DataFrame) -> alt.Chart:
    """A route from a protected place, as a shape in metres (no position, secret orientation):
    equal scales on both axes and no axes drawn, so it reads as a drawing, not a map."""
    span = max(float(shape["x_m"].max() - shape["x_m"].min()), float(shape["y_m"].max() - shape["y_m"].min()), 1.0)
    half = span / 2 * 1.05

    def axis(column: str) -> alt.X | alt.Y:
        middle = float(shape[column].min() + shape[column].max()) / 2
        scale = alt.Scale(domain=[middle - half, middle + half])
        kind = alt.X if column == "x_m" else alt.Y
        return kind(f"{column}:Q", scale=scale, axis=None)

    return (
        alt.Chart(shape.select("seq", "x_m", "y_m"))
        .mark_line(color=ACCENT, strokeWidth=3, strokeCap="round")
        .encode(x=axis("x_m"), y=axis("y_m"), order="seq:Q")
        .properties(height=320, width=320)
    )


def zones_chart(activity: dict) -> alt.Chart:
    zones = [f"Z{i}" for i in range(1, 6)]
    minutes = [(activity.get(f"time_z{i}_s") or 0.0) / 60 for i in range(1, 6)]
    frame = pl.DataFrame({"zone": zones, "minutes": minutes})
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("zone:N", title=None, sort=zones, axis=alt.Axis(labelOverlap=False)),
            x=alt.X("minutes:Q", title="minutes"),
            color=alt.Color("zone:N", scale=alt.Scale(domain=zones, range=["#9ecae1", "#74c476", "#fdd049", "#fd8d3c", "#e4572e"]), legend=None),
        )
        .properties(height=170)
    )


def pb_progression_chart(efforts: pl.DataFrame, effort: str) -> alt.Chart:
    """Each time the all-time best of `effort` improved (a step line of PBs over time)."""
    frame = (
        efforts.filter(pl.col("effort") == effort)
        .sort("date", "elapsed_s")
        .with_columns(best=pl.col("elapsed_s").cum_min())
        .filter(pl.col("elapsed_s") == pl.col("best"))
        .unique("best", keep="first", maintain_order=True)
        .select("date", "best")
    )
    return (
        alt.Chart(frame)
        .mark_line(point=alt.OverlayMarkDef(color=ACCENT, size=50), interpolate="step-after", color=ACCENT)
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("best:Q", title="personal best", scale=alt.Scale(zero=False, reverse=True),
                    axis=alt.Axis(labelExpr=CLOCK_LABEL_EXPR)),
            tooltip=[alt.Tooltip("date:T"), alt.Tooltip("best:Q", format=".1f", title="seconds")],
        )
        .properties(height=240)
    )


def privacy_zone_preview(endpoints: pl.DataFrame, zones) -> alt.LayerChart:
    """The athlete's recent start and end points, those inside a privacy zone marked hidden, over
    the zones' circles (a private page only: these are real positions)."""
    import math

    from marts.geo import haversine_np, offset_deg

    points = pl.concat([
        endpoints.select(pl.col("start_lat").alias("lat"), pl.col("start_lon").alias("lon")),
        endpoints.select(pl.col("end_lat").alias("lat"), pl.col("end_lon").alias("lon")),
    ])
    hidden = [False] * points.height
    for zone in zones:
        inside = haversine_np(points["lat"].to_numpy(), points["lon"].to_numpy(), zone.lat_deg, zone.lon_deg) <= zone.radius_m
        hidden = [h or bool(i) for h, i in zip(hidden, inside, strict=True)]
    points = points.with_columns(pl.Series("shown", ["hidden" if h else "start/end" for h in hidden]))
    rings = []
    for n, zone in enumerate(zones):
        for k in range(49):
            angle = 2 * math.pi * k / 48
            lat, lon = offset_deg(zone.lat_deg, zone.lon_deg, zone.radius_m * math.sin(angle), zone.radius_m * math.cos(angle))
            rings.append({"zone": n, "k": k, "lat": lat, "lon": lon})
    ring_frame = pl.DataFrame(rings, schema={"zone": pl.Int64, "k": pl.Int64, "lat": pl.Float64, "lon": pl.Float64})
    dots = alt.Chart(points).mark_circle(size=40).encode(
        longitude="lon:Q", latitude="lat:Q",
        color=alt.Color("shown:N", scale=alt.Scale(domain=["start/end", "hidden"], range=[ACCENT, MUTED]),
                        legend=alt.Legend(orient="top", title=None)),
    )
    circles = alt.Chart(ring_frame).mark_line(color=FORM, strokeWidth=2).encode(
        longitude="lon:Q", latitude="lat:Q", detail="zone:N", order="k:Q"
    )
    return alt.layer(circles, dots).project(type="mercator").properties(height=320)
