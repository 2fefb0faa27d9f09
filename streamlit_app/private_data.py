"""Loaders for the signed-in athlete's private pages: the private marts, one athlete's rows.

Unlike data.py (public tables only), these read private tables — and only ever the rows of the
`athlete_id` they are given, which the pages take from `account.signed_in_athlete()` (the
session's identity), never from the URL or a widget. Each loader is cached per athlete id, so
one runner's cache entry is never another's.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from lake import marts
from lake.table import TableSpec, scan
from streamlit_app import data

TTL_S = 60


def _own(spec: TableSpec, athlete_id: str) -> pl.DataFrame:
    if not athlete_id:
        raise ValueError("a private read needs the signed-in athlete's id")
    return scan(data.lake(), spec).filter(pl.col("athlete_id") == athlete_id).collect().drop("athlete_id")


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=256)
def daily(athlete_id: str) -> pl.DataFrame:
    return _own(marts.DAILY_LOAD, athlete_id).sort("date")


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=256)
def weekly(athlete_id: str) -> pl.DataFrame:
    return _own(marts.WEEKLY_SUMMARY, athlete_id).sort("week_start")


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=256)
def activities(athlete_id: str) -> pl.DataFrame:
    """Every activity of the athlete, private ones included, newest first, with its local start."""
    frame = _own(marts.ACTIVITY_SUMMARY, athlete_id)
    return frame.with_columns(
        local_start=(pl.col("start_time") + pl.duration(seconds=pl.col("utc_offset_s").fill_null(0))).dt.replace_time_zone(None)
    ).sort("start_time", descending=True)


def forget(athlete_id: str) -> None:
    """After an ingest or a settings change of this athlete: its next read is fresh."""
    for loader in (daily, weekly, activities):
        loader.clear(athlete_id)
