"""The menu items work where they show: each playbook's own function inputs
(expressions, static choices and its pre-processing script, taken from
export.res) are evaluated against an artifact or attachment as SOAR would,
then the real function runs in resilient-circuits against the reference
consumer (slpf + er) over HTTPS with mutual TLS, and its result is read by the
playbook's own check script."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace
from typing import Any

import pytest

from tests.soar import harness
from tests.soar.harness import INCIDENT_ID, call, fw, soar  # noqa: F401  (fixtures used by name)

config_data = ""            # written by the fw fixture before circuits_app starts
resilient_mock = harness.RESILIENT_MOCK
NS = {"b": "http://www.omg.org/spec/BPMN/20100524/MODEL", "resilient": "http://resilient.ibm.com/bpmn"}


class Failed(Exception):
    """helper.fail() in a SOAR script: the playbook run stops with this message."""


def _playbook(name: str) -> dict[str, Any]:
    return next(p for p in harness.export_document()["playbooks"] if p["name"] == name)


def menu_inputs(pb: dict[str, Any], objects: dict[str, Any], form: dict[str, Any]) -> tuple[str, dict]:
    """The function name and inputs SOAR would send when the item runs on `objects` with `form`."""
    doc = harness.export_document()
    fields = {f["uuid"]: f for f in doc["fields"]}
    function = ET.fromstring(pb["content"]["xml"].encode()).find(".//resilient:function", NS)
    (fn_name,) = [f["name"] for f in doc["functions"] if f["uuid"] == function.attrib["uuid"]]
    body = json.loads(function.text)
    inputs: dict[str, Any] = {}
    for field_uuid, spec in body["inputs"].items():
        field = fields[field_uuid]
        if spec["input_type"] == "expression":
            obj, attr = spec["expression_input"]["expression"].split(".")
            inputs[field["name"]] = getattr(objects[obj], attr)
        else:
            chosen = spec["static_input"]["select_value"]
            inputs[field["name"]] = next(v["label"] for v in field["values"] if v["uuid"] == chosen)
    script_inputs = SimpleNamespace()
    playbook = SimpleNamespace(inputs=SimpleNamespace(**form))
    exec(body["pre_processing_script"], {"inputs": script_inputs, "playbook": playbook, **objects})  # noqa: S102
    inputs.update(vars(script_inputs))
    return fn_name, {k: v for k, v in inputs.items() if v is not None}


def check(pb: dict[str, Any], result: dict[str, Any]) -> None:
    """Run the playbook's check script on the function's result, as the playbook does."""
    (script,) = pb["local_scripts"]
    results = SimpleNamespace(**{f"{pb['name']}_result": result})
    helper = SimpleNamespace(fail=lambda message: (_ for _ in ()).throw(Failed(message)))
    exec(script["script_text"], {"playbook": SimpleNamespace(functions=SimpleNamespace(results=results)),  # noqa: S102
                                  "helper": helper})


INCIDENT = SimpleNamespace(id=INCIDENT_ID)


class TestMenuItems:
    def test_contain_on_a_host_sends_the_containment_er_requires(self, circuits_app, soar, fw):
        pb = _playbook("pb_openc2_contain_artifact")
        host = SimpleNamespace(type="System Name", value="ws-17.example.com")
        name, inputs = menu_inputs(pb, {"artifact": host, "incident": INCIDENT},
                                   {"openc2_consumers": "fw1", "openc2_profile": "er",
                                    "openc2_containment": "app_restriction"})
        result = call(circuits_app, name, inputs)
        (cmd,) = result["content"]["commands"]
        assert cmd["command"]["action"] == "contain"
        assert cmd["command"]["target"] == {"device": {"hostname": "ws-17.example.com"}}
        assert cmd["command"]["args"]["er"] == {"device_containment": "app_restriction"}
        assert result["success"] is True, result["reason"]
        check(pb, result)                                   # a green run

    def test_contain_on_a_file_hash_sends_no_device_containment(self, circuits_app, soar, fw):
        pb = _playbook("pb_openc2_contain_artifact")
        digest = SimpleNamespace(type="Malware SHA-256 Hash", value="ab" * 32)
        name, inputs = menu_inputs(pb, {"artifact": digest, "incident": INCIDENT},
                                   {"openc2_consumers": "fw1", "openc2_profile": "er"})
        result = call(circuits_app, name, inputs)
        (cmd,) = result["content"]["commands"]
        assert cmd["command"]["target"] == {"file": {"hashes": {"sha256": "AB" * 32}}}
        assert "er" not in (cmd["command"].get("args") or {})
        assert result["success"] is True, result["reason"]

    def test_deny_file_by_attachment_hashes(self, circuits_app, soar, fw):
        pb = _playbook("pb_openc2_deny_attachment")
        name, inputs = menu_inputs(pb, {"attachment": SimpleNamespace(id=21), "incident": INCIDENT},
                                   {"openc2_consumers": "fw1", "openc2_duration": "1h"})
        result = call(circuits_app, name, inputs)
        (cmd,) = result["content"]["commands"]
        assert cmd["command"]["action"] == "deny" and set(cmd["command"]["target"]["file"]["hashes"]) == {
            "md5", "sha1", "sha256"}
        assert result["success"] is True, result["reason"]
        check(pb, result)

    def test_deny_on_a_port_builds_the_connection_target_and_the_guard_judges_it(self, circuits_app, soar, fw):
        pb = _playbook("pb_openc2_deny_artifact")
        port = SimpleNamespace(type="Port", value="3389/tcp")
        name, inputs = menu_inputs(pb, {"artifact": port, "incident": INCIDENT},
                                   {"openc2_consumers": "fw1", "openc2_profile": "slpf"})
        result = call(circuits_app, name, inputs)
        (cmd,) = result["content"]["commands"]
        assert cmd["command"]["target"] == {"ipv4_connection": {"dst_port": 3389, "protocol": "tcp"}}
        # every address on that port includes the protected network this harness configures
        assert "protected network 198.51.100.0/24" in cmd["refused"] and cmd["answers"] == []
        with pytest.raises(Failed, match="protected network"):
            check(pb, result)

    def test_a_consumer_failure_fails_the_playbook_run_with_the_reason(self, circuits_app, soar, fw):
        pb = _playbook("pb_openc2_deny_artifact")
        ip = SimpleNamespace(type="IP Address", value="203.0.113.50")
        name, inputs = menu_inputs(pb, {"artifact": ip, "incident": INCIDENT},
                                   {"openc2_consumers": "down", "openc2_profile": "slpf"})
        result = call(circuits_app, name, inputs)           # nothing listens there
        assert result["success"] is False
        with pytest.raises(Failed) as failed:
            check(pb, result)
        assert str(failed.value) == f"OpenC2 failed: {result['reason']}"
        assert str(failed.value).startswith("OpenC2 failed: down")

    def test_a_refused_input_fails_the_playbook_run_too(self, circuits_app, soar, fw):
        pb = _playbook("pb_openc2_deny_artifact")
        domain = SimpleNamespace(type="DNS Name", value="evil.example")
        name, inputs = menu_inputs(pb, {"artifact": domain, "incident": INCIDENT},
                                   {"openc2_consumers": "fw1", "openc2_profile": "slpf"})
        result = call(circuits_app, name, inputs)           # slpf defines no 'deny domain_name'
        assert result["success"] is False
        assert result["content"]["commands"] == [] and result["content"]["error"]["kind"] == "input"
        with pytest.raises(Failed, match="profile 'slpf' does not define 'deny domain_name'"):
            check(pb, result)
