"""One long-lived Producer per app.config content.

A Producer owns pooled HTTPS sessions, MQTT connections and the capability
cache that ``consumers = auto`` routes by, so building one per function call
would forget what ``query features`` learned and reconnect every time. The
app.config may change on reload: the settings are rebuilt when the relevant
sections differ, and the old Producer is closed.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from fn_openc2.lib.producer import AppSettings, load_settings
from fn_openc2.lib.producer.settings import CONSUMER_PREFIX, INTEGRATIONS, SECTION

_lock = threading.Lock()
_current: tuple[str, AppSettings, Any] | None = None


def app_sections(opts: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The app.config sections the settings are read from, as plain {section: {key: str}}."""
    wanted = (SECTION, INTEGRATIONS)
    return {name: {k: "" if v is None else str(v) for k, v in dict(section).items()}
            for name, section in opts.items()
            if (name in wanted or name.startswith(CONSUMER_PREFIX)) and isinstance(section, Mapping)}


def producer_for(opts: Mapping[str, Any]) -> tuple[AppSettings, Any]:
    """(settings, Producer) for these options; raises ConfigError naming section and key."""
    from fn_openc2.lib.producer.producer import Producer

    global _current
    sections = app_sections(opts)
    fingerprint = json.dumps(sections, sort_keys=True)
    with _lock:
        if _current is not None and _current[0] == fingerprint:
            return _current[1], _current[2]
        settings = load_settings(sections)
        producer = Producer(settings)
        old, _current = _current, (fingerprint, settings, producer)
    if old is not None:
        old[2].close()
    return settings, producer


def reset() -> None:
    """Close and forget the cached Producer (tests, config reload)."""
    global _current
    with _lock:
        old, _current = _current, None
    if old is not None:
        old[2].close()
