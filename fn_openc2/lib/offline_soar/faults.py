"""Test features of the offline SOAR: injected REST faults, a count of every
REST call, and crash snapshots.

A real SOAR fails in ways the app must survive: 5xx answers, connections
reset, replies that never come — sometimes *after* the server saved the
write, so a naive retry doubles it. Tests tell the offline SOAR to fail
exactly so, and count the calls the app made:

    from fn_openc2.lib.offline_soar.faults import faults_for
    faults = faults_for()                       # the default org's injector
    faults.reset()
    faults.add("POST", r"/incidents/\\d+/table_data/openc2_commands/row_data", status=503, every=7)
    faults.add("PUT", r".*/row_data/\\d+", kind="timeout", when="after", times=1)
    faults.add("GET", r"/incidents/\\d+/table_data/\\w+", status=500, times=1)
    ...
    faults.count("POST", r".*/row_data")        # calls that reached the offline SOAR (failed ones too)
    faults.calls                                 # [Call(method, path, timeout, fault)], in order

A fault matches on the method (``"*"`` for any) and a regex over the whole
org-relative path (no query string). Kinds:

- ``status``: answer ``status`` (default 503) with SOAR's error body;
- ``reset``: raise ``requests.ConnectionError`` (connection reset by peer);
- ``timeout``: wait the request's own timeout (``hang`` seconds when the
  caller set none, so a call without a timeout visibly hangs), then raise
  ``requests.ReadTimeout``.

``when="before"`` (default) fails without touching the store; ``when="after"``
lets the store save the write first and then loses the reply — the case
that doubles a naively retried write. ``times`` bounds how many matching
calls fail (None: all), ``every=n`` fails every n-th matching call, ``after=n``
lets the first n matching calls through.

Crash snapshots: when ``FN_OPENC2_OFFLINE_SOAR_SNAPSHOT`` names a file, the
store's incidents (artifacts, notes, rows) are written to it as JSON after
every successful write, atomically, so a test can kill the process running
the app at any moment and ``restore_snapshot`` what the SOAR had saved.

Hooked into ``OfflineSoar`` by wrapping its request matcher (``wrap``).
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
import requests_mock

from .store import DEFAULT_ORG, SoarStore, get_store

SNAPSHOT_ENV = "FN_OPENC2_OFFLINE_SOAR_SNAPSHOT"
KINDS = ("status", "reset", "timeout")
_ORG_PREFIX = re.compile(r"^/rest/orgs/\d+(?P<rest>/.*)?$")
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    kind: str = "status"
    status: int = 503
    when: str = "before"
    times: int | None = None
    every: int | None = None
    after: int = 0
    hang: float = 300.0
    seen: int = 0
    fired: int = 0

    def due(self) -> bool:
        """Called once per matching request (under the injector's lock)."""
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        if self.every and (self.seen - self.after) % self.every:
            return False
        self.fired += 1
        return True


@dataclass
class Call:
    method: str
    path: str
    timeout: Any
    fault: str | None = None


@dataclass
class FaultInjector:
    """Faults and call records for one org's offline SOAR."""

    faults: list[Fault] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, method: str, path: str, *, kind: str = "status", status: int = 503, when: str = "before",
            times: int | None = None, every: int | None = None, after: int = 0, hang: float = 300.0) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"fault kind {kind!r} is not one of {', '.join(KINDS)}")
        if when not in ("before", "after"):
            raise ValueError(f"fault when={when!r}: 'before' or 'after' the store saves")
        fault = Fault(method.upper(), re.compile(path), kind, status, when, times, every, after, hang)
        with self.lock:
            self.faults.append(fault)
        return fault

    def reset(self) -> None:
        """No faults, no recorded calls."""
        with self.lock:
            self.faults.clear()
            self.calls.clear()

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def count(self, method: str = "*", path: str = ".*") -> int:
        """How many calls reached the offline SOAR for that method and path regex."""
        pattern = re.compile(path)
        with self.lock:
            return sum(1 for c in self.calls if (method == "*" or c.method == method.upper())
                       and pattern.fullmatch(c.path))

    def _pick(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method in ("*", method) and fault.path.fullmatch(path) and fault.due():
                    return fault
            return None

    def handle(self, request: Any, inner: Callable[[Any], Any], store: SoarStore) -> Any:
        path = _relative(request.url)
        fault = self._pick(request.method, path)
        with self.lock:
            self.calls.append(Call(request.method, path, getattr(request, "timeout", None),
                                   None if fault is None else f"{fault.kind} {fault.when}"))
        if fault is not None and fault.when == "before":
            return _fail(fault, request)
        response = inner(request)
        if request.method in _WRITES and os.environ.get(SNAPSHOT_ENV) and response is not None \
                and response.status_code < 300:
            write_snapshot(store, os.environ[SNAPSHOT_ENV])
        if fault is not None:
            return _fail(fault, request)
        return response


def _relative(url: str) -> str:
    path = urlsplit(url).path
    m = _ORG_PREFIX.match(path)
    rel = (m.group("rest") or "") if m else path
    return rel.rstrip("/") if rel != "/" else rel


def _fail(fault: Fault, request: Any) -> Any:
    if fault.kind == "status":
        return requests_mock.create_response(request, status_code=fault.status, json={
            "success": False, "title": None, "message": f"injected fault: HTTP {fault.status}", "hints": []})
    if fault.kind == "reset":
        raise requests.exceptions.ConnectionError("injected fault: connection reset by peer")
    timeout = getattr(request, "timeout", None)
    wait = timeout[1] if isinstance(timeout, tuple) else timeout
    time.sleep(min(float(wait), fault.hang) if wait is not None else fault.hang)
    raise requests.exceptions.ReadTimeout("injected fault: read timed out")


_INJECTORS: dict[str, FaultInjector] = {}
_INJECTORS_LOCK = threading.Lock()


def faults_for(org: str | None = None) -> FaultInjector:
    """The injector of an org's offline SOAR (created on first use; shared like the store)."""
    name = org or DEFAULT_ORG
    with _INJECTORS_LOCK:
        return _INJECTORS.setdefault(name, FaultInjector())


def wrap(matcher: Callable[[Any], Any], org: str | None) -> Callable[[Any], Any]:
    """A requests_mock matcher that applies the org's faults and records the call around ``matcher``."""
    injector = faults_for(org)
    store = get_store(org)
    return lambda request: injector.handle(request, matcher, store)


# ---------------------------------------------------------------- crash snapshots

_SNAPSHOT_LOCK = threading.Lock()


def snapshot(store: SoarStore) -> dict[str, Any]:
    """Incidents with their artifacts, notes and rows, through the store's public readers."""
    incidents = []
    for inc_id in store.incident_ids():
        tables = {t: store.rows(inc_id, t) for t in store.tables(inc_id)}
        incidents.append({"incident": store.incident(inc_id),
                          "artifacts": [{k: v for k, v in a.items() if k != "attachment"}
                                        for a in store.artifacts(inc_id)],
                          "notes": store.notes(inc_id), "tables": tables})
    return {"incidents": incidents}


def write_snapshot(store: SoarStore, path: str) -> None:
    """Atomically replace ``path`` with the store's snapshot (a kill never leaves half a file)."""
    data = json.dumps(snapshot(store)).encode("utf-8")
    with _SNAPSHOT_LOCK:
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".snapshot-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)


def restore_snapshot(store: SoarStore, path: str) -> list[int]:
    """Empty ``store`` and load what a (killed) process's offline SOAR had saved; returns incident ids."""
    with open(path, "rb") as fh:
        doc = json.loads(fh.read().decode("utf-8"))
    store.reset()
    ids = []
    for entry in doc["incidents"]:
        inc_id = store.seed(entry["incident"], entry["artifacts"])
        for text in entry["notes"]:
            store.add_note(inc_id, text)
        for table, rows in entry["tables"].items():
            for cells in rows:
                store.add_row(inc_id, table, cells)
        ids.append(inc_id)
    return ids
