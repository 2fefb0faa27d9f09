"""Which runs may be published, and the athlete's explicit decisions (`runlake activity set`).

Reads `activities` and `private/privacy_marks`, applies the pure rules of `marts.visibility` and
`marts.public`, records the privacy marks they call for. docs/privacy.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from lake import activities as activities_table
from lake import privacy_marks
from pipeline.activity_merge import record_privacy_marks
from lake.storage import Lake
from lake.table import scan
from marts import public, visibility
from marts.privacy import PrivacySettings
from runlake.errors import RunlakeError
from runlake.settings import Settings


class UnmatchedPrivateEntryError(RunlakeError):
    """A RUNLAKE_PRIVATE_ACTIVITIES entry names no activity: a typo would publish what it meant to hide."""


class ActivityNotFoundError(RunlakeError):
    """`runlake activity set ID`: ID names no activity, or several."""


def _athlete_activities(lake: Lake, athlete_id: str) -> pl.LazyFrame:
    return scan(lake, activities_table.SPEC).filter(pl.col("athlete_id") == athlete_id)


def _marks(lake: Lake, athlete_id: str) -> pl.LazyFrame:
    return privacy_marks.scan_marks(lake, athlete_id).collect().lazy()


def public_activity_ids(
    lake: Lake, athlete_id: str, privacy: PrivacySettings, *, now: dt.datetime | None = None, also_known: Iterable[str] = (),
) -> pl.LazyFrame:
    """The athlete's publishable `activity_id`s (one column), after checking every entry of the
    private list (`privacy.private_entries`) names an activity (else `UnmatchedPrivateEntryError`,
    before anything is written) and recording the privacy marks the private runs call for.
    `also_known`: ids that are not `activities` rows but may be named (split parts)."""
    entries = visibility.parse_private_entries(sorted(privacy.private_entries))
    activities = _athlete_activities(lake, athlete_id).collect().lazy()
    marks = _marks(lake, athlete_id)
    known = {i.lower() for i in also_known}
    unmatched = [e for e in visibility.unmatched_entries(entries, activities, marks) if e.strip().lower() not in known]
    if unmatched:
        names = ", ".join(repr(e) for e in unmatched)
        raise UnmatchedPrivateEntryError(
            f"RUNLAKE_PRIVATE_ACTIVITIES: {names} {'matches' if len(unmatched) == 1 else 'match'} no activity "
            "(use an activity id, a Strava id, strava-<id> or a Strava activity URL); nothing was published"
        )
    record_privacy_marks(lake, athlete_id, activities, entries, now=now or dt.datetime.now(dt.UTC))
    return public.public_activity_ids(
        activities, private_ids=privacy.private_entries, public_sources=privacy.public_sources,
        marks=_marks(lake, athlete_id),
    )


@dataclass(frozen=True)
class VisibilityChange:
    activity_id: str
    strava_id: int | None
    is_private: bool

    def summary(self) -> str:
        strava = f" (Strava {self.strava_id})" if self.strava_id is not None else ""
        state = "private" if self.is_private else "public"
        return f"activity {self.activity_id}{strava} is now {state}; the public layer follows at the next `runlake marts build`"


def resolve_activity(lake: Lake, settings: Settings, text: str) -> dict:
    """The one activity row `text` names (activity id, Strava id, strava-<id>, Strava URL), also
    through the identities its privacy marks remember (a Strava id after a deletion on Strava)."""
    ref = visibility.parse_activity_ref(text)
    activities = _athlete_activities(lake, settings.athlete_id).collect()
    ids = visibility.matched_activities([ref], activities.lazy(), _marks(lake, settings.athlete_id)).collect()["activity_id"]
    rows = activities.filter(pl.col("activity_id").is_in(ids.implode())).sort("activity_id").to_dicts()
    if not rows:
        raise ActivityNotFoundError(f"no activity matches {text.strip()!r}")
    if len(rows) > 1:
        raise ActivityNotFoundError(f"{text.strip()!r} matches {len(rows)} activities: {', '.join(r['activity_id'] for r in rows)}")
    return rows[0]


def set_visibility(lake: Lake, settings: Settings, text: str, *, private: bool, now: dt.datetime | None = None) -> VisibilityChange:
    """Record the athlete's decision about one run: private (a mark) or public (a publication that
    overrides older marks). Publishing is refused while a current signal hides the run anyway —
    Strava's private flag or a RUNLAKE_PRIVATE_ACTIVITIES entry — since the next build would
    record that signal as a newer private mark. A split's part (`split-…`) gets a mark under its
    own id only: it hides the part; publishing it cannot publish more than its activity allows."""
    from pipeline.steps.edits import resolve_part  # (it builds on this module)

    part = resolve_part(lake, settings, text)  # a split's part: a mark of its own id only
    row = part or resolve_activity(lake, settings, text)
    marks = _marks(lake, settings.athlete_id)
    if not private and part is None:
        entries = visibility.parse_private_entries(sorted(settings.private_activity_ids))
        listing = visibility.matched_activities(entries, pl.LazyFrame([row], schema=activities_table.SPEC.schema), marks).collect()
        if row["is_private"]:
            raise RunlakeError(
                f"activity {row['activity_id']} is private on Strava: make it public there and run `runlake sync strava` first"
            )
        if not listing.is_empty():
            raise RunlakeError(
                f"activity {row['activity_id']} is listed in RUNLAKE_PRIVATE_ACTIVITIES as {listing['entry'][0]!r}: remove it there first"
            )
    own = marks.filter(pl.col("activity_id") == row["activity_id"]).collect().to_dicts()
    before = own[0] if own else {}
    mark = {
        "athlete_id": settings.athlete_id,
        "activity_id": row["activity_id"],
        **{c: row[c] if row[c] is not None else before.get(c) for c in ("strava_id", "fit_sha256", "session_index")},
        "is_private": private,
        "reason": privacy_marks.SET_PRIVATE if private else privacy_marks.SET_PUBLIC,
        "marked_at": now or dt.datetime.now(dt.UTC),
    }
    privacy_marks.save_marks(lake, pl.DataFrame([mark], schema=privacy_marks.SPEC.schema))
    return VisibilityChange(row["activity_id"], mark["strava_id"], private)
