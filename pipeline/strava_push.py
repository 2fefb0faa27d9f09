"""Strava push events (webhooks): receive them into the lake's queue, then act on each one.

Strava POSTs an event to the API (`/v1/webhooks/strava`, api/webhooks.py) when an athlete
creates, updates or deletes an activity, or revokes runlake's access. The API only calls
`parse_event` (the shape) and `enqueue_event`: it is inserted into `private/strava_events` (one Delta
commit; a duplicate — same object, aspect and event time — changes nothing), so it survives a
restart and any replica can work it. `process_queue` then works the queue, oldest first, each
athlete's events under the athlete's lease: each is confirmed with the athlete's own token and
acted on (pipeline/strava_push_events.py: sync one activity, retire it, or disconnect the
athlete), then the athlete's marts are built (incremental), so a new run is in the marts too.

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

from lake import strava_events
from lake.lease import LeaseBusyError, acquire
from lake.storage import Lake
from pipeline.athletes import Athlete
from pipeline.steps.build_marts import build_marts
from pipeline.strava_push_events import Outcome, StravaSession, act, athlete_for_owner
from runlake.errors import RunlakeError
from runlake.settings import Settings
from sources.strava.errors import RateLimitReached, StravaError, StravaUnavailable

log = logging.getLogger(__name__)

LEASE_COMMAND = "strava push events"
OBJECT_TYPES = ("activity", "athlete")
ASPECT_TYPES = ("create", "update", "delete")


class InvalidEvent(RunlakeError):
    """A POSTed body that is not a Strava push event (one line, for the 400 answer)."""


def _int(body: dict, name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidEvent(f"`{name}` must be a non-negative integer")
    return value


def parse_event(raw_body: bytes, *, now: datetime) -> dict:
    """The `private/strava_events` row of a POSTed body, status `queued`; InvalidEvent otherwise.
    (The webhook caps the body's size before it gets here: RUNLAKE_STRAVA_PUSH_MAX_BYTES.)"""
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


def enqueue_event(lake: Lake, row: dict) -> bool:
    """Queue one parsed event in the lake (one commit). True when it is new, False for a duplicate."""
    return strava_events.enqueue(lake, pl.DataFrame([row], schema=strava_events.SPEC.schema)) == 1

@dataclass
class QueueReport:
    processed: list[dict] = field(default_factory=list)  # the event rows as saved

    def count(self, status: str) -> int:
        return sum(1 for r in self.processed if r["status"] == status)



def _finish(event: dict, outcome: Outcome, athlete_id: str | None) -> dict:
    return {**event, "athlete_id": athlete_id, "status": outcome.status, "outcome": outcome.text[:500],
            "attempts": (event["attempts"] or 0) + 1, "processed_at": datetime.now(UTC)}


def _process_athlete(lake: Lake, athlete: Athlete, events: list[dict], sleep: Callable[[float], None]) -> list[dict]:
    """Act on one athlete's events in order (under the athlete's lease), then build the marts."""
    settings = athlete.settings
    strava = StravaSession(lake, settings, sleep)
    still = {(e["object_type"], e["object_id"], e["aspect_type"], e["event_time"]) for e in
             strava_events.queued(lake, max_attempts=settings.strava_push_max_attempts).to_dicts()}
    done, marts = [], False
    for event in events:
        if (event["object_type"], event["object_id"], event["aspect_type"], event["event_time"]) not in still:
            continue  # another worker (replica) processed it meanwhile
        try:
            outcome = act(lake, settings, strava, event)
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


def start_deployment_run(deployment: str) -> bool:
    """Ask Prefect for a run of `strava-events/<deployment>` (not awaited) — unless one is still
    waiting to start (scheduled, late, awaiting a concurrency slot, or pending): that run reads
    the queue when it starts, so a burst of events makes one run, not one each (in Kubernetes,
    one Job). True when a run was created."""
    from prefect import get_client
    from prefect.client.schemas.filters import (DeploymentFilter, DeploymentFilterId, FlowRunFilter,
                                                FlowRunFilterState, FlowRunFilterStateType)
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import ObjectNotFound

    name = f"strava-events/{deployment}"
    with get_client(sync_client=True) as client:
        try:
            target = client.read_deployment_by_name(name)
        except ObjectNotFound:
            raise RunlakeError(f"deployment {name} not found: deploy it with `runlake deploy`") from None
        waiting = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[target.id])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=[StateType.SCHEDULED, StateType.PENDING]))),
            limit=1,
        )
        if waiting:
            log.info("Strava push: run %s of %s has not started yet; it will take the new events", waiting[0].id, name)
            return False
        run = client.create_flow_run_from_deployment(target.id)
        log.info("Strava push: started run %s of %s", run.id, name)
        return True


class QueueWorker:
    """Works the event queue off the request path: a daemon thread of the API process that drains
    the queue when `notify()` is called and every `poll_s` seconds (events left by a restart or
    received by another replica), or — with RUNLAKE_STRAVA_PUSH_DEPLOYMENT — has a Prefect
    deployment run work it instead (`start_deployment_run`: one run for a burst of events)."""

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
