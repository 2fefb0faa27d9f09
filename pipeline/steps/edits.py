"""The athlete's merges and splits (`private/activity_edits`, marts/edits.py): recording them
(`runlake activity merge|split`) and loading them for what derives from the lake.

`load_edits` is the one place the marts build, the public layer and `lake check` get the
activities as the athlete edited them, so all three agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from lake import activities as activities_table
from lake import activity_edits, overrides, privacy_marks
from lake import records as records_table
from lake.storage import Lake
from lake.table import delete_rows, in_predicate, scan, upsert
from marts import edits
from marts.activity import with_local_date
from marts.overrides import apply_overrides
from marts.visibility import activity_tokens, identity_tokens
from pipeline.steps.visibility import resolve_activity
from runlake.errors import RunlakeError
from runlake.settings import Settings

_IDENTITY = ("activity_id", "strava_id", "fit_sha256", "session_index")


@dataclass(frozen=True)
class Edits:
    """An athlete's edits resolved against the live activities (marts/edits.py)."""

    merges: pl.DataFrame  # edit_id, target_id, source_id
    splits: pl.DataFrame  # edit_id, activity_id, at
    plan: pl.DataFrame  # marts.edits.plan
    originals: pl.DataFrame  # the source activity rows the plan reads

    @property
    def empty(self) -> bool:
        return self.plan.is_empty()

    def sources_of(self, activity_ids) -> list[str]:
        """Source activities whose samples the given (edited) activities need."""
        wanted = set(activity_ids)
        if self.empty or not wanted:
            return []
        parts = self.plan.select("target_id", "parts").explode("parts").drop_nulls()
        targets = wanted | set(parts.filter(pl.col("parts").is_in(list(wanted)))["target_id"])
        return sorted(set(self.plan.filter(pl.col("target_id").is_in(list(targets)))["source_id"]))

    def records(self, records: pl.DataFrame) -> pl.DataFrame:
        """`marts.edits.effective_records` without the `source_activity_id` column."""
        if self.empty:
            return records
        return edits.effective_records(records, self.plan).drop("source_activity_id")


def load_edits(lake: Lake, athlete_id: str, activities: pl.DataFrame) -> Edits:
    """The athlete's edits, resolved against `activities` (the live source rows)."""
    rows = activity_edits.scan_edits(lake, athlete_id).collect()
    if rows.is_empty():
        merges = pl.DataFrame(schema={"edit_id": pl.String, "target_id": pl.String, "source_id": pl.String})
        splits = pl.DataFrame(schema={"edit_id": pl.String, "activity_id": pl.String, "at": pl.Datetime("us", "UTC")})
    else:
        merges, splits = edits.resolve(activities, rows)
    the_plan = edits.plan(activities, merges, splits) if merges.height or splits.height else pl.DataFrame(
        schema={"target_id": pl.String, "source_id": pl.String, "rank": pl.Int32}
    )
    originals = activities.filter(pl.col("activity_id").is_in(the_plan["source_id"].implode()))
    return Edits(merges, splits, the_plan, originals)


def corrected_activities(lake: Lake, athlete_id: str) -> tuple[pl.DataFrame, Edits]:
    """The athlete's live activities (those with a start) as the athlete edited and corrected
    them — merges and splits (`edited_activities`), then `private/overrides` — with their local
    `date` and `corrected_fields` naming the edits too; and the edits. What the marts build,
    `runlake lake check` and `runlake gear list` read, so they agree."""
    live = scan(lake, activities_table.SPEC).filter(
        (pl.col("athlete_id") == athlete_id) & ~pl.col("is_deleted").fill_null(False) & pl.col("start_time").is_not_null()
    ).collect()
    loaded = load_edits(lake, athlete_id, live)
    acts = with_local_date(edited_activities(lake, athlete_id, live, loaded).lazy()).collect()
    acts = apply_overrides(acts, overrides.scan_overrides(lake, athlete_id).collect())
    return edits.with_edit_names(acts), loaded


def edited_activities(lake: Lake, athlete_id: str, live: pl.DataFrame, loaded: Edits) -> pl.DataFrame:
    """`live` (the athlete's live source rows) as edited (`marts.edits.effective_activities`),
    with the numbers of merged and split activities from their samples (`edited_stats`; only
    the edited activities' samples are read). `edited` and `record_year` are null elsewhere."""
    out = edits.effective_activities(live, loaded.merges, loaded.splits)
    if loaded.empty:
        return out
    years = loaded.originals["start_time"].dt.year().unique().cast(pl.Int32).implode()
    samples = (
        scan(lake, records_table.SPEC)
        .filter((pl.col("athlete_id") == athlete_id) & pl.col("year").is_in(years)
                & pl.col("activity_id").is_in(loaded.plan["source_id"].unique().implode()))
        .select("activity_id", "seq", "timestamp", "distance_m")
        .collect()
    )
    return edits.edited_stats(out, edits.effective_records(samples, loaded.plan), loaded.originals)


def public_ids(public: pl.DataFrame, loaded: Edits, hidden: set[str] = frozenset()) -> pl.DataFrame:
    """The publishable ids after the edits (one column `activity_id`), from those before: a merged
    activity only when every recording in it is publishable, a split part when its activity is
    and the part itself is not `hidden` (`hidden_parts`)."""
    ok = set(public["activity_id"])
    if loaded.empty:
        return public
    blocked = set(loaded.plan.filter(~pl.col("source_id").is_in(list(ok)))["target_id"])
    merged_away = set(loaded.merges["source_id"])
    keep = (ok - merged_away) - blocked
    parts = set(loaded.splits.filter(pl.col("activity_id").is_in(list(keep)))["edit_id"]) - set(hidden)
    return pl.DataFrame({"activity_id": sorted(keep | parts)}, schema={"activity_id": pl.String})


def hidden_parts(lake: Lake, athlete_id: str, loaded: Edits, private_entries) -> set[str]:
    """Split parts kept off the public layer on their own: named by a RUNLAKE_PRIVATE_ACTIVITIES
    entry, or whose own latest privacy mark (`runlake activity set split-… --private`) is
    private. (A part also follows its activity: `public_ids`.)"""
    parts = set(loaded.splits["edit_id"])
    if not parts:
        return set()
    named = {e.strip().lower() for e in private_entries} & parts
    own = (
        privacy_marks.scan_marks(lake, athlete_id).filter(pl.col("activity_id").is_in(sorted(parts))).collect()
        .sort("marked_at", "is_private").group_by("activity_id").agg(pl.col("is_private").last())
    )
    return named | set(own.filter(pl.col("is_private"))["activity_id"])


def _identity(row: dict) -> dict:
    return {c: row[c] for c in _IDENTITY}


@dataclass(frozen=True)
class EditChange:
    text: str

    def summary(self) -> str:
        return f"{self.text}; the marts and the public layer follow at the next `runlake marts build`"


def _live(lake: Lake, athlete_id: str) -> pl.DataFrame:
    return scan(lake, activities_table.SPEC).filter(
        (pl.col("athlete_id") == athlete_id) & ~pl.col("is_deleted").fill_null(False)
    ).collect()


def _span(lake: Lake, athlete_id: str, row: dict) -> tuple[dt.datetime, dt.datetime] | None:
    """First and last sample instants of an activity (None without samples)."""
    year = row["start_time"].year
    span = (
        scan(lake, records_table.SPEC)
        .filter((pl.col("athlete_id") == athlete_id) & (pl.col("year") == year) & (pl.col("activity_id") == row["activity_id"]))
        .select(pl.col("timestamp").min().alias("lo"), pl.col("timestamp").max().alias("hi"))
        .collect()
    )
    lo, hi = span["lo"][0], span["hi"][0]
    return None if lo is None else (lo, hi)


def _refuse_deleted(row: dict) -> None:
    if row.get("is_deleted"):
        raise RunlakeError(f"activity {row['activity_id']} was deleted (on Strava): there is nothing to merge or split")


def merge_activities(lake: Lake, settings: Settings, into: str, other: str, *, now: dt.datetime | None = None) -> EditChange:
    """Record that `other` is part of the run `into` (see marts/edits.py)."""
    athlete = settings.athlete_id
    a, b = resolve_activity(lake, settings, into), resolve_activity(lake, settings, other)
    for row in (a, b):
        _refuse_deleted(row)
    if a["activity_id"] == b["activity_id"]:
        raise RunlakeError(f"{into.strip()!r} and {other.strip()!r} are the same activity")
    if a["start_time"].year != b["start_time"].year:
        raise RunlakeError(
            f"activities {a['activity_id']} and {b['activity_id']} start in different years (UTC): runlake cannot merge them"
        )
    current = load_edits(lake, athlete, _live(lake, athlete))
    merged_into = dict(current.merges.select("source_id", "target_id").iter_rows())
    for row in (a, b):
        if row["activity_id"] in merged_into:
            raise RunlakeError(
                f"activity {row['activity_id']} is already merged into {merged_into[row['activity_id']]}: merge with that one"
            )
    if b["activity_id"] in set(current.merges["target_id"]):
        raise RunlakeError(f"activity {b['activity_id']} has activities merged into it: merge into it instead")
    if b["activity_id"] in set(current.splits["activity_id"]):
        raise RunlakeError(f"activity {b['activity_id']} is split: undo its split first (`runlake activity set {b['activity_id']} --clear-corrections`)")
    for row in (a, b):
        if _span(lake, athlete, row) is None:
            raise RunlakeError(f"activity {row['activity_id']} has no samples to merge")
    eid = edits.edit_id(edits.MERGE, athlete, a["activity_id"], b["activity_id"])
    at = now or dt.datetime.now(dt.UTC)
    rows = [
        {"athlete_id": athlete, "edit_id": eid, "role": role, "kind": edits.MERGE, **_identity(row), "split_at": None, "set_at": at}
        for role, row in ((edits.INTO, a), (edits.FROM, b))
    ]
    upsert(lake, activity_edits.SPEC, pl.DataFrame(rows, schema=activity_edits.SPEC.schema))
    return EditChange(f"activity {b['activity_id']} merged into {a['activity_id']}")


def split_time(text: str, row: dict) -> dt.datetime:
    """`--at` as an instant: an ISO 8601 date-time with an offset (`2026-03-01T07:42:10+01:00`,
    `…Z`), without one (the activity's local time), a time of day `HH:MM[:SS]` (local, on the
    activity's local start date, or the day after when that is before the start), or the time
    into the activity from its start: `+SECONDS`, `+MM:SS`, `+HH:MM:SS`."""
    offset = dt.timedelta(seconds=row["utc_offset_s"] or 0)
    zone = dt.timezone(offset)
    local_start = row["start_time"].astimezone(zone)
    clean = text.strip()
    if clean.startswith("+"):  # time into the activity: +SECONDS, +MM:SS or +HH:MM:SS
        parts = clean[1:].split(":")
        if 1 <= len(parts) <= 3 and all(p.replace(".", "", 1).isdigit() for p in parts):
            seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(parts)))
            return row["start_time"] + dt.timedelta(seconds=seconds)
        raise RunlakeError(f"--at {clean!r}: after '+' give the time into the activity (+1500, +25:00 or +1:05:00)")
    try:
        if len(clean) <= 8 and ":" in clean:
            clock = dt.time.fromisoformat(clean)
            at = dt.datetime.combine(local_start.date(), clock, tzinfo=zone)
            return at + dt.timedelta(days=1) if at < local_start else at
        at = dt.datetime.fromisoformat(clean.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise RunlakeError(
            f"--at {clean!r}: give a date-time (2026-03-01T07:42:10, with or without an offset), a time of day (07:42:10) "
            "or the time into the activity (+25:00)"
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)


def split_activity(lake: Lake, settings: Settings, text: str, at_text: str, *, now: dt.datetime | None = None) -> EditChange:
    """Record a split of the activity `text` names at `at_text` (`split_time`; stored in UTC)."""
    athlete = settings.athlete_id
    row = resolve_activity(lake, settings, text)
    _refuse_deleted(row)
    current = load_edits(lake, athlete, _live(lake, athlete))
    if row["activity_id"] in set(current.merges["source_id"]):
        raise RunlakeError(f"activity {row['activity_id']} is merged into another: split that one")
    merged = current.originals.filter(
        pl.col("activity_id").is_in(current.merges.filter(pl.col("target_id") == row["activity_id"])["source_id"].implode())
    ).to_dicts()
    # A merged run starts with its earliest recording: `+25:00` and a time of day count from there.
    at = split_time(at_text, {**row, "start_time": min(r["start_time"] for r in [row, *merged])})
    at_utc = at.astimezone(dt.UTC)
    spans = [_span(lake, athlete, r) for r in [row, *merged]]
    spans = [s for s in spans if s is not None]
    if not spans:
        raise RunlakeError(f"activity {row['activity_id']} has no samples to split")
    lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
    if not lo < at_utc <= hi:
        raise RunlakeError(
            f"--at {at_utc:%Y-%m-%dT%H:%M:%SZ} is not inside activity {row['activity_id']} "
            f"({lo:%Y-%m-%dT%H:%M:%SZ} to {hi:%Y-%m-%dT%H:%M:%SZ})"
        )
    eid = edits.edit_id(edits.SPLIT, athlete, row["activity_id"], at_utc.isoformat())
    new = {"athlete_id": athlete, "edit_id": eid, "role": edits.AT, "kind": edits.SPLIT, **_identity(row),
           "split_at": at_utc, "set_at": now or dt.datetime.now(dt.UTC)}
    upsert(lake, activity_edits.SPEC, pl.DataFrame([new], schema=activity_edits.SPEC.schema))
    return EditChange(f"activity {row['activity_id']} split at {at_utc:%Y-%m-%dT%H:%M:%SZ}: the part from then on is {eid}")


def resolve_part(lake: Lake, settings: Settings, text: str) -> dict | None:
    """The split part `text` names (its id, `split-<12 hex>`) as an activity reference with only
    its id (a part is corrected under its own id, marts/overrides.py); None when it names none."""
    clean = text.strip().lower()
    if not clean.startswith(edits.SPLIT + "-"):
        return None
    found = activity_edits.scan_edits(lake, settings.athlete_id).filter(pl.col("edit_id") == clean).collect()
    if found.is_empty():
        return None
    return {"activity_id": clean, "strava_id": None, "fit_sha256": None, "session_index": None}


def clear_edits(lake: Lake, settings: Settings, text: str) -> EditChange:
    """Delete every merge and split that reaches the activity `text` names (under any identity),
    or the split whose part `text` is: the activity is as its sources say again."""
    athlete = settings.athlete_id
    mine = activity_edits.scan_edits(lake, athlete).collect()
    part = resolve_part(lake, settings, text)
    if part is not None:
        reached, name = pl.Series([part["activity_id"]]), part["activity_id"]
    else:
        row = resolve_activity(lake, settings, text)
        run = pl.LazyFrame([_identity(row)])
        reached = activity_tokens(run).join(identity_tokens(mine.lazy(), "edit_id"), on="token").collect()["edit_id"].unique()
        name = row["activity_id"]
    if reached.len():
        delete_rows(lake, activity_edits.SPEC, in_predicate("athlete_id", [athlete]) + " AND " + in_predicate("edit_id", reached))
    return EditChange(f"activity {name}: {reached.len()} merge(s) and split(s) forgotten")
