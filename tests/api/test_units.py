"""Pure parts of the API: date windows, pages and cursors, rate-limit buckets."""

from __future__ import annotations

import datetime as dt

import pytest

from api.errors import ApiError
from api.pages import Series, decode_cursor, encode_cursor, list_body, next_path
from api.ratelimit import RateLimiter, retry_after
from api.routes import window

TODAY = dt.date(2025, 3, 31)


def test_window_defaults_to_30_days_ending_today_or_at_to():
    assert window(None, None, TODAY) == (dt.date(2025, 3, 2), TODAY)
    assert window(None, "2025-01-31", TODAY) == (dt.date(2025, 1, 2), dt.date(2025, 1, 31))
    assert window("2025-03-31", None, TODAY) == (TODAY, TODAY)
    for bad in (("2025-04-01", None), ("2025-03-02", "2025-03-01"), ("2025-02-29", None)):
        with pytest.raises(ApiError) as refused:
            window(*bad, TODAY)
        assert refused.value.status == 422 and refused.value.code == "invalid_request"


def test_pages_cut_by_key_and_continue_after_the_cursor():
    series = Series.of([(f"2025-03-{d:02d}", f'{{"d":{d}}}'.encode()) for d in (5, 1, 3, 2, 4)])
    items, last = series.page("2025-03-02", "2025-03-04\uffff", None, 2)
    assert items == [b'{"d":2}', b'{"d":3}'] and last == "2025-03-03"
    items, last = series.page("2025-03-02", "2025-03-04\uffff", decode_cursor(encode_cursor(last)), 2)
    assert items == [b'{"d":4}'] and last is None
    assert series.page("2025-04", "2025-05", None, 10) == ([], None)
    assert list_body([b"1", b"2"], None) == b'{"items":[1,2],"next":null}'
    assert next_path("/v1/days", {"from": "2025-03-01"}, "2025-03-03") == "/v1/days?from=2025-03-01&cursor=MjAyNS0wMy0wMw"
    assert next_path("/v1/days", {}, None) is None


def test_any_url_safe_cursor_decodes():
    for cursor in ("", "a", "ab", "abc", "abcd", "_-_-_", "AAAA"):
        assert isinstance(decode_cursor(cursor), str)


def test_a_bucket_holds_a_minute_and_refills_continuously():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.take("t") == 0 for _ in range(60))
    wait = limiter.take("t")
    assert wait == pytest.approx(1.0) and retry_after(wait) == "1"
    assert limiter.take("other") == 0  # each key its own budget
    now[0] += 1.0
    assert limiter.take("t") == 0 and limiter.take("t") > 0
