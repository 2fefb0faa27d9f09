"""Cached loaders for the dashboard: they read ONLY `<lake>/public/*`.

The lake comes from `Settings` (RUNLAKE_LAKE_URI: a folder or s3://…), built here at the edge.
Each loader caches its table for `TTL_S` seconds, so a fresh `runlake marts build` shows up
within minutes without restarting the server, while page switches stay instant.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from lake import public as public_tables
from lake.storage import Lake
from lake.table import TableSpec, scan
from runlake.settings import Settings

TTL_S = 300


@st.cache_resource(ttl=TTL_S)
def settings() -> Settings:
    return Settings.with_overrides()  # a refused setting raises without echoing its value


@st.cache_resource(ttl=TTL_S)
def lake() -> Lake:
    """The configured lake (credentials resolved like the CLI; never created from here)."""
    from flows.lake_access import lake_at

    s = settings()
    return lake_at(s.lake, s)


def today() -> dt.date:
    """Today in the athlete's home zone (Settings.timezone): "this week" is his week."""
    return settings().local_today()


def _read(spec: TableSpec, *filters: pl.Expr) -> pl.DataFrame:
    if not spec.name.startswith("public/"):  # the dashboard's one hard rule
        raise ValueError(f"the dashboard reads public tables only, not {spec.name}")
    frame = scan(lake(), spec)
    for f in filters:
        frame = frame.filter(f)
    return frame.collect()


@st.cache_data(ttl=TTL_S, show_spinner=False)
def weekly() -> pl.DataFrame:
    return _read(public_tables.WEEKLY_SUMMARY_PUBLIC).sort("week_start")


@st.cache_data(ttl=TTL_S, show_spinner=False)
def daily() -> pl.DataFrame:
    return _read(public_tables.DAILY_LOAD_PUBLIC).sort("date")


@st.cache_data(ttl=TTL_S, show_spinner=False)
def activities() -> pl.DataFrame:
    return _read(public_tables.ACTIVITIES_PUBLIC).sort("date", "public_activity_id", descending=True)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def best_efforts() -> pl.DataFrame:
    return _read(public_tables.BEST_EFFORTS_PUBLIC).sort("date")


@st.cache_data(ttl=TTL_S, show_spinner=False)
def personal_bests() -> pl.DataFrame:
    return _read(public_tables.PERSONAL_BESTS_PUBLIC)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def race_predictions() -> pl.DataFrame:
    return _read(public_tables.RACE_PREDICTIONS_PUBLIC)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=64)
def route(public_activity_id: str) -> pl.DataFrame:
    return _read(public_tables.ROUTES_PUBLIC, pl.col("public_activity_id") == public_activity_id).sort("seq")


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=64)
def route_shape(public_activity_id: str) -> pl.DataFrame:
    return _read(public_tables.ROUTE_SHAPES_PUBLIC, pl.col("public_activity_id") == public_activity_id).sort("seq")


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=64)
def samples(public_activity_id: str) -> pl.DataFrame:
    return _read(public_tables.SAMPLES_PUBLIC, pl.col("public_activity_id") == public_activity_id).sort("seq")


NO_DATA = (
    "No public training data yet. Import activities and run `runlake marts build`: it writes the "
    "anonymized public tables this dashboard reads."
)


def has_data() -> bool:
    """Whether the public layer has any week to show (the empty state otherwise)."""
    return weekly().height > 0
