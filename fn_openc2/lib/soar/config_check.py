"""app.config checked when the app loads: one log line per bad key.

The settings loader (``fn_openc2.lib.producer.load_settings``) stops at the
first problem, which is right for a function call but makes an operator fix
the file one restart at a time. Here the same loader runs again with each bad
key left out (or, when the key itself is missing, its section), until the rest
loads; key files are tried by building a Producer and closing it at once.
Nothing is connected and no secret is logged: the loader's messages name the
section, key and what is expected, never a value read from a secret.
"""
from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Mapping
from typing import Any

from fn_openc2.lib.producer import ConfigError, load_settings
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.producer.settings import CONSUMER_PREFIX, SECTION
from fn_openc2.lib.soar.producers import app_sections

MAX_ROUNDS = 200          # every round removes a key or a section, so a real file ends far sooner

_lock = threading.Lock()
_checked: set[str] = set()


def _drop_section(sections: dict[str, dict[str, str]], section: str) -> None:
    """Leave a consumer out of the rest of the check, and out of default_consumers."""
    sections.pop(section, None)
    name = section[len(CONSUMER_PREFIX):]
    producer = sections.get(SECTION)
    if producer and producer.get("default_consumers"):
        kept = [n.strip() for n in producer["default_consumers"].split(",") if n.strip() and n.strip() != name]
        producer["default_consumers"] = ", ".join(kept)


def config_problems(opts: Mapping[str, Any]) -> list[ConfigError]:
    """Every problem of the fn_openc2 sections, one per bad key (or per unusable section)."""
    sections = copy.deepcopy(app_sections(opts))
    problems: list[ConfigError] = []
    seen: set[tuple[str, str | None]] = set()
    for _ in range(MAX_ROUNDS):
        try:
            settings = load_settings(sections)
            Producer(settings).close()          # loads the signing and verify keys, connects nothing
            return problems
        except ConfigError as err:
            where = (err.section, err.key)
            if where not in seen:
                seen.add(where)
                problems.append(err)
            section = sections.get(err.section)
            if section is not None and err.key is not None and err.key in section:
                del section[err.key]            # check the rest without it
            elif err.section.startswith(CONSUMER_PREFIX) and err.section in sections:
                _drop_section(sections, err.section)
            else:
                return problems                 # [fn_openc2] itself cannot be read further
    return problems


def check_app_config(opts: Mapping[str, Any], log: logging.Logger) -> list[ConfigError]:
    """Log the app.config's problems once per distinct content (three components load it)."""
    fingerprint = json.dumps(app_sections(opts), sort_keys=True)
    with _lock:
        if fingerprint in _checked:
            return []
        _checked.add(fingerprint)
    problems = config_problems(opts)
    for err in problems:
        log.error("fn_openc2 app.config: %s", err)
    if not problems:
        consumers = sorted(s[len(CONSUMER_PREFIX):] for s in app_sections(opts) if s.startswith(CONSUMER_PREFIX))
        log.info("fn_openc2 app.config: OK, consumers: %s", ", ".join(consumers) or "none")
    return problems


def forget_checked() -> None:
    """Check again on the next load (tests)."""
    with _lock:
        _checked.clear()
