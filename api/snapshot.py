"""The in-memory snapshot the API answers from: every public table and private mart it serves,
encoded per athlete (`api.encode`), with the Delta versions it was read at.

`watched_versions(lake)` is the cheap check the refresher polls; `load_snapshot` reads the tables
whole (they are small: one row per day, week, activity or effort) and builds a new, immutable
`Snapshot` that replaces the old one in a single assignment, so a request sees one or the other,
never half of each. Which athletes exist, their handles, time zones and public flags come from
the registry as every command resolves them (`pipeline.athletes.list_athletes`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import polars as pl

from api import encode
from api.encode import AthleteData
from api.pages import EMPTY, Series
from lake import athletes as athletes_table
from lake import marts, public
from lake.storage import Lake
from lake.table import TableSpec, read, table_version
from pipeline.athletes import list_athletes
from runlake.settings import Settings

#: short name → table, for the public layer and the private marts the API serves.
PUBLIC_TABLES: dict[str, TableSpec] = {
    "daily_load": public.DAILY_LOAD_PUBLIC,
    "weekly_summary": public.WEEKLY_SUMMARY_PUBLIC,
    "activities": public.ACTIVITIES_PUBLIC,
    "best_efforts": public.BEST_EFFORTS_PUBLIC,
    "personal_bests": public.PERSONAL_BESTS_PUBLIC,
    "race_predictions": public.RACE_PREDICTIONS_PUBLIC,
}
PRIVATE_TABLES: dict[str, TableSpec] = {
    "daily_load": marts.DAILY_LOAD,
    "weekly_summary": marts.WEEKLY_SUMMARY,
    "activity_summary": marts.ACTIVITY_SUMMARY,
    "best_efforts": marts.BEST_EFFORTS,
    "personal_bests": marts.PERSONAL_BESTS,
    "race_predictions": marts.RACE_PREDICTIONS,
    "gear_distance": marts.GEAR_DISTANCE,
}
#: Every table a snapshot is read from: a new version of any of them means a new snapshot.
WATCHED: tuple[TableSpec, ...] = (*PUBLIC_TABLES.values(), *PRIVATE_TABLES.values(), athletes_table.SPEC)


@dataclass(frozen=True)
class Served:
    """One athlete as the API serves it: its data and the zone its "today" is in."""

    zone: ZoneInfo
    data: AthleteData

    def today(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.zone).date()


@dataclass(frozen=True)
class Snapshot:
    versions: dict[str, int | None]
    default_handle: str | None = None  # the default athlete's handle when it is public (else None)
    public: dict[str, Served] = field(default_factory=dict)  # handle → a public athlete
    private: dict[str, Served] = field(default_factory=dict)  # athlete_id → any athlete
    athletes: Series = EMPTY  # the /v1/athletes items, by handle


def watched_versions(lake: Lake) -> dict[str, int | None]:
    return {spec.name: table_version(lake, spec) for spec in WATCHED}


def _split(frame: pl.DataFrame, column: str) -> dict[str, pl.DataFrame]:
    return {key[0]: part for key, part in frame.partition_by(column, as_dict=True).items()} if frame.height else {}


def _of(parts: dict[str, dict[str, pl.DataFrame]], tables: dict[str, TableSpec], who: str) -> dict[str, pl.DataFrame]:
    return {name: parts[name].get(who, spec.empty()) for name, spec in tables.items()}


def load_snapshot(lake: Lake, settings: Settings, versions: dict[str, int | None]) -> Snapshot:
    """Read every watched table and encode each athlete. `versions` were taken before the reads:
    a table that changes meanwhile is read newer than recorded, and simply reloaded next time."""
    athletes = list_athletes(lake, settings)
    public_rows = {name: _split(read(lake, spec), "athlete") for name, spec in PUBLIC_TABLES.items()}
    private_rows = {name: _split(read(lake, spec), "athlete_id") for name, spec in PRIVATE_TABLES.items()}
    shown, private = {}, {}
    for athlete in athletes:
        zone = ZoneInfo(athlete.timezone)
        private[athlete.athlete_id] = Served(zone, encode.private_athlete(_of(private_rows, PRIVATE_TABLES, athlete.athlete_id)))
        if athlete.public:
            shown[athlete.handle] = Served(zone, encode.public_athlete(_of(public_rows, PUBLIC_TABLES, athlete.handle)))
    default = athletes[0]  # list_athletes gives the default athlete first
    listing = [(a.handle, json.dumps({"handle": a.handle, "default": a.is_default}, separators=(",", ":")).encode()) for a in athletes if a.public]
    return Snapshot(
        versions=versions,
        default_handle=default.handle if default.public else None,
        public=shown,
        private=private,
        athletes=Series.of(listing),
    )
