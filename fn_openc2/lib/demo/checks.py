"""Did every step do what the scenario says it should?

Each step's notes and rows are the ones the offline SOAR recorded while that
step ran (the run records the counts before and after), so a check never
depends on how a note is worded beyond the words the scenario names.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fn_openc2.lib.demo import scenario
from fn_openc2.lib.demo.render import html_to_text


@dataclass
class StepRecord:
    """What one function call produced."""

    step: scenario.Step
    payload: dict[str, Any] | None = None            # the function's result payload
    error: str | None = None               # FunctionFailed / timeout text
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)          # HTML of notes written during the step
    rows: list[dict[str, Any]] = field(default_factory=list)          # openc2_commands rows written during the step
    consumer_rows: list[dict[str, Any]] = field(default_factory=list)  # openc2_consumers rows written during the step
    skipped: str | None = None


@dataclass
class Check:
    name: str
    ok: bool | None                         # None: skipped
    detail: str = ""


def _status(row: dict[str, Any]) -> int | None:
    try:
        return int(str(row.get("status")).strip())
    except (TypeError, ValueError):
        return None


def _text(rec: StepRecord) -> str:
    """Everything the analyst could read about the step, lower-cased."""
    parts = [html_to_text(n) for n in rec.notes]
    parts += [json.dumps(r, default=str) for r in rec.rows]
    if rec.payload:
        parts.append(json.dumps(rec.payload, default=str))
    if rec.error:
        parts.append(rec.error)
    return "\n".join(parts).lower()


def check_step(rec: StepRecord) -> Check:
    """One verdict per step, saying what was seen."""
    step, exp = rec.step, rec.step.expect
    if rec.skipped:
        return Check(step.title, None, rec.skipped)
    if step.function == "openc2_query_features":
        return _check_query(rec)
    if exp.kind == "refused":
        return _check_refused(rec)
    if rec.error:
        return Check(step.title, False, f"function failed: {rec.error}")
    if not rec.notes:
        return Check(step.title, False, "no note was written")
    if not rec.rows:
        return Check(step.title, False, "no openc2_commands row was written")
    statuses = [_status(r) for r in rec.rows]
    bad = [s for s in statuses if s not in exp.statuses]
    if bad:
        return Check(step.title, False, f"statuses {statuses}, expected only {list(exp.statuses)}")
    if step.consumer == scenario.EDGE:
        responders = {str(r.get("responder")) for r in rec.rows}
        missing = [a for a in scenario.EDGE_AGENTS if a not in responders]
        if missing:
            return Check(step.title, False, f"no answer from {', '.join(missing)}")
        return Check(step.title, True, f"{len(rec.rows)} agents answered {statuses[0]}")
    if step.consumer == scenario.FW and exp.statuses == (200,):
        sigs = {str(r.get("signature")) for r in rec.rows}
        if sigs != {"verified"}:
            return Check(step.title, False, f"response signature {', '.join(sorted(sigs))}, expected verified")
    return Check(step.title, True, f"status {statuses[0]}; {exp.why}")


def _check_query(rec: StepRecord) -> Check:
    if rec.error:
        return Check(rec.step.title, False, f"function failed: {rec.error}")
    seen = " ".join(str(r.get("consumer")) for r in rec.consumer_rows)
    wanted = [c.strip() for c in str(rec.step.inputs["openc2_consumers"]).split(",")]
    missing = [c for c in wanted if c not in seen]
    if missing:
        return Check(rec.step.title, False, f"no openc2_consumers row for {', '.join(missing)}")
    return Check(rec.step.title, True, f"{len(rec.consumer_rows)} openc2_consumers rows")


def _check_refused(rec: StepRecord) -> Check:
    step, exp = rec.step, rec.step.expect
    sent = [r for r in rec.rows if (status := _status(r)) is not None and status < 300]
    if sent:
        return Check(step.title, False, "a consumer applied it; it should have been refused")
    noted = "\n".join(html_to_text(n) for n in rec.notes).lower()
    value = step.artifact.value.lower() if step.artifact else ""
    if not noted or value not in noted:
        return Check(step.title, False, "no note names the refused value")
    words = [w for w in exp.reason_words if w.lower() in _text(rec)]
    if not words:
        return Check(step.title, False, f"the refusal gives no reason (looked for {', '.join(exp.reason_words)})")
    return Check(step.title, True, f"refused: {exp.why}")


def check_firewall(snapshot: dict[str, Any], cancelled: str, kept: str) -> list[Check]:
    """The cancelled rule is gone from fw1, the other deny is still there."""
    targets = [json.dumps(r.get("target"), default=str) for r in snapshot.get("rules", [])]
    return [
        Check(f"fw1 no longer blocks {cancelled}", not any(cancelled in t for t in targets),
              f"{len(targets)} rules left"),
        Check(f"fw1 still blocks {kept}", any(kept in t for t in targets), "rule active until it expires"),
    ]


def check_fleet(agents: list[Any], hostname: str) -> Check:
    """Every agent contained the host."""
    done = [a.device_id for a in agents
            if any(hostname in json.dumps(c, default=str) for c in a.snapshot().get("contained_devices", []))]
    missing = [a.device_id for a in agents if a.device_id not in done]
    return Check(f"every edge agent contained {hostname}", not missing,
                 f"missing: {', '.join(missing)}" if missing else f"{len(done)} agents")
