"""`create_app(settings, lake)`: the data API as a FastAPI application (docs/api.md).

The application answers from a `Store` that a background `Refresher` keeps current (started and
stopped with the application's lifespan); the `Gate` (plain ASGI) admits `/v1` requests. With
Strava push set up (RUNLAKE_STRAVA_VERIFY_TOKEN), `/v1/webhooks/strava` queues Strava's events and
a `QueueWorker` thread, started with the lifespan too, works the queue. Settings
are passed in, never read here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import install_handlers
from api.middleware import Gate
from api.ratelimit import RateLimiter
from api.refresh import REFRESH_S, Refresher, Store
from api.routes import add_routes
from api.streams import ActivityStreams
from api.webhooks import add_webhook_routes
from pipeline.strava_push import QueueWorker
from lake.storage import Lake
from runlake.settings import Settings

DESCRIPTION = """Daily training of runlake's athletes, as JSON.

* `/v1/…`: the default athlete's public data (404 when that athlete is private);
  `/v1/athletes/{handle}/…` any public athlete's; `/v1/athletes` lists them. No token needed.
* `/v1/me/…`: the private marts of the token's athlete (`Authorization: Bearer <token>`, scope
  `read:private`), plus `/v1/me/activities/{id}` with laps and samples.
* Lists are `{"items": [...], "next": "/v1/…?cursor=…" | null}`; `from`/`to` are inclusive local
  dates (default: the last 30 days to today); errors are `{"error": code, "message": text}`.
"""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def create_app(settings: Settings, lake: Lake, *, clock: Callable[[], dt.datetime] = utc_now,
               refresh_s: float = REFRESH_S) -> FastAPI:
    store = Store()
    refresher = Refresher(lake, settings, store, interval_s=refresh_s)
    push_worker = QueueWorker(lake, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        refresher.start()
        if settings.strava_verify_token:  # Strava push set up: work its queue (api/webhooks.py)
            push_worker.start()
        try:
            yield
        finally:
            push_worker.stop()
            refresher.stop()

    app = FastAPI(title="runlake data API", version="1", description=DESCRIPTION, lifespan=lifespan,
                  docs_url="/docs", redoc_url=None)
    app.state.store = store
    app.state.refresher = refresher
    install_handlers(app)
    add_routes(app, store, clock, ActivityStreams(lake))
    add_webhook_routes(app, settings, lake, push_worker, clock)

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an API token (`runlake token create`), scope read:private for /v1/me"}}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
    public_limit = settings.api_public_rate_limit
    app.add_middleware(
        Gate, store=store, clock=clock, token_limit=RateLimiter(settings.api_token_rate_limit),
        public_limit=RateLimiter(public_limit) if public_limit else None, cors_origins=settings.api_cors_origin_set,
    )
    return app
