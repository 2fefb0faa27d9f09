"""The gate every `/v1` request passes, as plain ASGI (cheaper than framework middleware):
readiness (503 before the first snapshot), the token, the rate limits, and CORS for the public
endpoints. The holder of a valid token is left in `scope["state"]["token"]` for the handlers.
`/v1/webhooks/…` (Strava's push callback) passes untouched: Strava sends no token.

* `/v1/me/…` needs a token with `read:private`; its athlete is the token's, always.
* Public endpoints need no token; one that is presented is checked (a bad token is a 401, not
  silently anonymous) and the request counts against that token's budget.
* Anonymous requests count against their client address only when a public limit is set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from api.auth import READ_PRIVATE, READ_PUBLIC, authenticate, require
from api.errors import ApiError, error_body
from api.ratelimit import RateLimiter, retry_after
from api.refresh import Store

CORS_PREFLIGHT_HEADERS = [
    (b"access-control-allow-methods", b"GET, OPTIONS"),
    (b"access-control-max-age", b"600"),
]


#: Callbacks of other services: outside token auth, readiness and these rate limits (the Strava
#: webhook has its own size cap and event budget, api/webhooks.py).
WEBHOOKS = "/v1/webhooks/"


def is_private(path: str) -> bool:
    return path == "/v1/me" or path.startswith("/v1/me/")


class Gate:
    def __init__(self, app, *, store: Store, clock: Callable[[], dt.datetime], token_limit: RateLimiter,
                 public_limit: RateLimiter | None, cors_origins: frozenset[str]):
        self.app = app
        self.store = store
        self.clock = clock
        self.token_limit = token_limit
        self.public_limit = public_limit
        self.cors_origins = cors_origins

    def _allowed_origin(self, origin: bytes | None) -> bytes | None:
        if origin is None or not self.cors_origins:
            return None
        if "*" in self.cors_origins:
            return b"*"
        return origin if origin.decode("latin-1") in self.cors_origins else None

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/v1") or path.startswith(WEBHOOKS):  # Strava sends no token (api/webhooks.py)
            return await self.app(scope, receive, send)
        authorization = origin = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"origin":
                origin = value
        private = is_private(path)
        cors = None if private else self._allowed_origin(origin)
        extra = [(b"access-control-allow-origin", cors), (b"vary", b"Origin")] if cors else []
        if cors and scope["method"] == "OPTIONS":
            return await _send(send, 204, b"", extra + CORS_PREFLIGHT_HEADERS)
        try:
            self._admit(scope, authorization, private)
        except ApiError as error:
            headers = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
            return await _send(send, error.status, error_body(error.code, error.message),
                               [(b"content-type", b"application/json"), *headers, *extra])
        if not extra:
            return await self.app(scope, receive, send)

        async def send_with_cors(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return await self.app(scope, receive, send_with_cors)

    def _admit(self, scope, authorization: bytes | None, private: bool) -> None:
        book = self.store.tokens
        if self.store.snapshot is None or book is None:
            raise ApiError(503, "not_ready", "the API is loading the lake; try again in a few seconds", {"Retry-After": "2"})
        token = authenticate(book, authorization, self.clock()) if authorization is not None else None
        if private:
            require(token, READ_PRIVATE)
        elif token is not None:
            require(token, READ_PUBLIC)
        if token is not None:
            wait = self.token_limit.take(("token", token.token_id))
        elif self.public_limit is not None:
            client = scope.get("client")
            wait = self.public_limit.take(("address", client[0] if client else ""))
        else:
            wait = 0.0
        if wait > 0:
            raise ApiError(429, "rate_limited", "too many requests; slow down", {"Retry-After": retry_after(wait)})
        scope.setdefault("state", {})["token"] = token


async def _send(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
