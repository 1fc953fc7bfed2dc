#!/usr/bin/env python
"""Generate fn_openc2/util/data/export.res from the compact description below.

Why a generator: a SOAR export is a large JSON document whose objects refer to
each other by uuid (function -> input fields, playbook XML -> function, input
fields and select values, activation form -> playbook fields). Writing it by hand
invites dangling references; generating it with uuid5 names keeps every uuid
stable across runs and every reference resolvable. Run from the repo root:

    .venv/bin/python tools/make_export.py            # writes the export
    .venv/bin/python tools/make_export.py --check    # exit 1 when the file is stale
"""
from __future__ import annotations

import argparse
import json
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fn_openc2" / "util" / "data" / "export.res"
PAYLOAD_SAMPLES = ROOT / "payload_samples"
sys.path.insert(0, str(ROOT))

from fn_openc2.lib.language import ACTIONS  # noqa: E402  (after the path fix above)
from fn_openc2.lib.language.profiles import get_profile  # noqa: E402
from fn_openc2.lib.security.signing import Verdict  # noqa: E402
from fn_openc2.lib.soar.plan import RESPONSE_REQUESTED  # noqa: E402
from fn_openc2.lib.soar.artifact_map import FILE_ARTIFACT_TYPES, artifact_to_target  # noqa: E402

NAMESPACE = uuid.UUID("6f1c2a3e-0c2b-5d8e-9a51-0c2f0e6b4d21")
EXPORT_DATE = 1763856000000  # fixed so regeneration is byte-stable
DESTINATION = "fn_openc2"
DEFAULT_INCIDENT_TYPE_UUID = "bfeec2d4-3770-11e8-ad39-4a0004044aa0"
DEFAULT_INCIDENT_FIELD_UUID = "bfeec2d4-3770-11e8-ad39-4a0004044aa1"

PROFILES = ("slpf", "pf", "er")
SIGNATURE_VERDICTS = get_args(Verdict)


def uid(*parts: str) -> str:
    """A stable uuid for a named object."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


# --------------------------------------------------------------------------- description

@dataclass(frozen=True)
class Input:
    name: str
    input_type: str
    tooltip: str
    choices: tuple[str, ...] = ()
    placeholder: str = ""
    required: bool = False


INPUTS: dict[str, Input] = {i.name: i for i in (
    Input("openc2_action", "select", "OpenC2 action (LS v2.0), e.g. deny, allow, contain, query", ACTIONS),
    Input("openc2_artifact_type", "text", "SOAR artifact type the target is built from, e.g. 'IP Address'",
          placeholder="IP Address"),
    Input("openc2_artifact_value", "textarea",
          "Artifact value(s), one per line; each line becomes one command with the same action"),
    Input("openc2_target_json", "textarea",
          "OpenC2 target as JSON, e.g. {\"ipv4_net\": \"192.0.2.1/32\"}; used instead of the artifact"),
    Input("openc2_profile", "select", "Actuator profile to address (slpf: packet filter, pf, er: endpoint response)",
          PROFILES),
    Input("openc2_consumers", "text",
          "Consumer names from app.config, comma-separated; 'default' for default_consumers, "
          "'auto' for those whose features fit", placeholder="default"),
    Input("openc2_duration", "text", "How long the action stays in effect, e.g. 30m, 1h, 2d; "
          "empty = permanent (until removed)", placeholder="empty = permanent"),
    Input("openc2_start_time", "datetimepicker", "When the action starts (args.start_time)"),
    Input("openc2_stop_time", "datetimepicker", "When the action ends (args.stop_time)"),
    Input("openc2_response_requested", "select",
          "Which responses to wait for (args.response_requested); complete when empty", RESPONSE_REQUESTED),
    Input("openc2_comment", "text", "Free text recorded in the note and rows (not sent to the consumer)"),
    Input("openc2_profile_args", "textarea",
          "Profile arguments as JSON, e.g. {\"slpf\": {\"drop_process\": \"reject\"}}"),
    Input("openc2_command_json", "textarea",
          "Expert: a complete OpenC2 command as JSON; overrides action, target and args"),
    Input("incident_id", "number", "Incident to write the note and data-table rows to", required=True),
    Input("openc2_attachment_id", "number", "Incident attachment whose bytes give the file hashes"),
    Input("openc2_write_back", "boolean", "Write a note and data-table rows to the incident (default yes)"),
    Input("openc2_all_artifacts", "boolean",
          "Take every artifact of openc2_artifact_type in the incident instead of openc2_artifact_value "
          "(duplicates sent once; one malformed artifact refuses the whole batch)"),
    Input("openc2_force", "boolean",
          "Send even to a consumer whose openc2_commands row shows the same action, target and profile "
          "still in effect (sending, active or outcome unknown); default no: such targets are not sent again"),
    Input("openc2_features", "text",
          "Features to query, comma-separated: versions, profiles, pairs, rate_limit (all when empty)",
          placeholder="versions, profiles, pairs, rate_limit"),
    Input("openc2_command_id", "text", "command_id of the command to cancel (from the openc2_commands table)",
          required=True),
)}


@dataclass(frozen=True)
class Function:
    name: str
    display_name: str
    description: str
    inputs: tuple[str, ...]


FUNCTIONS = (
    Function("openc2_send_command", "OpenC2: Send Command",
             "Build an OpenC2 command from an artifact, a target or a full command, send it to the named "
             "consumers over HTTPS or MQTT, and return (and optionally record) every consumer's response.",
             ("openc2_action", "openc2_artifact_type", "openc2_artifact_value", "openc2_target_json",
              "openc2_profile", "openc2_consumers", "openc2_duration", "openc2_start_time", "openc2_stop_time",
              "openc2_response_requested", "openc2_comment", "openc2_profile_args", "openc2_command_json",
              "incident_id", "openc2_attachment_id", "openc2_write_back", "openc2_all_artifacts", "openc2_force")),
    Function("openc2_query_features", "OpenC2: Query Features",
             "Send 'query features' to consumers and record what each supports (versions, profiles, "
             "action/target pairs, rate limit) in the openc2_consumers table.",
             ("incident_id", "openc2_consumers", "openc2_features")),
    Function("openc2_cancel_command", "OpenC2: Cancel Command",
             "Send 'cancel' for a previously issued command (by its command_id) to the consumers that got it.",
             ("incident_id", "openc2_command_id", "openc2_consumers")),
    Function("openc2_check_consumer", "OpenC2: Check Consumer",
             "Grade one configured consumer against the observable MUSTs and SHOULDs of the OpenC2 language "
             "and transfer specifications (read-only commands only) and write the table, each check naming "
             "its clause, as an incident note.",
             ("incident_id", "openc2_consumers")),
    Function("openc2_remove_block", "OpenC2: Remove Block",
             "Lift what an OpenC2 Commands row put in place: 'delete slpf:rule_number' (or pf) with the rule number "
             "the consumer answered, else 'cancel' when the consumer advertises it, else say why not; the row's "
             "state becomes 'removed'.",
             ("incident_id", "openc2_command_id", "openc2_consumers")),
)


@dataclass(frozen=True)
class Column:
    name: str
    text: str
    input_type: str = "text"
    width: int = 120
    tooltip: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    display_name: str
    type_id: int  # the server-internal id of the table type, shared by its columns
    columns: tuple[Column, ...]


TABLES = (
    Table("openc2_commands", "OpenC2 Commands", 1000, (
        Column("time", "Time", "datetimepicker", 150),
        Column("state", "State", width=80, tooltip="sending, active, done, removed, expired, failed, or unknown "
                                                   "(outcome unknown: may have been carried out)"),
        Column("consumer", "Consumer"),
        Column("responder", "Responder", tooltip="headers.from of the response"),
        Column("action", "Action", width=80),
        Column("target", "Target", width=200),
        Column("profile", "Profile", width=70),
        Column("args", "Args", width=160),
        Column("command_id", "Command ID", width=150),
        Column("request_id", "Request ID", width=150),
        Column("status", "Status", "number", 70),
        Column("status_text", "Status Text", width=150),
        Column("results", "Results", "textarea", 220),
        Column("rule_number", "Rule Number", "number", 80, "The rule number the consumer answered (slpf/pf); "
                                                           "Remove block deletes it"),
        Column("signature", "Signature", "select", 100, "Signature verdict of the response", SIGNATURE_VERDICTS),
        Column("expires", "Expires", "datetimepicker", 150,
               "When the action ends (start + duration or stop_time); empty = permanent"),
        Column("error", "Error", width=200),
        Column("warnings", "Warnings", width=200,     # plain text: a consumer's words are never rich text
               tooltip="What deviated in the answer but could still be read, and answers not counted"),
    )),
    Table("openc2_consumers", "OpenC2 Consumers", 1001, (
        Column("consumer", "Consumer"),
        Column("reachable", "Reachable", width=80),
        Column("versions", "Versions"),
        Column("profiles", "Profiles"),
        Column("pairs", "Action/Target Pairs", "textarea", 260, "One action per line: its targets"),
        Column("rate_limit", "Rate Limit", width=90),
        Column("queried_at", "Queried At", "datetimepicker", 150),
    )),
)


@dataclass(frozen=True)
class FormField:
    name: str
    text: str
    input_type: str
    tooltip: str
    choices: tuple[str, ...] = ()
    placeholder: str = ""


# A select: the choices "default" and "auto" ship; the app adds one per configured consumer at
# start-up (fn_openc2.lib.soar.startup). Scripts still pass any names as text to the function input.
FORM_CONSUMERS = FormField("openc2_consumers", "Consumers", "select",
                           "A consumer from app.config; empty or 'default' for default_consumers, 'auto' for those "
                           "whose features fit the command", ("default", "auto"))
FORM_DURATION = FormField("openc2_duration", "Duration", "text",
                          "e.g. 30m, 1h, 2d; empty = permanent (until removed)", placeholder="empty = permanent")
FORM_PROFILE = FormField("openc2_profile", "Profile", "select", "Actuator profile (empty: none)", PROFILES)
FORM_COMMENT = FormField("openc2_comment", "Comment", "text", "Recorded with the command")
FORM_FEATURES = FormField("openc2_features", "Features", "text",
                          "versions, profiles, pairs, rate_limit (all when empty)")
FORM_COMMAND = FormField("openc2_command_json", "Command JSON", "textarea",
                         "A complete OpenC2 command, e.g. {\"action\": \"deny\", \"target\": {...}}")


@dataclass(frozen=True)
class Playbook:
    name: str
    display_name: str
    description: str
    object_type: str
    function: str
    form: tuple[FormField, ...]
    expressions: dict[str, str]               # function input -> expression
    statics: dict[str, str] = field(default_factory=dict)  # select input -> choice label
    script_inputs: tuple[str, ...] = ()       # function inputs copied from playbook.inputs
    fixed: dict[str, str] = field(default_factory=dict)    # function input -> python literal
    conditions: tuple[tuple[str, str, str | None], ...] = ()
    logic_type: str = "all"
    script_extra: str = ""                    # more pre-processing lines, after the copies



# Menu items show only on artifact types that some bundled profile can act on: each type's target
# (from the app's own artifact map, on a sample value) must be in a profile's pairs for the action.
BUNDLED_PROFILES = ("slpf", "pf", "er")
SAMPLE_VALUES = {
    "IP Address": "192.0.2.1", "Network CIDR Range": "192.0.2.0/24", "DNS Name": "example.com",
    "URL": "https://example.com/x", "Email Sender": "a@example.com", "Email Recipient": "b@example.com",
    "MAC Address": "00:00:5e:00:53:01", "Malware MD5 Hash": "0" * 32, "Malware SHA-1 Hash": "0" * 40,
    "Malware SHA-256 Hash": "0" * 64, "File Name": "x.exe", "File Path": "/tmp/x.exe", "System Name": "host1",
    "Process Name": "x.exe", "Port": "443/tcp",
}


def target_of(artifact_type: str) -> str:
    """The OpenC2 target name an artifact of this type becomes."""
    content = b"" if artifact_type in FILE_ARTIFACT_TYPES else None
    (name,) = artifact_to_target(artifact_type, SAMPLE_VALUES.get(artifact_type, "x"), content=content)
    return name


def actionable_types(action: str, *, text_only: bool = False) -> tuple[str, ...]:
    """Artifact types whose target some bundled profile pairs with ``action``, in SOAR's order."""
    types = tuple(SAMPLE_VALUES) + (() if text_only else FILE_ARTIFACT_TYPES)
    return tuple(t for t in types if any(get_profile(p).allows(action, target_of(t)) for p in BUNDLED_PROFILES))


FORM_ARTIFACT_TYPE = FormField("openc2_artifact_type", "Artifact type", "select",
                               "Every artifact of this type in the incident becomes one command",
                               actionable_types("deny", text_only=True))
ARTIFACT_EXPRESSIONS = {"openc2_artifact_type": "artifact.type", "openc2_artifact_value": "artifact.value",
                        "incident_id": "incident.id"}
ARTIFACT_FORM = (FORM_CONSUMERS, FORM_DURATION, FORM_PROFILE, FORM_COMMENT)
CONTAINMENTS = ("network_isolation", "app_restriction", "disable_nic")
FORM_CONTAINMENT = FormField("openc2_containment", "Containment", "select",
                             "For a host (System Name): how the EDR contains it (er device_containment); "
                             "network_isolation when empty", CONTAINMENTS)
# The er profile requires device_containment with 'contain device' (and allows it only there), so the
# contain item sets it for hosts only; the value comes from the select above, never free text.
CONTAIN_SCRIPT = (
    "if artifact.type == \"System Name\":\n"
    "  how = getattr(playbook.inputs, 'openc2_containment', None) or \"network_isolation\"\n"
    "  inputs.openc2_profile_args = '{\"er\": {\"device_containment\": \"%s\"}}' % how\n")


def _artifact_playbook(action: str, types: tuple[str, ...], form: tuple[FormField, ...],
                       script_extra: str = "") -> Playbook:
    copied = tuple(f.name for f in form if f is not FORM_CONTAINMENT)
    return Playbook(
        name=f"pb_openc2_{action}_artifact", display_name=f"OpenC2: {action.capitalize()}",
        description=f"Send an OpenC2 '{action}' command built from this artifact to the chosen consumers; "
                    "the response is written to a note and to the OpenC2 Commands table.",
        object_type="artifact", function="openc2_send_command", form=form,
        expressions=ARTIFACT_EXPRESSIONS, statics={"openc2_action": action},
        script_inputs=copied, fixed={"openc2_write_back": "True"},
        conditions=tuple(("artifact.type", "equals", t) for t in types), logic_type="any", script_extra=script_extra)


# No "Query" artifact item: no bundled profile pairs 'query' with an artifact's target (only features).
PLAYBOOKS = (
    _artifact_playbook("deny", actionable_types("deny", text_only=True), ARTIFACT_FORM),
    _artifact_playbook("allow", actionable_types("allow", text_only=True), ARTIFACT_FORM),
    _artifact_playbook("contain", actionable_types("contain", text_only=True), ARTIFACT_FORM + (FORM_CONTAINMENT,),
                       CONTAIN_SCRIPT),
    Playbook("pb_openc2_deny_attachment", "OpenC2: Deny file (hashes)",
             "Send an OpenC2 'deny file' identified by the md5, sha1 and sha256 of this attachment's bytes "
             "(the er profile's pair) to the chosen consumers; the response is written to a note and to the "
             "OpenC2 Commands table.",
             "attachment", "openc2_send_command", ARTIFACT_FORM,
             {"incident_id": "incident.id", "openc2_attachment_id": "attachment.id"},
             statics={"openc2_action": "deny"}, script_inputs=tuple(f.name for f in ARTIFACT_FORM),
             fixed={"openc2_write_back": "True"}),
    Playbook("pb_openc2_query_features", "OpenC2: Query features",
             "Ask consumers which versions, profiles, action/target pairs and rate limits they support; "
             "the answers fill the OpenC2 Consumers table.",
             "incident", "openc2_query_features", (FORM_CONSUMERS, FORM_FEATURES),
             {"incident_id": "incident.id"}, script_inputs=("openc2_consumers", "openc2_features")),
    Playbook("pb_openc2_custom_command", "OpenC2: Custom command",
             "Send a complete OpenC2 command written as JSON to the chosen consumers.",
             "incident", "openc2_send_command", (FORM_COMMAND, FORM_CONSUMERS, FORM_COMMENT),
             {"incident_id": "incident.id"},
             script_inputs=("openc2_command_json", "openc2_consumers", "openc2_comment"),
             fixed={"openc2_write_back": "True"}),
    Playbook("pb_openc2_deny_all_artifacts", "OpenC2: Deny all artifacts of a type",
             "Send one OpenC2 'deny' per distinct artifact of the chosen type in this incident, as one batch; "
             "a summary note lists every target and consumer answer, and each answer gets an OpenC2 Commands row. "
             "One malformed artifact refuses the whole batch (the note names it).",
             "incident", "openc2_send_command", (FORM_ARTIFACT_TYPE, FORM_CONSUMERS, FORM_DURATION, FORM_COMMENT),
             {"incident_id": "incident.id"}, statics={"openc2_action": "deny"},
             script_inputs=("openc2_artifact_type", "openc2_consumers", "openc2_duration", "openc2_comment"),
             fixed={"openc2_all_artifacts": "True", "openc2_write_back": "True"}),
    Playbook("pb_openc2_check_consumer", "OpenC2: Check consumer",
             "Grade the chosen consumer against the OpenC2 specifications with read-only commands (query "
             "features, a pair it does not list, a malformed query) and write the pass/fail table, each check "
             "naming its clause, as a note: proof of a device's readiness.",
             "incident", "openc2_check_consumer", (FORM_CONSUMERS,),
             {"incident_id": "incident.id"}, script_inputs=("openc2_consumers",)),
    Playbook("pb_openc2_cancel_command", "OpenC2: Cancel command",
             "Cancel the command of this row on the consumer that received it.",
             "openc2_commands", "openc2_cancel_command", (),
             {"incident_id": "incident.id", "openc2_command_id": "row.command_id",
              "openc2_consumers": "row.consumer"},
             conditions=(("openc2_commands.command_id", "has_a_value", None),
                         ("openc2_commands.action", "not_equals", "cancel"))),
    Playbook("pb_openc2_remove_block", "OpenC2: Remove block",
             "Lift the block of this row: delete the rule number the consumer answered with, else cancel the "
             "command when the consumer advertises cancel, else a note says why it cannot. The row's state "
             "becomes 'removed'.",
             "openc2_commands", "openc2_remove_block", (),
             {"incident_id": "incident.id", "openc2_command_id": "row.command_id",
              "openc2_consumers": "row.consumer"},
             conditions=(("openc2_commands.command_id", "has_a_value", None),
                         ("openc2_commands.state", "not_equals", "removed"),
                         ("openc2_commands.state", "not_equals", "failed"),
                         ("openc2_commands.action", "not_equals", "cancel"),
                         ("openc2_commands.action", "not_equals", "delete"))),
)

# --------------------------------------------------------------------------- builders


class Ids:
    """Sequential integer ids; only need to be unique and stable."""

    def __init__(self, start: int) -> None:
        self._next = start

    def __call__(self) -> int:
        self._next += 1
        return self._next


def _values(owner: str, choices: tuple[str, ...], ids: Ids) -> list[dict[str, Any]]:
    return [{"default": False, "enabled": True, "hidden": False, "label": c, "properties": None,
             "uuid": uid(owner, "value", c), "value": ids()} for c in choices]


def _field(export_key: str, name: str, text: str, input_type: str, type_id: int, field_uuid: str,
           field_id: int, values: list[dict[str, Any]], tooltip: str = "", placeholder: str = "",
           required: bool = False, prefix: str | None = None) -> dict[str, Any]:
    f: dict[str, Any] = {
        "allow_default_value": False, "blank_option": input_type == "select", "calculated": False,
        "changeable": True, "chosen": False, "default_chosen_by_server": False, "deprecated": False,
        "export_key": export_key, "hide_notification": False, "id": field_id, "input_type": input_type,
        "internal": False, "is_tracked": False, "name": name, "operation_perms": {}, "operations": [],
        "placeholder": placeholder, "prefix": prefix, "read_only": False, "rich_text": False, "tags": [],
        "templates": [], "text": text, "tooltip": tooltip, "type_id": type_id, "uuid": field_uuid,
        "values": values,
    }
    if required:
        f["required"] = "always"
    return f


def function_fields(ids: Ids, value_ids: Ids) -> list[dict[str, Any]]:
    return [_field(f"__function/{i.name}", i.name, i.name, i.input_type, 11, uid("__function", i.name), ids(),
                   _values(f"__function/{i.name}", i.choices, value_ids), i.tooltip, i.placeholder, i.required)
            for i in INPUTS.values()]


def output_json(function: str) -> dict[str, Any]:
    """output_json_example / output_json_schema as the export holds them: JSON text, from payload_samples.

    51.x exports carry both on each function (see fn_elasticsearch's export in the format reference);
    the SOAR playbook editor offers the schema's properties when a script reads the result."""
    folder = PAYLOAD_SAMPLES / function
    out: dict[str, Any] = {"output_description": {"content": None, "format": "text"}}
    for key in ("output_json_example", "output_json_schema"):
        path = folder / f"{key}.json"
        if not path.exists():
            raise SystemExit(f"{path} is missing: run tools/make_payload_samples.py first")
        out[key] = json.dumps(json.loads(path.read_text(encoding="utf-8")))
    return out


def functions(ids: Ids) -> list[dict[str, Any]]:
    out = []
    for fn in FUNCTIONS:
        out.append({**output_json(fn.name),
            "created_date": EXPORT_DATE, "description": {"content": fn.description, "format": "text"},
            "destination_handle": DESTINATION, "display_name": fn.display_name, "export_key": fn.name,
            "id": ids(), "last_modified_by": {"display_name": "fn_openc2", "id": 1, "name": "fn_openc2",
                                              "type": "user"},
            "last_modified_time": EXPORT_DATE, "name": fn.name, "tags": [], "uuid": uid("function", fn.name),
            "version": 1,
            "view_items": [{"content": uid("__function", n), "element": "field_uuid", "field_type": "__function",
                            "show_if": None, "show_link_header": False, "step_label": None} for n in fn.inputs],
            "workflows": [],
        })
    return out


def message_destinations() -> list[dict[str, Any]]:
    return [{"api_keys": [], "destination_type": 0, "expect_ack": True, "export_key": DESTINATION,
             "name": DESTINATION, "programmatic_name": DESTINATION, "tags": [], "users": [],
             "uuid": uid("message_destination", DESTINATION)}]


def _type(type_name: str, display_name: str, parent: str, type_id: int, fields: dict[str, Any],
          type_uuid: str) -> dict[str, Any]:
    return {"actions": [], "display_name": display_name, "export_key": type_name, "fields": fields,
            "for_actions": False, "for_custom_fields": False, "for_notifications": False, "for_workflows": False,
            "id": None, "parent_types": [parent],
            "properties": {"can_create": False, "can_destroy": False, "for_who": []},
            "scripts": [], "tags": [], "type_id": type_id, "type_name": type_name, "uuid": type_uuid}


def tables(ids: Ids, value_ids: Ids) -> list[dict[str, Any]]:
    out = []
    for t in TABLES:
        cols = {}
        for order, c in enumerate(t.columns):
            key = f"{t.name}/{c.name}"
            col = _field(key, c.name, c.text, c.input_type, t.type_id, uid("column", key), ids(),
                         _values(key, c.choices, value_ids), c.tooltip)
            col.update({"blank_option": True, "chosen": True, "order": order, "short_text": "",
                        "width": c.width, "rich_text": c.input_type == "textarea"})
            cols[c.name] = col
        out.append(_type(t.name, t.display_name, "incident", 8, cols, uid("datatable", t.name)))
    return out


def handle_of(playbook_uuid: str) -> str:
    return "playbook_" + playbook_uuid.replace("-", "_")


def _pre_processing_script(pb: Playbook) -> str:
    lines = [f"inputs.{n} = getattr(playbook.inputs, {n!r}, None)" for n in pb.script_inputs]
    lines += [f"inputs.{n} = {v}" for n, v in pb.fixed.items()]
    text = "\n".join(lines) + ("\n" if lines else "")
    return text + pb.script_extra


def _function_body(pb: Playbook) -> str:
    inputs: dict[str, Any] = {}
    for name, expression in pb.expressions.items():
        inputs[uid("__function", name)] = {"expression_input": {"expression": expression},
                                           "input_type": "expression"}
    for name, label in pb.statics.items():
        inputs[uid("__function", name)] = {
            "input_type": "static",
            "static_input": {"multiselect_value": [], "select_value": uid(f"__function/{name}", "value", label)}}
    body = {"inputs": inputs, "pre_processing_script": _pre_processing_script(pb),
            "pre_processing_script_language": "python3", "result_name": f"{pb.name}_result"}
    return json.dumps(body, separators=(",", ":"))


CHECK_SCRIPT_NAME = "OpenC2: check the result"


def check_script_text(pb: Playbook) -> str:
    """The script after the function: a failed command fails the playbook run, with the reason.

    The function returns success False (not an exception) when a consumer refused or did not
    answer, so that scripts can read every answer; without this step the run would end green.
    ``helper.fail`` is how IBM's own playbook scripts stop a run with a message."""
    return (
        "# Read the OpenC2 function's result (see the function's output_json_schema).\n"
        "# success is False when the inputs were refused or any consumer failed; reason lists each failure.\n"
        f"results = playbook.functions.results.{pb.name}_result\n"
        "if not results.get(\"success\"):\n"
        "  helper.fail(u\"OpenC2 failed: {}\".format(results.get(\"reason\") or \"see the incident note\"))\n"
    )


def local_scripts(pb: Playbook, ids: Ids) -> list[dict[str, Any]]:
    return [{
        "actions": [], "created_date": EXPORT_DATE,
        "description": "Fails the playbook run when the OpenC2 function reports a failure",
        "enabled": False, "export_key": CHECK_SCRIPT_NAME, "id": ids(), "language": "python3",
        "last_modified_by": "fn_openc2", "last_modified_time": EXPORT_DATE, "name": CHECK_SCRIPT_NAME,
        "object_type": pb.object_type, "playbook_handle": pb.name,
        "programmatic_name": f"{pb.name}_openc2_check_the_result", "script_text": check_script_text(pb),
        "tags": [], "uuid": uid("local_script", pb.name, "check"),
    }]


def bpmn(pb: Playbook, handle: str) -> str:
    """startEvent -> serviceTask(function) -> scriptTask(check the result) -> endEvent, with diagram shapes."""
    fn = next(f for f in FUNCTIONS if f.name == pb.function)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:omgdc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:omgdi="http://www.omg.org/spec/DD/20100524/DI" '
        'xmlns:resilient="http://resilient.ibm.com/bpmn" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'targetNamespace="http://www.camunda.org/test">'
        f'<process id="{handle}" isExecutable="true" name="{handle}"><documentation/>'
        '<startEvent id="StartEvent_155asxm"><outgoing>Flow_1</outgoing></startEvent>'
        f'<serviceTask id="ServiceTask_1" name={quoteattr(fn.display_name)} resilient:type="function">'
        f'<extensionElements><resilient:function uuid="{uid("function", fn.name)}">'
        f'{escape(_function_body(pb))}</resilient:function></extensionElements>'
        '<incoming>Flow_1</incoming><outgoing>Flow_2</outgoing></serviceTask>'
        f'<scriptTask id="ScriptTask_2" name={quoteattr(CHECK_SCRIPT_NAME)}><extensionElements>'
        f'<resilient:script uuid="{uid("local_script", pb.name, "check")}"/></extensionElements>'
        '<incoming>Flow_2</incoming><outgoing>Flow_3</outgoing><script>script</script></scriptTask>'
        '<endEvent id="EndPoint_3" resilient:documentation="End point"><incoming>Flow_3</incoming></endEvent>'
        '<sequenceFlow id="Flow_1" sourceRef="StartEvent_155asxm" targetRef="ServiceTask_1"/>'
        '<sequenceFlow id="Flow_2" sourceRef="ServiceTask_1" targetRef="ScriptTask_2"/>'
        '<sequenceFlow id="Flow_3" sourceRef="ScriptTask_2" targetRef="EndPoint_3"/>'
        '</process>'
        f'<bpmndi:BPMNDiagram id="BPMNDiagram_1"><bpmndi:BPMNPlane bpmnElement="{handle}" id="BPMNPlane_1">'
        '<bpmndi:BPMNEdge bpmnElement="Flow_1" id="Flow_1_di">'
        '<omgdi:waypoint x="680" y="126"/><omgdi:waypoint x="680" y="198"/></bpmndi:BPMNEdge>'
        '<bpmndi:BPMNEdge bpmnElement="Flow_2" id="Flow_2_di">'
        '<omgdi:waypoint x="680" y="282"/><omgdi:waypoint x="680" y="364"/></bpmndi:BPMNEdge>'
        '<bpmndi:BPMNEdge bpmnElement="Flow_3" id="Flow_3_di">'
        '<omgdi:waypoint x="680" y="448"/><omgdi:waypoint x="680" y="530"/></bpmndi:BPMNEdge>'
        '<bpmndi:BPMNShape bpmnElement="StartEvent_155asxm" id="StartEvent_155asxm_di">'
        '<omgdc:Bounds height="52" width="199.65" x="580" y="74"/></bpmndi:BPMNShape>'
        '<bpmndi:BPMNShape bpmnElement="ServiceTask_1" id="ServiceTask_1_di">'
        '<omgdc:Bounds height="84" width="196" x="582" y="198"/></bpmndi:BPMNShape>'
        '<bpmndi:BPMNShape bpmnElement="ScriptTask_2" id="ScriptTask_2_di">'
        '<omgdc:Bounds height="84" width="196" x="582" y="364"/></bpmndi:BPMNShape>'
        '<bpmndi:BPMNShape bpmnElement="EndPoint_3" id="EndPoint_3_di">'
        '<omgdc:Bounds height="52" width="132.15" x="614" y="530"/></bpmndi:BPMNShape>'
        '</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></definitions>'
    )


def playbooks(ids: Ids, value_ids: Ids) -> list[dict[str, Any]]:
    out = []
    user = {"display_name": "fn_openc2", "id": 1, "name": "fn_openc2", "type": "user"}
    for n, pb in enumerate(PLAYBOOKS):
        pb_uuid = uid("playbook", pb.name)
        handle = handle_of(pb_uuid)
        form_type_id = 1026 + n
        fields = {
            f.name: _field(f"{handle}/{f.name}", f.name, f.text, f.input_type, form_type_id,
                           uid(handle, f.name), ids(), _values(f"{handle}/{f.name}", f.choices, value_ids),
                           f.tooltip, f.placeholder)
            for f in pb.form}
        out.append({
            "activation_type": "manual",
            "content": {"content_version": 1, "xml": bpmn(pb, handle)},
            "create_date": EXPORT_DATE, "creator_principal": user, "deployment_id": handle,
            "description": {"content": pb.description, "format": "text"},
            "display_name": pb.display_name, "export_key": pb.name, "field_type_handle": handle,
            "fields_type": _type(handle, pb.display_name, "__playbook", 28, fields, uid("playbook_type", pb.name)),
            "has_logical_errors": False, "id": ids(), "is_deleted": False, "is_locked": False,
            "last_modified_principal": user, "last_modified_time": EXPORT_DATE,
            "local_scripts": local_scripts(pb, ids),
            "manual_settings": {
                "activation_conditions": {
                    "conditions": [{"evaluation_id": None, "field_name": fld, "method": method, "type": None,
                                    "value": value} for fld, method, value in pb.conditions],
                    "logic_type": pb.logic_type},
                "view_items": [{"content": uid(handle, f.name), "element": "field_uuid", "field_type": handle,
                                "show_if": None, "show_link_header": False, "step_label": None}
                               for f in pb.form]},
            "name": pb.name, "object_type": pb.object_type, "status": "enabled",
            "tag": {"display_name": "Playbook_" + pb_uuid, "id": ids(), "name": handle, "type": "playbook",
                    "uuid": uid("playbook_tag", pb.name)},
            "tags": [], "type": "default", "uuid": pb_uuid, "version": 1,
        })
    return out


def build_export() -> dict[str, Any]:
    ids, value_ids = Ids(100), Ids(1000)
    fields = function_fields(ids, value_ids)
    fields.append({"export_key": "incident/internal_customizations_field", "id": 0, "input_type": "text",
                   "internal": True, "name": "internal_customizations_field", "read_only": True,
                   "text": "Customizations Field (internal)", "type_id": 0, "uuid": DEFAULT_INCIDENT_FIELD_UUID})
    export: dict[str, Any] = {
        "action_order": [], "actions": [], "apps": [], "automatic_tasks": [],
        "export_date": EXPORT_DATE, "export_format_version": 2, "export_type": None,
        "fields": fields, "functions": functions(ids), "geos": None, "groups": None, "id": 1,
        "inbound_destinations": [], "inbound_mailboxes": None, "incident_artifact_types": [],
        "incident_types": [{"create_date": EXPORT_DATE, "description": "Customization Packages (internal)",
                            "enabled": False, "export_key": "Customization Packages (internal)", "hidden": False,
                            "id": 0, "name": "Customization Packages (internal)", "parent_id": None,
                            "system": False, "update_date": EXPORT_DATE, "uuid": DEFAULT_INCIDENT_TYPE_UUID}],
        "layouts": [], "locale": None, "message_destinations": message_destinations(), "notifications": None,
        "overrides": None, "phases": [], "playbooks": playbooks(ids, value_ids), "regulators": None,
        "roles": [], "scripts": [],
        "server_version": {"build_number": 9339, "f": 0, "m": 0, "major": 0, "minor": 0, "r": 0, "v": 51,
                           "version": "51.0.0.0.9339"},
        "tags": [], "task_order": [], "timeframes": None, "types": tables(ids, value_ids), "workflows": [],
        "workspaces": [],
    }
    return export


def render() -> str:
    return json.dumps(build_export(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the export on disk is stale")
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run tools/make_export.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
