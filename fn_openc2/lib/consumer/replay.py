"""What a consumer that verifies signatures remembers about signed commands.

A signed command stays valid for anyone who captured it, so the consumer
refuses signed commands older than its freshness window and remembers every
signed request it carried out for that window: a repeat (a producer's retry,
or a replay) is answered from memory and not carried out again, and a repeat
of a command that was cancelled since is refused. With a state file the
memory survives a restart (one JSON line per event, compacted on load).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

log = logging.getLogger(__name__)


@dataclass
class Done:
    """One signed request carried out: when it was created, its answer, the command it was."""

    created: int
    status: int
    status_text: str | None
    command_id: str | None


PRUNE_EVERY_MS = 1000
"""How often records past twice the window are forgotten (kept up to this much longer: stricter)."""


class ReplayMemory:
    """request_id -> Done for the window, and command ids cancelled since; thread-safe."""

    def __init__(self, window_ms: int, clock_ms: Callable[[], int], path: str | None = None) -> None:
        self.window_ms = window_ms
        self._clock_ms = clock_ms
        self._path = path
        self._lock = threading.Lock()
        self._done: dict[str, Done] = {}
        self._cancelled: dict[str, int] = {}
        self._next_prune = 0      # clock ms: forgetting walks every record, so at most once a second
        if path:
            self._load(path)

    def get(self, request_id: str) -> Done | None:
        with self._lock:
            now = self._clock_ms()
            if now >= self._next_prune:     # (every read used to walk all of them: O(n) per command)
                self._prune()
                self._next_prune = now + PRUNE_EVERY_MS
            return self._done.get(request_id)

    def cancelled(self, command_id: str | None) -> bool:
        with self._lock:
            return command_id is not None and command_id in self._cancelled

    def remember(self, request_id: str, done: Done) -> None:
        with self._lock:
            self._done[request_id] = done
            self._append({"done": request_id, "created": done.created, "status": done.status,
                          "status_text": done.status_text, "command_id": done.command_id})

    def mark_cancelled(self, command_id: str) -> None:
        with self._lock:
            now = self._clock_ms()
            self._cancelled[command_id] = now
            self._append({"cancelled": command_id, "at": now})

    def _prune(self) -> None:
        horizon = self._clock_ms() - 2 * self.window_ms
        for key in [k for k, d in self._done.items() if d.created < horizon]:
            del self._done[key]
        for key in [k for k, at in self._cancelled.items() if at < horizon]:
            del self._cancelled[key]

    def _append(self, record: dict[str, Any]) -> None:
        if not self._path:
            return
        with open(self._path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _load(self, path: str) -> None:
        """Read the file (a torn last line from a crash is skipped), then rewrite it compacted."""
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.readlines()
        except FileNotFoundError:
            lines = []
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
                if "done" in record:
                    self._done[str(record["done"])] = Done(int(record["created"]), int(record["status"]),
                                                           record.get("status_text"), record.get("command_id"))
                elif "cancelled" in record:
                    self._cancelled[str(record["cancelled"])] = int(record["at"])
            except (ValueError, KeyError, TypeError):
                log.warning("replay state %s line %d is not a record; skipped", path, number)
        self._prune()
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            for rid, done in self._done.items():
                handle.write(json.dumps({"done": rid, "created": done.created, "status": done.status,
                                         "status_text": done.status_text, "command_id": done.command_id},
                                        separators=(",", ":")) + "\n")
            for cid, at in self._cancelled.items():
                handle.write(json.dumps({"cancelled": cid, "at": at}, separators=(",", ":")) + "\n")
        os.replace(tmp, path)
