"""`sync_strava`: bring the athlete's Strava activities into the lake, incrementally.

One run: refresh the access token (persisting a rotated refresh token at once), list summaries
(`sources.strava.plan`), mark activities deleted on Strava, then fetch what is new or changed,
oldest first — the DetailedActivity (with its laps), and for activities not already known from
a watch file the streams at full resolution — archive the raw JSON under `<lake>/raw/strava/`,
and commit every `RUNLAKE_STRAVA_COMMIT_EVERY` activities: records → laps → activities →
cross-source merge → `strava_activities`. Once every activity is in, the gear those activities
name and `private/gear` lacks is fetched (`GET /gear/{id}`, pipeline/gear.py). A rate limit (429 or our budget share used up) stops
the run cleanly: what was fetched is committed, the checkpoint saved, the next run resumes and
re-downloads nothing it already has. Any other error also commits the finished activities first,
then propagates.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from lake import activities, fit_files, laps, raw, strava_state
from lake.storage import Lake
from lake.table import scan
from pipeline import activity_merge, gear
from pipeline.activity_write import concat_conformed, write_activities
from marts.visibility import ActivityRef, parse_private_entries
from runlake.settings import Settings
from sources.crosssource import match_activities
from sources.fit.identity import strava_activity_id
from sources.strava import mapping
from sources.strava.auth import TokenManager, TokenStore, token_store
from sources.strava.client import StravaApi, make_client
from sources.strava.errors import RateLimitReached, StravaPayloadError
from sources.strava.plan import Pending, SyncPlan, listing_after, needs_full_listing, next_checkpoint, plan_sync
from sources.strava.ratelimit import RateLimiter

log = logging.getLogger(__name__)

PER_PAGE = 200
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class SyncReport:
    full_listing: bool = True
    listed: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    merged: int = 0  # paired with a watch-file activity
    stored: int = 0
    without_streams: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int | None, str]] = field(default_factory=list)  # (Strava id, None if unknown; reason)
    left: int = 0  # new or changed activities not fetched (stopped)
    requests: int = 0
    faults: int = 0
    stopped: str | None = None  # why the run stopped early (rate limit)
    gear: int = 0  # gear details fetched (GET /gear/{id}) and stored in private/gear
    seconds: float = 0.0

    def summary(self) -> str:
        per = f" ({self.requests / self.stored:.2f} per stored activity)" if self.stored else ""
        text = (
            f"Strava: {self.listed} listed ({'full' if self.full_listing else 'incremental'} listing), {self.new} new, "
            f"{self.updated} updated, {self.unchanged} unchanged, {self.deleted} deleted; {self.stored} stored, "
            f"{self.merged} merged with watch files, {len(self.without_streams)} without streams, {len(self.skipped)} skipped; "
            f"{self.requests} requests{per}, {self.faults} faults retried, in {self.seconds:.1f} s"
        )
        if self.stopped and not self.listed:
            text += f"\nstopped cleanly while listing: {self.stopped}"
        elif self.stopped:
            text += f"\nstopped cleanly: {self.stopped}; {self.left} activities left for the next run"
        return text


@dataclass
class Fetched:
    pending: Pending
    row: dict | None = None
    laps: pl.DataFrame | None = None
    records: pl.DataFrame | None = None
    has_streams: bool = False
    reason: str | None = None
    raw_uri: str | None = None
    skipped: bool = False


def archive_raw(lake: Lake, strava_id: int, parts: dict[str, bytes | None]) -> str:
    """Strava's answers as sent, in one gzipped JSON object {"activity": …, "streams": …,
    "laps": …} under raw/strava/<id>/<content hash>.json.gz: every version kept, once."""
    data = b"{" + b",".join(json.dumps(k).encode() + b":" + (v or b"null") for k, v in parts.items()) + b"}"
    rel = f"raw/strava/{strava_id}/{hashlib.sha256(data).hexdigest()[:16]}.json.gz"
    raw.write_bytes(lake, rel, gzip.compress(data, compresslevel=1, mtime=0))
    return rel


def _list_all(api: StravaApi, after: int | None, progress: Progress) -> list[dict]:
    summaries: list[dict] = []
    page = 1
    while True:
        batch = api.list_page(page, per_page=PER_PAGE, after=after)
        summaries.extend(batch)
        progress("listing", len(summaries), len(summaries))
        if len(batch) < PER_PAGE:
            return summaries
        page += 1


def watch_backed_ids(lake: Lake, athlete_id: str, plan: SyncPlan) -> set[int]:
    """Strava ids of pending activities that are (or will be) merged with a watch-file activity:
    for those only the DetailedActivity is fetched; the FIT samples win."""
    fit = (
        scan(lake, activities.SPEC)
        .filter((pl.col("athlete_id") == athlete_id) & pl.col("fit_sha256").is_not_null())
        .join(scan(lake, fit_files.SPEC).filter(pl.col("athlete_id") == athlete_id)
              .select(pl.col("sha256").alias("fit_sha256"), pl.col("file_name").alias("fit_file_name")), on="fit_sha256", how="left")
        .collect()
    )
    paired = set(fit["strava_id"].drop_nulls().to_list())
    rows = [
        {
            "activity_id": strava_activity_id(p.strava_id, athlete_id),
            "strava_id": p.strava_id,
            "start_time": p.start_time,
            "distance_m": p.summary.get("distance"),
            "strava_external_id": p.summary.get("external_id"),
        }
        for p in plan.pending
        if p.strava_id not in paired
    ]
    unpaired = fit.filter(pl.col("strava_id").is_null()).to_dicts()
    return paired | {m.strava_id for m in match_activities(unpaired, rows)}


def fetch_activity(api: StravaApi, lake: Lake, pending: Pending, *, watch_backed: bool, athlete_id: str, now: datetime) -> Fetched:
    out = Fetched(pending)
    api.raw.clear()
    try:  # a malformed answer (non-JSON body, missing fields) skips this activity, not the sync
        detail = api.activity(pending.strava_id)
        if detail is None:
            out.skipped, out.reason = True, "no longer on Strava (404)"
            return out
        streams, raw_laps = None, detail.get("laps")
        if not watch_backed:
            streams = api.streams(pending.strava_id)
            if raw_laps is None:  # DetailedActivity normally carries its laps
                api.laps_inline = False
                raw_laps = api.laps(pending.strava_id)
        out.raw_uri = archive_raw(lake, pending.strava_id, {k: api.raw.get(k) for k in ("activity", "streams", "laps")})
        out.row, out.laps, out.records = mapping.activity_rows(detail, streams, raw_laps or [], athlete_id=athlete_id, now=now)
    except StravaPayloadError as error:
        out.skipped, out.reason = True, f"unusable data: {error}"
        return out
    out.has_streams = out.records.height > 0
    if watch_backed:
        out.reason = "merged with a watch-file activity (its samples are kept)"
    elif not out.has_streams:
        out.reason = "no streams (manual activity?): stored the summary only"
    return out


def commit_batch(
    lake: Lake, batch: list[Fetched], *, athlete_id: str, now: datetime, report: SyncReport, private_entries: tuple[ActivityRef, ...] = ()
) -> None:
    """Write one batch in the crash-safe order; the bookkeeping row goes last. A run Strava says
    is private gets its privacy mark here (`private/privacy_marks`): it stays private after a
    deletion on Strava."""
    if not batch:
        return
    good = [f for f in batch if not f.skipped]
    ids = [f.row["activity_id"] for f in good]
    if ids:
        write_activities(
            lake,
            athlete_id,
            records=[f.records for f in good],
            laps=lambda: concat_conformed([f.laps for f in good], laps.SPEC),
            activities=lambda: activities.SPEC.conform(pl.DataFrame([f.row for f in good], schema=activities.SPEC.schema)),
            replace_ids=ids,
        )
        plan = activity_merge.reconcile_sources(lake, athlete_id, now=now)
        report.merged += sum(1 for m in plan.matches if m.rule != "already paired")
        written = scan(lake, activities.SPEC).filter(
            (pl.col("athlete_id") == athlete_id) & pl.col("strava_id").is_in([f.pending.strava_id for f in good])
        )
        activity_merge.record_privacy_marks(lake, athlete_id, written, private_entries, now=now)
    strava_state.save_synced(
        lake,
        [
            {
                "strava_id": f.pending.strava_id,
                "athlete_id": athlete_id,
                "fingerprint": f.pending.fingerprint,
                "start_time": f.pending.start_time,
                "status": strava_state.SKIPPED if f.skipped else strava_state.STORED,
                "reason": f.reason,
                "has_streams": f.has_streams,
                "raw_uri": f.raw_uri,
                "synced_at": now,
            }
            for f in batch
        ],
    )
    for f in batch:
        if f.skipped:
            report.skipped.append((f.pending.strava_id, f.reason or ""))
            log.warning("Strava activity %d skipped: %s", f.pending.strava_id, f.reason)
            continue
        report.stored += 1
        if f.pending.is_new:
            report.new += 1
        else:
            report.updated += 1
        if not f.has_streams and f.reason and f.reason.startswith("no streams"):
            report.without_streams.append((f.pending.strava_id, f.reason))


def sync_strava(
    lake: Lake,
    settings: Settings,
    *,
    progress: Progress | None = None,
    store: TokenStore | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncReport:
    """Sync Strava into `lake`. Returns a report; `report.stopped` says why it stopped early."""
    started = time.perf_counter()
    step = progress or (lambda phase, done, total: None)
    athlete = settings.athlete_id
    entries = parse_private_entries(settings.private_activity_ids)
    report = SyncReport()
    limiter = RateLimiter(share=settings.strava_rate_share, max_wait_s=settings.strava_max_wait_s, sleep=sleep)
    client, adapter = make_client(settings.strava_url, limiter, max_retries=settings.strava_max_retries, timeout_s=settings.strava_timeout_s, sleep=sleep)
    tokens = TokenManager(settings, store or token_store(settings, lake, athlete), client)
    api = StravaApi(client, adapter, reauthorize=tokens.refresh)
    previous = strava_state.checkpoint(lake, athlete)
    report.full_listing = needs_full_listing(previous, settings.strava_full_listing_every)
    plan, summaries, done, batch = SyncPlan(), None, 0, []
    outcome = "failed"
    try:
        tokens.refresh()
        after = None if report.full_listing else listing_after(previous, settings.strava_overlap_days)
        summaries = _list_all(api, after, step)
        report.listed = len({s.get("id") for s in summaries})
        plan = plan_sync(summaries, strava_state.synced(lake, athlete), full_listing=report.full_listing)
        for strava_id, reason in plan.unusable:
            log.warning("Strava activity %s skipped: %s", strava_id, reason)
        report.skipped.extend(plan.unusable)
        report.unchanged = plan.unchanged
        apply_deletions(lake, athlete, _confirmed_gone(api, limiter, plan.deleted_ids), report, entries)
        activity_merge.reconcile_sources(lake, athlete, now=datetime.now(UTC))  # repairs an interrupted merge
        watch_backed = watch_backed_ids(lake, athlete, plan)
        step("fetching", 0, len(plan.pending))
        for pending in plan.pending:
            backed = pending.strava_id in watch_backed
            # do not start an activity whose requests do not fit: detail, streams, laps if separate
            limiter.ensure_budget(1 if backed else (2 if api.laps_inline else 3))
            tokens.ensure_fresh()
            batch.append(fetch_activity(api, lake, pending, watch_backed=backed, athlete_id=athlete, now=datetime.now(UTC)))
            if len(batch) >= settings.strava_commit_every:
                commit_batch(lake, batch, athlete_id=athlete, now=datetime.now(UTC), report=report, private_entries=entries)
                done += len(batch)
                batch = []
            step("fetching", done + len(batch), len(plan.pending))
        commit_batch(lake, batch, athlete_id=athlete, now=datetime.now(UTC), report=report, private_entries=entries)
        done += len(batch)
        batch = []
        report.gear = _sync_gear(api, limiter, lake, athlete)
        outcome = "complete"
    except RateLimitReached as stop:
        report.stopped = f"{stop} (the next run resumes)"
        outcome = f"stopped: {stop}"
    except Exception as error:  # recorded in strava_sync, then re-raised
        outcome = f"failed: {' '.join(str(error).split()) or type(error).__name__}"
        raise
    finally:  # commit what was fetched, whatever happened, then save the checkpoint
        commit_batch(lake, batch, athlete_id=athlete, now=datetime.now(UTC), report=report, private_entries=entries)
        done += len(batch)
        report.left = len(plan.pending) - done
        report.requests, report.faults = limiter.requests, adapter.faults
        _save_checkpoint(lake, athlete, previous, plan, done, summaries, report, outcome)
        report.seconds = time.perf_counter() - started
    return report


def _sync_gear(api: StravaApi, limiter: RateLimiter, lake: Lake, athlete: str) -> int:
    """Fetch and store the gear the athlete's Strava activities name and `private/gear` lacks
    (one request each; a gear Strava no longer has is skipped). pipeline/gear.py."""
    details = []
    for gear_id in gear.strava_gear_to_fetch(lake, athlete):
        limiter.ensure_budget(1)
        found = api.gear(gear_id)
        if found is None:
            log.info("Strava gear %s is gone (404): not listed", gear_id)
            continue
        details.append(found)
    return gear.store_strava_gear(lake, athlete, details, now=datetime.now(UTC))


def _confirmed_gone(api: StravaApi, limiter: RateLimiter, candidates: list[int]) -> list[int]:
    """Activities missing from the listing that Strava also answers 404 for. Paging is not a
    snapshot: an activity deleted or uploaded while the pages are read shifts the others, so an
    activity can be missed by a listing; one request each (deletions are rare) makes sure."""
    gone = []
    for strava_id in candidates:
        limiter.ensure_budget(1)
        if api.activity(strava_id) is None:
            gone.append(strava_id)
        else:
            log.info("Strava activity %d was missing from the listing but still exists: kept", strava_id)
    return gone


def apply_deletions(
    lake: Lake, athlete: str, deleted_ids: list[int], report: SyncReport, private_entries: tuple[ActivityRef, ...]
) -> None:
    if not deleted_ids:
        return
    now = datetime.now(UTC)
    activity_merge.forget_strava(lake, athlete, deleted_ids, now=now, private_entries=private_entries)
    stored = strava_state.synced(lake, athlete).filter(pl.col("strava_id").is_in(deleted_ids))
    strava_state.save_synced(lake, [{**r, "status": strava_state.DELETED, "reason": "no longer listed by Strava", "synced_at": now} for r in stored.to_dicts()])
    report.deleted = len(deleted_ids)


def _save_checkpoint(lake, athlete, previous, plan, done, summaries, report, outcome) -> None:
    """`summaries` is None when the listing did not complete: nothing moves then."""
    now = datetime.now(UTC)
    old = previous or {}
    listed = summaries is not None
    strava_state.save_checkpoint(
        lake,
        {
            "athlete_id": athlete,
            "checkpoint_start_time": next_checkpoint(old.get("checkpoint_start_time"), plan, done, summaries) if listed else old.get("checkpoint_start_time"),
            "runs_since_full_listing": 0 if report.full_listing and listed else (old.get("runs_since_full_listing") or 0) + 1,
            "last_full_listing_at": now if report.full_listing and listed else old.get("last_full_listing_at"),
            "last_run_at": now,
            "last_outcome": outcome,
        },
    )
