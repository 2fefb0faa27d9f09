"""The one list of every table in the lake, and of the raw archive's folders.

Every table — today's and each later issue's (tokens, identity links, overrides, gear, events) —
is registered here, so that export, erasure, `lake check` and migrations reach it without being
told: a new table module adds its spec to `PRIVATE` (rows owned through `athlete_id`), `PUBLIC`
(rows owned through the public `athlete` handle) or `SYSTEM` (the lake's own bookkeeping, owned by
no athlete: never exported or erased with one). A test checks that every `TableSpec` defined
under `lake/` is listed.
"""

from __future__ import annotations

from lake import activities, activity_edits, athlete_profile, athletes, credentials, fit_files, identities, laps, privacy_marks, public, public_state
from lake import gear, inbox_files, meta, overrides, quarantine, records, strava_events, strava_state, tokens
from lake import marts as marts_tables
from lake.table import TableSpec

#: Tables whose rows belong to one athlete through `athlete_id` (the registry included).
PRIVATE: tuple[TableSpec, ...] = (
    athletes.SPEC,
    athlete_profile.SPEC,
    fit_files.SPEC,
    inbox_files.SPEC,
    gear.SPEC,
    quarantine.SPEC,
    activities.SPEC,
    laps.SPEC,
    records.SPEC,
    strava_state.ACTIVITIES,
    strava_state.SYNC,
    strava_events.SPEC,
    privacy_marks.SPEC,
    overrides.SPEC,
    activity_edits.SPEC,
    credentials.SPEC,
    identities.SPEC,
    tokens.SPEC,
    public_state.SPEC,
    marts_tables.DAILY_LOAD,
    marts_tables.WEEKLY_SUMMARY,
    marts_tables.ACTIVITY_SUMMARY,
    marts_tables.BEST_EFFORTS,
    marts_tables.PERSONAL_BESTS,
    marts_tables.RACE_PREDICTIONS,
    marts_tables.GEAR_DISTANCE,
    marts_tables.BUILD_STATE,
)

#: The anonymized public layer (no `athlete_id`; rows carry the public handle `athlete`).
PUBLIC: tuple[TableSpec, ...] = public.ALL

#: The lake's own bookkeeping (no athlete owns these rows): its schema version.
SYSTEM: tuple[TableSpec, ...] = (meta.MIGRATIONS,)

#: Every table whose rows belong to an athlete: what export and erasure go through.
OWNED: tuple[TableSpec, ...] = PRIVATE + PUBLIC

ALL: tuple[TableSpec, ...] = PRIVATE + PUBLIC + SYSTEM

#: Folders of the raw archive (original bytes, never rewritten), relative to the lake root.
RAW_PREFIXES = ("raw/fit", "raw/strava")


def by_name(name: str) -> TableSpec:
    """The registered table called `name` (e.g. "activities", "public/routes")."""
    for spec in ALL:
        if spec.name == name:
            return spec
    raise KeyError(f"no table {name!r} in the lake's registry (lake/registry.py)")
