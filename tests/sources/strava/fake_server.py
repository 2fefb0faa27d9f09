"""A fake Strava API v3 + OAuth server for tests and the bench, on a free 127.0.0.1 port.

`http.server.ThreadingHTTPServer` in a daemon thread of the test process. What it does like
Strava:

* OAuth: `POST /oauth/token` (refresh_token and authorization_code grants) with **rotating**
  refresh tokens (the old one is invalid once a new one was issued), access tokens with an
  expiry, Strava's error bodies for a bad client secret or an invalid refresh token;
  `GET /oauth/authorize` redirects to the redirect_uri with a one-time code.
* `GET /api/v3/athlete/activities` (paging, `before`/`after`, newest first unless `after`),
  `/activities/{id}` (DetailedActivity with laps), `/activities/{id}/streams` (key_by_type),
  `/activities/{id}/laps`, `/athlete`, `/gear/{id}` (from `gear`: g1, the fake activities' default, is there).
* Rate limits: `X-RateLimit-Limit/Usage` and `X-ReadRateLimit-Limit/Usage` on every API
  answer (optionally lower-case names), 429 past either limit; `new_day()` resets the daily
  count, the 15-minute count follows the wall clock's quarter hours.
* Faults: a share of API requests answered 500/502/503 (`fault_rate`, seeded), slow answers
  (`slow_rate`, `slow_s`), pages answered with malformed JSON (`malformed_pages`),
  activity details answered with a non-JSON 200 body (`malformed_details`: Strava ids).
* Add, update (rename, distance edit, private flag) and delete activities between runs.
* Push subscriptions (`/api/v3/push_subscriptions`: create — after validating the callback with
  Strava's `hub.challenge` GET, as Strava does —, list, delete; the application's client id and
  secret, one subscription per application) and `push_event`, which POSTs an event to the
  subscribed callback like Strava's webhook.

Every request is logged (`requests`) so tests can count what a sync downloaded. The server
never echoes a token in a body or a log line.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
import re
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.sources.strava.fake_data import STREAM_KEYS, FakeActivity


@dataclass
class Logged:
    method: str
    path: str
    query: dict
    status: int


def _err(message: str, resource: str, field: str, code: str) -> dict:
    return {"message": message, "errors": [{"resource": resource, "field": field, "code": code}]}


class FakeStrava:
    def __init__(
        self,
        activities: list[FakeActivity] | None = None,
        *,
        client_id: str = "4242",
        client_secret: str | None = None,
        short_limit: int = 600,
        daily_limit: int = 30000,
        read_short_limit: int = 300,
        read_daily_limit: int = 15000,
        fault_rate: float = 0.0,
        slow_rate: float = 0.0,
        slow_s: float = 1.0,
        seed: int = 1,
        lowercase_headers: bool = False,
        laps_in_detail: bool = True,
        rotate: bool = True,
        access_ttl_s: int = 21600,
        streams_404_for_manual: bool = True,
        advertised_read_daily_limit: int | None = None,
    ):
        self.activities: dict[int, FakeActivity] = {a.id: a for a in activities or []}
        self.client_id = client_id
        self.client_secret = client_secret or "cs_" + secrets.token_hex(16)
        self.short_limit, self.daily_limit = short_limit, daily_limit
        self.read_short_limit, self.read_daily_limit = read_short_limit, read_daily_limit
        self.fault_rate, self.slow_rate, self.slow_s = fault_rate, slow_rate, slow_s
        self.rng = random.Random(seed)
        self.lowercase_headers = lowercase_headers
        self.laps_in_detail = laps_in_detail
        self.rotate = rotate
        self.access_ttl_s = access_ttl_s
        self.streams_404_for_manual = streams_404_for_manual
        # headers claiming a larger read budget than enforced (another app shares the limit):
        # the client cannot see the 429 coming
        self.advertised_read_daily_limit = advertised_read_daily_limit
        self.malformed_pages: set[int] = set()
        self.malformed_details: set[int] = set()
        self.hidden_from_listing: set[int] = set()  # missed by a listing (paging shifted), still there
        self._stream_cache: dict[tuple, bytes] = {}
        self.refresh_tokens: set[str] = set()
        self.access_tokens: dict[str, float] = {}
        self.codes: set[str] = set()
        self.requests: list[Logged] = []
        self.issued_tokens: list[str] = []  # every secret handed out, for leak greps
        self.usage = {"short": 0, "daily": 0, "read_short": 0, "read_daily": 0}
        self.quarter = int(time.time() // 900)
        self.subscriptions: dict[int, dict] = {}  # push subscriptions by id
        #: DetailedGear by id, as `GET /gear/{id}` answers (a missing id: 404).
        self.gear: dict[str, dict] = {"g1": {"id": "g1", "name": "Fake Pegasus", "brand_name": "Nike", "model_name": "Pegasus 40", "retired": False, "resource_state": 3}}
        self.subscription_ids = iter(range(1001, 10**6))
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> "FakeStrava":
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-strava", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> "FakeStrava":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # --- tokens and state the tests drive -------------------------------------------------------

    def issue_refresh_token(self) -> str:
        token = "rt_" + secrets.token_hex(20)
        with self.lock:
            self.refresh_tokens.add(token)
            self.issued_tokens.append(token)
        return token

    def revoke_all(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()
            self.access_tokens.clear()

    def new_day(self) -> None:
        with self.lock:
            self.usage = {k: 0 for k in self.usage}

    def add(self, activity: FakeActivity) -> None:
        self.activities[activity.id] = activity

    def delete(self, activity_id: int) -> None:
        del self.activities[activity_id]

    def count(self, pattern: str, status: int | None = 200) -> int:
        rx = re.compile(pattern)
        return sum(1 for r in self.requests if rx.fullmatch(r.path) and (status is None or r.status == status))

    def push_event(self, object_type: str, object_id: int, aspect_type: str, *, owner_id: int = 1,
                   updates: dict | None = None, event_time: int | None = None) -> tuple[int, float]:
        """POST one event to the subscription's callback, as Strava does; (status, seconds taken)."""
        (subscription,) = self.subscriptions.values()
        body = {"object_type": object_type, "object_id": object_id, "aspect_type": aspect_type, "owner_id": owner_id,
                "subscription_id": subscription["id"], "event_time": event_time if event_time is not None else int(time.time()),
                "updates": updates or {}}
        request = urllib.request.Request(subscription["callback_url"], data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, time.monotonic() - started
        except urllib.error.HTTPError as error:
            return error.code, time.monotonic() - started

    def create_subscription(self, form: dict[str, str]) -> tuple[int, dict]:
        """Strava validates the callback (a GET with hub.challenge, 2 s to answer) before creating."""
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, _err("Authorization Error", "Application", "client_secret", "invalid")
        if self.subscriptions:
            return 400, _err("Bad Request", "PushSubscription", "", "already exists")
        challenge = secrets.token_hex(8)
        query = urlencode({"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": form.get("verify_token", "")})
        try:
            with urllib.request.urlopen(form.get("callback_url", "") + "?" + query, timeout=2) as response:
                answer = json.loads(response.read())
        except (urllib.error.URLError, ValueError, OSError):
            answer = None
        if not isinstance(answer, dict) or answer.get("hub.challenge") != challenge:
            return 400, _err("Bad Request", "PushSubscription", "callback url", "GET to callback URL does not return 200")
        subscription = {"id": next(self.subscription_ids), "application_id": int(self.client_id),
                        "callback_url": form["callback_url"], "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
        self.subscriptions[subscription["id"]] = subscription
        return 201, {"id": subscription["id"]}

    def app_authorized(self, query: dict[str, str]) -> bool:
        return query.get("client_id") == self.client_id and query.get("client_secret") == self.client_secret

    def api_requests(self) -> list[Logged]:
        return [r for r in self.requests if r.path.startswith("/api/")]

    # --- request handling (called from handler threads) ---------------------------------------

    def rate_headers(self) -> dict[str, str]:
        u = self.usage
        headers = {
            "X-RateLimit-Limit": f"{self.short_limit},{self.daily_limit}",
            "X-RateLimit-Usage": f"{u['short']},{u['daily']}",
            "X-ReadRateLimit-Limit": f"{self.read_short_limit},{self.advertised_read_daily_limit or self.read_daily_limit}",
            "X-ReadRateLimit-Usage": f"{u['read_short']},{u['read_daily']}",
        }
        return {k.lower(): v for k, v in headers.items()} if self.lowercase_headers else headers

    def count_request(self, method: str) -> bool:
        """Count an API request; False when it is over a limit (→ 429)."""
        with self.lock:
            quarter = int(time.time() // 900)
            if quarter != self.quarter:
                self.quarter = quarter
                self.usage["short"] = self.usage["read_short"] = 0
            self.usage["short"] += 1
            self.usage["daily"] += 1
            if method == "GET":
                self.usage["read_short"] += 1
                self.usage["read_daily"] += 1
            u = self.usage
            return not (
                u["short"] > self.short_limit
                or u["daily"] > self.daily_limit
                or u["read_short"] > self.read_short_limit
                or u["read_daily"] > self.read_daily_limit
            )

    def token(self, form: dict[str, str]) -> tuple[int, dict]:
        if form.get("client_id") != self.client_id:
            return 400, _err("Bad Request", "Application", "client_id", "invalid")
        if form.get("client_secret") != self.client_secret:
            return 401, _err("Authorization Error", "Application", "client_secret", "invalid")
        grant = form.get("grant_type")
        with self.lock:
            if grant == "refresh_token":
                old = form.get("refresh_token", "")
                if old not in self.refresh_tokens:
                    return 400, _err("Bad Request", "RefreshToken", "refresh_token", "invalid")
                if self.rotate:
                    self.refresh_tokens.discard(old)
            elif grant == "authorization_code":
                if form.get("code") not in self.codes:
                    return 400, _err("Bad Request", "AuthorizationCode", "code", "invalid")
                self.codes.discard(form["code"])
                old = ""
            else:
                return 400, _err("Bad Request", "Grant", "grant_type", "invalid")
            new_refresh = "rt_" + secrets.token_hex(20) if (self.rotate or grant != "refresh_token") else old
            access = "at_" + secrets.token_hex(20)
            self.refresh_tokens.add(new_refresh)
            self.access_tokens[access] = time.time() + self.access_ttl_s
            self.issued_tokens += [new_refresh, access]
        expires_at = int(time.time() + self.access_ttl_s)
        body = {"token_type": "Bearer", "access_token": access, "expires_at": expires_at, "expires_in": self.access_ttl_s, "refresh_token": new_refresh}
        if grant == "authorization_code":
            body["athlete"] = {"id": 1, "username": "fake"}
        return 200, body

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        expires = self.access_tokens.get(header.removeprefix("Bearer "))
        return expires is not None and expires > time.time()

    def listing(self, query: dict[str, str]) -> list[dict]:
        per_page = min(int(query.get("per_page", 30)), 200)
        page = max(int(query.get("page", 1)), 1)
        items = sorted((a for a in self.activities.values() if a.id not in self.hidden_from_listing), key=lambda a: a.start, reverse="after" not in query)
        if "after" in query:
            items = [a for a in items if a.start.timestamp() > float(query["after"])]
        if "before" in query:
            items = [a for a in items if a.start.timestamp() < float(query["before"])]
        return [a.summary() for a in items[(page - 1) * per_page : page * per_page]]

    def streams(self, activity: FakeActivity, query: dict[str, str]) -> tuple[int, object, bytes | None]:
        if not activity.has_streams:
            if self.streams_404_for_manual:
                return 404, _err("Resource Not Found", "Activity", "streams", "not found"), None
            return 200, {}, None
        cache_key = (activity.id, query.get("keys", ""), query.get("key_by_type"))
        cached = self._stream_cache.get(cache_key)
        if cached is None:
            status, body = self._streams_body(activity, query)
            cached = json.dumps(body).encode()
            if activity.stream_factory is None:  # streams never change: serialise once
                self._stream_cache[cache_key] = cached
        return 200, None, cached

    def _streams_body(self, activity: FakeActivity, query: dict[str, str]) -> tuple[int, object]:
        keys = [k for k in query.get("keys", "").split(",") if k] or list(STREAM_KEYS)
        streams = activity.get_streams() or {}
        n = len(streams["time"])
        out = {}
        for key in keys:
            if key in streams:
                out[key] = {"data": streams[key], "series_type": "distance", "original_size": n, "resolution": "high"}
        if query.get("key_by_type") != "true":
            return 200, [{"type": k, **v} for k, v in out.items()]
        return 200, out


_SUBSCRIPTIONS = "/api/v3/push_subscriptions"
_ACTIVITY = re.compile(r"^/api/v3/activities/(\d+)(/streams|/laps)?/?$")
_GEAR = re.compile(r"^/api/v3/gear/([A-Za-z0-9]+)/?$")


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeStrava
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # quiet, and never log a request line
        pass

    def _send(self, status: int, body: object, *, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _log(self, path: str, query: dict, status: int) -> None:
        self.server_fake.requests.append(Logged(self.command, path, query, status))

    def do_POST(self) -> None:
        fake = self.server_fake
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if parts.path == _SUBSCRIPTIONS:
            status, body = fake.create_subscription(form)
            self._log(parts.path, {}, status)
            return self._send(status, body)
        if parts.path != "/oauth/token":
            self._log(parts.path, {}, 404)
            return self._send(404, _err("Resource Not Found", "Path", "path", "not found"))
        status, body = fake.token(form)
        self._log(parts.path, {"grant_type": form.get("grant_type")}, status)
        self._send(status, body)

    def do_DELETE(self) -> None:
        fake = self.server_fake
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        found = re.fullmatch(_SUBSCRIPTIONS + r"/(\d+)", parts.path)
        if not found or not fake.app_authorized(query) or int(found.group(1)) not in fake.subscriptions:
            self._log(parts.path, {}, 404)
            return self._send(404, _err("Resource Not Found", "PushSubscription", "id", "not found"))
        del fake.subscriptions[int(found.group(1))]
        self._log(parts.path, {}, 204)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        fake = self.server_fake
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        if path == "/oauth/authorize":
            code = "code_" + secrets.token_hex(8)
            fake.codes.add(code)
            target = query.get("redirect_uri", "http://localhost/") + "?" + urlencode({"state": query.get("state", ""), "code": code, "scope": query.get("scope", "")})
            self._log(path, query, 302)
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == _SUBSCRIPTIONS:
            status = 200 if fake.app_authorized(query) else 401
            self._log(path, {}, status)
            return self._send(status, list(fake.subscriptions.values()) if status == 200 else _err("Authorization Error", "Application", "client_secret", "invalid"))
        if not path.startswith("/api/v3/"):
            self._log(path, query, 404)
            return self._send(404, _err("Resource Not Found", "Path", "path", "not found"))
        if fake.rng.random() < fake.fault_rate:
            status = fake.rng.choice([500, 502, 503])
            self._log(path, query, status)
            return self._send(status, {"message": "Internal Server Error", "errors": []})
        if fake.rng.random() < fake.slow_rate:
            time.sleep(fake.slow_s)
        if not fake.authorized(self.headers.get("Authorization")):
            self._log(path, query, 401)
            return self._send(401, _err("Authorization Error", "Athlete", "access_token", "invalid"))
        allowed = fake.count_request("GET")
        headers = fake.rate_headers()
        if not allowed:
            self._log(path, query, 429)
            return self._send(429, {"message": "Rate Limit Exceeded", "errors": [{"resource": "Application", "field": "rate limit", "code": "exceeded"}]}, headers=headers)
        status, body, raw = self._route(path, query)
        self._log(path, query, status)
        self._send(status, body, headers=headers, raw=raw)

    def _route(self, path: str, query: dict) -> tuple[int, object, bytes | None]:
        fake = self.server_fake
        if path == "/api/v3/athlete":
            return 200, {"id": 1, "username": "fake", "resource_state": 3}, None
        if path.rstrip("/") == "/api/v3/athlete/activities":
            if int(query.get("page", 1)) in fake.malformed_pages:
                return 200, None, b'[{"id": 1, "name": "truncated'
            return 200, fake.listing(query), None
        g = _GEAR.match(path)
        if g:
            found = fake.gear.get(g.group(1))
            return (200, found, None) if found is not None else (404, _err("Resource Not Found", "Gear", "id", "not found"), None)
        m = _ACTIVITY.match(path)
        if not m:
            return 404, _err("Resource Not Found", "Path", "path", "not found"), None
        activity = fake.activities.get(int(m.group(1)))
        if activity is None:
            return 404, _err("Resource Not Found", "Activity", "id", "not found"), None
        if m.group(2) == "/streams":
            return fake.streams(activity, query)
        if m.group(2) == "/laps":
            return 200, activity.laps, None
        if activity.id in fake.malformed_details:
            return 200, None, b"<html>upstream timeout</html>"
        return 200, activity.detail(with_laps=fake.laps_in_detail), None
