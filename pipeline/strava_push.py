"""Strava push events (webhooks): receive them into the lake's queue, then act on each one.

Strava POSTs an event to the API (`/v1/webhooks/strava`, api/webhooks.py) when an athlete
creates, updates or deletes an activity, or revokes runlake's access. The API only calls
`receive`: the event is checked for shape and inserted into `private/strava_events` (one Delta
commit; a duplicate — same object, aspect and event time — changes nothing), so it survives a
restart and any replica can work it. `process_queue` then works the queue, oldest first, each
athlete under its lease:

* `owner_id` (Strava's athlete id) → the runlake athlete whose stored Strava credentials carry
  that id (`athlete_for_owner`). None: the event is `ignored`.
* Events are unsigned, so each is **confirmed with the athlete's own token** before anything
  changes: `create`/`update` fetch the activity (a 404 — a forged id, or deleted since — changes
  nothing) and store it exactly as a sync would (`pipeline.strava_sync.fetch_activity` and
  `commit_batch`: raw archive, records → laps → activities → cross-source merge →
  `strava_activities`); `delete` retires the activity only when Strava answers 404 for it;
  an `athlete` event with `updates.authorized == "false"` (a string) deletes the athlete's Strava
  credentials and Strava-only data only when Strava refuses the athlete's refresh token.
* Then the athlete's marts are built (incremental), so a new run is in the marts too.

A failure that may pass (Strava unreachable, a rate limit) leaves the event `failed` with its
reason and it is tried again by the next `process_queue`, up to
`RUNLAKE_STRAVA_PUSH_MAX_ATTEMPTS` attempts. docs/strava.md "Push".
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from lake import activities, credentials, raw, strava_events, strava_state
from lake.lease import LeaseBusyError, acquire
from lake.storage import Lake
from lake.table import delete_rows, in_predicate, scan
from marts.visibility import parse_private_entries
from pipeline import activity_merge
from pipeline.athletes import Athlete, list_athletes
from pipeline.steps.build_marts import build_marts
from pipeline.strava_sync import SyncReport, apply_deletions, commit_batch, fetch_activity, watch_backed_ids
from runlake.errors import RunlakeError
from runlake.settings import Settings
from sources.strava import mapping
from sources.strava.auth import TokenManager, token_store
from sources.strava.client import StravaApi, make_client
from sources.strava.errors import RateLimitReached, StravaAuthError, StravaError, StravaPayloadError, StravaUnavailable
from sources.strava.plan import Pending, SyncPlan
from sources.strava.ratelimit import RateLimiter

log = logging.getLogger(__name__)

LEASE_COMMAND = "strava push events"
OBJECT_TYPES = ("activity", "athlete")
ASPECT_TYPES = ("create", "update", "delete")
#: A body larger than this is not a Strava event.
MAX_EVENT_BYTES = 4096


class InvalidEvent(RunlakeError):
    """A POSTed body that is not a Strava push event (one line, for the 400 answer)."""


def _int(body: dict, name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidEvent(f"`{name}` must be a non-negative integer")
    return value


def parse_event(raw_body: bytes, *, now: datetime) -> dict:
    """The `private/strava_events` row of a POSTed body, status `queued`; InvalidEvent otherwise."""
    if len(raw_body) > MAX_EVENT_BYTES:
        raise InvalidEvent("the body is too large for a Strava event")
    try:
        body = json.loads(raw_body)
    except ValueError:
        raise InvalidEvent("the body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidEvent("the body is not a JSON object")
    object_type, aspect_type = body.get("object_type"), body.get("aspect_type")
    if object_type not in OBJECT_TYPES:
        raise InvalidEvent(f"`object_type` must be one of {', '.join(OBJECT_TYPES)}")
    if aspect_type not in ASPECT_TYPES:
        raise InvalidEvent(f"`aspect_type` must be one of {', '.join(ASPECT_TYPES)}")
    updates = body.get("updates") if body.get("updates") is not None else {}
    if not isinstance(updates, dict):
        raise InvalidEvent("`updates` must be an object")
    event_time = _int(body, "event_time")
    if event_time > 2**33:
        raise InvalidEvent("`event_time` is not a time")
    return {
        "athlete_id": None,
        "object_type": object_type,
        "object_id": _int(body, "object_id"),
        "aspect_type": aspect_type,
        "event_time": datetime.fromtimestamp(event_time, UTC),
        "owner_id": _int(body, "owner_id"),
        "subscription_id": _int(body, "subscription_id") if body.get("subscription_id") is not None else None,
        "updates": json.dumps(updates, sort_keys=True)[:1024],
        "received_at": now,
        "status": strava_events.QUEUED,
        "outcome": None,
        "attempts": 0,
        "processed_at": None,
    }


def receive(lake: Lake, raw_body: bytes, *, now: datetime) -> bool:
    """Queue a POSTed event in the lake. True when it is new, False for a duplicate."""
    row = parse_event(raw_body, now=now)
    return strava_events.enqueue(lake, pl.DataFrame([row], schema=strava_events.SPEC.schema)) == 1


# --- who the event is for --------------------------------------------------------------------------


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


# --- acting on one event ---------------------------------------------------------------------------


@dataclass
class Outcome:
    status: str
    text: str
    marts: bool = False  # the athlete's marts need a build


@dataclass
class QueueReport:
    processed: list[dict] = field(default_factory=list)  # the event rows as saved

    def count(self, status: str) -> int:
        return sum(1 for r in self.processed if r["status"] == status)


class _Strava:
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


def _sync_activity(lake: Lake, settings: Settings, strava: _Strava, strava_id: int) -> Outcome:
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


def _delete_activity(lake: Lake, settings: Settings, strava: _Strava, strava_id: int) -> Outcome:
    athlete = settings.athlete_id
    stored = strava_state.synced(lake, athlete).filter(pl.col("strava_id") == strava_id)
    if stored.is_empty():
        return Outcome(strava_events.IGNORED, f"activity {strava_id} is not in the lake: nothing to delete")
    if strava.ready().activity(strava_id) is not None:
        return Outcome(strava_events.IGNORED, f"Strava still has activity {strava_id}: not deleted (forged or stale event)")
    apply_deletions(lake, athlete, [strava_id], SyncReport(), parse_private_entries(settings.private_activity_ids))
    return Outcome(strava_events.DONE, f"activity {strava_id} deleted on Strava: retired", marts=True)


def _deauthorize(lake: Lake, settings: Settings, strava: _Strava, updates: dict) -> Outcome:
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


def _act(lake: Lake, settings: Settings, strava: _Strava, event: dict) -> Outcome:
    if event["object_type"] == "athlete":
        return _deauthorize(lake, settings, strava, json.loads(event["updates"] or "{}"))
    if event["aspect_type"] == "delete":
        return _delete_activity(lake, settings, strava, event["object_id"])
    return _sync_activity(lake, settings, strava, event["object_id"])


def _finish(event: dict, outcome: Outcome, athlete_id: str | None) -> dict:
    return {**event, "athlete_id": athlete_id, "status": outcome.status, "outcome": outcome.text[:500],
            "attempts": (event["attempts"] or 0) + 1, "processed_at": datetime.now(UTC)}


def _process_athlete(lake: Lake, athlete: Athlete, events: list[dict], sleep: Callable[[float], None]) -> list[dict]:
    """Act on one athlete's events in order (under the athlete's lease), then build the marts."""
    settings = athlete.settings
    strava = _Strava(lake, settings, sleep)
    still = {(e["object_type"], e["object_id"], e["aspect_type"], e["event_time"]) for e in
             strava_events.queued(lake, max_attempts=settings.strava_push_max_attempts).to_dicts()}
    done, marts = [], False
    for event in events:
        if (event["object_type"], event["object_id"], event["aspect_type"], event["event_time"]) not in still:
            continue  # another worker (replica) processed it meanwhile
        try:
            outcome = _act(lake, settings, strava, event)
        except (StravaUnavailable, RateLimitReached) as error:
            outcome = Outcome(strava_events.FAILED, f"will retry: {' '.join(str(error).split())}")
        except StravaError as error:
            outcome = Outcome(strava_events.FAILED, " ".join(str(error).split()))
        marts = marts or outcome.marts
        row = _finish(event, outcome, athlete.athlete_id)
        strava_events.save(lake, pl.DataFrame([row], schema=strava_events.SPEC.schema))
        log.info("Strava push %s %s %d of athlete %s: %s: %s", event["object_type"], event["aspect_type"],
                 event["object_id"], athlete.athlete_id, row["status"], row["outcome"])
        done.append(row)
    if marts:
        build_marts(lake, settings)
    return done


def process_queue(lake: Lake, settings: Settings, *, sleep: Callable[[float], None] = time.sleep,
                  lease_wait_s: float = 120.0) -> QueueReport:
    """Work every queued event (and failed ones with attempts left), oldest first, per athlete."""
    report = QueueReport()
    events = strava_events.queued(lake, max_attempts=settings.strava_push_max_attempts).to_dicts()
    by_athlete: dict[str, tuple[Athlete, list[dict]]] = {}
    owners: dict[int, Athlete | None] = {}
    for event in events:
        owner = event["owner_id"]
        try:
            if owner not in owners:
                owners[owner] = athlete_for_owner(lake, settings, owner, sleep=sleep)
        except (StravaUnavailable, RateLimitReached) as error:
            outcome = Outcome(strava_events.FAILED, f"will retry: cannot tell whose event it is: {' '.join(str(error).split())}")
        else:
            outcome = None if owners[owner] is not None else Outcome(strava_events.IGNORED, f"no athlete is connected to Strava athlete {owner}")
        if outcome is not None:
            row = _finish(event, outcome, None)
            strava_events.save(lake, pl.DataFrame([row], schema=strava_events.SPEC.schema))
            report.processed.append(row)
            continue
        athlete = owners[owner]
        by_athlete.setdefault(athlete.athlete_id, (athlete, []))[1].append(event)
    for athlete, athlete_events in by_athlete.values():
        try:
            with acquire(lake, athlete.athlete_id, LEASE_COMMAND, wait_s=lease_wait_s):
                report.processed.extend(_process_athlete(lake, athlete, athlete_events, sleep))
        except LeaseBusyError as busy:  # the events stay queued for the next drain
            log.warning("Strava push: athlete %s is busy (%s); %d events stay queued", athlete.athlete_id, busy, len(athlete_events))
    return report


# --- who works the queue ---------------------------------------------------------------------------


def start_deployment_run(deployment: str) -> None:
    """Ask Prefect for a run of `strava-events/<deployment>` (not awaited)."""
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        run_deployment(f"strava-events/{deployment}", timeout=0)
    except ObjectNotFound:
        raise RunlakeError(f"deployment strava-events/{deployment} not found: deploy it with `runlake deploy`") from None


class QueueWorker:
    """Works the event queue off the request path: a daemon thread of the API process that drains
    the queue when `notify()` is called and every `poll_s` seconds (events left by a restart or
    received by another replica), or — with RUNLAKE_STRAVA_PUSH_DEPLOYMENT — starts a Prefect
    deployment run per notification instead."""

    def __init__(self, lake: Lake, settings: Settings, *, poll_s: float = 60.0):
        self.lake = lake
        self.settings = settings
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="strava-push", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)

    def notify(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._drain_once()
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _drain_once(self) -> None:
        try:
            if self.settings.strava_push_deployment:
                if not strava_events.queued(self.lake, max_attempts=self.settings.strava_push_max_attempts).is_empty():
                    start_deployment_run(self.settings.strava_push_deployment)
            else:
                process_queue(self.lake, self.settings)
        except Exception:  # the thread must outlive one bad drain; the events stay queued
            log.exception("Strava push: working the event queue failed; it is tried again in %.0f s", self.poll_s)
