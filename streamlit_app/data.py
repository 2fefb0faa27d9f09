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
    from pipeline.lake_access import lake_at

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
def public_athletes() -> list[str]:
    """The handles of the public athletes (those with rows in the public layer), sorted."""
    return sorted(_read(public_tables.WEEKLY_SUMMARY_PUBLIC).get_column("athlete").unique().drop_nulls().to_list())


def athlete() -> str:
    """The athlete whose pages are shown: the `?athlete=HANDLE` of the URL when public, else the
    default athlete (RUNLAKE_ATHLETE_HANDLE) when public, else the first public athlete."""
    shown = public_athletes()
    wanted = st.query_params.get("athlete")
    if wanted in shown:
        return wanted
    default = settings().athlete_handle
    return default if default in shown or not shown else shown[0]


def _mine(spec: TableSpec, handle: str, *filters: pl.Expr) -> pl.DataFrame:
    return _read(spec, pl.col("athlete") == handle, *filters).drop("athlete")


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _weekly(handle: str) -> pl.DataFrame:
    return _mine(public_tables.WEEKLY_SUMMARY_PUBLIC, handle).sort("week_start")


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _daily(handle: str) -> pl.DataFrame:
    return _mine(public_tables.DAILY_LOAD_PUBLIC, handle).sort("date")


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _activities(handle: str) -> pl.DataFrame:
    return _mine(public_tables.ACTIVITIES_PUBLIC, handle).sort("date", "public_activity_id", descending=True)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _best_efforts(handle: str) -> pl.DataFrame:
    return _mine(public_tables.BEST_EFFORTS_PUBLIC, handle).sort("date")


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _personal_bests(handle: str) -> pl.DataFrame:
    return _mine(public_tables.PERSONAL_BESTS_PUBLIC, handle)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _race_predictions(handle: str) -> pl.DataFrame:
    return _mine(public_tables.RACE_PREDICTIONS_PUBLIC, handle)


# The shown athlete's tables (each cached per athlete).
def weekly() -> pl.DataFrame:
    return _weekly(athlete())


def daily() -> pl.DataFrame:
    return _daily(athlete())


def activities() -> pl.DataFrame:
    return _activities(athlete())


def best_efforts() -> pl.DataFrame:
    return _best_efforts(athlete())


def personal_bests() -> pl.DataFrame:
    return _personal_bests(athlete())


def race_predictions() -> pl.DataFrame:
    return _race_predictions(athlete())


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=64)
def _route(handle: str, public_activity_id: str) -> pl.DataFrame:
    return _mine(public_tables.ROUTES_PUBLIC, handle, pl.col("public_activity_id") == public_activity_id).sort("seq")


def route(public_activity_id: str) -> pl.DataFrame:
    return _route(athlete(), public_activity_id)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=64)
def _route_shape(handle: str, public_activity_id: str) -> pl.DataFrame:
    return _mine(public_tables.ROUTE_SHAPES_PUBLIC, handle, pl.col("public_activity_id") == public_activity_id).sort("seq")


def route_shape(public_activity_id: str) -> pl.DataFrame:
    return _route_shape(athlete(), public_activity_id)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=64)
def _samples(handle: str, public_activity_id: str) -> pl.DataFrame:
    return _mine(public_tables.SAMPLES_PUBLIC, handle, pl.col("public_activity_id") == public_activity_id).sort("seq")


def samples(public_activity_id: str) -> pl.DataFrame:
    return _samples(athlete(), public_activity_id)


NO_DATA = (
    "No public training data yet. Import activities and run `runlake marts build`: it writes the "
    "anonymized public tables this dashboard reads."
)


def has_data() -> bool:
    """Whether the public layer has any week to show (the empty state otherwise)."""
    return weekly().height > 0
