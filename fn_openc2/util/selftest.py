# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then written by hand.
"""Selftest: does every configured consumer answer `query features`?

Usage:
    resilient-circuits selftest -l fn-openc2

Each consumer is asked on its own, so one unreachable consumer does not hide
the state of the others, and all of them at once, so the selftest takes about
one consumer timeout however many are configured (App Host's configuration
test waits for it), each tried once (no retries); the reason lists every consumer with its reachability
and the OpenC2 versions it reports, and the state is "failure" when any
consumer did not answer with status 200 (the failing ones are named first).
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fn_openc2.lib.soar.producers import app_sections

log = logging.getLogger(__name__)

ProducerFactory = Callable[[Any], Any]  # settings -> object with query_features(consumers)


def _describe(name: str, outcome: Any) -> tuple[bool, str]:
    """(ok, one line) for one consumer's query-features outcome."""
    if getattr(outcome, "refused", None):
        return False, f"{name}: refused ({outcome.refused})"
    answers = list(getattr(outcome, "answers", []) or [])
    if not answers:
        return False, f"{name}: no answer"
    lines, ok_all = [], True
    for answer in answers:
        who = answer.responder or answer.consumer or name
        if answer.error or answer.status != 200:
            ok_all = False
            why = answer.error or f"status {answer.status} {answer.status_text or ''}".strip()
            lines.append(f"{who} unreachable or failing ({why})")
        else:
            versions = ", ".join((answer.results or {}).get("versions") or []) or "versions not reported"
            lines.append(f"{who} reachable (versions: {versions})")
    return ok_all, f"{name}: " + "; ".join(lines)


def run_selftest(opts: Mapping[str, Any], producer_factory: ProducerFactory | None = None) -> dict[str, Any]:
    """The selftest result dict; producer_factory lets tests supply the producer."""
    from fn_openc2.lib.producer.appconfig import load_settings  # deferred: keeps `resilient-circuits` start light
    from fn_openc2.lib.producer.errors import ConfigError

    try:
        settings = load_settings(app_sections(opts))
    except ConfigError as err:
        return {"state": "failure", "reason": f"app.config is not valid: {err}"}
    if not settings.consumers:
        return {"state": "failure", "reason": "no consumer configured: add a [fn_openc2:<name>] section"}
    # one try per consumer: retries would stretch a dead consumer's answer to (retries + 1) timeouts
    settings = dataclasses.replace(settings, consumers={name: dataclasses.replace(consumer, retries=0)
                                                        for name, consumer in settings.consumers.items()})
    if producer_factory is None:
        from fn_openc2.lib.producer.producer import Producer
        producer_factory = Producer
    try:
        producer = producer_factory(settings)
    except ConfigError as err:  # e.g. a key file that does not load
        return {"state": "failure", "reason": f"app.config is not valid: {err}"}

    def check(name: str) -> tuple[bool, str]:
        try:
            return _describe(name, producer.query_features([name]))
        except Exception as err:  # one broken consumer must not stop the others being checked
            return False, f"{name}: {type(err).__name__}: {err}"

    names = sorted(settings.consumers)
    failing, lines = [], []
    try:
        with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="openc2-selftest") as pool:
            results = list(pool.map(check, names))    # all at once; reported in name order
        for name, (ok, line) in zip(names, results):
            lines.append(line)
            if not ok:
                failing.append(name)
    finally:
        close = getattr(producer, "close", None)
        if close is not None:
            close()  # its own sessions and connections: the selftest process ends right after
    if failing:
        return {"state": "failure",
                "reason": f"failing consumers: {', '.join(failing)}. " + " | ".join(lines)}
    return {"state": "success", "reason": " | ".join(lines)}


def selftest_function(opts: Mapping[str, Any]) -> dict[str, Any]:
    """Entry point named in setup.py (resilient.circuits.selftest)."""
    result = run_selftest(opts)
    log.info("fn_openc2 selftest: %s: %s", result["state"], result["reason"])
    return result
