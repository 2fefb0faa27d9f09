"""Which runs are private, as pure functions: activity references, privacy marks, decisions.

A run is known by several identities over its life: `strava-<id>` while only Strava has it, the
FIT-derived `activity_id` once its watch file arrives (with the Strava id on the merged row), the
FIT id alone after it is deleted on Strava. Each identity is a *token*: `id:<activity_id>`,
`strava:<strava id>`, `fit:<sha256>:<session>`. An activity row, a privacy mark
(`private/privacy_marks`) and a `RUNLAKE_PRIVATE_ACTIVITIES` entry each give tokens; sharing one
means "the same run". A mark also links its tokens together, so an entry `strava-42` still finds
the run after Strava 42 was deleted and the row lost its Strava id (one hop through the marks).

The decision about a run is its latest mark (`marked_at`; on a tie, private wins). docs/privacy.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

_STRAVA_URL = re.compile(r"^(?:https?://)?(?:www\.)?strava\.com/activities/(\d+)(?:[/?#].*)?$", re.IGNORECASE)
_STRAVA_ID = re.compile(r"^strava-(\d+)$", re.IGNORECASE)
_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class ActivityRef:
    """One way of naming a run: `text` as the athlete wrote it, and what it may match."""

    text: str
    activity_id: str | None = None  # lower case
    strava_id: int | None = None

    def tokens(self) -> list[str]:
        out = []
        if self.strava_id is not None:
            out += [f"strava:{self.strava_id}", f"id:strava-{self.strava_id}"]
        if self.activity_id is not None:
            out.append(f"id:{self.activity_id}")
        return out


def parse_activity_ref(text: str) -> ActivityRef:
    """An activity id, a Strava id (`strava-<id>`, bare digits) or a Strava activity URL.

    Case and surrounding whitespace do not matter. A bare number may be either a Strava id or an
    activity id, so it matches both.
    """
    clean = text.strip()
    lowered = clean.lower()
    if match := _STRAVA_URL.match(clean) or _STRAVA_ID.match(clean):
        return ActivityRef(clean, strava_id=int(match.group(1)))
    if _DIGITS.match(clean):
        return ActivityRef(clean, activity_id=lowered, strava_id=int(clean))
    return ActivityRef(clean, activity_id=lowered)


def parse_private_entries(entries: Iterable[str]) -> tuple[ActivityRef, ...]:
    """`RUNLAKE_PRIVATE_ACTIVITIES` entries as references, blanks dropped, in the order given."""
    return tuple(parse_activity_ref(e) for e in entries if e.strip())


def _tokens(frame: pl.LazyFrame, id_column: str, owner: str) -> pl.LazyFrame:
    """(`owner`, `token`) for rows carrying activity_id/strava_id/fit_sha256/session_index."""
    return (
        frame.select(
            pl.col(id_column).alias(owner),
            pl.concat_list(
                pl.lit("id:") + pl.col("activity_id").str.to_lowercase(),
                pl.lit("strava:") + pl.col("strava_id").cast(pl.String),
                pl.lit("fit:") + pl.col("fit_sha256").str.to_lowercase() + pl.lit(":")
                + pl.col("session_index").cast(pl.String),
            ).list.drop_nulls().alias("token"),
        )
        .explode("token")
        .drop_nulls("token")
        .unique()
    )


def activity_tokens(activities: pl.LazyFrame) -> pl.LazyFrame:
    """(`activity_id`, `token`): every identity of every activity row."""
    return _tokens(activities, "activity_id", "activity_id")


def mark_tokens(marks: pl.LazyFrame) -> pl.LazyFrame:
    """(`mark_id`, `token`): every identity a mark remembers (`mark_id` = its `activity_id`)."""
    return _tokens(marks, "activity_id", "mark_id")


def identity_tokens(rows: pl.LazyFrame, owner: str) -> pl.LazyFrame:
    """(`owner`, `token`): every identity rows remember (activity_id/strava_id/fit_sha256/session_index),
    owned by their `owner` column (e.g. an edit's row id)."""
    return _tokens(rows, owner, owner)


def ref_tokens(refs: Iterable[ActivityRef]) -> pl.LazyFrame:
    rows = [(r.text, t) for r in refs for t in r.tokens()]
    return pl.LazyFrame(rows, schema={"entry": pl.String, "token": pl.String}, orient="row")


def matched_activities(refs: Iterable[ActivityRef], activities: pl.LazyFrame, marks: pl.LazyFrame) -> pl.LazyFrame:
    """(`entry`, `activity_id`): the activities each reference names, directly or through a mark
    that shares an identity with both (the run it named has since changed identity)."""
    refs_t = ref_tokens(refs)
    acts_t = activity_tokens(activities)
    marks_t = mark_tokens(marks)
    direct = refs_t.join(acts_t, on="token").select("entry", "activity_id")
    via_marks = (
        refs_t.join(marks_t, on="token").select("entry", "mark_id").unique()
        .join(marks_t, on="mark_id").join(acts_t, on="token").select("entry", "activity_id")
    )
    return pl.concat([direct, via_marks]).unique()


def unmatched_entries(refs: Iterable[ActivityRef], activities: pl.LazyFrame, marks: pl.LazyFrame) -> list[str]:
    """Entries (as written) that name no activity, in the order given."""
    refs = list(refs)
    found = set(matched_activities(refs, activities, marks).collect()["entry"])
    return [r.text for r in refs if r.text not in found]


def mark_decisions(activities: pl.LazyFrame, marks: pl.LazyFrame) -> pl.LazyFrame:
    """(`activity_id`, `decided_private`, `decided_reason`, `decided_at`): the latest mark sharing an
    identity with each activity (on a tie, a private one). Activities without a mark are absent."""
    covering = activity_tokens(activities).join(mark_tokens(marks), on="token").select("activity_id", "mark_id").unique()
    return (
        covering.join(marks.select(pl.col("activity_id").alias("mark_id"), "is_private", "reason", "marked_at"), on="mark_id")
        .sort("marked_at", "is_private", "mark_id")
        .group_by("activity_id")
        .agg(
            pl.col("is_private").last().alias("decided_private"),
            pl.col("reason").last().alias("decided_reason"),
            pl.col("marked_at").last().alias("decided_at"),
        )
    )


def listed_activity_ids(refs: Iterable[ActivityRef], activities: pl.LazyFrame, marks: pl.LazyFrame) -> pl.LazyFrame:
    """(`activity_id`, `listed`=True) for activities named by a reference."""
    return matched_activities(refs, activities, marks).select("activity_id").unique().with_columns(listed=pl.lit(True))


_IDENTITY = ("strava_id", "fit_sha256", "session_index")


def privacy_state(activities: pl.LazyFrame, marks: pl.LazyFrame, refs: Iterable[ActivityRef]) -> pl.LazyFrame:
    """Each activity's identity with its private signals now: `flagged` (Strava's private flag),
    `listed` (named by a RUNLAKE_PRIVATE_ACTIVITIES entry), the marks' decision, and `private`."""
    return (
        activities.select("activity_id", *_IDENTITY, flagged=pl.col("is_private").fill_null(False))
        .join(listed_activity_ids(refs, activities, marks), on="activity_id", how="left")
        .join(mark_decisions(activities, marks), on="activity_id", how="left")
        .with_columns(pl.col("listed").fill_null(False))
        .with_columns(private=pl.col("flagged") | pl.col("listed") | pl.col("decided_private").fill_null(False))
    )


def marks_to_record(
    activities: pl.LazyFrame, marks: pl.LazyFrame, refs: Iterable[ActivityRef], *, athlete_id: str, now: dt.datetime
) -> pl.LazyFrame:
    """The marks to merge so that every run private now stays private (`private/privacy_marks` rows).

    * A run flagged private on Strava or listed in RUNLAKE_PRIVATE_ACTIVITIES whose decision is not
      already private gets a private mark at `now` (a signal seen after a publication wins).
    * A run private only through a mark under another identity (a Strava-only run merged with its
      watch file) gets its own mark, with the decision's reason and time, carrying the identities
      it is known by now.
    * A run's own mark gains identities it did not have (a Strava id learnt at a merge) and keeps
      those it had (the Strava id after a deletion on Strava).
    Nothing is returned for a run whose own private mark already says all this: running it twice
    records nothing more.
    """
    own = marks.select(
        "activity_id",
        *[pl.col(c).alias(f"own_{c}") for c in _IDENTITY],
        pl.col("is_private").alias("own_private"), pl.col("reason").alias("own_reason"), pl.col("marked_at").alias("own_at"),
    )
    signal = pl.col("flagged") | pl.col("listed")
    decided = pl.col("decided_private").fill_null(False)
    own_private = pl.col("own_private").fill_null(False)
    fresh = signal & ~decided
    signal_reason = pl.when(pl.col("flagged")).then(pl.lit("strava_private")).otherwise(pl.lit("private_list"))
    state = privacy_state(activities, marks, refs).join(own, on="activity_id", how="left")
    rows = state.filter(pl.col("private")).with_columns(
        *[pl.coalesce(pl.col(c), pl.col(f"own_{c}")).alias(c) for c in _IDENTITY],
        reason=pl.when(fresh).then(signal_reason).when(own_private).then(pl.col("own_reason"))
        .when(decided).then(pl.col("decided_reason")).otherwise(signal_reason),
        marked_at=pl.when(fresh).then(pl.lit(now)).when(own_private).then(pl.col("own_at"))
        .when(decided).then(pl.col("decided_at")).otherwise(pl.lit(now)),
    )
    unchanged = ~fresh & own_private & pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"own_{c}")) for c in _IDENTITY)
    return rows.filter(~unchanged).select(
        pl.lit(athlete_id).alias("athlete_id"), "activity_id", *_IDENTITY,
        pl.lit(True).alias("is_private"), "reason", pl.col("marked_at").cast(pl.Datetime("us", "UTC")),
    )
