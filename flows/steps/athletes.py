"""The athletes of a lake: registering and changing them (`add_athlete`, `update_athlete`, handle and
time-zone checks). Resolving them — `resolve_athlete`, `list_athletes`, the effective settings and
their precedence — is `pipeline.athletes`, re-exported here for the commands and flows.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from lake import athletes as athletes_table
from lake.storage import Lake
from lake.table import upsert
from marts.privacy import parse_privacy_zones
from pipeline.athletes import (  # noqa: F401  (the commands and flows import them from here)
    OVERRIDABLE,
    PRIVACY_FIELDS,
    Athlete,
    UnknownAthleteError,
    effective_settings,
    inbox_of,
    list_athletes,
    registry,
    resolve_athlete,
)
from runlake.errors import RunlakeError
from runlake.settings import Settings

HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
#: A handle may not look like a generated athlete id: `resolve_athlete` accepts ids too.
GENERATED_ID_RE = re.compile(r"^a-[0-9a-f]{20}$")


class HandleError(RunlakeError):
    """A handle that is malformed, reserved or taken."""


def check_handle(handle: str, taken: set[str]) -> str:
    """A new or changed handle, normalised to lower case; malformed, reserved or taken → HandleError."""
    value = handle.strip().lower()
    if not HANDLE_RE.match(value):
        raise HandleError(
            f"handle {handle.strip()!r}: use 2-32 characters a-z, 0-9, '-' or '_', starting with a letter or digit"
        )
    if value in athletes_table.RESERVED_HANDLES or GENERATED_ID_RE.match(value):
        raise HandleError(f"handle {value!r} is reserved; choose another")
    if value in taken:
        raise HandleError(f"handle {value!r} is taken; choose another")
    return value


def check_timezone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RunlakeError(f"{zone!r} is not an IANA time zone (e.g. Europe/Amsterdam)") from None
    return zone


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def add_athlete(lake: Lake, settings: Settings, handle: str, *, timezone: str | None = None,
                display_name: str | None = None, public: bool = False) -> Athlete:
    """Register a new athlete (private unless `public`); returns it."""
    taken = {a.handle for a in list_athletes(lake, settings)}
    value = check_handle(handle, taken)
    now = _now()
    row = {
        "athlete_id": athletes_table.new_athlete_id(), "handle": value, "display_name": display_name,
        "timezone": check_timezone(timezone) if timezone else None, "public": public,
        "created_at": now, "updated_at": now,
    }
    upsert(lake, athletes_table.SPEC, athletes_table.SPEC.conform(pl.DataFrame([row])))
    return resolve_athlete(lake, settings, value)


def update_athlete(lake: Lake, settings: Settings, athlete: Athlete, **changes) -> Athlete:
    """Store changed values for `athlete` (None = unchanged): `handle`, `display_name`,
    `timezone`, `public` and the privacy settings (validated before anything is written)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    if "handle" in changes:
        taken = {a.handle for a in list_athletes(lake, settings) if a.athlete_id != athlete.athlete_id}
        changes["handle"] = check_handle(changes["handle"], taken)
    if "timezone" in changes:
        check_timezone(changes["timezone"])
    if "privacy_zones" in changes:
        parse_privacy_zones(changes["privacy_zones"])
    if "privacy_place_routes" in changes and changes["privacy_place_routes"] not in ("none", "shape"):
        raise RunlakeError("--place-routes must be 'none' or 'shape'")
    existing = registry(lake).filter(pl.col("athlete_id") == athlete.athlete_id).to_dicts()
    row = existing[0] if existing else {
        "athlete_id": athlete.athlete_id, "handle": athlete.handle, "public": athlete.public, "created_at": _now(),
    }
    row |= changes | {"updated_at": _now()}
    upsert(lake, athletes_table.SPEC, athletes_table.SPEC.conform(pl.DataFrame([row])))
    if changes.get("handle", athlete.handle) != athlete.handle:  # no public row keeps the old name
        from flows.steps.build_public import withdraw_public

        withdraw_public(lake, athlete.athlete_id, athlete.handle)
    return resolve_athlete(lake, settings, row["handle"])
