"""What a Strava sync run has to do, decided from the listing and the stored fingerprints (pure).

* A full listing (every run by default; every Nth with `RUNLAKE_STRAVA_FULL_LISTING_EVERY`)
  lists all summaries, newest first; activities stored but no longer listed are deleted on
  Strava. Deletions are only concluded from a listing that completed.
* Between full listings, an incremental listing asks for activities starting after the
  checkpoint minus an overlap window (`RUNLAKE_STRAVA_OVERLAP_DAYS`): late uploads carry old
  dates, and the highest Strava id is not a safe checkpoint.
* New activities, and stored ones whose summary fingerprint changed, are fetched oldest first.
  The checkpoint is the latest start time below which every listed activity is stored: after a
  stop it stays just before the first activity not yet stored.
* A listed summary without an id or a readable `start_date` cannot be placed: it is reported as
  unusable with the reason (the sync reports it skipped) and tried again by the next listing; its
  id, when it has one, still counts as listed (no deletion).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from lake.strava_state import DELETED, SKIPPED, STORED
from sources.strava.errors import StravaPayloadError
from sources.strava.mapping import fingerprint, parse_utc

ONE_US = timedelta(microseconds=1)


@dataclass
class Pending:
    strava_id: int
    summary: dict
    fingerprint: str
    start_time: datetime
    is_new: bool


@dataclass
class SyncPlan:
    pending: list[Pending] = field(default_factory=list)  # oldest first
    unchanged: int = 0
    deleted_ids: list[int] = field(default_factory=list)
    unusable: list[tuple[int | None, str]] = field(default_factory=list)  # (id or None, reason)

    @property
    def new(self) -> int:
        return sum(p.is_new for p in self.pending)

    @property
    def changed(self) -> int:
        return sum(not p.is_new for p in self.pending)


def listed_id(summary: dict) -> int | None:
    """The summary's Strava id, None when it has none usable."""
    value = summary.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def listed_start(summary: dict) -> datetime | None:
    """The summary's `start_date`, None when missing or unreadable."""
    try:
        return parse_utc(summary.get("start_date"))
    except StravaPayloadError:
        return None


def needs_full_listing(checkpoint: dict | None, every: int) -> bool:
    if every <= 1 or checkpoint is None or checkpoint.get("checkpoint_start_time") is None:
        return True
    return (checkpoint.get("runs_since_full_listing") or 0) + 1 >= every


def listing_after(checkpoint: dict | None, overlap_days: float) -> int | None:
    """Epoch seconds for `after=` of an incremental listing."""
    start = (checkpoint or {}).get("checkpoint_start_time")
    if start is None:
        return None
    return int((start - timedelta(days=overlap_days)).timestamp())


def plan_sync(summaries: list[dict], synced: pl.DataFrame, *, full_listing: bool) -> SyncPlan:
    """Compare listed summaries with what is stored (`strava_state.ACTIVITIES` rows)."""
    known = {r["strava_id"]: r for r in synced.iter_rows(named=True)}
    plan = SyncPlan()
    listed: set[int] = set()
    for summary in summaries:
        strava_id = listed_id(summary)
        if strava_id is None:
            plan.unusable.append((None, f"a listed activity without an id ({summary.get('name')!r})"))
            continue
        if strava_id in listed:  # an activity uploaded while paging shifts pages: seen twice
            continue
        listed.add(strava_id)
        start = listed_start(summary)
        if start is None:
            plan.unusable.append((strava_id, f"listed without a readable start_date ({summary.get('start_date')!r})"))
            continue
        fp = fingerprint(summary)
        row = known.get(strava_id)
        status = row["status"] if row else None
        if row is not None and status in (STORED, SKIPPED) and row["fingerprint"] == fp:
            plan.unchanged += 1
            continue
        is_new = row is None or status == DELETED
        plan.pending.append(Pending(strava_id, summary, fp, start, is_new))
    plan.pending.sort(key=lambda p: (p.start_time, p.strava_id))
    if full_listing:
        plan.deleted_ids = sorted(i for i, r in known.items() if r["status"] in (STORED, SKIPPED) and i not in listed)
    return plan


def next_checkpoint(previous: datetime | None, plan: SyncPlan, done: int, summaries: list[dict]) -> datetime | None:
    """The checkpoint after `done` of `plan.pending` (oldest first) were stored."""
    if done < len(plan.pending):
        # Everything listed before the first activity not stored is stored (oldest first), and
        # a late upload dated before the old checkpoint moves it back.
        return plan.pending[done].start_time - ONE_US
    latest = max((start for s in summaries if (start := listed_start(s)) is not None), default=None)
    if latest is None:
        return previous
    return latest if previous is None else max(previous, latest)
