"""The public layer shows nothing private.

* `public_columns`: no public table has a column of `lake.public.FORBIDDEN_COLUMNS`
  (`athlete_id`, `activity_id`, start times, device serials, …), read from the Delta table's own
  schema, not the declared one;
* `public_athletes`: every row's `athlete` handle is a public athlete's (registry `public`; the
  default athlete is public unless RUNLAKE_ATHLETE_PUBLIC=false);
* `public_activities`: every public activity id of an athlete is the keyed HMAC (the public
  build's own `marts.public.public_id`) of one of its activities that may be published now: not
  private by Strava, a privacy mark or RUNLAKE_PRIVATE_ACTIVITIES, not deleted, from an allowed
  source (`marts.public.public_activity_ids`), after the athlete's merges and splits (a merged
  run needs each recording publishable; a split's part is its run's). An id that stands for no
  activity counts too.

The public layer follows the private tables at each `runlake marts build`: a run made private
since the last build is reported until the next build takes it out (and purges its history).
Examples name athlete ids and public ids, never handles.
"""

from __future__ import annotations

import polars as pl

from lake import activities as activities_table
from lake import privacy_marks
from lake import public as public_tables
from lake.public_id_key import read_public_id_key
from lake.storage import Lake
from lake.table import TableSpec, open_table, scan
from marts import public
from pipeline.athletes import Athlete
from pipeline.checks.finding import Finding, finding
from pipeline.steps.edits import hidden_parts, load_edits
from pipeline.steps.edits import public_ids as edited_public_ids
from runlake.settings import Settings

PUBLIC_COLUMNS = "public_columns"
PUBLIC_ATHLETES = "public_athletes"
PUBLIC_ACTIVITIES = "public_activities"

#: Columns of public tables that hold public activity ids.
ID_COLUMNS = ("public_activity_id", "basis_public_activity_id")


def public_columns(lake: Lake, spec: TableSpec) -> Finding:
    table = open_table(lake, spec)
    present = [] if table is None else [f.name for f in table.schema().fields]
    return finding(PUBLIC_COLUMNS, spec.name, public_tables.FORBIDDEN_COLUMNS.intersection(present))


def public_athletes(lake: Lake, spec: TableSpec, athletes: list[Athlete]) -> Finding:
    handles = scan(lake, spec).select("athlete").unique().collect()["athlete"].to_list()
    public_handles = {a.handle for a in athletes if a.public}
    by_handle = {a.handle: a.athlete_id for a in athletes}
    offenders = [f"rows of private athlete_id={by_handle[h]}" if h in by_handle else "rows of an unregistered handle"
                 for h in handles if h not in public_handles]
    rows = scan(lake, spec).filter(~pl.col("athlete").is_in(sorted(public_handles))).select(pl.len()).collect().item()
    return finding(PUBLIC_ATHLETES, spec.name, offenders, count=rows)


def _key(lake: Lake, settings: Settings) -> bytes | None:
    """The public-id key the build uses (pipeline.steps.build_public.public_id_key), read only."""
    salt = settings.public_id_salt.get_secret_value() if settings.public_id_salt is not None else ""
    return salt.encode("utf-8") if salt else read_public_id_key(lake)


def publishable_ids(lake: Lake, athlete: Athlete, key: bytes) -> pl.DataFrame:
    """(`public_activity_id`, `activity_id`, `publishable`) of every activity of the athlete."""
    settings = athlete.settings
    acts = scan(lake, activities_table.SPEC).filter(pl.col("athlete_id") == athlete.athlete_id).collect()
    allowed = public.public_activity_ids(
        acts.lazy(), private_ids=settings.private_activity_ids, public_sources=settings.public_source_set,
        marks=privacy_marks.scan_marks(lake, athlete.athlete_id).collect().lazy(),
    ).collect()
    # The athlete's merges and splits, as the public build applies them (pipeline.steps.edits).
    edits = load_edits(lake, athlete.athlete_id, acts.filter(~pl.col("is_deleted").fill_null(False)))
    hidden = hidden_parts(lake, athlete.athlete_id, edits, settings.private_activity_ids)
    allowed = edited_public_ids(allowed, edits, hidden)["activity_id"]
    every = acts["activity_id"].to_list() + edits.splits["edit_id"].to_list()
    return public.public_id_map(every, key).collect().with_columns(
        publishable=pl.col("activity_id").is_in(allowed.implode())
    )


def public_activities(lake: Lake, checked: list[Athlete]) -> list[Finding]:
    """One finding per public table with activity ids, over the `checked` athletes that are public."""
    mine = [a for a in checked if a.public]
    key = _key(lake, mine[0].settings) if mine else None
    maps = {a.handle: publishable_ids(lake, a, key) for a in mine} if key is not None else {}
    out = []
    for spec in public_tables.ALL:
        columns = [c for c in ID_COLUMNS if c in spec.schema]
        if not columns:
            continue
        offenders: list[str] = []
        for athlete in mine:
            shown = (
                scan(lake, spec).filter(pl.col("athlete") == athlete.handle)
                .select(pl.concat_list(columns).alias("id")).explode("id").drop_nulls().unique().collect()
            )
            if shown.is_empty():
                continue
            if athlete.handle not in maps:
                offenders.append(f"athlete_id={athlete.athlete_id}: public ids but no public-id key to verify them")
                continue
            known = shown.join(maps[athlete.handle], left_on="id", right_on="public_activity_id", how="left")
            offenders += [f"public_activity_id={r['id']}: activity_id={r['activity_id']} is not public"
                          for r in known.filter(pl.col("publishable") == False).to_dicts()]  # noqa: E712
            offenders += [f"public_activity_id={r['id']}: no activity of athlete_id={athlete.athlete_id}"
                          for r in known.filter(pl.col("activity_id").is_null()).to_dicts()]
        out.append(finding(PUBLIC_ACTIVITIES, spec.name, offenders))
    return out
