"""Who the athletes of a lake are: resolving a handle, per-athlete settings, the registry (read side).

`resolve_athlete(lake, settings, handle)` is how every command and flow learns whose data it
works on. It returns the athlete with its *effective* settings: a copy of the `RUNLAKE_*`
settings with the athlete's own values from the `athletes` table on top. The precedence
(docs/athletes.md):

1. a value stored for the athlete in the lake (`runlake athlete set`) wins;
2. else the `RUNLAKE_*` environment setting — except the privacy ones
   (`RUNLAKE_PRIVACY_*`, `RUNLAKE_PRIVATE_ACTIVITIES`, `RUNLAKE_PUBLIC_SOURCES`), which describe
   the default athlete only: another athlete gets the built-in defaults, so one runner's home
   zone never shapes another's routes;
3. else the built-in default.

The default athlete (`RUNLAKE_ATHLETE_ID`, handle `RUNLAKE_ATHLETE_HANDLE` = `me`, public unless
`RUNLAKE_ATHLETE_PUBLIC=false`) exists without a row.

Read-only, so that every reader above the pipeline — the commands and flows, and the data API —
resolves athletes the same way; registering and changing them is `flows.steps.athletes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lake import athletes as athletes_table
from lake.storage import Lake
from lake.table import read
from runlake.errors import RunlakeError
from runlake.settings import Settings

#: Settings that describe the default athlete only (never another athlete's defaults).
PRIVACY_FIELDS = ("privacy_zones", "privacy_trim_m", "privacy_radius_m", "privacy_place_routes",
                  "private_activities", "public_sources")
#: Settings an athlete's row may override.
OVERRIDABLE = ("timezone", *PRIVACY_FIELDS)


class UnknownAthleteError(RunlakeError):
    """No athlete has this handle."""


@dataclass(frozen=True)
class Athlete:
    athlete_id: str
    handle: str
    display_name: str | None
    public: bool
    is_default: bool
    settings: Settings  # effective settings: RUNLAKE_* with this athlete's own values on top

    @property
    def timezone(self) -> str:
        return self.settings.timezone


def registry(lake: Lake) -> pl.DataFrame:
    """Every stored athlete row."""
    return read(lake, athletes_table.SPEC)


def inbox_of(settings: Settings, athlete_id: str) -> str:
    """Another athlete's inbox: `<inbox>/athletes/<athlete_id>` (docs/athletes.md)."""
    return settings.inbox.rstrip("/") + f"/athletes/{athlete_id}"


def effective_settings(settings: Settings, row: dict | None, *, is_default: bool) -> Settings:
    """`settings` as they hold for the athlete of `row` (see the module docstring): its id,
    handle, public flag, inbox, time zone and privacy settings."""
    update: dict = {}
    if not is_default:
        fields = Settings.model_fields
        update |= {name: fields[name].default for name in PRIVACY_FIELDS}
        update |= {"athlete_id": row["athlete_id"], "inbox_uri": inbox_of(settings, row["athlete_id"]),
                   "athlete_public": False}
    for name in OVERRIDABLE:
        if row is not None and row.get(name) is not None:
            update[name] = row[name]
    if row is not None:
        update["athlete_handle"] = row["handle"]
        if row.get("public") is not None:
            update["athlete_public"] = bool(row["public"])
    return settings.model_copy(update=update)


def _athlete(settings: Settings, row: dict | None, *, is_default: bool) -> Athlete:
    effective = effective_settings(settings, row, is_default=is_default)
    return Athlete(
        athlete_id=effective.athlete_id,
        handle=effective.athlete_handle,
        display_name=(row or {}).get("display_name"),
        public=effective.athlete_public,
        is_default=is_default,
        settings=effective,
    )


def list_athletes(lake: Lake, settings: Settings) -> list[Athlete]:
    """The default athlete first (with or without a row), then the others by handle."""
    rows = registry(lake)
    default_rows = rows.filter(pl.col("athlete_id") == settings.athlete_id).to_dicts()
    others = rows.filter(pl.col("athlete_id") != settings.athlete_id).sort("handle").to_dicts()
    return [_athlete(settings, default_rows[0] if default_rows else None, is_default=True)] + [
        _athlete(settings, row, is_default=False) for row in others
    ]


def resolve_athlete(lake: Lake, settings: Settings, handle: str | None = None) -> Athlete:
    """The athlete called `handle` (None: the default athlete); unknown → `UnknownAthleteError`.
    An athlete id is accepted too: the daily fan-out passes ids, so that Prefect's database
    (outside erasure) never stores a handle."""
    athletes = list_athletes(lake, settings)
    if handle is None:
        return athletes[0]
    wanted = handle.strip().lower()
    for athlete in athletes:
        if wanted in (athlete.handle, athlete.athlete_id.lower()):
            return athlete
    raise UnknownAthleteError(f"no athlete has the handle {handle.strip()!r} (see `runlake athlete list`)")
