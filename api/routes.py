"""The endpoints: one set of views (days, weeks, activities, best efforts, predictions, fitness),
mounted three times — `/v1` (the default athlete, when public), `/v1/athletes/{handle}` (any
public athlete) and `/v1/me` (the token's athlete, private marts) — plus `/v1/athletes`.

Each view picks its athlete once (`pick`), cuts a page from pre-encoded rows and returns the bytes;
nothing is encoded or read from the lake per request, except one activity's laps and samples on
`/v1/me/activities/{id}` (`api.streams`). `/v1/me/gear` (distance per shoe) is private only.
A private or unknown handle is the same 404.
"""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations, some local (`Who`).

import datetime as dt
from collections.abc import Callable
from bisect import bisect_right
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Path, Query, Request
from starlette.responses import JSONResponse

from api import schemas
from api.errors import invalid, not_found
from api.pages import CURSOR_PATTERN, DEFAULT_LIMIT, END, MAX_LIMIT, decode_cursor, list_body, next_path
from api.refresh import Store
from api.snapshot import Served
from api.encode import AthleteData
from api.streams import ActivityStreams

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: Without `from`/`to`: the last 30 days, today included (today in the athlete's zone).
DEFAULT_DAYS = 30
EMPTY_ATHLETE = Served(ZoneInfo("UTC"), AthleteData())  # a token's athlete with no marts yet

From = Annotated[str | None, Query(alias="from", pattern=DATE_PATTERN, json_schema_extra={"format": "date"}, description="first local date, inclusive (YYYY-MM-DD); default: 29 days before `to`", examples=["2025-03-01"])]
To = Annotated[str | None, Query(alias="to", pattern=DATE_PATTERN, json_schema_extra={"format": "date"}, description="last local date, inclusive (YYYY-MM-DD); default: today", examples=["2025-03-31"])]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"items per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})")]
Cursor = Annotated[str | None, Query(max_length=512, pattern=CURSOR_PATTERN, description="the `cursor` of a `next` link")]

ERRORS = {422: {"model": schemas.Error, "description": "invalid date, `from` after `to`, bad limit or cursor"},
          429: {"model": schemas.Error, "description": "rate limited (Retry-After)"},
          503: {"model": schemas.Error, "description": "no snapshot of the lake loaded yet"}}
NOT_FOUND = {404: {"model": schemas.Error, "description": "unknown, or not this athlete's"}}
AUTH = {401: {"model": schemas.Error, "description": "missing, invalid, expired or revoked token"},
        403: {"model": schemas.Error, "description": "the token lacks read:private"}}


class JSON(JSONResponse):
    """A JSON answer whose bytes are already encoded (a JSONResponse, so OpenAPI shows the model)."""

    def render(self, content: bytes) -> bytes:
        return content


def parse_date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise invalid(f"{name}: {value} is not a date (YYYY-MM-DD)") from None


def window(start: str | None, end: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The inclusive local dates asked for, with the defaults filled in."""
    last = parse_date(end, "to") if end is not None else today
    if start is not None:
        first = parse_date(start, "from")
    else:  # the last DEFAULT_DAYS days, or from 0001-01-01 when `to` is closer to it than that
        first = dt.date.fromordinal(max(1, last.toordinal() - (DEFAULT_DAYS - 1)))
    if first > last:
        raise invalid(f"from ({first}) is after to ({last}{'' if end is not None else ', today by default'})")
    return first, last


def _page(request: Request, series, low: str, high: str, limit: int, cursor: str | None, params: dict[str, str]) -> JSON:
    items, last = series.page(low, high, decode_cursor(cursor), limit)
    return JSON(list_body(items, next_path(request.url.path, {**params, "limit": str(limit)}, last)))


def add_views(app: FastAPI, prefix: str, pick: Callable[..., Any], *, private: bool, tag: str,
              clock: Callable[[], dt.datetime], streams: ActivityStreams, store: Store) -> None:
    """Register the views of one athlete source under `prefix`."""
    Who = Annotated[Served, Depends(pick)]
    extra = {"security": [{"bearer": []}]} if private else None
    # A token is optional on public views, but a bad one is a 401 there too.
    errors = {**ERRORS, **(AUTH if private else {401: AUTH[401]}), **({} if private else NOT_FOUND)}
    route = dict(tags=[tag], openapi_extra=extra, response_class=JSON)
    activity_model = schemas.PrivateActivity if private else schemas.Activity
    detail_model = schemas.PrivateActivityDetail if private else schemas.ActivityDetail

    @app.get(prefix + "/days", responses={200: {"model": schemas.Page[schemas.Day]}, **errors}, **route,
             summary="Training days: volume, load and fitness, with the week's context")
    async def days(request: Request, who: Who, start: From = None, end: To = None, limit: Limit = DEFAULT_LIMIT,
                   cursor: Cursor = None) -> JSON:
        first, last = window(start, end, who.today(clock()))
        return _page(request, who.data.days, first.isoformat(), last.isoformat() + END, limit, cursor,
                     {"from": first.isoformat(), "to": last.isoformat()})

    @app.get(prefix + "/days/{day}", responses={200: {"model": schemas.Day}, **errors, **NOT_FOUND}, **route,
             summary="One training day")
    async def one_day(who: Who, day: Annotated[str, Path(pattern=DATE_PATTERN, json_schema_extra={"format": "date"}, examples=["2025-03-10"])]) -> JSON:
        found = who.data.day.get(parse_date(day, "date").isoformat())
        if found is None:
            raise not_found("day")
        return JSON(found)

    @app.get(prefix + "/weeks", responses={200: {"model": schemas.Page[schemas.Week]}, **errors}, **route,
             summary="Monday-to-Sunday weeks overlapping the dates")
    async def weeks(request: Request, who: Who, start: From = None, end: To = None, limit: Limit = DEFAULT_LIMIT,
                    cursor: Cursor = None) -> JSON:
        first, last = window(start, end, who.today(clock()))
        monday = first - dt.timedelta(days=first.weekday())
        return _page(request, who.data.weeks, monday.isoformat(), last.isoformat() + END, limit, cursor,
                     {"from": first.isoformat(), "to": last.isoformat()})

    @app.get(prefix + "/activities", responses={200: {"model": schemas.Page[activity_model]}, **errors}, **route,
             summary="Activities by local date, then id")
    async def activities(request: Request, who: Who, start: From = None, end: To = None,
                         limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> JSON:
        first, last = window(start, end, who.today(clock()))
        return _page(request, who.data.activities, first.isoformat(), last.isoformat() + END, limit, cursor,
                     {"from": first.isoformat(), "to": last.isoformat()})

    @app.get(prefix + "/best-efforts", responses={200: {"model": schemas.Page[schemas.BestEffort]}, **errors},
             **route, summary="Personal bests per distance: all-time and per year")
    async def best_efforts(request: Request, who: Who, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> JSON:
        return _page(request, who.data.best_efforts, "", END, limit, cursor, {})

    @app.get(prefix + "/predictions", responses={200: {"model": schemas.Page[schemas.Prediction]}, **errors},
             **route, summary="Race predictions (Riegel, VDOT) from the last year's bests")
    async def predictions(request: Request, who: Who, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> JSON:
        return _page(request, who.data.predictions, "", END, limit, cursor, {})

    @app.get(prefix + "/fitness/today", responses={200: {"model": schemas.Fitness}, **errors, **NOT_FOUND}, **route,
             summary="Fitness (CTL), fatigue (ATL), form (TSB) and ACWR as of today")
    async def fitness_today(who: Who) -> JSON:
        today = who.today(clock()).isoformat()
        series = who.data.fitness
        at = bisect_right(series.keys, today) - 1
        if at < 0:
            raise not_found("training data")
        return JSON(b'{"today":"' + today.encode() + b'",' + series.items[at] + b"}")

    if not private:
        @app.get(prefix + "/activities/{public_id}", responses={200: {"model": detail_model}, **errors, **NOT_FOUND},
                 **route, summary="One public activity with its best efforts")
        async def activity(who: Who, public_id: Annotated[str, Path(max_length=128)]) -> JSON:
            found = who.data.activity.get(public_id)
            if found is None:
                raise not_found("activity")
            return JSON(found)
        return

    @app.get(prefix + "/activities/{activity_id}", responses={200: {"model": detail_model}, **errors, **NOT_FOUND},
             **route, summary="One of your activities with its best efforts, laps and samples")
    def my_activity(request: Request, who: Who, activity_id: Annotated[str, Path(max_length=128)]) -> JSON:
        found = who.data.activity.get(activity_id)
        if found is None:
            raise not_found("activity")
        athlete_id = request.state.token.athlete_id
        streams_json = streams.laps_and_samples(athlete_id, activity_id, who.data.records_year.get(activity_id),
                                                store.stream_versions)
        return JSON(found[:-1] + b"," + streams_json + b"}")

    @app.get(prefix + "/gear", responses={200: {"model": schemas.Page[schemas.Gear]}, **errors}, **route,
             summary="Your shoes and other gear: distance, runs and the retirement threshold")
    async def gear(request: Request, who: Who, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> JSON:
        return _page(request, who.data.gear, "", END, limit, cursor, {})


def add_routes(app: FastAPI, store: Store, clock: Callable[[], dt.datetime], streams: ActivityStreams) -> None:
    def snapshot():
        return store.snapshot  # never None here: the gate answers 503 before the first load

    async def default_athlete() -> Served:
        snap = snapshot()
        if snap.default_handle is None or snap.default_handle not in snap.public:
            raise not_found("athlete")
        return snap.public[snap.default_handle]

    async def public_athlete(handle: Annotated[str, Path(max_length=64, examples=["me"])]) -> Served:
        found = snapshot().public.get(handle)
        if found is None:
            raise not_found("athlete")
        return found

    async def token_athlete(request: Request) -> Served:
        return snapshot().private.get(request.state.token.athlete_id, EMPTY_ATHLETE)

    common = dict(clock=clock, streams=streams, store=store)
    add_views(app, "/v1", default_athlete, private=False, tag="default athlete", **common)

    @app.get("/v1/athletes", responses={200: {"model": schemas.Page[schemas.Athlete]}, **ERRORS, 401: AUTH[401]},
             tags=["public athletes"], response_class=JSON, summary="The public athletes")
    async def athletes(request: Request, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> JSON:
        return _page(request, snapshot().athletes, "", END, limit, cursor, {})

    add_views(app, "/v1/athletes/{handle}", public_athlete, private=False, tag="public athletes", **common)
    add_views(app, "/v1/me", token_athlete, private=True, tag="me (private)", **common)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSON:
        if store.snapshot is None:
            return JSON(b'{"status":"loading"}', status_code=503)
        return JSON(b'{"status":"ok"}')
