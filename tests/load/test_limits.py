"""What the producer promises a consumer under retries and bulk sends:
every resend counts against the consumer's ``rate_limit``, bulk sends keep to
``max_concurrency``, and a transport failure reports the attempts it made."""
from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from fn_openc2.lib.consumer import Actuator
from fn_openc2.lib.language import build_command
from fn_openc2.lib.producer import load_settings
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.producer.ratelimit import RateLimits
from fn_openc2.lib.transfer.devpki import Pki
from tests.load.faulty_consumer import Arrival, FaultyConsumer

RATE = 6.0            # commands per minute: one every 10 s of the fake clock
WINDOW = 60.0


class FakeClock:
    """Time that moves only when someone sleeps: the rate limiter's waits cost no real time,
    and the consumer stamps arrivals with the same clock."""

    def __init__(self) -> None:
        self._now = 1000.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)


def deny(i: int) -> Any:
    return build_command("deny", {"ipv4_net": f"198.18.7.{i + 1}"}, args={"response_requested": "complete"},
                         profile="slpf")


def busiest_window(arrivals: Sequence[Arrival], window: float) -> int:
    """Most arrivals in any half-open window [t, t + window) (t at an arrival)."""
    times = sorted(a.at for a in arrivals)
    return max((sum(1 for u in times if t <= u < t + window - 1e-6) for t in times), default=0)


def registry(url: str, pki: Pki, **producer: str) -> Any:
    return load_settings({
        "fn_openc2": {"producer_id": "soar@example.com", "timeout": "5", "retries": "2", **producer},
        "fn_openc2:fw": {"url": url, "verify": pki.ca_cert, "profiles": "slpf", "rate_limit": str(RATE)}})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def first_try_503(pki: Pki, clock: FakeClock) -> Iterator[FaultyConsumer]:
    server = FaultyConsumer(Actuator("fw@example.com", profiles=("slpf",)), pki.server_cert, pki.server_key,
                            lambda _doc: ("503",), clock=clock.now).start()
    yield server
    server.stop()


def test_retries_count_against_the_rate_limit(first_try_503: FaultyConsumer, pki: Pki, clock: FakeClock) -> None:
    """rate_limit = 6/min and every command answered 503 once: 8 commands are 16 requests, and no
    60 s window sees more than 6 of them (a retry that skipped the limiter would double up)."""
    limits = RateLimits(clock=clock.now, sleep=clock.sleep)
    with Producer(registry(first_try_503.url, pki), rate_limits=limits) as producer:
        outcomes = producer.send_many([deny(i) for i in range(8)], "fw", concurrency=1)
    assert all(o.answers[0].ok and o.answers[0].attempts == 2 for o in outcomes), [o.to_dict() for o in outcomes]
    arrivals = first_try_503.arrivals
    assert len(arrivals) == 16 and sum(a.fault == "503" for a in arrivals) == 8
    assert busiest_window(arrivals, WINDOW) <= RATE, sorted(a.at - 1000.0 for a in arrivals)
    gaps = [b.at - a.at for a, b in zip(arrivals, arrivals[1:])]
    assert min(gaps) >= WINDOW / RATE - 1e-6, gaps


def test_busiest_window_counts_a_burst() -> None:
    """The window count used above does see a burst (7 arrivals inside 60 s)."""
    burst = [Arrival(i, 1, None, None, b"", "ok", float(t)) for i, t in enumerate([0, 0, 10, 10, 20, 20, 30, 59.9])]
    assert busiest_window(burst, WINDOW) == 8
    spaced = [Arrival(i, 1, None, None, b"", "ok", 10.0 * i) for i in range(8)]
    assert busiest_window(spaced, WINDOW) == RATE


@pytest.fixture
def gated(pki: Pki, request: pytest.FixtureRequest) -> Iterator[FaultyConsumer]:
    """Holds each request until 3 are in flight (or gate_seconds): more than 2 in flight would show."""
    seconds = getattr(request, "param", 0.5)
    server = FaultyConsumer(Actuator("fw@example.com", profiles=("slpf",)), pki.server_cert, pki.server_key,
                            gate=3, gate_seconds=seconds).start()
    yield server
    server.stop()


def test_bulk_sends_keep_to_max_concurrency(gated: FaultyConsumer, pki: Pki) -> None:
    reg = load_settings({
        "fn_openc2": {"producer_id": "soar@example.com", "max_concurrency": "2"},
        "fn_openc2:fw": {"url": gated.url, "verify": pki.ca_cert, "profiles": "slpf"}})
    with Producer(reg) as producer:
        outcomes = producer.send_many([deny(i) for i in range(12)], "fw", concurrency=8)
    assert all(o.answers[0].ok for o in outcomes)
    assert gated.max_in_flight == 2, f"{gated.max_in_flight} requests in flight with max_concurrency = 2"


@pytest.mark.parametrize("gated", [5.0], indirect=True)   # reached at once normally; slack for a loaded machine
def test_bulk_sends_use_the_concurrency_they_are_given(gated: FaultyConsumer, pki: Pki) -> None:
    """The same consumer does see 3 at once when the producer allows it (the gate is not the limit)."""
    reg = load_settings({
        "fn_openc2": {"producer_id": "soar@example.com", "max_concurrency": "8"},
        "fn_openc2:fw": {"url": gated.url, "verify": pki.ca_cert, "profiles": "slpf"}})
    with Producer(reg) as producer:
        outcomes = producer.send_many([deny(i) for i in range(12)], "fw", concurrency=3)
    assert all(o.answers[0].ok for o in outcomes)
    assert gated.max_in_flight == 3


@pytest.fixture
def always_drops(pki: Pki) -> Iterator[FaultyConsumer]:
    server = FaultyConsumer(Actuator("fw@example.com", profiles=("slpf",)), pki.server_cert, pki.server_key,
                            lambda _doc: ("drop",) * 10).start()
    yield server
    server.stop()


@pytest.mark.parametrize("retries", [0, 2])
def test_transport_failure_reports_its_attempts(always_drops: FaultyConsumer, pki: Pki, retries: int) -> None:
    reg = load_settings({
        "fn_openc2": {"producer_id": "soar@example.com", "retries": str(retries)},
        "fn_openc2:fw": {"url": always_drops.url, "verify": pki.ca_cert, "profiles": "slpf"}})
    with Producer(reg) as producer:
        answer = producer.send(deny(0), "fw").answers[0]
    assert not answer.ok and answer.attempts == retries + 1, answer
    assert f"after {retries + 1} attempt(s)" in (answer.error or ""), answer.error
    assert len(always_drops.arrivals) == retries + 1
