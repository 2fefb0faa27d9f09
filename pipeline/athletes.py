"""The athletes of a lake: resolving `--athlete HANDLE`, per-athlete settings, the registry.

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
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from lake import athletes as athletes_table
from lake.storage import Lake
from lake.table import read, read_versioned, upsert_at_version, with_commit_retry
from marts.privacy import parse_privacy_zones
from pipeline.public_withdraw import withdraw_public
from runlake.errors import RunlakeError
from runlake.settings import Settings

HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
#: A handle may not look like a generated athlete id: `resolve_athlete` accepts ids too.
GENERATED_ID_RE = re.compile(r"^a-[0-9a-f]{20}$")
#: Settings that describe the default athlete only (never another athlete's defaults).
PRIVACY_FIELDS = ("privacy_zones", "privacy_trim_m", "privacy_radius_m", "privacy_place_routes",
                  "private_activities", "public_sources")
#: Settings an athlete's row may override.
OVERRIDABLE = ("timezone", *PRIVACY_FIELDS)


class UnknownAthleteError(RunlakeError):
    """No athlete has this handle."""


class HandleError(RunlakeError):
    """A handle that is malformed, reserved or taken."""


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


def athlete_from_row(settings: Settings, row: dict) -> Athlete:
    """The athlete of a registry row (`athletes` table), e.g. one kept by an erasure under way."""
    return _athlete(settings, row, is_default=row["athlete_id"] == settings.athlete_id)


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


def _taken_handles(rows: pl.DataFrame, settings: Settings, *, but: str | None = None) -> set[str]:
    """Handles in use in the registry snapshot `rows` — the default athlete's even without a row —
    except the athlete `but`'s own."""
    taken = {r["handle"] for r in rows.iter_rows(named=True) if r["athlete_id"] != but}
    if settings.athlete_id != but and not (rows["athlete_id"] == settings.athlete_id).any():
        taken.add(settings.athlete_handle)
    return taken


def _save_unique(lake: Lake, settings: Settings, row_for: Callable[[pl.DataFrame], dict], *, what: str) -> dict:
    """Write the registry row `row_for(snapshot)` builds — checking its handle against that same
    snapshot — in one commit onto the snapshot's version: two writers racing for one handle
    cannot both win (the loser re-reads, and its handle is then taken)."""

    def attempt() -> dict:
        version, rows = read_versioned(lake, athletes_table.SPEC)
        row = row_for(rows)
        stored = rows.filter(pl.col("athlete_id") == row["athlete_id"])["handle"].to_list()
        current = stored[0] if stored else (settings.athlete_handle if row["athlete_id"] == settings.athlete_id else None)
        if row["handle"] != current:  # a new or changed handle (the default `me` is reserved for others)
            row["handle"] = check_handle(row["handle"], _taken_handles(rows, settings, but=row["athlete_id"]))
        upsert_at_version(lake, athletes_table.SPEC, athletes_table.SPEC.conform(pl.DataFrame([row])), version=version)
        return row

    return with_commit_retry(attempt, what=what)


def add_athlete(lake: Lake, settings: Settings, handle: str, *, timezone: str | None = None,
                display_name: str | None = None, public: bool = False, athlete_id: str | None = None) -> Athlete:
    """Register a new athlete (private unless `public`; a new generated id unless `athlete_id`,
    one made by `lake.athletes.new_athlete_id`); returns it. The handle is unique at commit time
    (`_save_unique`)."""
    zone = check_timezone(timezone) if timezone else None
    check_handle(handle, set())  # malformed or reserved: refused before any read
    athlete_id = athlete_id or athletes_table.new_athlete_id()
    now = _now()
    _save_unique(lake, settings, lambda rows: {
        "athlete_id": athlete_id, "handle": handle, "display_name": display_name, "timezone": zone,
        "public": public, "created_at": now, "updated_at": now,
    }, what="register an athlete")
    return resolve_athlete(lake, settings, athlete_id)


def update_athlete(lake: Lake, settings: Settings, athlete: Athlete, **changes) -> Athlete:
    """Store changed values for `athlete` (None = unchanged): `handle`, `display_name`,
    `timezone`, `public` and the privacy settings (validated before anything is written; a bad
    value is a one-line RunlakeError)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    if "handle" in changes and changes["handle"].strip().lower() != athlete.handle:
        check_handle(changes["handle"], set())
    if "timezone" in changes:
        check_timezone(changes["timezone"])
    if "privacy_zones" in changes:
        try:
            parse_privacy_zones(changes["privacy_zones"])
        except ValueError as exc:  # names the entry by position, never by its text
            raise RunlakeError(str(exc)) from None
    if "privacy_place_routes" in changes and changes["privacy_place_routes"] not in ("none", "shape"):
        raise RunlakeError("--place-routes must be 'none' or 'shape'")

    def row_for(rows: pl.DataFrame) -> dict:
        existing = rows.filter(pl.col("athlete_id") == athlete.athlete_id).to_dicts()
        row = existing[0] if existing else {
            "athlete_id": athlete.athlete_id, "handle": athlete.handle, "public": athlete.public, "created_at": _now(),
        }
        return row | changes | {"updated_at": _now()}

    row = _save_unique(lake, settings, row_for, what=f"update athlete {athlete.handle}")
    if row["handle"] != athlete.handle:  # no public row keeps the old name
        withdraw_public(lake, athlete.athlete_id, athlete.handle)
    return resolve_athlete(lake, settings, athlete.athlete_id)
