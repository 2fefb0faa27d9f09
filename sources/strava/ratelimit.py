"""Stay inside Strava's rate limits, and stop cleanly instead of sleeping until midnight.

Strava limits an application per 15 minutes (windows start at :00, :15, :30, :45 UTC) and per UTC
day, once for all requests (`X-RateLimit-Limit` / `X-RateLimit-Usage`: "short,daily") and once
more for reads (`X-ReadRateLimit-*`, GET only). Header names may arrive in any case.

`RateLimiter` keeps the latest usage the server reported (counting its own requests in between,
for answers without headers) and is asked before every request (`before_request`) and before
every activity (`ensure_budget`, so an activity is not started unless its requests fit):

* the daily budget (a `share` of the daily limits) used up → `RateLimitReached` (window "daily");
* the 15-minute budget used up → wait for the next window when that is at most `max_wait_s`
  away, else `RateLimitReached` (window "15-minute");
* a 429 → `RateLimitReached` at once (`on_429`).

It is also passed to stravalib as its `rate_limiter` (stravalib calls it with each response's
headers), replacing stravalib's default limiter, which sleeps until the window resets — up to a
day inside a flow run. Nothing is remembered between runs: each run probes the API and trusts
the fresh headers.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sources.strava.errors import RateLimitReached

log = logging.getLogger(__name__)

QUARTER_S = 900
DAY_S = 86400


@dataclass
class Bucket:
    """One limit family (all requests, or reads): usage and limits, short (15 min) and daily."""

    name: str
    short_usage: int = 0
    long_usage: int = 0
    short_limit: int | None = None
    long_limit: int | None = None
    quarter: int = -1  # the 15-minute window (epoch // 900) the usage belongs to
    day: int = -1  # the UTC day (epoch // 86400) the usage belongs to

    def roll(self, now: float) -> None:
        """Forget usage of windows that have ended."""
        if int(now // QUARTER_S) != self.quarter:
            self.quarter = int(now // QUARTER_S)
            self.short_usage = 0
        if int(now // DAY_S) != self.day:
            self.day = int(now // DAY_S)
            self.long_usage = 0


def parse_pair(value: str | None) -> tuple[int, int] | None:
    """"600,30000" → (600, 30000); anything else → None."""
    if not value:
        return None
    parts = [p.strip() for p in str(value).split(",")]
    if len(parts) < 2:
        return None
    try:
        return int(parts[0]), int(parts[1])
    except ValueError:
        return None


def read_rate_headers(headers: Mapping[str, str]) -> dict[str, tuple[tuple[int, int], tuple[int, int]]]:
    """{"overall"|"read": ((short_usage, daily_usage), (short_limit, daily_limit))}, case-insensitive."""
    folded = {str(k).lower(): v for k, v in headers.items()}
    found = {}
    for bucket, prefix in (("overall", "x-ratelimit"), ("read", "x-readratelimit")):
        usage, limit = parse_pair(folded.get(f"{prefix}-usage")), parse_pair(folded.get(f"{prefix}-limit"))
        if usage and limit:
            found[bucket] = (usage, limit)
    return found


class RateLimiter:
    """Paces Strava requests within a share of the limits; see the module docstring."""

    def __init__(
        self,
        *,
        share: float = 0.9,
        max_wait_s: float = QUARTER_S,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[float, str], None] | None = None,
    ):
        if not 0 < share <= 1:
            raise ValueError("the rate-limit share must be in (0, 1]")
        self.share = share
        self.max_wait_s = max_wait_s
        self.clock = clock
        self.sleep = sleep
        self.on_wait = on_wait
        self.buckets = {"overall": Bucket("overall"), "read": Bucket("read")}
        self.requests = 0  # API requests sent (retries included)
        self.waited_s = 0.0

    # --- what the server told us -----------------------------------------------------------------

    def observe(self, headers: Mapping[str, str], method: str = "GET") -> None:
        """Take the usage and limits from a response's headers (the server's count wins)."""
        now = self.clock()
        for name, ((short_u, long_u), (short_l, long_l)) in read_rate_headers(headers).items():
            bucket = self.buckets[name]
            bucket.roll(now)
            bucket.short_usage, bucket.long_usage = short_u, long_u
            bucket.short_limit, bucket.long_limit = short_l, long_l

    def __call__(self, headers: Mapping[str, str], method: str) -> None:
        """stravalib's `rate_limiter` hook: called with every API response's headers."""
        self.observe(headers, method)

    # --- before sending ---------------------------------------------------------------------------

    def _applicable(self, method: str) -> list[Bucket]:
        return [self.buckets["overall"]] + ([self.buckets["read"]] if method.upper() == "GET" else [])

    def budget(self, limit: int | None) -> int | None:
        return None if limit is None else math.floor(limit * self.share)

    def _check(self, method: str, cost: int) -> None:
        now = self.clock()
        for bucket in self._applicable(method):
            bucket.roll(now)
        for bucket in self._applicable(method):
            daily = self.budget(bucket.long_limit)
            if daily is not None and bucket.long_usage + cost > daily:
                raise RateLimitReached(self._describe("daily", bucket, daily), window="daily")
        for bucket in self._applicable(method):
            short = self.budget(bucket.short_limit)
            if short is not None and bucket.short_usage + cost > short:
                wait = QUARTER_S - (now % QUARTER_S) + 1.0
                if wait > self.max_wait_s or cost > short:
                    raise RateLimitReached(self._describe("15-minute", bucket, short), window="15-minute")
                log.warning(  # visible in the CLI: a pause of minutes must not look like a hang
                    "Strava 15-minute budget used (%s): waiting %.0f s for the next window (what is fetched is kept if you stop)",
                    self._usage(bucket),
                    wait,
                )
                if self.on_wait:
                    self.on_wait(wait, "15-minute")
                self.sleep(wait)
                self.waited_s += wait
                for waited in self._applicable(method):  # a new 15-minute window has begun
                    waited.quarter, waited.short_usage = int((now + wait) // QUARTER_S), 0
                return self._check(method, cost)
        return None

    def ensure_budget(self, cost: int, method: str = "GET") -> None:
        """Raise (or wait) unless `cost` more requests fit in the budgets."""
        self._check(method, cost)

    def before_request(self, method: str = "GET") -> None:
        """Gate one request and count it until the response's headers say better."""
        self._check(method, 1)
        for bucket in self._applicable(method):
            bucket.short_usage += 1
            bucket.long_usage += 1
        self.requests += 1

    def on_429(self, headers: Mapping[str, str], method: str = "GET") -> RateLimitReached:
        """The exception to raise for a 429 answer (after taking its headers)."""
        self.observe(headers, method)
        for bucket in self._applicable(method):
            if bucket.long_limit is not None and bucket.long_usage >= bucket.long_limit:
                return RateLimitReached("Strava answered 429: " + self._describe("daily", bucket, bucket.long_limit), window="daily")
        applicable = self._applicable(method)
        worst = next((b for b in applicable if b.short_limit is not None and b.short_usage >= b.short_limit), applicable[-1])
        return RateLimitReached("Strava answered 429: " + self._describe("15-minute", worst, worst.short_limit), window="15-minute")

    # --- reporting ----------------------------------------------------------------------------------

    @staticmethod
    def _usage(bucket: Bucket) -> str:
        return (
            f"{bucket.name} {bucket.short_usage}/{bucket.short_limit} per 15 min, "
            f"{bucket.long_usage}/{bucket.long_limit} per day"
        )

    def _describe(self, window: str, bucket: Bucket, budget: int | None) -> str:
        share = f" (our share: {budget})" if self.share < 1 else ""
        return f"{window} rate limit reached{share}: {self._usage(bucket)}"

    def usage_line(self) -> str:
        known = [self._usage(b) for b in self.buckets.values() if b.long_limit is not None]
        return "; ".join(known) or "no rate-limit headers seen"
