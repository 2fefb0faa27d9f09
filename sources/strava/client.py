"""The HTTP side of Strava: a stravalib client pointed at `RUNLAKE_STRAVA_URL`, and `StravaApi`.

stravalib has no base-URL option: it always builds `https://www.strava.com/api/v3/…` and
`https://www.strava.com/oauth/token`. `StravaAdapter`, mounted on the requests session, rewrites
those to `<RUNLAKE_STRAVA_URL>/api/v3/…` and `<RUNLAKE_STRAVA_URL>/oauth/token`, and is also the
one place every request passes through, so it gates each API request on the rate limiter, reads
every response's rate-limit headers, retries 5xx answers, timeouts and lost connections with
exponential backoff (first retry after 0.25 s, capped), and turns a 429 into a clean stop.

`StravaApi` returns the JSON Strava sent (kept as-is for the raw archive), checked for the shape
each endpoint documents, and turns stravalib's faults into one-line `StravaError`s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from stravalib import Client, exc
from stravalib.protocol import ApiV3

from sources.strava.errors import StravaAuthError, StravaError, StravaPayloadError, StravaUnavailable
from sources.strava.ratelimit import RateLimiter

log = logging.getLogger(__name__)

STRAVALIB_ORIGIN = "https://www.strava.com"

#: The streams a sync asks for (full resolution: no `resolution` parameter).
STREAM_TYPES = ("time", "latlng", "distance", "altitude", "heartrate", "cadence", "velocity_smooth", "moving", "watts", "temp")


def _connection_reason(error: Exception) -> str:
    text = str(error)
    for needle in ("Connection refused", "Name or service not known", "Temporary failure in name resolution", "Network is unreachable", "Connection reset"):
        if needle in text:
            return needle.lower()
    if isinstance(error, requests.Timeout):
        return "timed out"
    return type(error).__name__


class StravaAdapter(HTTPAdapter):
    """Rewrites stravalib's fixed host to `base_url`; retries faults; gates on the rate limiter."""

    def __init__(
        self,
        base_url: str,
        limiter: RateLimiter,
        *,
        max_retries: int = 4,
        timeout_s: float = 30.0,
        backoff_first_s: float = 0.25,
        backoff_cap_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__()
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise StravaError(f"RUNLAKE_STRAVA_URL={base_url!r} is not an http(s) URL")
        self.base = parts
        self.base_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self.limiter = limiter
        self.retries = max_retries
        self.timeout_s = timeout_s
        self.backoff_first_s = backoff_first_s
        self.backoff_cap_s = backoff_cap_s
        self.sleep = sleep
        self.faults = 0  # 5xx answers and transport errors seen (retried or not)
        self.last_body = b""  # the last answer's bytes, for the raw archive (no re-encoding)

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((self.base.scheme, self.base.netloc, self.base.path + parts.path, parts.query, ""))

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_cap_s, self.backoff_first_s * 2**attempt)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        request.url = self.rewrite(request.url or "")
        path = urlsplit(request.url).path
        is_api = "/oauth/" not in path  # the token endpoint is outside the API rate limits
        method = (request.method or "GET").upper()
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_s
        for attempt in range(self.retries + 1):
            if is_api:
                self.limiter.before_request(method)
            try:
                response = super().send(request, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as error:
                self.faults += 1
                reason = _connection_reason(error)
                if attempt == self.retries:
                    raise StravaUnavailable(
                        f"cannot reach Strava at {self.base_url} ({reason}, {attempt + 1} attempts): check the network or RUNLAKE_STRAVA_URL"
                    ) from None
                log.info("Strava %s %s: %s; retry %d/%d", method, path, reason, attempt + 1, self.retries)
                self.sleep(self.backoff(attempt))
                continue
            if is_api:
                self.limiter.observe(response.headers, method)
                if response.status_code == 429:
                    response.close()
                    raise self.limiter.on_429(response.headers, method)
            if response.status_code >= 500:
                self.faults += 1
                if attempt < self.retries:
                    log.info("Strava %s %s: HTTP %d; retry %d/%d", method, path, response.status_code, attempt + 1, self.retries)
                    response.close()
                    self.sleep(self.backoff(attempt))
                    continue
            _decode_once(response)
            self.last_body = response.content
            return response
        raise AssertionError("unreachable")


def _decode_once(response: requests.Response) -> None:
    """stravalib parses each body twice (error check, then result): parse it once."""
    parse = response.json
    cache: list = []

    def json_once(**kwargs: Any) -> Any:
        if not cache:
            cache.append(parse(**kwargs))
        return cache[0]

    response.json = json_once  # type: ignore[method-assign]


class _ProjectApi(ApiV3):
    """stravalib's protocol without its environment-driven token refresh: runlake owns refresh."""

    def _check_credentials(self) -> None:  # reads STRAVA_CLIENT_ID/SECRET from os.environ upstream
        self.client_id = None
        self.client_secret = None


class StravaClient(Client):
    """A stravalib `Client` on our session and rate limiter, with refresh left to runlake.

    `Client.__init__` only builds its `protocol`; we build it ourselves so stravalib neither reads
    the environment nor warns about `STRAVA_CLIENT_ID` (runlake's settings carry the credentials).
    """

    def __init__(self, *, session: requests.Session, limiter: RateLimiter, access_token: str | None = None):
        self.log = logging.getLogger(f"{Client.__module__}.{Client.__name__}")
        self.protocol = _ProjectApi(access_token=access_token, requests_session=session, rate_limiter=limiter)


def make_client(
    base_url: str,
    limiter: RateLimiter,
    *,
    max_retries: int = 4,
    timeout_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[StravaClient, StravaAdapter]:
    """A client whose requests all go to `base_url` through a `StravaAdapter`."""
    adapter = StravaAdapter(base_url, limiter, max_retries=max_retries, timeout_s=timeout_s, sleep=sleep)
    session = requests.Session()
    session.mount(STRAVALIB_ORIGIN, adapter)
    session.mount(adapter.base_url, adapter)
    return StravaClient(session=session, limiter=limiter), adapter


class StravaApi:
    """The reads a sync needs, as checked JSON. `reauthorize` is called once on a 401.

    `raw[name]` keeps the bytes of the last answer of each kind ("activity", "streams", "laps")
    exactly as Strava sent them, for the raw archive.
    """

    def __init__(self, client: StravaClient, adapter: StravaAdapter, *, reauthorize: Callable[[], None] | None = None):
        self.client = client
        self.adapter = adapter
        self.reauthorize = reauthorize
        self.raw: dict[str, bytes] = {}
        self.laps_inline = True  # until a DetailedActivity comes without its laps

    def _keep(self, name: str) -> None:
        self.raw[name] = self.adapter.last_body

    def _get(self, url: str, what: str, **params: Any) -> Any:
        for attempt in (0, 1):
            try:
                return self.client.protocol.get(url, **params)
            except exc.AccessUnauthorized:
                if attempt == 0 and self.reauthorize is not None:
                    log.info("Strava answered 401 for %s: refreshing the access token once", what)
                    self.reauthorize()
                    continue
                raise StravaAuthError(
                    f"Strava refused the access token for {what} (401): run `runlake strava auth` to authorize again"
                ) from None
            except exc.ObjectNotFound:
                raise
            except exc.Fault as fault:
                status = fault.response.status_code if fault.response is not None else 0
                detail = " ".join(str(fault).split())
                if status == 403:
                    raise StravaAuthError(f"Strava refused {what} (403): {detail}; the authorization needs scope activity:read_all") from None
                if status >= 500:
                    raise StravaUnavailable(f"Strava kept failing for {what}: {detail}") from None
                raise StravaError(f"Strava refused {what}: {detail}") from None
            except ValueError as error:  # requests' JSONDecodeError
                raise StravaPayloadError(f"Strava answered malformed JSON for {what}: {' '.join(str(error).split())[:120]}") from None
        raise AssertionError("unreachable")

    def list_page(self, page: int, *, per_page: int = 200, after: int | None = None) -> list[dict]:
        """One page of `athlete/activities` (newest first; oldest first when `after` is given)."""
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if after is not None:
            params["after"] = after
        what = f"athlete/activities page {page}"
        body = self._get("/athlete/activities", what, **params)
        if not isinstance(body, list) or not all(isinstance(a, dict) and isinstance(a.get("id"), int) for a in body):
            raise StravaPayloadError(f"Strava answered {what} with something other than a list of activities")
        return body

    def activity(self, strava_id: int) -> dict | None:
        """The DetailedActivity, or None when Strava no longer has it (404)."""
        what = f"activity {strava_id}"
        try:
            body = self._get("/activities/{id}", what, id=strava_id, include_all_efforts="false")
        except exc.ObjectNotFound:
            return None
        if not isinstance(body, dict) or body.get("id") != strava_id:
            raise StravaPayloadError(f"Strava answered {what} with something other than that activity")
        self._keep("activity")
        return body

    def streams(self, strava_id: int) -> dict[str, dict] | None:
        """Streams keyed by type at full resolution; None when the activity has none (404)."""
        what = f"streams of activity {strava_id}"
        try:
            body = self._get("/activities/{id}/streams", what, id=strava_id, keys=",".join(STREAM_TYPES), key_by_type="true")
        except exc.ObjectNotFound:
            return None
        self._keep("streams")
        if isinstance(body, list):  # answered without key_by_type: a list of {type, data, …}
            body = {s.get("type"): s for s in body if isinstance(s, dict)}
        if not isinstance(body, dict) or not all(isinstance(s, dict) and isinstance(s.get("data"), list) for s in body.values()):
            raise StravaPayloadError(f"Strava answered {what} with something other than streams")
        return body or None

    def athlete_id(self) -> int:
        """Strava's id of the athlete whose token this is (`GET /athlete`)."""
        body = self._get("/athlete", "the authenticated athlete")
        if not isinstance(body, dict) or not isinstance(body.get("id"), int):
            raise StravaPayloadError("Strava answered /athlete with something other than an athlete")
        return body["id"]

    def gear(self, gear_id: str) -> dict | None:
        """A gear's details (`GET /gear/{id}`: name, brand_name, model_name, retired, …), or None
        when Strava does not have it (404)."""
        what = f"gear {gear_id}"
        try:
            body = self._get("/gear/{id}", what, id=gear_id)
        except exc.ObjectNotFound:
            return None
        if not isinstance(body, dict) or str(body.get("id")) != gear_id:
            raise StravaPayloadError(f"Strava answered {what} with something other than that gear")
        return body

    def laps(self, strava_id: int) -> list[dict]:
        what = f"laps of activity {strava_id}"
        try:
            body = self._get("/activities/{id}/laps", what, id=strava_id)
        except exc.ObjectNotFound:
            return []
        if not isinstance(body, list) or not all(isinstance(lap, dict) for lap in body):
            raise StravaPayloadError(f"Strava answered {what} with something other than a list of laps")
        self._keep("laps")
        return body
