#!/usr/bin/env python
"""Write payload_samples/<function>/output_json_example.json and output_json_schema.json.

Why: docgen documents the function outputs from these files and validate
requires them. Until `codegen --gather-results` can capture real runs, the
examples below show the designed result shape (CommandOutcome.to_dict per
command, wrapped by resilient-lib's FunctionResult), and the schema is
inferred from the example.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def schema_of(value: Any) -> dict[str, Any]:
    """A draft-06 schema describing the example value's shape."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if value is None:
        return {}
    if isinstance(value, list):
        return {"type": "array", "items": schema_of(value[0]) if value else {}}
    return {"type": "object", "properties": {k: schema_of(v) for k, v in value.items()}}


def wrap(content: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    return {"version": 2.0, "success": True, "reason": None, "content": content, "raw": None,
            "inputs": inputs,
            "metrics": {"version": "1.0", "package": "fn-openc2", "package_version": "1.0.0", "host": "apphost",
                        "execution_time_ms": 412, "timestamp": "2025-11-23 10:00:00"}}


ANSWER = {"consumer": "fw1", "responder": "fw1", "request_id": "0b4c7a4e-8a4f-4d5e-9a65-3b1c2f0d9e11",
          "status": 200, "status_text": "OK", "results": {"slpf": {"rule_number": 1234}},
          "signature": "verified", "signature_reason": None, "error": None, "elapsed_ms": 38.5, "attempts": 1,
          "ok": True}
SEND = wrap({"commands": [{
    "command": {"action": "deny", "target": {"ipv4_net": "203.0.113.7"},
                "args": {"duration": 3600000, "response_requested": "complete"}, "profile": "slpf",
                "command_id": "soar-2101-3f9a"},
    "request_id": ANSWER["request_id"], "refused": None, "answers": [ANSWER], "ok": True}],
    "note_id": 5521, "rows_written": 1},
    {"openc2_action": "deny", "openc2_artifact_type": "IP Address", "openc2_artifact_value": "203.0.113.7",
     "openc2_consumers": "fw1", "openc2_duration": "1h", "openc2_profile": "slpf", "incident_id": 2101,
     "openc2_write_back": True})
QUERY = wrap({"consumers": [{"consumer": "fw1", "responder": "fw1", "reachable": True, "status": 200,
                             "versions": ["2.0"], "profiles": ["slpf"],
                             "pairs": {"deny": ["ipv4_net", "ipv6_net"], "query": ["features"]},
                             "rate_limit": 60.0, "error": None}], "rows_written": 1},
             {"incident_id": 2101, "openc2_consumers": "fw1", "openc2_features": "versions, profiles, pairs"})
CANCEL = wrap({"commands": [{
    "command": {"action": "cancel", "target": {"command": "soar-2101-3f9a"}},
    "request_id": "6a1d2c3b-0f4e-4b8a-8c7d-2e9f1a0b3c4d", "refused": None,
    "answers": [dict(ANSWER, request_id="6a1d2c3b-0f4e-4b8a-8c7d-2e9f1a0b3c4d", results=None)], "ok": True}]},
    {"incident_id": 2101, "openc2_command_id": "soar-2101-3f9a", "openc2_consumers": "fw1"})


def main() -> int:
    for name, example in (("openc2_send_command", SEND), ("openc2_query_features", QUERY),
                          ("openc2_cancel_command", CANCEL)):
        folder = ROOT / "payload_samples" / name
        folder.mkdir(parents=True, exist_ok=True)
        schema = dict(schema_of(example), **{"$schema": "http://json-schema.org/draft-06/schema"})
        (folder / "output_json_example.json").write_text(json.dumps(example, indent=2) + "\n")
        (folder / "output_json_schema.json").write_text(json.dumps(schema, indent=2) + "\n")
    print("wrote payload_samples/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
