"""Per-client request budgets: a token bucket per key (an API token, or a client address).

A budget of N requests per minute refills continuously at N/60 per second and holds at most N,
so a quiet client may burst up to a minute's worth. Thread-safe; buckets that are full again are
forgotten once there are many, so memory stays bounded by the clients of the last minute.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

#: Buckets kept before full (idle) ones are dropped.
PRUNE_AT = 10_000


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[object, tuple[float, float]] = {}  # key → (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: object) -> float:
        """0 when the request may go ahead (one token taken), else the seconds until it may."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > PRUNE_AT:
                    self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self._rate

    def _prune(self, now: float) -> None:
        full = [k for k, (tokens, at) in self._buckets.items() if tokens + (now - at) * self._rate >= self.per_minute]
        for key in full:
            del self._buckets[key]


def retry_after(wait_s: float) -> str:
    """A Retry-After value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait_s)))
