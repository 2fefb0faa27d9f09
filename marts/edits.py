"""The athlete's merges and splits of activities (`private/activity_edits`), as pure functions.

The source tables (`activities`, `laps`, `records`) keep what the sources said; a merge or a split
is applied when the marts, the public layer and the private pages derive from them, so it
survives `runlake lake rebuild`, `runlake marts build --full` and a re-sync.

* **Merge** (`runlake activity merge A B`): B is part of the same run as A (a second recording
  after the watch was restarted, or a duplicate the rules missed). The run keeps A's id; B no
  longer exists on its own. Its samples are A's, plus B's at instants outside A's time span (and
  outside any earlier-merged recording's span): a duplicate recording of the same minutes adds
  nothing, a continuation adds its whole length. Where the samples switch recording, the
  cumulative distance continues from where the previous piece ended.
* **Split** (`runlake activity split A --at T`): samples before T stay in A; from T on they form
  a new activity whose id is the split's own (`split-<12 hex>`), starting at T. With several
  splits, each part runs to the next split. A part's cumulative distance starts at 0.

An edit row finds its activity through any identity they share (activity id, Strava id, FIT file
and session: `marts.visibility`), so an edit made while a run was Strava-only still applies after
its watch file merged with it. Activity numbers of an edited activity come from its samples
(`edited_stats`): elapsed time is the sum of each piece's span, distance the sum of each piece's
distance; moving time, ascent, descent and calories are the source's, in proportion to the piece's
share of the source's span; heart rate comes from the samples. Without distance samples, a piece's
distance is the source's in proportion to its span.
"""

from __future__ import annotations

import hashlib

import polars as pl

from marts.visibility import activity_tokens, identity_tokens

MERGE, SPLIT = "merge", "split"
INTO, FROM, AT = "into", "from", "at"  # roles of an edit row

#: Columns `effective_activities` adds: null on an activity no edit touches.
ADDED = ("edited", "record_year")

#: Activity columns `edited_stats` recomputes from the samples of an edited activity.
_SCALED = ("moving_s", "ascent_m", "descent_m", "calories_kcal")


PART_PREFIX = SPLIT + ":part of "


def is_part() -> pl.Expr:
    """True on a split's new part (an `effective_activities` row), false elsewhere."""
    return pl.col("edited").str.starts_with(PART_PREFIX).fill_null(False)


def edit_id(kind: str, *parts: str) -> str:
    """A stable id for an edit from what names it (the same command twice is the same edit)."""
    return f"{kind}-" + hashlib.sha256("|".join((kind, *parts)).encode()).hexdigest()[:12]


def resolve(activities: pl.DataFrame, edits: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(merges, splits) in today's activity ids.

    merges: `edit_id`, `target_id`, `source_id` — source merged into target; an edit whose rows
    find no activity, or whose source is itself a target or merged twice, is left out.
    splits: `edit_id`, `activity_id`, `at` — the activity (after its merges) split at `at`."""
    rows = edits.with_columns(mark_id=pl.col("edit_id") + "/" + pl.col("role"))
    found = (
        activity_tokens(activities.lazy()).join(identity_tokens(rows.lazy(), "mark_id"), on="token")
        .select("mark_id", "activity_id").unique()
        .sort("activity_id").group_by("mark_id", maintain_order=True).first()
        .collect()
    )
    placed = rows.join(found.rename({"activity_id": "current_id"}), on="mark_id").sort("set_at", "edit_id")
    into = placed.filter(pl.col("role") == INTO).select("edit_id", target_id="current_id")
    merged = placed.filter(pl.col("role") == FROM).select("edit_id", source_id="current_id")
    order = placed.select("edit_id", "set_at").unique("edit_id")
    merges = into.join(merged, on="edit_id").filter(pl.col("target_id") != pl.col("source_id"))
    merges = merges.filter(~pl.col("source_id").is_in(merges["target_id"].implode()))
    merges = merges.join(order, on="edit_id").sort("set_at", "edit_id").unique("source_id", keep="first", maintain_order=True)
    merges = merges.drop("set_at")
    splits = placed.filter(pl.col("role") == AT).select("edit_id", activity_id="current_id", at="split_at")
    splits = splits.filter(~pl.col("activity_id").is_in(merges["source_id"].implode())).drop_nulls("at")
    return merges.sort("target_id", "source_id"), splits.unique(["activity_id", "at"], keep="first").sort("activity_id", "at")


def row_digests(frame: pl.DataFrame) -> pl.Series:
    """A short sha1 of each row's text (every column): part of a merged run's `edited`, so a
    change to a merged recording (a re-sync, a new file) changes the run's fingerprints."""
    cols = sorted(frame.columns)
    texts = frame.select(pl.concat_str([pl.col(c).cast(pl.String).fill_null("∅") for c in cols], separator="|")).to_series()
    return pl.Series([hashlib.sha1(t.encode()).hexdigest()[:12] for t in texts], dtype=pl.String)


def effective_activities(activities: pl.DataFrame, merges: pl.DataFrame, splits: pl.DataFrame) -> pl.DataFrame:
    """The activities as the athlete edited them: merge sources gone, split parts added.

    A merged or split activity gets `edited` (what was done, e.g. "merge:b1#<digest>,b2#<digest>"
    or "split:…", part of its fingerprints; the digests follow the merged recordings' rows) and
    `record_year` (the `records` partition holding its samples: its first source's); both are
    null elsewhere. A split part copies its activity's row with the
    part's id and start; numbers that need the samples are set by `edited_stats`. Parts keep
    the activity's identities, so its privacy marks and Strava private flag reach them."""
    out = activities.with_columns(edited=pl.lit(None, pl.String), record_year=pl.lit(None, pl.Int32))
    if merges.is_empty() and splits.is_empty():
        return out
    year = pl.col("start_time").dt.year().cast(pl.Int32)
    if merges.height:
        starts = out.select("activity_id", "start_time", _digest=row_digests(out))
        groups = (
            merges.join(starts.rename({"activity_id": "source_id", "start_time": "source_start"}), on="source_id")
            .sort("target_id", "source_id")
            .group_by("target_id", maintain_order=True)
            .agg((pl.col("source_id") + "#" + pl.col("_digest")).str.join(",").alias("_sources"),
                 pl.col("source_start").min().alias("_first"))
            .rename({"target_id": "activity_id"})
        )
        out = (
            out.filter(~pl.col("activity_id").is_in(merges["source_id"].implode()))
            .join(groups, on="activity_id", how="left")
            .with_columns(
                record_year=pl.when(pl.col("_sources").is_not_null()).then(year),
                edited=pl.when(pl.col("_sources").is_not_null()).then(pl.lit(MERGE + ":") + pl.col("_sources")),
                start_time=pl.min_horizontal("start_time", "_first"),
            )
            .drop("_sources", "_first")
        )
    if splits.height:
        cuts = (
            splits.sort("activity_id", "at")
            .group_by("activity_id", maintain_order=True)
            .agg(pl.col("at").dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ").str.join(",").alias("_cuts"))
        )
        out = out.join(cuts, on="activity_id", how="left").with_columns(
            record_year=pl.when(pl.col("_cuts").is_not_null()).then(pl.coalesce("record_year", year)).otherwise("record_year"),
            edited=pl.when(pl.col("_cuts").is_not_null())
            .then(pl.concat_str([pl.col("edited"), pl.lit(SPLIT + ":") + pl.col("_cuts")], separator=";", ignore_nulls=True))
            .otherwise("edited"),
        ).drop("_cuts")
        parents = out.join(splits.select("activity_id"), on="activity_id", how="semi")
        parts = (
            splits.join(parents, on="activity_id")
            .with_columns(
                activity_id=pl.col("edit_id"),
                start_time=pl.col("at"),
                edited=pl.lit(PART_PREFIX) + pl.col("activity_id"),
                name=pl.concat_str([pl.col("name"), pl.lit("(part)")], separator=" ", ignore_nulls=True),
            )
            .select(out.columns)
        )
        out = pl.concat([out, parts])
    return out


def with_edit_names(activities: pl.DataFrame) -> pl.DataFrame:
    """`corrected_fields` (marts/overrides.py) naming the edits too: `merged` on a merged
    activity, `split` on a split one and its parts."""
    names = pl.concat_str(
        [pl.when(pl.col("edited").str.contains(MERGE + ":")).then(pl.lit("merged")),
         pl.when(pl.col("edited").str.contains(SPLIT + ":")).then(pl.lit("split"))],
        separator=",", ignore_nulls=True,
    )
    listed = pl.concat_str([pl.col("corrected_fields"), pl.when(names != "").then(names)], separator=",", ignore_nulls=True)
    return activities.with_columns(corrected_fields=pl.when(listed != "").then(listed))


def plan(activities: pl.DataFrame, merges: pl.DataFrame, splits: pl.DataFrame) -> pl.DataFrame:
    """Which source activity's samples feed which edited activity: `source_id`, `target_id`,
    `rank` (0 the target's own, then merged sources in order), the source's `source_start` and
    `source_end` (start + elapsed, from its `activities` row), the edited activity's
    `target_start` (its earliest source's start), `cuts` (the split instants of the target,
    sorted) and `parts` (the part ids, one per cut)."""
    own = pl.concat([merges.select("target_id"), splits.select(target_id="activity_id")]).unique()
    rows = pl.concat([
        own.with_columns(source_id=pl.col("target_id"), rank=pl.lit(0, pl.Int32)),
        merges.sort("target_id", "source_id").select(
            "target_id", "source_id", rank=(pl.col("source_id").cum_count().over("target_id")).cast(pl.Int32)
        ),
    ])
    spans = activities.select(
        source_id="activity_id", source_start="start_time",
        source_end=pl.col("start_time") + pl.duration(microseconds=(pl.col("elapsed_s").fill_null(0.0) * 1e6).cast(pl.Int64)),
    )
    rows = rows.join(spans, on="source_id", how="left").with_columns(
        target_start=pl.col("source_start").min().over("target_id")
    )
    cuts = splits.sort("activity_id", "at").group_by("activity_id", maintain_order=True).agg(
        cuts=pl.col("at"), parts=pl.col("edit_id")
    ).rename({"activity_id": "target_id"})
    return rows.join(cuts, on="target_id", how="left").sort("target_id", "rank")


def effective_records(records: pl.DataFrame, the_plan: pl.DataFrame) -> pl.DataFrame:
    """`records` with the edits applied: samples of edited activities re-keyed (merged sources'
    samples outside earlier pieces' spans joined to their target, distances continued; split
    samples moved to their part, distances from 0), `seq` renumbered in time order for edited
    activities. Samples of other activities pass through unchanged (same rows, same order).
    `source_activity_id` names each sample's source activity (the activity's own id elsewhere).
    Samples of merge sources must be in `records` with their target's (same partition)."""
    plain = records.filter(~pl.col("activity_id").is_in(the_plan["source_id"].implode()))
    plain = plain.with_columns(source_activity_id=pl.col("activity_id"))
    if the_plan.is_empty():
        return plain
    edited = records.join(the_plan.select("source_id", "target_id", "rank"), left_on="activity_id", right_on="source_id")
    spans = edited.group_by("target_id", "rank").agg(
        pl.col("timestamp").min().alias("_lo"), pl.col("timestamp").max().alias("_hi")
    )
    # A sample of piece `rank` is kept unless an earlier piece of its target covers its instant.
    earlier = edited.select("target_id", "rank", "seq", "activity_id", "timestamp").join(
        spans.rename({"rank": "_rank"}), on="target_id"
    ).filter((pl.col("_rank") < pl.col("rank")) & (pl.col("timestamp") >= pl.col("_lo")) & (pl.col("timestamp") <= pl.col("_hi")))
    edited = edited.join(earlier.select("activity_id", "seq").unique(), on=["activity_id", "seq"], how="anti")
    edited = edited.sort("target_id", "timestamp", "rank", "seq")
    # Pieces: runs of consecutive samples from one source; each continues the previous one's distance.
    edited = edited.with_columns(
        _piece=(pl.col("rank") != pl.col("rank").shift(1)).fill_null(True).cum_sum().over("target_id"),
    )
    pieces = edited.group_by("target_id", "_piece").agg(
        pl.col("distance_m").drop_nulls().first().alias("_first"), pl.col("distance_m").drop_nulls().last().alias("_last")
    ).sort("target_id", "_piece")
    gained = (pl.col("_last") - pl.col("_first")).fill_null(0.0)
    pieces = pieces.with_columns(
        _end=pl.col("_last").first().over("target_id").fill_null(0.0)
        + pl.when(pl.col("_piece") > 1).then(gained).otherwise(0.0).cum_sum().over("target_id"),
    ).with_columns(
        _offset=pl.when(pl.col("_piece") == 1).then(0.0).otherwise(pl.col("_end") - gained - pl.col("_first").fill_null(0.0)),
    )
    edited = edited.join(pieces.select("target_id", "_piece", "_offset"), on=["target_id", "_piece"]).sort(
        "target_id", "timestamp", "rank", "seq"
    )
    edited = edited.with_columns(
        source_activity_id=pl.col("activity_id"),
        distance_m=pl.col("distance_m") + pl.col("_offset"),
        activity_id=pl.col("target_id"),
    )
    edited = _split(edited, the_plan)
    edited = edited.sort("activity_id", "timestamp", "rank", "seq").with_columns(
        seq=pl.int_range(pl.len(), dtype=pl.Int32).over("activity_id")
    )
    return pl.concat([plain, edited.select(plain.columns)])


def _split(edited: pl.DataFrame, the_plan: pl.DataFrame) -> pl.DataFrame:
    """Samples at or after a split instant moved to that split's part; each part's distance from 0."""
    cuts = the_plan.filter(pl.col("rank") == 0).drop_nulls("cuts").select("target_id", "cuts", "parts")
    if cuts.is_empty():
        return edited
    bounds = cuts.explode("cuts", "parts").rename({"cuts": "_at", "parts": "_part"})
    after = (
        edited.select("target_id", "source_activity_id", "seq", "timestamp")
        .join(bounds, on="target_id")
        .filter(pl.col("timestamp") >= pl.col("_at"))
        .sort("_at")
        .group_by("source_activity_id", "seq")
        .agg(pl.col("_part").last())
    )
    moved = (
        edited.join(after, on=["source_activity_id", "seq"], how="left")
        .with_columns(activity_id=pl.coalesce("_part", "activity_id"))
        .sort("activity_id", "timestamp", "rank", "seq")  # the part's first distance is its first sample's
    )
    base = pl.col("distance_m").drop_nulls().first().over("activity_id")
    return moved.with_columns(
        distance_m=pl.when(pl.col("_part").is_not_null()).then(pl.col("distance_m") - base).otherwise("distance_m")
    ).drop("_part")


def effective_laps(laps: pl.DataFrame, the_plan: pl.DataFrame) -> pl.DataFrame:
    """`laps` with the edits applied: a merged recording's laps join their target, except those
    starting inside an earlier recording's span (start to start + elapsed: a duplicate adds no
    laps, as it adds no samples); a split's laps go to the part their start falls in;
    `lap_index` renumbered in start order and `start_offset_s` counted from the edited
    activity's start (the earliest recording's, or the part's split instant)."""
    plain = laps.filter(~pl.col("activity_id").is_in(the_plan["source_id"].implode()))
    if the_plan.is_empty():
        return plain
    edited = laps.join(
        the_plan.select("source_id", "target_id", "rank", "target_start", "cuts", "parts"), left_on="activity_id", right_on="source_id"
    )
    earlier = (
        edited.select("target_id", "rank", "lap_index", "start_time")
        .join(the_plan.select("target_id", _rank="rank", _lo="source_start", _hi="source_end"), on="target_id")
        .filter((pl.col("_rank") < pl.col("rank")) & (pl.col("start_time") >= pl.col("_lo")) & (pl.col("start_time") <= pl.col("_hi")))
        .select("target_id", "rank", "lap_index").unique()
    )
    edited = edited.join(earlier, on=["target_id", "rank", "lap_index"], how="anti").with_columns(
        activity_id=pl.col("target_id"), _start=pl.col("target_start")
    )
    if edited.height and edited["cuts"].drop_nulls().len():
        bounds = edited.select("target_id", "rank", "lap_index", "start_time", "cuts", "parts").explode("cuts", "parts")
        after = (
            bounds.filter(pl.col("start_time") >= pl.col("cuts")).sort("cuts")
            .group_by("target_id", "rank", "lap_index").agg(pl.col("parts").last().alias("_part"), pl.col("cuts").last().alias("_cut"))
        )
        edited = edited.join(after, on=["target_id", "rank", "lap_index"], how="left").with_columns(
            activity_id=pl.coalesce("_part", "activity_id"), _start=pl.coalesce("_cut", "_start")
        )
    edited = edited.sort("activity_id", "start_time", "rank", "lap_index").with_columns(
        lap_index=pl.int_range(pl.len(), dtype=pl.Int32).over("activity_id"),
        start_offset_s=(pl.col("start_time") - pl.col("_start")).dt.total_microseconds() / 1e6,
    )
    return pl.concat([plain, edited.select(plain.columns)])


def edited_stats(activities: pl.DataFrame, records: pl.DataFrame, originals: pl.DataFrame) -> pl.DataFrame:
    """`activities` with the numbers of edited rows (`edited` not null) recomputed from their
    effective samples (`effective_records` output, `source_activity_id` included); `originals`:
    the source activity rows (for their moving time, ascent, descent, calories and span)."""
    todo = activities.filter(pl.col("edited").is_not_null())
    if todo.is_empty():
        return activities
    src = originals.select(
        pl.col("activity_id").alias("source_activity_id"), pl.col("elapsed_s").alias("_src_elapsed"),
        pl.col("distance_m").alias("_src_distance"), *[pl.col(c).alias(f"_src_{c}") for c in _SCALED],
    )
    mine = records.join(todo.select("activity_id"), on="activity_id", how="semi").sort("activity_id", "seq")
    mine = mine.with_columns(
        _piece=(pl.col("source_activity_id") != pl.col("source_activity_id").shift(1)).fill_null(True).cum_sum().over("activity_id")
    )
    pieces = (
        mine.group_by("activity_id", "_piece", "source_activity_id")
        .agg(
            span=(pl.col("timestamp").max() - pl.col("timestamp").min()).dt.total_microseconds() / 1e6,
            dist=pl.col("distance_m").drop_nulls().last() - pl.col("distance_m").drop_nulls().first(),
        )
        .join(src, on="source_activity_id", how="left")
        .with_columns(share=pl.when(pl.col("_src_elapsed") > 0).then(pl.col("span") / pl.col("_src_elapsed")).otherwise(1.0).clip(0.0, 1.0))
        .with_columns(dist=pl.coalesce("dist", pl.col("_src_distance") * pl.col("share")))
    )
    stats = pieces.group_by("activity_id").agg(
        elapsed_s=pl.col("span").sum(),
        distance_m=pl.col("dist").sum(),
        *[pl.when(pl.col(f"_src_{c}").is_not_null().any()).then((pl.col(f"_src_{c}") * pl.col("share")).sum()).alias(c)
          for c in _SCALED],
    )
    numbers = ("elapsed_s", "distance_m", *_SCALED)
    updated = (
        todo.drop(numbers)
        .join(stats, on="activity_id", how="left")
        .with_columns(avg_hr_bpm=pl.lit(None, pl.Float64), max_hr_bpm=pl.lit(None, pl.Float64))
        .select(activities.columns)
    )
    return pl.concat([activities.filter(pl.col("edited").is_null()), updated]).sort("activity_id")
