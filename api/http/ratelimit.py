"""Per-key request rate limit: a token bucket per API key, in front of every route.

Each key (the sha256 of its bearer token; the client address for requests without one) gets a
bucket of ``burst`` requests refilled at ``per_min`` a minute. An empty bucket answers **429**
problem+json with ``Retry-After`` (whole seconds until the next request is allowed). The
limiter sits outside the cached fast path, so warm reads count too; ``/v1/health`` is exempt
(monitoring polls it without a key).

Buckets live in the HTTP process: with ``vivres serve --workers N`` each process keeps its own,
so a key may reach N times the rate in the worst case.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from api.http.problems import problem_response
from api.settings import DEFAULT_RATE_BURST as DEFAULT_BURST
from api.settings import DEFAULT_RATE_PER_MIN as DEFAULT_PER_MIN
from api.settings import ENV_RATE_BURST as ENV_BURST
from api.settings import ENV_RATE_PER_MIN as ENV_PER_MIN
from api.settings import settings

__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_PER_MIN",
    "ENV_BURST",
    "ENV_PER_MIN",
    "RateLimiter",
    "limits_from_env",
]
EXEMPT = ("/v1/health",)
#: the web pages' scripts, styles and vendored libraries: files, not work (a page loads ~6)
EXEMPT_PREFIXES = ("/static/",)
MAX_BUCKETS = 10_000


def limits_from_env() -> tuple[int, int]:
    """``(per_min, burst)`` from ``VIVRES_RATE_LIMIT_PER_MIN`` (default 600, 0: no limit) and
    ``VIVRES_RATE_LIMIT_BURST`` (default 120)."""
    s = settings()
    return s.rate_limit_per_min, s.rate_limit_burst


class RateLimiter:
    """Token buckets by caller: ``take(who)`` is 0 when allowed, else the seconds to wait."""

    def __init__(self, per_min: int, burst: int, *, clock: Callable[[], float] = time.monotonic):
        self.per_min, self.burst, self.clock = per_min, max(burst, 1), clock
        self._buckets: dict[str, tuple[float, float]] = {}  # who -> (tokens, at)

    @property
    def enabled(self) -> bool:
        return self.per_min > 0

    def take(self, who: str) -> float:
        """Spend one request of ``who``'s bucket; the wait in seconds when it is empty."""
        now = self.clock()
        rate_s = self.per_min / 60.0
        tokens, at = self._buckets.get(who, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * rate_s)
        if tokens < 1.0:
            self._buckets[who] = (tokens, now)
            return (1.0 - tokens) / rate_s
        if len(self._buckets) >= MAX_BUCKETS and who not in self._buckets:
            self._forget_full(now, rate_s)
        self._buckets[who] = (tokens - 1.0, now)
        return 0.0

    def _forget_full(self, now: float, rate_s: float) -> None:
        """Drop the buckets that have refilled (they hold no state worth keeping); if every
        bucket is still draining, drop the oldest half rather than grow without bound."""
        full = [w for w, (t, at) in self._buckets.items() if t + (now - at) * rate_s >= self.burst]
        for who in full:
            del self._buckets[who]
        if len(self._buckets) >= MAX_BUCKETS:
            oldest = sorted(self._buckets, key=lambda w: self._buckets[w][1])
            for who in oldest[: MAX_BUCKETS // 2]:
                del self._buckets[who]


def _caller(scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return "key:" + hashlib.sha256(value.partition(b" ")[2].strip()).hexdigest()
    client = scope.get("client")
    return "addr:" + (client[0] if client else "?")


class RateLimit:
    """ASGI middleware: 429 problem+json with ``Retry-After`` once a key's bucket is empty (the
    app's ``state.rate_limiter``, read at each request)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limiter: RateLimiter = scope["app"].state.rate_limiter
        if not limiter.enabled or path in EXEMPT or path.startswith(EXEMPT_PREFIXES):
            return await self.app(scope, receive, send)
        wait_s = limiter.take(_caller(scope))
        if wait_s <= 0:
            return await self.app(scope, receive, send)
        response = problem_response(
            429,
            "Too Many Requests",
            f"this key sent more than {limiter.per_min} requests a minute (bursts up to "
            f"{limiter.burst}; {ENV_PER_MIN}, {ENV_BURST}): retry after the delay in "
            "Retry-After",
            slug="rate-limit",
            instance=scope.get("path"),
            headers={"Retry-After": str(max(1, math.ceil(wait_s)))},
        )
        return await response(scope, receive, send)
