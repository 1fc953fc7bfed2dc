"""Per-consumer rate limiting (token bucket).

Consumers announce a ``rate_limit`` (commands per minute) in their features
answer, or the operator configures one; exceeding it gets commands dropped
or 503s. Callers *reserve* a slot and wait the returned delay, so threads
sending to the same consumer queue up fairly without polling.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    """``per_minute`` tokens refill continuously; ``burst`` is the bucket size."""

    def __init__(self, per_minute: float, *, burst: float = 1.0, clock: Clock = time.monotonic) -> None:
        if not per_minute > 0:
            raise ValueError(f"rate_limit must be > 0 commands per minute, got {per_minute!r}")
        if not burst >= 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        self._clock = clock
        self._lock = threading.Lock()
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last = clock()

    @property
    def per_minute(self) -> float:
        return self._rate * 60.0

    def _refill(self, now: float) -> None:
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now

    def set_rate(self, per_minute: float) -> None:
        """Change the rate (a newer features answer); tokens already earned stay."""
        if not per_minute > 0:
            raise ValueError(f"rate_limit must be > 0 commands per minute, got {per_minute!r}")
        with self._lock:
            self._refill(self._clock())
            self._rate = per_minute / 60.0

    def reserve(self) -> float:
        """Take one token (possibly in advance); return seconds to wait before using it."""
        with self._lock:
            self._refill(self._clock())
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self._rate


class RateLimits:
    """The buckets of every rate-limited consumer, created on demand."""

    def __init__(self, *, clock: Clock = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}

    def set(self, consumer: str, per_minute: float | None) -> None:
        """Configure or update a consumer's limit; None leaves it as it is."""
        if per_minute is None or not per_minute > 0:
            return
        with self._lock:
            bucket = self._buckets.get(consumer)
            if bucket is None:
                self._buckets[consumer] = TokenBucket(per_minute, clock=self._clock)
            else:
                bucket.set_rate(per_minute)

    def limit(self, consumer: str) -> float | None:
        bucket = self._buckets.get(consumer)
        return bucket.per_minute if bucket else None

    def reserve(self, consumer: str) -> float:
        """Seconds the caller must wait before sending to ``consumer`` (0 when unlimited)."""
        bucket = self._buckets.get(consumer)
        return bucket.reserve() if bucket else 0.0

    def wait(self, consumer: str) -> float:
        """Reserve and wait; returns the time waited."""
        delay = self.reserve(consumer)
        if delay > 0:
            self._sleep(delay)
        return delay
