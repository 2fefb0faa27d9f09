"""Loaders for the signed-in athlete's private pages: the private marts, one athlete's rows.

Unlike data.py (public tables only), these read private tables — and only ever the rows of the
`athlete_id` they are given, which the pages take from `account.signed_in_athlete()` (the
session's identity), never from the URL or a widget. Each loader is cached per athlete id and
per Delta version of the table it reads, so one runner's cache entry is never another's, and a
marts build (from the CLI, a flow or an upload) shows on the next page run.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from lake import marts
from lake import records as records_table
from lake.table import TableSpec, scan, table_version
from streamlit_app import data


def _own(spec: TableSpec, athlete_id: str) -> pl.DataFrame:
    if not athlete_id:
        raise ValueError("a private read needs the signed-in athlete's id")
    return scan(data.lake(), spec).filter(pl.col("athlete_id") == athlete_id).collect().drop("athlete_id")


def _version(spec: TableSpec) -> int | None:
    return table_version(data.lake(), spec)


@st.cache_data(show_spinner=False, max_entries=256)
def _daily(athlete_id: str, version: int | None) -> pl.DataFrame:
    return _own(marts.DAILY_LOAD, athlete_id).sort("date")


@st.cache_data(show_spinner=False, max_entries=256)
def _weekly(athlete_id: str, version: int | None) -> pl.DataFrame:
    return _own(marts.WEEKLY_SUMMARY, athlete_id).sort("week_start")


@st.cache_data(show_spinner=False, max_entries=256)
def _activities(athlete_id: str, version: int | None) -> pl.DataFrame:
    frame = _own(marts.ACTIVITY_SUMMARY, athlete_id)
    return frame.with_columns(
        local_start=(pl.col("start_time") + pl.duration(seconds=pl.col("utc_offset_s").fill_null(0))).dt.replace_time_zone(None)
    ).sort("start_time", descending=True)


@st.cache_data(show_spinner=False, max_entries=256)
def _gear(athlete_id: str, version: int | None) -> pl.DataFrame:
    return _own(marts.GEAR_DISTANCE, athlete_id).sort("retired", "last_used", descending=[False, True], nulls_last=True)


def daily(athlete_id: str) -> pl.DataFrame:
    """The athlete's daily load, fitness and form (marts/daily_load), oldest first."""
    return _daily(athlete_id, _version(marts.DAILY_LOAD))


def weekly(athlete_id: str) -> pl.DataFrame:
    """The athlete's weekly summary (marts/weekly_summary), oldest first."""
    return _weekly(athlete_id, _version(marts.WEEKLY_SUMMARY))


def activities(athlete_id: str) -> pl.DataFrame:
    """Every activity of the athlete, private ones included, newest first, with its local start."""
    return _activities(athlete_id, _version(marts.ACTIVITY_SUMMARY))


def gear(athlete_id: str) -> pl.DataFrame:
    """The athlete's gear with its distance (marts/gear_distance): in use first, latest used first."""
    return _gear(athlete_id, _version(marts.GEAR_DISTANCE))


@st.cache_data(show_spinner=False, max_entries=256)
def _recent_endpoints(athlete_id: str, ids: tuple[str, ...], version: int | None) -> pl.DataFrame:
    from marts.places import route_endpoints

    fixes = (
        scan(data.lake(), records_table.SPEC)
        .filter((pl.col("athlete_id") == athlete_id) & pl.col("activity_id").is_in(list(ids)))
        .select("activity_id", "seq", "lat_deg", "lon_deg")
        .filter(pl.col("lat_deg").is_not_null() & pl.col("lon_deg").is_not_null())
    )
    return route_endpoints(fixes).collect()


def recent_endpoints(athlete_id: str, activities_shown: int = 60) -> pl.DataFrame:
    """Start and end fixes (`start_lat`, `start_lon`, `end_lat`, `end_lon`) of the athlete's most
    recent activities with a route: what the privacy-zone preview of /settings draws."""
    ids = tuple(activities(athlete_id).head(activities_shown)["activity_id"].to_list())
    return _recent_endpoints(athlete_id, ids, _version(records_table.SPEC))


def forget_everyone() -> None:
    """After an erasure: drop every cached private frame from this server's memory (the erased
    athlete's among them; the others are read again on their next page run)."""
    for loader in (_daily, _weekly, _activities, _gear, _recent_endpoints):
        loader.clear()
