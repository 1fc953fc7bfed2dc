"""consumer.replay.ReplayMemory: what it remembers, and when it forgets."""
from __future__ import annotations

from fn_openc2.lib.consumer.replay import PRUNE_EVERY_MS, Done, ReplayMemory


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def test_records_past_twice_the_window_are_forgotten_at_the_next_read_a_second_on() -> None:
    clock = Clock()
    memory = ReplayMemory(window_ms=10_000, clock_ms=clock)
    memory.remember("old", Done(clock.now, 200, None, None))
    assert memory.get("old") == Done(clock.now, 200, None, None)
    memory.remember("new", Done(clock.now + 15_000, 200, None, None))
    clock.now += 20_001                      # "old" is now past twice the window, "new" is not
    assert memory.get("new") is not None
    assert memory.get("old") is None


def test_between_prunes_a_record_is_kept_a_little_longer_never_shorter() -> None:
    """Forgetting walks every record, so it runs at most once per PRUNE_EVERY_MS: a record may
    outlive twice the window by up to that much (a replay then is still refused), never less."""
    clock = Clock()
    memory = ReplayMemory(window_ms=10_000, clock_ms=clock)
    memory.remember("a", Done(clock.now - 19_500, 200, None, None))    # 0.5 s short of twice the window
    assert memory.get("a") is not None                  # a read: the prune ran now and kept it
    clock.now += 600                                    # "a" is now 0.1 s past twice the window
    assert memory.get("a") is not None                  # but the last prune was only 0.6 s ago
    clock.now += PRUNE_EVERY_MS - 600
    assert memory.get("a") is None
