#!/usr/bin/env python
"""Regenerate payload_samples/<function>/output_json_{example,schema}.json from real runs.

Why: docgen documents the outputs from these files, and playbook authors
read them; a hand-written example drifts from what the code returns. This
runs the installed components in the real resilient-circuits runtime against
the offline SOAR and the reference consumer over HTTPS with mutual TLS (dev
PKI in a temporary folder). The example is the successful run; the schema is
merged over every run (success, refusal, consumer down, bad input), so a
field that may be null or missing says so. Run from the repository root:

    .venv/bin/python tools/make_payload_samples.py
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fn_openc2.lib.consumer import Actuator, HttpsConsumerServer
from fn_openc2.lib.offline_soar.runner import CircuitsApp
from fn_openc2.lib.transfer.devpki import make_pki

HERE = Path(__file__).resolve().parent.parent / "payload_samples"
INCIDENT = 2101
TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"), (dict, "object"))


def _type(value: Any) -> str:
    if value is None:
        return "null"
    return next(name for kind, name in TYPES if isinstance(value, kind))


def schema_of(values: list[Any]) -> dict[str, Any]:
    """A draft-06 schema accepting every one of the values (union of their shapes)."""
    types = sorted({_type(v) for v in values})
    schema: dict[str, Any] = {"type": types[0] if len(types) == 1 else types}
    objects = [v for v in values if isinstance(v, dict)]
    if objects:
        keys = list(dict.fromkeys(k for o in objects for k in o))
        schema["properties"] = {k: schema_of([o[k] for o in objects if k in o]) for k in keys}
        always = [k for k in keys if all(k in o for o in objects)]
        if always:
            schema["required"] = always
    items = [item for v in values if isinstance(v, list) for item in v]
    if any(isinstance(v, list) for v in values):
        schema["items"] = schema_of(items) if items else {}
    return schema


CONTENT_DOC = (
    "What the function did. commands: one entry per OpenC2 command (the command as sent, its request_id, "
    "refused: why nothing was sent or null, answers: one per consumer or MQTT responder with status, "
    "status_text, results, signature verdict, error). summary.success is true only when every targeted "
    "consumer answered with a 1xx/2xx status; summary.failures lists each failure (also the function's "
    "reason). error: set when the inputs or app.config stopped everything before sending (kind input|config|"
    "soar, with the input field or config section/key). writeback: notes and rows written to the incident "
    "(a batch of several commands gets one summary note). duplicates (send command): targets skipped because an "
    "earlier value or artifact gave the same OpenC2 target. tally (a command to an MQTT fleet): every answer was "
    "streamed into the incident as it came; answers then holds a sample (at most 50 that succeeded and 50 that "
    "did not) and tally the counts of all of them (total, delivered, succeeded, outcome_unknown, by_status, "
    "by_consumer: [answers, succeeded], notices).")
#: Not in the HTTPS runs these samples come from: a fleet's commands carry it (see CONTENT_DOC).
TALLY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "total": {"type": "integer"}, "delivered": {"type": "integer"}, "succeeded": {"type": "integer"},
    "outcome_unknown": {"type": "integer"},
    "by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
    "by_consumer": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer"}}},
    "notices": {"type": "array", "items": {"type": "string"}}}}
GRADE_DOC = (" grade (check consumer): the conformance table, checks[] each with clause, level (MUST/SHOULD/MAY), "
             "title, verdict (pass/fail/n.a.) and detail.")


def _config(server: HttpsConsumerServer, pki: Any, public: str, down_port: int) -> str:
    return f"""
[fn_openc2]
producer_id = soar@example.com
default_consumers = fw1
protected_networks = 198.51.100.0/24
retries = 0
timeout = 5

[fn_openc2:fw1]
url = {server.url}
verify = {pki.ca_cert}
client_auth_cert = {pki.client_cert}
client_auth_key = {pki.client_key}
response_verify_key = {public}
device_id = fw1@example.com

[fn_openc2:down]
url = https://127.0.0.1:{down_port}/.well-known/openc2
verify = {pki.ca_cert}
retries = 0
timeout = 2
"""


def _key(folder: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = folder / "consumer.key.pem", folder / "consumer.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return str(private), str(public)


def _runs(app: CircuitsApp) -> dict[str, list[dict]]:
    deny = {"incident_id": INCIDENT, "openc2_action": "deny", "openc2_artifact_type": "IP Address",
            "openc2_artifact_value": "203.0.113.7", "openc2_consumers": "fw1", "openc2_profile": "slpf",
            "openc2_duration": "1h", "openc2_comment": "phishing source", "openc2_write_back": True}
    send = [app.run_function("openc2_send_command", deny)]
    command_id = send[0]["content"]["commands"][0]["command"]["command_id"]
    send += [app.run_function("openc2_send_command", dict(deny, **extra)) for extra in (
        {"openc2_artifact_value": "198.51.100.20"}, {"openc2_consumers": "down"},
        {"openc2_artifact_value": "203.0.113.300"}, {"openc2_write_back": False},
        {"openc2_artifact_value": "", "openc2_all_artifacts": True})]     # a batch: every IP artifact
    query = [app.run_function("openc2_query_features", {"incident_id": INCIDENT, "openc2_consumers": "fw1"}),
             app.run_function("openc2_query_features", {"incident_id": INCIDENT})]
    cancel = [app.run_function("openc2_cancel_command", {"incident_id": INCIDENT, "openc2_command_id": command_id}),
              app.run_function("openc2_cancel_command", {"incident_id": INCIDENT, "openc2_command_id": command_id,
                                                         "openc2_consumers": "fw1"})]
    check = [app.run_function("openc2_check_consumer", {"incident_id": INCIDENT, "openc2_consumers": "fw1"}),
             app.run_function("openc2_check_consumer", {"incident_id": INCIDENT, "openc2_consumers": "down"}),
             app.run_function("openc2_check_consumer", {"incident_id": INCIDENT, "openc2_consumers": "fw1, down"})]
    block = app.run_function("openc2_send_command", dict(deny, openc2_artifact_value="203.0.113.44"))
    block_id = block["content"]["commands"][0]["command"]["command_id"]
    remove = [app.run_function("openc2_remove_block", {"incident_id": INCIDENT, "openc2_command_id": block_id,
                                                       "openc2_consumers": "fw1"})]
    return {"openc2_send_command": send, "openc2_query_features": query, "openc2_cancel_command": cancel,
            "openc2_check_consumer": check, "openc2_remove_block": remove}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pki = make_pki(folder / "pki")
        private, public = _key(folder)
        server = HttpsConsumerServer(Actuator("fw1@example.com", signing_key=private), "127.0.0.1", 0,
                                     tls_cert=pki.server_cert, tls_key=pki.server_key, client_ca=pki.ca_cert).start()
        import socket
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            down_port = sock.getsockname()[1]
        try:
            ips = ("203.0.113.7", "203.0.113.8", "198.51.100.9", "203.0.113.7")   # one protected, one twice
            seed = (lambda store: store.seed({"id": INCIDENT, "name": "Phishing from 203.0.113.7",
                                              "discovered_date": int(time.time() * 1000)},
                                             artifacts=[{"type": "IP Address", "value": ip} for ip in ips]))
            with CircuitsApp(_config(server, pki, public, down_port), seed=seed) as app:
                runs = _runs(app)
        finally:
            server.stop()
    for name, payloads in runs.items():
        out = HERE / name
        out.mkdir(exist_ok=True)
        schema = dict(schema_of(payloads), **{"$schema": "http://json-schema.org/draft-06/schema"})
        schema["properties"]["content"]["description"] = CONTENT_DOC + (GRADE_DOC if name == "openc2_check_consumer"
                                                                        else "")
        commands = schema["properties"]["content"]["properties"].get("commands", {}).get("items")
        if commands is not None and "properties" in commands:
            commands["properties"]["tally"] = TALLY_SCHEMA
        (out / "output_json_example.json").write_text(json.dumps(payloads[0], indent=2) + "\n")
        (out / "output_json_schema.json").write_text(json.dumps(schema, indent=2) + "\n")
    print(f"wrote {', '.join(runs)} under {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
