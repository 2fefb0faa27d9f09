"""The rate limiter: headers in any case, budget shares, waiting vs stopping, 429s."""

from __future__ import annotations

import pytest

from sources.strava.errors import RateLimitReached
from sources.strava.ratelimit import RateLimiter, read_rate_headers


class Clock:
    def __init__(self, t: float):
        self.t = t
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def headers(usage: str, limit: str, read_usage: str | None = None, read_limit: str | None = None, *, lower: bool = False) -> dict:
    h = {"X-RateLimit-Usage": usage, "X-RateLimit-Limit": limit}
    if read_usage:
        h |= {"X-ReadRateLimit-Usage": read_usage, "X-ReadRateLimit-Limit": read_limit}
    return {k.lower(): v for k, v in h.items()} if lower else h


def test_headers_are_read_in_any_case():
    assert read_rate_headers(headers("5,50", "200,2000", "3,30", "100,1000", lower=True)) == {
        "overall": ((5, 50), (200, 2000)),
        "read": ((3, 30), (100, 1000)),
    }
    assert read_rate_headers({"X-RATELIMIT-USAGE": "1,2", "x-ratelimit-limit": "3,4"}) == {"overall": ((1, 2), (3, 4))}
    assert read_rate_headers({"X-RateLimit-Usage": "garbage", "X-RateLimit-Limit": "3,4"}) == {}


def test_daily_budget_share_stops_before_the_limit():
    clock = Clock(1_700_000_100.0)
    limiter = RateLimiter(share=0.5, clock=clock, sleep=clock.sleep)
    limiter.observe(headers("10,998", "600,3000", "10,498", "300,1000"))
    with pytest.raises(RateLimitReached) as stop:
        limiter.before_request("GET")  # read budget 500, 498 used: two fit…
        limiter.before_request("GET")
        limiter.before_request("GET")  # …the third would exceed it
    assert stop.value.window == "daily"
    assert "500" in str(stop.value)
    assert clock.slept == []


def test_ensure_budget_refuses_an_activity_that_does_not_fit():
    clock = Clock(1_700_000_100.0)
    limiter = RateLimiter(share=1.0, clock=clock, sleep=clock.sleep)
    limiter.observe(headers("1,999", "600,1000"))
    limiter.ensure_budget(1)
    with pytest.raises(RateLimitReached):
        limiter.ensure_budget(2)


def test_fifteen_minute_budget_waits_for_the_next_window_then_goes_on():
    clock = Clock(900 * 1_900_000 + 600.0)  # 5 minutes before a quarter ends
    waits = []
    limiter = RateLimiter(share=1.0, max_wait_s=900, clock=clock, sleep=clock.sleep, on_wait=lambda s, w: waits.append(w))
    limiter.observe(headers("200,500", "200,2000"))
    limiter.before_request("GET")
    assert clock.slept == [pytest.approx(301.0)]
    assert waits == ["15-minute"]
    assert limiter.buckets["overall"].short_usage == 1  # a new window


def test_fifteen_minute_budget_stops_when_waiting_is_not_allowed():
    clock = Clock(900 * 1_900_000 + 600.0)
    limiter = RateLimiter(share=1.0, max_wait_s=60, clock=clock, sleep=clock.sleep)
    limiter.observe(headers("200,500", "200,2000"))
    with pytest.raises(RateLimitReached) as stop:
        limiter.before_request("GET")
    assert stop.value.window == "15-minute"
    assert clock.slept == []


def test_usage_from_an_earlier_day_is_forgotten_so_each_run_probes():
    clock = Clock(86400 * 20_000 + 86000.0)
    limiter = RateLimiter(share=1.0, clock=clock, sleep=clock.sleep)
    limiter.observe(headers("10,2000", "200,2000"))
    with pytest.raises(RateLimitReached):
        limiter.before_request("GET")
    clock.t += 1000  # past UTC midnight
    limiter.before_request("GET")  # no longer exhausted


def test_429_says_which_window():
    limiter = RateLimiter()
    daily = limiter.on_429(headers("12,2001", "200,2000"), "GET")
    assert daily.window == "daily" and "429" in str(daily)
    short = limiter.on_429(headers("201,300", "200,2000"), "GET")
    assert short.window == "15-minute"


def test_posts_are_not_held_to_the_read_limit():
    clock = Clock(1_700_000_100.0)
    limiter = RateLimiter(share=1.0, clock=clock, sleep=clock.sleep)
    limiter.observe(headers("1,1", "600,3000", "1000,1000", "1000,1000"))
    limiter.before_request("POST")
    with pytest.raises(RateLimitReached):
        limiter.before_request("GET")


def test_requests_are_counted_between_headers():
    clock = Clock(1_700_000_100.0)
    limiter = RateLimiter(share=1.0, clock=clock, sleep=clock.sleep)
    limiter.observe(headers("0,97", "600,100"))
    for _ in range(3):
        limiter.before_request("GET")  # answers without headers (faults) still count
    with pytest.raises(RateLimitReached):
        limiter.before_request("GET")
    assert limiter.requests == 3
