"""Run function components in the real resilient-circuits runtime against
the offline SOAR, outside pytest, and call functions by name.

What it does is what pytest-resilient-circuits' ``circuits_app`` fixture does:
write an app.config with ``resilient_mock`` and ``test_actions`` set, start a
circuits ``Manager`` in a thread, register ``resilient_circuits.app.App`` (which
loads the installed components from their ``resilient.circuits.components``
entry points, and any ``componentsdir``), and submit functions with
``SubmitTestFunction``. The result is taken from the ``<fn>_result`` event the
Actions component fires for test messages; failures from its
``test_response`` reply (message_type 1), so a call never waits for a timeout
to learn that the component raised.

    with CircuitsApp(config_text, seed=...) as app:
        payload = app.run_function("openc2_query_features", {"incident_id": 1001}, timeout=60)
        app.store.notes(1001)
"""
from __future__ import annotations

import configparser
import importlib
import io
import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from circuits import BaseComponent, Manager, handler

from .mock import MOCK_PATH
from .store import DEFAULT_ORG, SoarStore, get_store
from fn_openc2.lib.errors import OpenC2Error

LOG = logging.getLogger(__name__)

_RUNNING_LOCK = threading.Lock()   # one app per process: resilient-circuits keeps global state

_RESILIENT_DEFAULTS = {
    "host": "offline-soar.invalid",
    "port": "443",
    "email": "offline@example.com",
    "password": "offline",
    "no_prompt_password": "True",
    "cafile": "false",
    "stomp_port": "65001",
    "loglevel": "INFO",
    "logfile": "app.log",
    "request_max_retries": "1",
    "request_retry_delay": "0",
}


class CircuitsAppError(OpenC2Error, RuntimeError):
    """The app did not start, or a function could not be run."""


class FunctionFailed(OpenC2Error, RuntimeError):
    """The function component raised; ``message`` is what resilient-circuits reported."""

    def __init__(self, function: str, message: str) -> None:
        super().__init__(f"function {function} failed: {message}")
        self.function = function
        self.message = message


@dataclass
class FunctionRun:
    """One completed function call."""
    function: str
    result: dict[str, Any]            # {version, success, reason, content, raw, inputs, metrics}
    status_messages: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


class _Call:
    def __init__(self, function: str) -> None:
        self.function = function
        self.done = threading.Event()
        self.result: Any = None
        self.status_messages: list[str] = []
        self.error: str | None = None


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _every_event(priority: float) -> Callable[[_Method], _Method]:
    """circuits' ``handler(channel="*", priority=...)``, which marks the method and returns it unchanged;
    typed here because circuits ships no type information."""
    mark: Callable[[_Method], _Method] = handler(channel="*", priority=priority)
    return mark


class _Tap(BaseComponent):  # type: ignore[misc]  # circuits has no type information
    """Sees every event; hands results, failures and status lines to waiting calls."""

    def init(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, _Call] = {}
        self.loaded = threading.Event()
        self.load_failed = False

    def expect(self, msg_id: str, function: str) -> _Call:
        call = _Call(function)
        with self._lock:
            self._calls[msg_id] = call
        return call

    def forget(self, msg_id: str) -> None:
        with self._lock:
            self._calls.pop(msg_id, None)

    @_every_event(priority=999.9)
    def _on_any(self, event: Any, *args: Any, **kwargs: Any) -> None:
        name = event.name
        if name == "load_all_success":
            self.loaded.set()
        elif name == "load_all_failure":
            self.load_failed = True
            self.loaded.set()
        elif name.endswith("_result") and "result" in event.kwargs:
            parent_id: str | None = getattr(event.parent, "test_msg_id", None)
            with self._lock:
                call = self._calls.get(parent_id) if parent_id is not None else None
            if call is not None:
                call.result = event.kwargs["result"]
        elif name == "test_response" and len(event.args) >= 2:
            msg_id, reply = event.args[0], event.args[1]
            with self._lock:
                call = self._calls.get(msg_id)
            if call is None:
                return
            try:
                reply = json.loads(reply)
            except (TypeError, ValueError):
                reply = {"message_type": 1, "message": str(reply), "complete": True}
            if reply.get("message_type") == 1:
                call.error = reply.get("message") or "function failed"
                call.done.set()
            elif reply.get("complete"):
                call.done.set()
            elif reply.get("message"):
                call.status_messages.append(reply["message"])


def build_config(config_text: str = "", *, org: str | None = None, workdir: str,
                 componentsdir: str | None = None, noload: Iterable[str] = ()) -> str:
    """app.config text for an offline run: the caller's sections, plus the
    ``[resilient]`` keys the offline SOAR and the test-actions machinery need."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(config_text or "")
    if not parser.has_section("resilient"):
        parser.add_section("resilient")
    res = parser["resilient"]
    for key, value in _RESILIENT_DEFAULTS.items():
        res.setdefault(key, value)
    res.setdefault("org", org or DEFAULT_ORG)
    res.setdefault("logdir", workdir)
    res.setdefault("resilient_mock", MOCK_PATH)
    res["test_actions"] = "True"
    res["test_host"] = "127.0.0.1"
    # A free port, named: resilient-circuits parses test_port as an int and takes 0 as "unset",
    # binding its default 8008, which clashes with any other CircuitsApp on the machine.
    res["test_port"] = str(_free_port())
    if componentsdir:
        res["componentsdir"] = componentsdir
    names = [n.strip() for n in res.get("noload", "").split(",") if n.strip()] + list(noload)
    if names:
        res["noload"] = ",".join(dict.fromkeys(names))
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


def _resolve(spec: Any) -> type:
    if isinstance(spec, type):
        return spec
    module, _, attr = str(spec).partition(":")
    found: type = getattr(importlib.import_module(module), attr or "FunctionComponent")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class CircuitsApp:
    """The app's components running in resilient-circuits against OfflineSoar.

    config_text    app.config text (``[fn_openc2]``, ``[fn_openc2:<consumer>]``...);
                   ``[resilient]`` is completed for the offline SOAR.
    components     extra component classes (or ``"module:Class"``) to register
                   besides the installed entry points, e.g. when the editable
                   install's entry points are stale. Classes already loaded are skipped.
    load_installed False: load no ``resilient.circuits.components`` entry point.
    componentsdir  a folder of component modules (resilient-circuits' own option).
    seed           callable(store) run before start-up, or a seed JSON file path.
    org            org name, i.e. which ``SoarStore`` (default: the default org).
    quiet          True: resilient-circuits does not add its log handlers
                   (stderr, syslog, app.log); the caller configures logging.
    """

    def __init__(self, config_text: str = "", *, components: Iterable[Any] = (), load_installed: bool = True,
                 componentsdir: str | None = None, seed: Callable[[SoarStore], Any] | str | None = None,
                 org: str | None = None, quiet: bool = True, workdir: str | None = None,
                 start_timeout: float = 30.0) -> None:
        self._config_text = config_text
        self._extra = list(components)
        self._load_installed = load_installed
        self._componentsdir = componentsdir
        self._seed = seed
        self.org = org or DEFAULT_ORG
        self._quiet = quiet
        self._workdir_given = workdir
        self._start_timeout = start_timeout
        self.workdir: str | None = None
        self.config_path: str | None = None
        self.manager: Manager | None = None
        self.app: Any = None             # resilient_circuits.app.App once started
        self._tap: _Tap | None = None
        self._locked = False
        self._saved_env: str | None = None

    # ------------------------------------------------------------ lifecycle
    @property
    def store(self) -> SoarStore:
        return get_store(self.org)

    def __enter__(self) -> CircuitsApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> CircuitsApp:
        if not _RUNNING_LOCK.acquire(blocking=False):
            raise CircuitsAppError("another CircuitsApp is running in this process; stop it first")
        self._locked = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        import resilient_circuits.app as rc_app
        from resilient_circuits import rest_helper
        from resilient_circuits.helpers import get_entry_points

        if isinstance(self._seed, (str, os.PathLike)):
            self.store.load_seed_file(self._seed)
        elif callable(self._seed):
            self._seed(self.store)

        self.workdir = self._workdir_given or tempfile.mkdtemp(prefix="offline-soar-")
        noload = []
        if not self._load_installed:
            noload = [ep.name for ep in get_entry_points(group="resilient.circuits.components")]
        text = build_config(self._config_text, org=self.org, workdir=self.workdir,
                            componentsdir=self._componentsdir, noload=noload)
        self.config_path = os.path.join(self.workdir, "app.config")
        with open(self.config_path, "w", encoding="utf-8") as fh:
            fh.write(text)

        rest_helper.reset_resilient_client()
        self._saved_env = os.environ.get("APP_CONFIG_FILE")
        os.environ["APP_CONFIG_FILE"] = self.config_path   # read again by resilient-circuits on reload
        if self._quiet:
            rc_app.logging_initialized = True                # keep its stderr/syslog/file handlers out

        self.manager = Manager()
        self._tap = _Tap().register(self.manager)
        self.manager.start()
        argv = sys.argv
        sys.argv = argv[:1]            # its argument parser reads sys.argv; the caller's flags are not its own
        try:
            self.app = rc_app.App(config_file=self.config_path)
        finally:
            sys.argv = argv
        self.app.register(self.manager)
        if not self._tap.loaded.wait(self._start_timeout):
            raise CircuitsAppError(f"components did not load within {self._start_timeout:.0f} s"
                                   f" (log: {os.path.join(self.workdir, 'app.log')})")
        if self._tap.load_failed:
            raise CircuitsAppError("a component failed to load (see the resilient_circuits.component_loader log)")
        self._register_extra()

    def _register_extra(self) -> None:
        loaded = {type(c) for c in self._all_components()}
        for spec in self._extra:
            cls = _resolve(spec)
            if cls in loaded:
                continue
            cls(opts=self.app.opts).register(self.app.component_loader or self.app)
            loaded.add(cls)

    def stop(self) -> None:
        try:
            if self.manager is not None:
                self.manager.stop()
                thread = getattr(self.manager, "_Manager__thread", None)   # circuits keeps it private
                if thread is not None and thread is not threading.current_thread():
                    thread.join(10)
        finally:
            self.manager = None
            if self._saved_env is None:
                os.environ.pop("APP_CONFIG_FILE", None)
            else:
                os.environ["APP_CONFIG_FILE"] = self._saved_env
            try:
                from resilient_circuits import rest_helper
                rest_helper.reset_resilient_client()
            except ImportError:  # pragma: no cover
                pass
            if self.workdir and not self._workdir_given:
                shutil.rmtree(self.workdir, ignore_errors=True)
            if self._locked:
                self._locked = False
                _RUNNING_LOCK.release()

    # ------------------------------------------------------------ functions
    def _all_components(self) -> list[Any]:
        stack: list[Any] = [self.manager]
        seen: list[Any] = []
        while stack:
            comp = stack.pop()
            seen.append(comp)
            stack.extend(getattr(comp, "components", ()))
        return seen

    def function_names(self) -> set[str]:
        """Every function a registered component handles (its ``functions.<name>`` channels)."""
        names = set()
        for comp in self._all_components():
            for h in getattr(comp, "handlers", lambda: [])():
                channel = getattr(h, "channel", None) or ""
                if getattr(h, "function", False) and channel.startswith("functions."):
                    names.add(channel.split(".", 1)[1])
        return names

    def invoke(self, function: str, inputs: Mapping[str, Any], timeout: float = 60.0) -> FunctionRun:
        """Run a function as SOAR would and wait for its result payload."""
        from resilient_circuits import SubmitTestFunction

        tap = self._tap
        if self.manager is None or tap is None:
            raise CircuitsAppError("the app is not running")
        known = self.function_names()
        if function not in known:
            raise CircuitsAppError(f"no component handles function {function!r}; loaded: {sorted(known)}")
        event = SubmitTestFunction(function, dict(inputs))
        msg_id = event.kwargs["msg_id"]
        call = tap.expect(msg_id, function)
        started = time.monotonic()
        try:
            self.manager.fire(event)
            if not call.done.wait(timeout):
                raise TimeoutError(f"function {function} gave no result within {timeout:g} s")
        finally:
            tap.forget(msg_id)
        if call.error is not None:
            raise FunctionFailed(function, call.error)
        if call.result is None:
            raise FunctionFailed(function, "the component returned no FunctionResult")
        return FunctionRun(function, call.result.value, call.status_messages, time.monotonic() - started)

    def run_function(self, function: str, inputs: Mapping[str, Any], timeout: float = 60.0) -> dict[str, Any]:
        """The function's result payload: {version, success, reason, content, raw, inputs, metrics}."""
        return self.invoke(function, inputs, timeout).result
