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

from fn_openc2.lib.soar import SUPPORTED_TYPES
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
        "openc2_send_command", "openc2_query_features", "openc2_cancel_command"}
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


def test_playbook_flow_is_start_function_end(export: dict[str, Any]) -> None:
    for pb in export["playbooks"]:
        process = ET.fromstring(pb["content"]["xml"].encode("utf-8")).find("./b:process", NS)
        flows = {(f.attrib["sourceRef"], f.attrib["targetRef"]) for f in process.findall("b:sequenceFlow", NS)}
        start = process.find("b:startEvent", NS).attrib["id"]
        task = process.find("b:serviceTask", NS).attrib["id"]
        end = process.find("b:endEvent", NS).attrib["id"]
        assert flows == {(start, task), (task, end)}, pb["name"]


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


def test_menu_items_exist(export: dict[str, Any]) -> None:
    by_name = {pb["display_name"]: pb for pb in export["playbooks"]}
    for name in ("OpenC2: Deny", "OpenC2: Allow", "OpenC2: Contain", "OpenC2: Query"):
        assert by_name[name]["object_type"] == "artifact"
        assert by_name[name]["manual_settings"]["activation_conditions"]["conditions"]
    assert by_name["OpenC2: Query features"]["object_type"] == "incident"
    assert by_name["OpenC2: Custom command"]["object_type"] == "incident"
    assert by_name["OpenC2: Cancel command"]["object_type"] == "openc2_commands"
    deny_form = set(by_name["OpenC2: Deny"]["fields_type"]["fields"])
    assert deny_form == {"openc2_consumers", "openc2_duration", "openc2_profile", "openc2_comment"}


def test_datatable_columns(export: dict[str, Any]) -> None:
    tables = {t["type_name"]: t for t in export["types"]}
    commands = tables["openc2_commands"]["fields"]
    assert list(sorted(commands, key=lambda c: commands[c]["order"])) == [
        "time", "consumer", "responder", "action", "target", "profile", "args", "command_id", "request_id",
        "status", "status_text", "results", "signature", "expires", "error"]
    assert commands["status"]["input_type"] == "number" and commands["time"]["input_type"] == "datetimepicker"
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
