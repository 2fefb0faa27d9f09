"""`/v1/webhooks/strava`: Strava's push subscription callback (docs/api.md, docs/strava.md "Push").

* `GET` — Strava's subscription validation: answers `{"hub.challenge": …}` when `hub.mode` is
  `subscribe` and `hub.verify_token` equals RUNLAKE_STRAVA_VERIFY_TOKEN (compared in constant
  time), 403 otherwise.
* `POST` — one event: queued in the lake (`pipeline.strava_push.enqueue_event`, one commit) and
  answered 200 at once; the worker is woken to act on it off the request path.

Strava does not sign its events, so anyone can POST. Before an event costs a Delta commit it
passes, in this order, each answered at once and writing nothing when refused: a size cap
(RUNLAKE_STRAVA_PUSH_MAX_BYTES, 413, read no further), the shape (400), the subscription id when
RUNLAKE_STRAVA_PUSH_SUBSCRIPTION_ID is set (403), this replica's memory of events it already
queued (a repeat is answered `{"queued": false}` without touching the lake), and a token bucket
per replica (RUNLAKE_STRAVA_PUSH_RATE_LIMIT events a minute, 429 with Retry-After). So a flood
makes at most that many commits a minute per replica, and every answer stays far inside
Strava's 2 s. What does reach the queue is still confirmed with the athlete's own token later.

Outside token auth (Strava sends no token; the `Gate` lets `/v1/webhooks/` through) and outside
the OpenAPI schema (so outside the schemathesis run). Without RUNLAKE_STRAVA_VERIFY_TOKEN both
answer 404: push is not set up. Thin: all the work is in pipeline/strava_push.py.
"""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations.

import datetime as dt
import hmac
import threading
from collections import OrderedDict
from collections.abc import Callable

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from api.errors import ApiError
from api.ratelimit import RateLimiter, retry_after
from lake import strava_events
from lake.storage import Lake
from pipeline.strava_push import InvalidEvent, QueueWorker, enqueue_event, parse_event
from runlake.settings import Settings

PATH = "/v1/webhooks/strava"
#: Event keys a replica remembers having queued (oldest forgotten first).
RECENT_EVENTS = 10_000


class RecentEvents:
    """The keys of the last events this replica queued: a repeat (Strava retries, or a replayed
    flood) is known to be in the lake already and costs no commit. Thread-safe, bounded."""

    def __init__(self, size: int = RECENT_EVENTS):
        self._size = size
        self._keys: OrderedDict[tuple, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: tuple) -> bool:
        with self._lock:
            return key in self._keys

    def add(self, key: tuple) -> None:
        with self._lock:
            self._keys[key] = None
            self._keys.move_to_end(key)
            while len(self._keys) > self._size:
                self._keys.popitem(last=False)


async def read_capped(request: Request, max_bytes: int) -> bytes:
    """The request body, refused (413) as soon as it is declared or grows larger than `max_bytes`."""
    too_large = ApiError(413, "too_large", f"a Strava event is at most {max_bytes} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


def add_webhook_routes(app: FastAPI, settings: Settings, lake: Lake, worker: QueueWorker,
                       clock: Callable[[], dt.datetime]) -> None:
    verify_token = settings.strava_verify_token.get_secret_value() if settings.strava_verify_token else None
    subscription_id = settings.strava_push_subscription_id
    budget = RateLimiter(settings.strava_push_rate_limit)
    recent = RecentEvents()

    def configured() -> str:
        if not verify_token:
            raise ApiError(404, "not_found", "Strava push is not set up on this server")
        return verify_token

    @app.get(PATH, include_in_schema=False)
    async def strava_validation(request: Request) -> JSONResponse:
        expected = configured()
        query = request.query_params
        challenge = query.get("hub.challenge")
        given = query.get("hub.verify_token") or ""
        if query.get("hub.mode") != "subscribe" or challenge is None or len(challenge) > 256:
            raise ApiError(400, "invalid", "not a Strava subscription validation (hub.mode, hub.challenge)")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError(403, "forbidden", "hub.verify_token does not match")
        return JSONResponse({"hub.challenge": challenge})

    @app.post(PATH, include_in_schema=False)
    async def strava_event(request: Request) -> JSONResponse:
        configured()
        body = await read_capped(request, settings.strava_push_max_bytes)
        try:
            row = parse_event(body, now=clock())
        except InvalidEvent as error:
            raise ApiError(400, "invalid", str(error)) from None
        if subscription_id is not None and row["subscription_id"] != subscription_id:
            raise ApiError(403, "forbidden", "not an event of this server's Strava push subscription")
        key = tuple(row[k] for k in strava_events.SPEC.key)
        if key in recent:
            return JSONResponse({"queued": False})
        wait = budget.take("events")
        if wait > 0:
            raise ApiError(429, "rate_limited", "too many Strava events; try again later", {"Retry-After": retry_after(wait)})
        new = await run_in_threadpool(enqueue_event, lake, row)
        recent.add(key)
        if new:
            worker.notify()
        return JSONResponse({"queued": new})
