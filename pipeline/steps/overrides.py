"""`runlake activity set ID --sport … --race --exclude-from-load --distance-km …`: record the
athlete's corrections of one activity in `private/overrides` (applied by the next marts build,
marts/overrides.py; docs/marts.md); `--clear-corrections` forgets them."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import polars as pl

from lake import activities as activities_table
from lake import overrides
from lake.storage import Lake
from lake.table import delete_rows, in_predicate, upsert
from marts.visibility import activity_tokens, mark_tokens
from pipeline.steps.edits import resolve_part
from pipeline.steps.visibility import resolve_activity
from runlake.errors import RunlakeError
from runlake.settings import Settings

_IDENTITY = ("strava_id", "fit_sha256", "session_index")


@dataclass(frozen=True)
class Correction:
    """One `runlake activity set` call's corrections; None: left as it is."""

    sport: str | None = None
    is_race: bool | None = None
    exclude_from_load: bool | None = None
    distance_m: float | None = None

    def values(self) -> dict:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class OverrideChange:
    activity_id: str
    fields: tuple[str, ...]
    cleared: bool = False

    def summary(self) -> str:
        if self.cleared:
            what = ", ".join(self.fields) if self.fields else "nothing"
            return f"activity {self.activity_id}: corrections cleared ({what}); the marts follow at the next `runlake marts build`"
        return (
            f"activity {self.activity_id}: {', '.join(self.fields)} corrected; "
            "the marts and the public layer follow at the next `runlake marts build`"
        )


def check(correction: Correction) -> None:
    """Refuse a correction that would make no sense in the marts (one line, RunlakeError)."""
    if correction.sport is not None and not correction.sport.strip():
        raise RunlakeError("--sport must not be empty")
    d = correction.distance_m
    if d is not None and not (math.isfinite(d) and d > 0):
        raise RunlakeError(f"--distance-km must be a positive number, not {d / 1000.0:g}")


def set_overrides(
    lake: Lake, settings: Settings, text: str, correction: Correction, *, now: dt.datetime | None = None
) -> OverrideChange:
    """Merge `correction` into the override row of the activity `text` names (see
    `resolve_activity`): fields given replace earlier corrections, the others are kept. The row
    keeps every identity its run has had, so it finds the run after a merge or a rebuild."""
    check(correction)
    values = correction.values()
    if not values:
        raise RunlakeError("nothing to correct")
    row = resolve_part(lake, settings, text) or resolve_activity(lake, settings, text)
    mine = overrides.scan_overrides(lake, settings.athlete_id).filter(pl.col("activity_id") == row["activity_id"]).collect()
    before = mine.to_dicts()[0] if mine.height else {}
    new = {
        "athlete_id": settings.athlete_id,
        "activity_id": row["activity_id"],
        **{c: row[c] if row[c] is not None else before.get(c) for c in _IDENTITY},
        **{c: values.get(c, before.get(c)) for c in ("sport", "is_race", "exclude_from_load", "distance_m")},
        "set_at": now or dt.datetime.now(dt.UTC),
    }
    if new["sport"] is not None:
        new["sport"] = new["sport"].strip().lower()
    upsert(lake, overrides.SPEC, pl.DataFrame([new], schema=overrides.SPEC.schema))
    return OverrideChange(row["activity_id"], tuple(values))


def clear_overrides(lake: Lake, settings: Settings, text: str) -> OverrideChange:
    """Delete every override row that reaches the activity `text` names (under any identity it
    shares with it): the next marts build shows the activity as its sources say."""
    row = resolve_part(lake, settings, text) or resolve_activity(lake, settings, text)
    mine = overrides.scan_overrides(lake, settings.athlete_id).collect()
    run = pl.LazyFrame([row], schema=activities_table.SPEC.schema)
    reached = activity_tokens(run).join(mark_tokens(mine.lazy()), on="token").select("mark_id").unique().collect()
    fields = tuple(
        c for c in ("sport", "is_race", "exclude_from_load", "distance_m")
        if mine.filter(pl.col("activity_id").is_in(reached["mark_id"].implode()))[c].is_not_null().any()
    )
    if reached.height:
        delete_rows(
            lake, overrides.SPEC,
            in_predicate("athlete_id", [settings.athlete_id]) + " AND " + in_predicate("activity_id", reached["mark_id"]),
        )
    return OverrideChange(row["activity_id"], fields, cleared=True)
