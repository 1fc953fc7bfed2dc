"""fn_openc2/util/data/export.res: every cross-reference the SOAR import relies on resolves.

The checks follow the list in the export-format reference ("UUIDs/names that
must agree across sections") plus what the playbooks of this app promise.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from fn_openc2.lib.language.profiles import get_profile
from fn_openc2.lib.soar import SUPPORTED_TYPES, artifact_to_target
from fn_openc2.lib.soar.artifact_map import FILE_ARTIFACT_TYPES
from fn_openc2.util.customize import codegen_reload_data

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "fn_openc2" / "util" / "data" / "export.res"
NS = {"b": "http://www.omg.org/spec/BPMN/20100524/MODEL", "resilient": "http://resilient.ibm.com/bpmn",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
LS_ACTIONS = {"scan", "locate", "query", "deny", "contain", "allow", "start", "stop", "restart", "cancel", "set",
              "update", "redirect", "create", "delete", "detonate", "restore", "copy", "investigate", "remediate"}


@pytest.fixture(scope="module")
def export() -> dict[str, Any]:
    return json.loads(EXPORT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fn_fields(export: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["uuid"]: f for f in export["fields"] if f["export_key"].startswith("__function/")}


def _function_body(playbook: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    root = ET.fromstring(playbook["content"]["xml"].encode("utf-8"))
    element = root.find("./b:process/b:serviceTask/b:extensionElements/resilient:function", NS)
    assert element is not None, f"playbook {playbook['name']}: no serviceTask function"
    return element.attrib["uuid"], json.loads(element.text or "")


def test_export_is_what_the_generator_writes() -> None:
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "make_export.py"), "--check"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_top_level_shape(export: dict[str, Any]) -> None:
    assert export["export_format_version"] == 2
    assert list(export) == sorted(export)
    assert {m["programmatic_name"] for m in export["message_destinations"]} == {"fn_openc2"}
    assert {f["name"] for f in export["functions"]} == {
        "openc2_send_command", "openc2_query_features", "openc2_cancel_command",
        "openc2_check_consumer", "openc2_remove_block"}
    assert {t["type_name"] for t in export["types"]} == {"openc2_commands", "openc2_consumers"}
    assert any(f["export_key"] == "incident/internal_customizations_field" for f in export["fields"])


def test_all_uuids_are_unique(export: dict[str, Any]) -> None:
    text = EXPORT.read_text(encoding="utf-8")
    seen: dict[str, int] = {}
    for key_uuid in re.findall(r'"uuid": "([0-9a-f-]{36})"', text):
        seen[key_uuid] = seen.get(key_uuid, 0) + 1
    assert [u for u, n in seen.items() if n > 1] == []


def test_function_inputs_resolve_and_have_tooltips(export: dict[str, Any], fn_fields: dict) -> None:
    for fn in export["functions"]:
        assert fn["export_key"] == fn["name"]
        for item in fn["view_items"]:
            assert item["field_type"] == "__function"
            field = fn_fields.get(item["content"])
            assert field is not None, f"function {fn['name']}: input uuid {item['content']} is not a field"
            assert field["type_id"] == 11 and field["text"] == field["name"]
            assert field["tooltip"], f"input {field['name']} has no tooltip"


def test_function_destination_resolves(export: dict[str, Any]) -> None:
    handles = {m["programmatic_name"] for m in export["message_destinations"]}
    assert all(fn["destination_handle"] in handles for fn in export["functions"])


def test_send_command_inputs(export: dict[str, Any], fn_fields: dict) -> None:
    fn = next(f for f in export["functions"] if f["name"] == "openc2_send_command")
    fields = {fn_fields[i["content"]]["name"]: fn_fields[i["content"]] for i in fn["view_items"]}
    assert {v["label"] for v in fields["openc2_action"]["values"]} == LS_ACTIONS
    assert [v["label"] for v in fields["openc2_profile"]["values"]] == ["slpf", "pf", "er"]
    assert [v["label"] for v in fields["openc2_response_requested"]["values"]] == [
        "complete", "ack", "status", "none"]
    types = {n: f["input_type"] for n, f in fields.items()}
    assert types["openc2_artifact_value"] == "textarea" and types["openc2_start_time"] == "datetimepicker"
    assert types["incident_id"] == "number" and types["openc2_write_back"] == "boolean"


def test_playbook_handles_agree(export: dict[str, Any]) -> None:
    for pb in export["playbooks"]:
        handle = "playbook_" + pb["uuid"].replace("-", "_")
        assert pb["deployment_id"] == pb["field_type_handle"] == handle
        assert pb["fields_type"]["type_name"] == pb["fields_type"]["export_key"] == handle
        assert pb["tag"]["name"] == handle and pb["tag"]["type"] == "playbook"
        root = ET.fromstring(pb["content"]["xml"].encode("utf-8"))
        assert root.find("./b:process", NS).attrib["id"] == handle
        assert root.find(".//bpmndi:BPMNPlane", NS).attrib["bpmnElement"] == handle
        assert pb["activation_type"] == "manual" and pb["name"] == pb["export_key"]


def test_playbook_flow_is_start_function_check_end(export: dict[str, Any]) -> None:
    for pb in export["playbooks"]:
        process = ET.fromstring(pb["content"]["xml"].encode("utf-8")).find("./b:process", NS)
        flows = {(f.attrib["sourceRef"], f.attrib["targetRef"]) for f in process.findall("b:sequenceFlow", NS)}
        start = process.find("b:startEvent", NS).attrib["id"]
        task = process.find("b:serviceTask", NS).attrib["id"]
        check = process.find("b:scriptTask", NS).attrib["id"]
        end = process.find("b:endEvent", NS).attrib["id"]
        assert flows == {(start, task), (task, check), (check, end)}, pb["name"]


def test_every_playbook_fails_visibly_when_the_function_fails(export: dict[str, Any]) -> None:
    """The function reports a failed command as success False (not an exception): the playbook's
    script after it must read that result and stop the run with the reason, or the run ends green."""
    for pb in export["playbooks"]:
        _, body = _function_body(pb)
        root = ET.fromstring(pb["content"]["xml"].encode("utf-8"))
        (ref,) = root.iter("{http://resilient.ibm.com/bpmn}script")
        (script,) = [s for s in pb["local_scripts"] if s["uuid"] == ref.attrib["uuid"]]
        assert script["playbook_handle"] == pb["name"] and script["object_type"] == pb["object_type"]
        assert script["language"] == "python3"
        text = script["script_text"]
        compile(text, script["name"], "exec")
        assert f"results = playbook.functions.results.{body['result_name']}\n" in text
        assert 'if not results.get("success"):\n  helper.fail(' in text and 'results.get("reason")' in text


def test_playbook_function_and_inputs_resolve(export: dict[str, Any], fn_fields: dict) -> None:
    functions = {f["uuid"]: f for f in export["functions"]}
    for pb in export["playbooks"]:
        fn_uuid, body = _function_body(pb)
        assert fn_uuid in functions, f"playbook {pb['name']}: function {fn_uuid} unknown"
        own_inputs = {i["content"] for i in functions[fn_uuid]["view_items"]}
        for field_uuid, spec in body["inputs"].items():
            assert field_uuid in own_inputs, f"playbook {pb['name']}: input {field_uuid} not of the function"
            if spec["input_type"] == "static" and "select_value" in spec["static_input"]:
                choices = {v["uuid"] for v in fn_fields[field_uuid]["values"]}
                assert spec["static_input"]["select_value"] in choices
        scripts = {s["uuid"] for s in pb["local_scripts"]} | {s["uuid"] for s in export["scripts"]}
        root = ET.fromstring(pb["content"]["xml"].encode("utf-8"))
        for script in root.iter("{http://resilient.ibm.com/bpmn}script"):
            assert script.attrib["uuid"] in scripts


def test_pre_processing_script_reads_only_form_fields_and_sets_only_inputs(
        export: dict[str, Any], fn_fields: dict) -> None:
    functions = {f["uuid"]: f for f in export["functions"]}
    for pb in export["playbooks"]:
        fn_uuid, body = _function_body(pb)
        input_names = {fn_fields[i["content"]]["name"] for i in functions[fn_uuid]["view_items"]}
        script = body["pre_processing_script"]
        compile(script, pb["name"], "exec")
        assert set(re.findall(r"^inputs\.(\w+) =", script, re.M)) <= input_names
        assert set(re.findall(r"getattr\(playbook\.inputs, '(\w+)'", script)) <= set(pb["fields_type"]["fields"])


def test_activation_forms_resolve(export: dict[str, Any]) -> None:
    for pb in export["playbooks"]:
        handle = pb["field_type_handle"]
        form_uuids = {f["uuid"] for f in pb["fields_type"]["fields"].values()}
        for f in pb["fields_type"]["fields"].values():
            assert f["export_key"] == f"{handle}/{f['name']}"
        for item in pb["manual_settings"]["view_items"]:
            assert item["field_type"] == handle
            assert item["content"] in form_uuids


def test_expressions_and_conditions_name_real_objects(export: dict[str, Any]) -> None:
    tables = {t["type_name"]: set(t["fields"]) for t in export["types"]}
    for pb in export["playbooks"]:
        _, body = _function_body(pb)
        for spec in body["inputs"].values():
            if spec["input_type"] != "expression":
                continue
            obj, _, attr = spec["expression_input"]["expression"].partition(".")
            if obj == "row":
                assert pb["object_type"] in tables and attr in tables[pb["object_type"]]
            else:
                assert obj in ("incident", pb["object_type"])
        for cond in pb["manual_settings"]["activation_conditions"]["conditions"]:
            prefix, _, column = cond["field_name"].partition(".")
            assert prefix == pb["object_type"]
            if prefix in tables:
                assert column in tables[prefix]
            if cond["field_name"] == "artifact.type":
                assert cond["value"] in SUPPORTED_TYPES


def _conditions(pb: dict[str, Any]) -> list[tuple[str, str, Any]]:
    cond = pb["manual_settings"]["activation_conditions"]
    return [(c["field_name"], c["method"], c["value"]) for c in cond["conditions"]]


# A value of each text artifact type, to learn which target it becomes (independent of the generator).
SAMPLES = {"IP Address": "203.0.113.9", "Network CIDR Range": "203.0.113.0/24", "DNS Name": "evil.example",
           "URL": "https://evil.example/a", "Email Sender": "x@evil.example", "Email Recipient": "y@example.com",
           "MAC Address": "00:00:5e:00:53:af", "Malware MD5 Hash": "a" * 32, "Malware SHA-1 Hash": "b" * 40,
           "Malware SHA-256 Hash": "c" * 64, "File Name": "dropper.exe", "File Path": "C:\\x\\dropper.exe",
           "System Name": "ws-17", "Process Name": "dropper.exe", "Port": "3389"}


def _can(action: str, artifact_type: str) -> bool:
    (target,) = artifact_to_target(artifact_type, SAMPLES[artifact_type])
    return any(get_profile(p).allows(action, target) for p in ("slpf", "pf", "er"))


def test_samples_cover_every_text_artifact_type() -> None:
    assert set(SAMPLES) == set(SUPPORTED_TYPES) - set(FILE_ARTIFACT_TYPES)


@pytest.mark.parametrize("action", ["deny", "allow", "contain"])
def test_artifact_menu_items_show_only_where_a_bundled_profile_can_act(export: dict[str, Any], action: str) -> None:
    (pb,) = [p for p in export["playbooks"] if p["name"] == f"pb_openc2_{action}_artifact"]
    assert pb["object_type"] == "artifact" and pb["display_name"] == f"OpenC2: {action.capitalize()}"
    assert pb["manual_settings"]["activation_conditions"]["logic_type"] == "any"
    shown = [value for field, method, value in _conditions(pb) if (field, method) == ("artifact.type", "equals")]
    assert len(shown) == len(_conditions(pb)) == len(set(shown))
    assert set(shown) == {t for t in SAMPLES if _can(action, t)}


def test_menu_conditions_match_what_the_profiles_say(export: dict[str, Any]) -> None:
    shown = {p["name"]: {v for _, _, v in _conditions(p)} for p in export["playbooks"]}
    assert "Port" in shown["pb_openc2_deny_artifact"]
    assert {"URL", "Email Sender", "MAC Address", "Process Name"}.isdisjoint(shown["pb_openc2_deny_artifact"])
    assert "System Name" in shown["pb_openc2_contain_artifact"] and "IP Address" not in shown[
        "pb_openc2_contain_artifact"]
    # no bundled profile queries an artifact's target: no "OpenC2: Query" artifact item
    assert "pb_openc2_query_artifact" not in shown


def test_bulk_deny_offers_the_same_types_as_single_deny(export: dict[str, Any]) -> None:
    by_name = {pb["name"]: pb for pb in export["playbooks"]}
    single = [v for _, _, v in _conditions(by_name["pb_openc2_deny_artifact"])]
    field = by_name["pb_openc2_deny_all_artifacts"]["fields_type"]["fields"]["openc2_artifact_type"]
    assert field["input_type"] == "select"
    assert [v["label"] for v in field["values"]] == single
    assert "Port" in single


def test_attachment_hashing_has_a_menu_item(export: dict[str, Any], fn_fields: dict) -> None:
    (pb,) = [p for p in export["playbooks"] if p["object_type"] == "attachment"]
    assert pb["display_name"] == "OpenC2: Deny file (hashes)"
    _, body = _function_body(pb)
    inputs = {fn_fields[k]["name"]: v for k, v in body["inputs"].items()}
    assert inputs["openc2_attachment_id"]["expression_input"]["expression"] == "attachment.id"
    assert inputs["incident_id"]["expression_input"]["expression"] == "incident.id"
    deny = {v["uuid"]: v["label"] for v in fn_fields[uid_of(fn_fields, "openc2_action")]["values"]}
    assert deny[inputs["openc2_action"]["static_input"]["select_value"]] == "deny"
    assert set(pb["fields_type"]["fields"]) == {"openc2_consumers", "openc2_duration", "openc2_profile",
                                                "openc2_comment"}


def uid_of(fn_fields: dict, name: str) -> str:
    return next(k for k, f in fn_fields.items() if f["name"] == name)


def test_menu_items_exist(export: dict[str, Any]) -> None:
    by_name = {pb["display_name"]: pb for pb in export["playbooks"]}
    assert by_name["OpenC2: Query features"]["object_type"] == "incident"
    assert by_name["OpenC2: Custom command"]["object_type"] == "incident"
    assert by_name["OpenC2: Cancel command"]["object_type"] == "openc2_commands"
    deny_form = set(by_name["OpenC2: Deny"]["fields_type"]["fields"])
    assert deny_form == {"openc2_consumers", "openc2_duration", "openc2_profile", "openc2_comment"}


def test_consumers_are_picked_from_a_select(export: dict[str, Any], fn_fields: dict) -> None:
    """Activation forms offer a select ("default", "auto"; the app adds each configured consumer at
    start-up); the function input stays free text for playbook scripts."""
    forms = [pb for pb in export["playbooks"] if "openc2_consumers" in pb["fields_type"]["fields"]]
    assert len(forms) >= 6
    for pb in forms:
        field = pb["fields_type"]["fields"]["openc2_consumers"]
        assert field["input_type"] == "select", pb["name"]
        assert [v["label"] for v in field["values"]] == ["default", "auto"]
        _, body = _function_body(pb)
        assert "inputs.openc2_consumers = getattr(playbook.inputs, 'openc2_consumers', None)" in body[
            "pre_processing_script"]
    assert fn_fields[uid_of(fn_fields, "openc2_consumers")]["input_type"] == "text"


def test_functions_carry_output_json_from_payload_samples(export: dict[str, Any]) -> None:
    for fn in export["functions"]:
        folder = ROOT / "payload_samples" / fn["name"]
        example = json.loads((folder / "output_json_example.json").read_text(encoding="utf-8"))
        schema = json.loads((folder / "output_json_schema.json").read_text(encoding="utf-8"))
        assert json.loads(fn["output_json_example"]) == example
        assert json.loads(fn["output_json_schema"]) == schema
        assert schema["$schema"] == "http://json-schema.org/draft-06/schema"
        assert {"success", "reason", "content"} <= set(schema["properties"])
        assert set(schema["properties"]["content"]["properties"]) >= {"commands", "summary", "error"}


def test_datatable_columns(export: dict[str, Any]) -> None:
    tables = {t["type_name"]: t for t in export["types"]}
    commands = tables["openc2_commands"]["fields"]
    assert list(sorted(commands, key=lambda c: commands[c]["order"])) == [
        "time", "state", "consumer", "responder", "action", "target", "profile", "args", "command_id", "request_id",
        "status", "status_text", "results", "rule_number", "signature", "expires", "error", "warnings"]
    assert commands["status"]["input_type"] == "number" and commands["time"]["input_type"] == "datetimepicker"
    assert commands["expires"]["input_type"] == "datetimepicker" == \
        tables["openc2_consumers"]["fields"]["queried_at"]["input_type"]
    assert commands["rule_number"]["input_type"] == "number"
    assert [v["label"] for v in commands["signature"]["values"]] == [
        "verified", "unsigned", "invalid", "not_checked"]
    assert set(tables["openc2_consumers"]["fields"]) == {
        "consumer", "reachable", "versions", "profiles", "pairs", "rate_limit", "queried_at"}
    for table in tables.values():
        assert table["type_id"] == 8 and table["parent_types"] == ["incident"]
        for name, column in table["fields"].items():
            assert column["export_key"] == f"{table['type_name']}/{name}"


def test_customize_reload_data_lists_every_exported_object(export: dict[str, Any]) -> None:
    reload = codegen_reload_data()
    assert reload["package"] == "fn_openc2"
    assert set(reload["message_destinations"]) == {m["programmatic_name"] for m in export["message_destinations"]}
    assert set(reload["functions"]) == {f["name"] for f in export["functions"]}
    assert set(reload["datatables"]) == {t["type_name"] for t in export["types"]}
    assert set(reload["playbooks"]) == {p["name"] for p in export["playbooks"]}
    assert reload["actions"] == [] == export["actions"]
    assert reload["workflows"] == [] == export["workflows"]
