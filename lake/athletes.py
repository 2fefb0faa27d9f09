"""`athletes`: the registry of the lake's athletes (key: `athlete_id`).

`athlete_id` is opaque, generated (`new_athlete_id`), never reused; `handle` is unique, URL-safe
and may change. The default athlete (`RUNLAKE_ATHLETE_ID`, handle `me`) exists implicitly: it
has a row only once something about it was set. Settings columns are per-athlete overrides of
the `RUNLAKE_*` defaults (null = the default applies; docs/athletes.md states the precedence).
Every process (CLI, flows, API and web replicas) reads the same rows, so nothing about an
athlete lives only under `RUNLAKE_HOME`.
"""

from __future__ import annotations

import secrets

import polars as pl

from lake.table import TableSpec

SPEC = TableSpec(
    name="athletes",
    grain="one athlete of the lake",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,  # opaque, generated, never reused
            "handle": pl.String,  # unique, URL-safe ([a-z0-9][a-z0-9_-]{1,31}), changeable
            "display_name": pl.String,
            "timezone": pl.String,  # IANA zone; null: RUNLAKE_TIMEZONE
            "public": pl.Boolean,  # has a public layer
            "privacy_zones": pl.String,  # 'lat,lon,radius_m;…'; null: none (env only for the default athlete)
            "privacy_trim_m": pl.Float64,
            "privacy_radius_m": pl.Float64,
            "privacy_place_routes": pl.String,  # none | shape
            "private_activities": pl.String,
            "public_sources": pl.String,
            "created_at": pl.Datetime("us", "UTC"),
            "updated_at": pl.Datetime("us", "UTC"),
        }
    ),
    key=("athlete_id",),
)

#: The default athlete's handle (docs/athletes.md): the `athlete` of its public rows.
DEFAULT_HANDLE = "me"

#: Handles no athlete may take (URL paths of the web app and the API, and the default's).
RESERVED_HANDLES = frozenset(
    {"me", "api", "v1", "admin", "athletes", "public", "private", "settings", "tokens", "upload", "my-data",
     "login", "logout", "static", "health", "webhooks", "about"}
)


def new_athlete_id() -> str:
    """A fresh opaque id (`a-` + 20 random hex digits): random, so an erased one leaves no tombstone."""
    return "a-" + secrets.token_hex(10)
