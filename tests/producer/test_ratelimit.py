"""Token bucket with an injected clock: no sleeping in tests."""
from __future__ import annotations

import pytest

from fn_openc2.lib.producer.ratelimit import RateLimits, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_first_request_is_free_then_spaced_by_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(30, clock=clock)  # one every 2 s
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(2.0)
    assert bucket.reserve() == pytest.approx(4.0)  # queued behind the previous reservation


def test_tokens_refill_with_time_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(60, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() == pytest.approx(1.0)
    clock.now += 100  # long idle: refill stops at the burst size
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() == pytest.approx(1.0)


def test_at_most_rate_plus_burst_in_a_minute() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock)
    sent = 0
    start = clock.now
    while True:
        delay = bucket.reserve()
        clock.now += delay
        if clock.now - start > 60:
            break
        sent += 1
    assert sent <= 11


def test_rate_can_change() -> None:
    clock = FakeClock()
    bucket = TokenBucket(60, clock=clock)
    bucket.reserve()
    bucket.set_rate(6)
    assert bucket.reserve() == pytest.approx(10.0)


def test_invalid_rate() -> None:
    with pytest.raises(ValueError, match="rate_limit must be > 0"):
        TokenBucket(0)


def test_rate_limits_per_consumer_and_waits_through_injected_sleep() -> None:
    clock = FakeClock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    limits = RateLimits(clock=clock, sleep=sleep)
    limits.set("fw1", 120)
    assert limits.wait("fw1") == 0.0
    assert limits.wait("fw1") == pytest.approx(0.5)
    assert limits.wait("fw2") == 0.0 and limits.wait("fw2") == 0.0  # fw2 unlimited
    assert slept == [pytest.approx(0.5)]
    limits.set("fw1", 60)
    assert limits.limit("fw1") == 60
