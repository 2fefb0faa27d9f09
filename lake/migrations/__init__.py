"""Versioned lake migrations: what the lake's layout is, and how an older lake is brought up to it.

A lake's version is recorded in the system table `_meta/migrations` (lake/meta.py): one row per
migration applied, the version being the highest. A lake without that table is

* version 1 when any registered table exists (written before migrations existed), and
* new (nothing registered written yet) otherwise: it is at the latest version, and
  `stamp_new_lake` records so before its first table is written (lake/table.py calls it), so a
  lake this code made never needs migrating.

Each migration is one module here (`v2_many_athletes.py`, …) with `VERSION`, `NAME` and
`apply(lake, ctx, progress=…)`. Its steps must be idempotent (a step that already happened finds
nothing to do and writes nothing), and `migrate` records the version only after `apply` returned:
a migration killed half-way is completed by running `migrate` again. This package is settings-free:
what a migration needs from the configuration comes in a `MigrationContext`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import polars as pl

from lake import registry
from lake.meta import MIGRATIONS as LOG
from lake.migrations import v2_many_athletes
from lake.storage import Lake
from lake.table import read, table_exists, upsert

#: Every migration, oldest first.
ALL: tuple[ModuleType, ...] = (v2_many_athletes,)

#: The version this code reads and writes.
LATEST: int = ALL[-1].VERSION if ALL else 1

Progress = Callable[[str], None]


@dataclass(frozen=True)
class MigrationContext:
    """What migrations need from the configuration (built from Settings at the edge)."""

    default_athlete_id: str  # RUNLAKE_ATHLETE_ID: owner of every row a single-athlete lake wrote
    default_handle: str  # the default athlete's public handle ("me")


def _quiet(message: str) -> None:
    """The default progress: say nothing."""


def _any_registered_table(lake: Lake) -> bool:
    return any(table_exists(lake, spec) for spec in registry.PRIVATE + registry.PUBLIC)


def is_new_lake(lake: Lake) -> bool:
    """No version recorded and no registered table written yet."""
    return not table_exists(lake, LOG) and not _any_registered_table(lake)


def current_version(lake: Lake) -> int:
    """The lake's version: the highest recorded migration, 1 for a lake written before migrations
    existed, `LATEST` for a lake with no table yet."""
    if table_exists(lake, LOG):
        versions = read(lake, LOG)["version"]
        return int(versions.max()) if len(versions) else 1
    return 1 if _any_registered_table(lake) else LATEST


def pending(lake: Lake) -> list[ModuleType]:
    """The migrations `migrate` would apply, oldest first."""
    version = current_version(lake)
    return [m for m in ALL if m.VERSION > version]


def _record(lake: Lake, migrations: list[ModuleType], now: dt.datetime) -> None:
    rows = pl.DataFrame(
        {"version": [m.VERSION for m in migrations], "name": [m.NAME for m in migrations], "applied_at": [now] * len(migrations)},
        schema=LOG.schema,
    )
    upsert(lake, LOG, rows)


def stamp_new_lake(lake: Lake, *, now: dt.datetime | None = None) -> bool:
    """Record the latest version on a lake nothing was written to yet (True when it did).

    lake/table.py calls it before a lake's first write, so a lake made by this code never reads
    as version 1.
    """
    if not is_new_lake(lake) or not ALL:
        return False
    _record(lake, list(ALL), now or dt.datetime.now(dt.UTC))
    return True


def migrate(lake: Lake, ctx: MigrationContext, progress: Progress = _quiet) -> list[int]:
    """Apply every pending migration in order; returns the versions applied ([] = nothing to do,
    and nothing was written). Each version is recorded only once its migration has completed."""
    applied = []
    for migration in pending(lake):
        progress(f"v{migration.VERSION} {migration.NAME}: applying")
        migration.apply(lake, ctx, progress=progress)
        _record(lake, [migration], dt.datetime.now(dt.UTC))
        progress(f"v{migration.VERSION} {migration.NAME}: done, the lake is at version {migration.VERSION}")
        applied.append(migration.VERSION)
    return applied
