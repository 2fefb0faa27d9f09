"""`/v1/webhooks/strava`: Strava's push subscription callback (docs/api.md, docs/strava.md "Push").

* `GET` — Strava's subscription validation: answers `{"hub.challenge": …}` when `hub.mode` is
  `subscribe` and `hub.verify_token` equals RUNLAKE_STRAVA_VERIFY_TOKEN (compared in constant
  time), 403 otherwise.
* `POST` — one event: queued in the lake (`pipeline.strava_push.receive`, one commit) and
  answered 200 at once; the worker is woken to act on it off the request path.

Outside token auth (Strava sends no token; the `Gate` lets `/v1/webhooks/` through) and outside
the OpenAPI schema (so outside the schemathesis run). Without RUNLAKE_STRAVA_VERIFY_TOKEN both
answer 404: push is not set up. Thin: all the work is in pipeline/strava_push.py.
"""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations.

import datetime as dt
import hmac
from collections.abc import Callable

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from api.errors import ApiError
from lake.storage import Lake
from pipeline.strava_push import InvalidEvent, QueueWorker, receive
from runlake.settings import Settings

PATH = "/v1/webhooks/strava"


def add_webhook_routes(app: FastAPI, settings: Settings, lake: Lake, worker: QueueWorker,
                       clock: Callable[[], dt.datetime]) -> None:
    verify_token = settings.strava_verify_token.get_secret_value() if settings.strava_verify_token else None

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
        body = await request.body()
        try:
            new = await run_in_threadpool(receive, lake, body, now=clock())
        except InvalidEvent as error:
            raise ApiError(400, "invalid", str(error)) from None
        if new:
            worker.notify()
        return JSONResponse({"queued": new})
