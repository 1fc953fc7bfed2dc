"""DeviceState expiry by heap: entries leave at their stop time, replaced or
removed ones are never purged by a stale heap item."""
from __future__ import annotations

from fn_openc2.lib.consumer.state import DeviceState, Entry


def _rule(key: int, stop: int | None, command_id: str = "c") -> Entry:
    return Entry("rule", key, command_id, 0, stop)


def test_entries_expire_at_their_stop_time_in_any_insertion_order() -> None:
    state = DeviceState()
    for key, stop in ((1, 300), (2, 100), (3, None), (4, 200)):
        state.put(_rule(key, stop))
    state.purge(99)
    assert sorted(e.key for e in state.entries("rule")) == [1, 2, 3, 4]
    state.purge(200)
    assert sorted(e.key for e in state.entries("rule")) == [1, 3]
    state.purge(10**12)
    assert [e.key for e in state.entries("rule")] == [3]


def test_a_replaced_entry_keeps_its_new_window() -> None:
    state = DeviceState()
    state.put(_rule(1, 100, "old"))
    state.put(_rule(1, 500, "new"))
    state.purge(200)
    assert state.get("rule", 1).command_id == "new"
    state.put(_rule(2, 100))
    state.remove("rule", 2)
    state.put(_rule(2, None, "permanent"))
    state.purge(10**9)
    assert state.get("rule", 2).command_id == "permanent" and state.get("rule", 1) is None


def test_stale_heap_items_do_not_pile_up() -> None:
    state = DeviceState()
    for round_ in range(50):
        for key in range(20):
            state.put(_rule(key, 10**9 + round_))        # the same 20 rules rewritten 50 times
    assert len(state._expiry) <= 2 * 20 + 64 + 1
    state.purge(10**9 + 48)
    assert len(state.entries("rule")) == 20
    state.purge(10**9 + 49)
    assert state.entries("rule") == []
