"""send_many(on_outcome=...): outcomes streamed in input order as they complete,
nothing kept, and at most a window of them held back by an unfinished one."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable

import pytest

from fn_openc2.lib.consumer import Actuator
from fn_openc2.lib.language import build_command
from fn_openc2.lib.producer import bulk as bulk_module, load_settings
from fn_openc2.lib.producer.outcome import CommandOutcome
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.transfer.devpki import Pki
from tests.load.faulty_consumer import FaultyConsumer
from tests.producer.helpers import https_section, registry


def _deny(i: int) -> Any:
    return build_command("deny", {"ipv4_net": f"198.51.{i // 250}.{i % 250 + 1}"})


def test_streamed_outcomes_come_in_input_order_and_nothing_is_kept(start_consumer: Callable[..., Any]) -> None:
    a, b = start_consumer(device_id="fw-a@example.com"), start_consumer(device_id="fw-b@example.com")
    commands: list[Any] = []
    for i in range(90):
        commands.append(_deny(i))
        if i % 15 == 0:
            commands.append(build_command("deny", {"ipv4_net": "127.0.0.1"}))     # refused by the guard
    streamed: list[CommandOutcome] = []
    with Producer(registry(fa=https_section(a), fb=https_section(b))) as producer:
        returned = producer.send_many(iter(commands), ["fa", "fb"], concurrency=3, on_outcome=streamed.append)
    assert returned == []
    assert [o.command["target"] for o in streamed] == [{c.target_name: c.target_value} for c in commands]
    assert sum(1 for o in streamed if o.refused) == 6
    assert all(o.ok and [x.consumer for x in o.answers] == ["fa", "fb"] for o in streamed if not o.refused)


def test_a_failing_sink_fails_the_run(reference_consumer: Any) -> None:
    def sink(outcome: CommandOutcome) -> None:
        raise RuntimeError("write-back is down")

    with Producer(registry(fw1=https_section(reference_consumer))) as producer:
        with pytest.raises(RuntimeError, match="write-back is down"):
            producer.send_many([_deny(i) for i in range(20)], "fw1", concurrency=2, on_outcome=sink)


@pytest.fixture
def first_stalls(pki: Pki) -> Iterator[FaultyConsumer]:
    """The first command's answer is held 1.5 s; everything else is answered at once."""
    def script(doc: Any) -> tuple[str, ...]:
        try:
            first = doc["body"]["openc2"]["request"]["target"]["ipv4_net"] == "198.51.0.1"
        except (KeyError, TypeError):
            first = False
        return ("slow",) if first else ()

    server = FaultyConsumer(Actuator("fw@example.com", profiles=("slpf",)), pki.server_cert, pki.server_key,
                            script, stall_seconds=1.5).start()
    yield server
    server.stop()


def test_an_unfinished_outcome_holds_back_at_most_the_window(first_stalls: FaultyConsumer, pki: Pki,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    window = 16
    monkeypatch.setattr(bulk_module, "_STREAM_WINDOW", window)
    pulled, emitted, held = [0], [0], [0]

    def commands() -> Iterator[Any]:
        for i in range(200):
            pulled[0] += 1
            held[0] = max(held[0], pulled[0] - emitted[0])
            yield _deny(i)

    def sink(outcome: CommandOutcome) -> None:
        assert outcome.ok, outcome.to_dict()
        emitted[0] += 1

    reg = load_settings({"fn_openc2": {"producer_id": "soar@example.com", "timeout": "10"},
                         "fn_openc2:fw": {"url": first_stalls.url, "verify": pki.ca_cert, "profiles": "slpf"}})
    with Producer(reg) as producer:
        producer.send_many(commands(), "fw", concurrency=4, on_outcome=sink)
    assert emitted[0] == 200
    # the stalled first command held the others back: the window filled, and was never exceeded
    # by more than the commands the other workers had in hand when it filled
    assert window <= held[0] <= window + 4, held[0]
