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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from lake.strava_state import DELETED, SKIPPED, STORED
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

    @property
    def new(self) -> int:
        return sum(p.is_new for p in self.pending)

    @property
    def changed(self) -> int:
        return sum(not p.is_new for p in self.pending)


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
        strava_id = int(summary["id"])
        if strava_id in listed:  # an activity uploaded while paging shifts pages: seen twice
            continue
        listed.add(strava_id)
        fp = fingerprint(summary)
        row = known.get(strava_id)
        status = row["status"] if row else None
        if row is not None and status in (STORED, SKIPPED) and row["fingerprint"] == fp:
            plan.unchanged += 1
            continue
        is_new = row is None or status == DELETED
        plan.pending.append(Pending(strava_id, summary, fp, parse_utc(summary["start_date"]), is_new))
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
    latest = max((parse_utc(s["start_date"]) for s in summaries), default=None)
    if latest is None:
        return previous
    return latest if previous is None else max(previous, latest)
