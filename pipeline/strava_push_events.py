"""What one Strava push event does, confirmed with the athlete's own token (docs/strava.md "Push").

* `athlete_for_owner`: `owner_id` (Strava's athlete id) → the runlake athlete whose stored Strava
  credentials carry that id (asked of Strava once, `GET /athlete`, and stored when they do not).
* `act`: activity `create`/`update` fetch the activity (404: forged or deleted since → ignored) and
  store it exactly as a sync does (`pipeline.strava_sync.fetch_activity`, `commit_batch`);
  `delete` retires it only when Strava answers 404; an `athlete` event with
  `updates.authorized == "false"` deletes the athlete's Strava data (`forget_strava_athlete`) only
  when Strava refuses the athlete's refresh token.

The queue around it — receiving, de-duplication, retries, who works it — is pipeline/strava_push.py.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from lake import activities, credentials, raw, strava_events, strava_state
from lake.storage import Lake
from lake.table import delete_rows, in_predicate, scan
from marts.visibility import parse_private_entries
from pipeline import activity_merge
from pipeline.athletes import Athlete, list_athletes
from pipeline.strava_sync import SyncReport, apply_deletions, commit_batch, fetch_activity, watch_backed_ids
from runlake.settings import Settings
from sources.strava import mapping
from sources.strava.auth import TokenManager, token_store
from sources.strava.client import StravaApi, make_client
from sources.strava.errors import StravaAuthError, StravaError, StravaPayloadError, StravaUnavailable
from sources.strava.plan import Pending, SyncPlan
from sources.strava.ratelimit import RateLimiter

log = logging.getLogger(__name__)


def _client(settings: Settings, limiter: RateLimiter, sleep: Callable[[float], None]):
    client, adapter = make_client(settings.strava_url, limiter, max_retries=settings.strava_max_retries,
                                  timeout_s=settings.strava_timeout_s, sleep=sleep)
    return client, adapter


def _strava_id_of(lake: Lake, athlete: Athlete, sleep: Callable[[float], None]) -> int | None:
    """Strava's id of the athlete, from the stored credentials; asked of Strava (`/athlete`) once
    and stored when the credentials do not carry it. None: no Strava connection."""
    store = token_store(athlete.settings, lake, athlete.athlete_id)
    stored = store.load()
    if stored is None:
        return None
    if stored.strava_athlete_id is not None:
        return stored.strava_athlete_id
    limiter = RateLimiter(share=athlete.settings.strava_rate_share, max_wait_s=0, sleep=sleep)
    client, adapter = _client(athlete.settings, limiter, sleep)
    tokens = TokenManager(athlete.settings, store, client)
    tokens.refresh()
    strava_id = StravaApi(client, adapter, reauthorize=tokens.refresh).athlete_id()
    tokens.remember_strava_athlete(strava_id)
    return strava_id


def athlete_for_owner(lake: Lake, settings: Settings, owner_id: int, *, sleep: Callable[[float], None] = time.sleep) -> Athlete | None:
    """The runlake athlete whose Strava connection is Strava athlete `owner_id`, or None. Raises
    `StravaUnavailable` / `RateLimitReached` when Strava had to be asked and could not answer."""
    connected = set(scan(lake, credentials.SPEC).filter(pl.col("provider") == credentials.STRAVA)
                    .select("athlete_id").collect()["athlete_id"].to_list())
    for athlete in list_athletes(lake, settings):
        if athlete.athlete_id not in connected:
            continue
        try:
            if _strava_id_of(lake, athlete, sleep) == owner_id:
                return athlete
        except StravaUnavailable:
            raise  # Strava is unreachable for everyone: the event is tried again later
        except StravaError as error:  # one athlete's broken connection must not hide another's
            log.warning("Strava push: cannot tell whether athlete %s is Strava athlete %d: %s", athlete.athlete_id, owner_id, error)
    return None


@dataclass
class Outcome:
    status: str
    text: str
    marts: bool = False  # the athlete's marts need a build


class StravaSession:
    """One athlete's authenticated Strava session for the events of one drain."""

    def __init__(self, lake: Lake, settings: Settings, sleep: Callable[[float], None]):
        self.limiter = RateLimiter(share=settings.strava_rate_share, max_wait_s=settings.strava_max_wait_s, sleep=sleep)
        client, adapter = _client(settings, self.limiter, sleep)
        self.tokens = TokenManager(settings, token_store(settings, lake, settings.athlete_id), client)
        self.api = StravaApi(client, adapter, reauthorize=self.tokens.refresh)
        self.fresh = False

    def ready(self) -> StravaApi:
        if not self.fresh:
            self.tokens.refresh()
            self.fresh = True
        self.tokens.ensure_fresh()
        return self.api


def _sync_activity(lake: Lake, settings: Settings, strava: StravaSession, strava_id: int) -> Outcome:
    athlete = settings.athlete_id
    api = strava.ready()
    detail = api.activity(strava_id)
    if detail is None:
        return Outcome(strava_events.IGNORED, f"Strava has no activity {strava_id} for this athlete (404): nothing changed")
    try:
        start = mapping.parse_utc(detail.get("start_date"))
    except StravaPayloadError as error:
        return Outcome(strava_events.IGNORED, f"activity {strava_id}: {error}: nothing changed")
    known = strava_state.synced(lake, athlete).filter(pl.col("strava_id") == strava_id)
    pending = Pending(strava_id, detail, mapping.fingerprint(detail), start, is_new=known.is_empty())
    backed = strava_id in watch_backed_ids(lake, athlete, SyncPlan(pending=[pending]))
    now = datetime.now(UTC)
    fetched = fetch_activity(api, lake, pending, watch_backed=backed, athlete_id=athlete, now=now)
    report = SyncReport()
    commit_batch(lake, [fetched], athlete_id=athlete, now=now, report=report,
                 private_entries=parse_private_entries(settings.private_activity_ids))
    if fetched.skipped:
        return Outcome(strava_events.DONE, f"activity {strava_id} skipped: {fetched.reason}")
    verb = "stored" if pending.is_new else "updated"
    return Outcome(strava_events.DONE, f"activity {strava_id} {verb}" + (f" ({fetched.reason})" if fetched.reason else ""), marts=True)


def _delete_activity(lake: Lake, settings: Settings, strava: StravaSession, strava_id: int) -> Outcome:
    athlete = settings.athlete_id
    stored = strava_state.synced(lake, athlete).filter(pl.col("strava_id") == strava_id)
    if stored.is_empty():
        return Outcome(strava_events.IGNORED, f"activity {strava_id} is not in the lake: nothing to delete")
    if strava.ready().activity(strava_id) is not None:
        return Outcome(strava_events.IGNORED, f"Strava still has activity {strava_id}: not deleted (forged or stale event)")
    apply_deletions(lake, athlete, [strava_id], SyncReport(), parse_private_entries(settings.private_activity_ids))
    return Outcome(strava_events.DONE, f"activity {strava_id} deleted on Strava: retired", marts=True)


def _deauthorize(lake: Lake, settings: Settings, strava: StravaSession, updates: dict) -> Outcome:
    if updates.get("authorized") != "false":
        return Outcome(strava_events.IGNORED, "athlete update without authorized=\"false\": nothing to do")
    try:
        strava.tokens.refresh()
    except StravaAuthError:
        forget_strava_athlete(lake, settings.athlete_id)
        return Outcome(strava_events.DONE, "access revoked on Strava: Strava credentials and Strava-only data deleted", marts=True)
    return Outcome(strava_events.IGNORED, "Strava still accepts the athlete's token: not deauthorized (forged event)")


def forget_strava_athlete(lake: Lake, athlete_id: str) -> None:
    """The athlete revoked runlake's access on Strava: delete their Strava credentials, every
    Strava-only activity (with its laps, records and raw archive), the Strava fields of runs merged
    with a watch file (the watch file stays: it is the athlete's own), and the sync bookkeeping."""
    now = datetime.now(UTC)
    synced = strava_state.synced(lake, athlete_id)
    live = scan(lake, activities.SPEC).filter((pl.col("athlete_id") == athlete_id) & pl.col("strava_id").is_not_null()).collect()
    strava_only = live.filter(pl.col("fit_sha256").is_null())
    activity_merge.retire(lake, athlete_id, strava_only["activity_id"].to_list(), strava_only["start_time"].dt.year().to_list())
    merged = live.filter(pl.col("fit_sha256").is_not_null())
    activity_merge.forget_strava(lake, athlete_id, merged["strava_id"].to_list(), now=now)
    for strava_id in sorted(set(synced["strava_id"].to_list()) | set(live["strava_id"].to_list())):
        raw.remove_tree(lake, f"raw/strava/{int(strava_id)}")
    owner = in_predicate("athlete_id", [athlete_id])
    delete_rows(lake, strava_state.ACTIVITIES, owner)
    delete_rows(lake, strava_state.SYNC, owner)
    delete_rows(lake, credentials.SPEC, f"{owner} AND provider = '{credentials.STRAVA}'")
    log.info("Strava push: athlete %s revoked access; %d Strava-only activities deleted, %d merged runs kept without Strava fields",
             athlete_id, strava_only.height, merged.height)


def act(lake: Lake, settings: Settings, strava: StravaSession, event: dict) -> Outcome:
    if event["object_type"] == "athlete":
        return _deauthorize(lake, settings, strava, json.loads(event["updates"] or "{}"))
    if event["aspect_type"] == "delete":
        return _delete_activity(lake, settings, strava, event["object_id"])
    return _sync_activity(lake, settings, strava, event["object_id"])
