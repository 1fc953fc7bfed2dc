"""The simulated device state: packet filter rules, contained devices and
blocked files, each with the time window it is in effect.

Times are LS Date-Time values (milliseconds since the epoch). Entries whose
window has ended drop out the next time the state is read, which is how a
real actuator with timed rules behaves.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any
from fn_openc2.lib.errors import Issue, OpenC2Error


class WindowError(OpenC2Error, ValueError):
    """Bad start_time / stop_time / duration combination; path names the argument."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(message, issues=[Issue(path, message)])


def effect_window(args: dict[str, Any], now_ms: int) -> tuple[int, int | None]:
    """Resolve (start, stop) per LS 3.3.1.4: any two of the three give the third."""
    start = args.get("start_time")
    stop = args.get("stop_time")
    duration = args.get("duration")
    if start is not None and stop is not None and duration is not None:
        raise WindowError("args", "only two of start_time, stop_time and duration may be given")
    if start is None:
        start = stop - duration if stop is not None and duration is not None else now_ms
    if stop is None and duration is not None:
        stop = start + duration
    if stop is not None:
        if stop <= start:
            raise WindowError("args.stop_time", f"stop_time {stop} is not after start_time {start}")
        if stop <= now_ms:
            raise WindowError("args.stop_time", f"stop_time {stop} has already passed (now {now_ms})")
    return start, stop


@dataclass
class Entry:
    """One thing the actuator enforces, created by one command."""

    kind: str                     # "rule" | "containment" | "file_block"
    key: Any                      # rule number, device key or hash tuple
    command_id: str | None
    start: int
    stop: int | None
    detail: dict[str, Any] = field(default_factory=dict)

    def state(self, now_ms: int) -> str:
        return "pending" if now_ms < self.start else "active"

    def view(self, now_ms: int) -> dict[str, Any]:
        out = {"kind": self.kind, "command_id": self.command_id, "start_time": self.start,
               "stop_time": self.stop, "state": self.state(now_ms)}
        out.update(self.detail)
        return out


class DeviceState:
    """Entries keyed by (kind, key); not thread-safe, the Actuator holds the lock.

    Expiry is a heap of (stop, sequence, key): ``purge`` runs before every
    command, so it must not scan the whole table. Entries replaced or removed
    before their stop leave stale heap items; they are skipped on pop and
    dropped wholesale when they outnumber the live ones."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, Any], Entry] = {}
        self._next_rule = 1
        self._expiry: list[tuple[int, int, tuple[str, Any], Entry]] = []
        self._sequence = 0

    def purge(self, now_ms: int) -> None:
        expiry = self._expiry
        while expiry and expiry[0][0] <= now_ms:
            _, _, key, entry = heapq.heappop(expiry)
            if self._entries.get(key) is entry:
                del self._entries[key]

    def get(self, kind: str, key: Any) -> Entry | None:
        return self._entries.get((kind, key))

    def put(self, entry: Entry) -> None:
        key = (entry.kind, entry.key)
        self._entries[key] = entry
        if entry.stop is not None:
            self._sequence += 1
            heapq.heappush(self._expiry, (entry.stop, self._sequence, key, entry))
            if len(self._expiry) > 2 * len(self._entries) + 64:
                self._expiry = [item for item in self._expiry if self._entries.get(item[2]) is item[3]]
                heapq.heapify(self._expiry)

    def remove(self, kind: str, key: Any) -> Entry | None:
        return self._entries.pop((kind, key), None)

    def created_by(self, command_id: str) -> list[Entry]:
        return [e for e in self._entries.values() if e.command_id == command_id]

    def new_rule_number(self) -> int:
        while ("rule", self._next_rule) in self._entries:
            self._next_rule += 1
        number = self._next_rule
        self._next_rule += 1
        return number

    def entries(self, kind: str) -> list[Entry]:
        return [e for e in self._entries.values() if e.kind == kind]
