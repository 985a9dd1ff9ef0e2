"""Per-partner token buckets: ``rate_per_minute`` requests a minute, with bursts up to one minute's worth."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from casehub.connectors.gateway.exceptions import RateLimited


@dataclass(frozen=True, slots=True)
class Quota:
    """Where a partner's bucket stands after a request: sent back as the RateLimit-* headers."""

    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        """``RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (seconds until the bucket is full again)."""
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
            "RateLimit-Policy": f"{self.limit};w=60",
        }


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """One bucket per partner; each request takes a token; an empty bucket answers how long to wait."""

    def __init__(self, rate_per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(max(1, rate_per_minute))
        self.per_second = self.capacity / 60.0
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, partner: str) -> Quota:
        """Take one token for ``partner`` and say what is left, or raise RateLimited with the seconds to wait."""
        now = self.clock()
        bucket = self._buckets.get(partner)
        if bucket is None:
            bucket = self._buckets[partner] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return self._quota(bucket)
        wait = (1.0 - bucket.tokens) / self.per_second
        raise RateLimited(
            f"{partner} sent more than {int(self.capacity)} requests a minute",
            hint="wait Retry-After seconds, or batch events into one POST",
            retry_after=max(1, math.ceil(wait)),
            quota=self._quota(bucket),
        )

    def _quota(self, bucket: _Bucket) -> Quota:
        reset = math.ceil((self.capacity - bucket.tokens) / self.per_second)
        return Quota(limit=int(self.capacity), remaining=int(bucket.tokens), reset_seconds=reset)
