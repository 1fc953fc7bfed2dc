"""Function inputs -> the validated OpenC2 commands to send (nothing is sent here).

Every value is checked before the first command leaves: a playbook that
hands over five IP addresses of which one is malformed gets nothing sent and
one clear error, rather than four blocks and a puzzle. Errors carry a list
of issues (artifact value, JSON path) for the note.

The same rule holds with ``openc2_all_artifacts`` (every artifact of the
type in the incident): one stored artifact that cannot become a target
refuses the whole batch, and the issues name each bad artifact by its id, so
the analyst fixes or deletes it and runs again rather than guessing which of
fifty blocks went out. Targets are de-duplicated (same OpenC2 target, one
command); the skipped sources are kept in ``SendPlan.duplicates``.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Mapping, Sequence

from fn_openc2.lib.errors import Issue, OpenC2Error
from fn_openc2.lib.language import RESPONSE_TYPES, OpenC2ValidationError, build_command, read_command, to_dict
from fn_openc2.lib.soar import inputs as i
from fn_openc2.lib.soar.artifact_map import ArtifactError, artifact_to_target, attachment_target, split_values

#: The language's response types in the order the form offers them: complete (the default) first, none last.
RESPONSE_REQUESTED = ("complete", *(t for t in RESPONSE_TYPES if t not in ("complete", "none")), "none")


class PlanError(OpenC2Error, ValueError):
    """The inputs cannot become commands; ``lines`` says each problem for the note (``issues``: the same)."""

    def __init__(self, message: str, issues: list[str] | None = None) -> None:
        super().__init__(message if not issues else f"{message}: {'; '.join(issues)}")
        self.reason = message
        self.lines = issues or []
        self.issues = [Issue("", line) for line in self.lines] or [Issue("", message)]


@dataclass
class Planned:
    """One command to send and what the incident record needs to know about it."""

    command: dict[str, Any]
    source: str                     # "IP Address 203.0.113.7", "target JSON", "attachment 21", "command JSON"
    expires_ms: int | None


@dataclass
class SendPlan:
    commands: list[Planned] = field(default_factory=list)
    comment: str = ""
    duplicates: list[str] = field(default_factory=list)   # "IP Address 203.0.113.7 (artifact 14)"


def new_command_id(incident_id: int | None) -> str:
    """A command_id the consumer records and a later cancel can name."""
    return f"soar-{incident_id if incident_id is not None else 'x'}-{uuid.uuid4().hex[:12]}"


def expires_of(args: Mapping[str, Any] | None, now_ms: int) -> int | None:
    """When the action stops being in effect (LS 3.3.1.4: any two of start, stop, duration)."""
    args = args or {}
    stop, start, duration = args.get("stop_time"), args.get("start_time"), args.get("duration")
    if isinstance(stop, int):
        return stop
    if isinstance(duration, int):
        return (start if isinstance(start, int) else now_ms) + duration
    return None


def issue_lines(err: OpenC2ValidationError) -> list[str]:
    """Each validation issue as one line for a note ("path: message")."""
    return [f"{issue.path or '(command)'}: {issue.message}" for issue in err.issues] or [str(err)]


def _args(raw: Mapping[str, Any], profile: str | None) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for key, field_name, parse in (("duration", "openc2_duration", i.duration_ms),
                                   ("start_time", "openc2_start_time", i.epoch_ms),
                                   ("stop_time", "openc2_stop_time", i.epoch_ms)):
        value = parse(field_name, raw.get(field_name))
        if value is not None:
            args[key] = value
    wanted = i.text(raw.get("openc2_response_requested")).lower()
    if wanted:
        if wanted not in RESPONSE_REQUESTED:
            raise i.InputError("openc2_response_requested",
                               f"{wanted!r} is not one of {', '.join(RESPONSE_REQUESTED)}")
        args["response_requested"] = wanted
    extra = i.json_object("openc2_profile_args", raw.get("openc2_profile_args"))
    if extra:
        if profile and profile not in extra:
            extra = {profile: extra}        # bare {"drop_process": ...} means args.<profile>
        for key, value in extra.items():
            if key in args:
                raise i.InputError("openc2_profile_args", f"{key!r} is also set by its own input")
            args[key] = value
    return args


ALL_ARTIFACTS = "openc2_all_artifacts"
_EXCLUSIVE_WITH_ALL = ("openc2_artifact_value", "openc2_target_json", "openc2_attachment_id", "openc2_command_json")


def artifact_type_name(artifact: Mapping[str, Any]) -> str:
    """The artifact's type as a name (REST with handle_format=names gives text; be lenient with objects)."""
    kind = artifact.get("type")
    if isinstance(kind, Mapping):
        kind = kind.get("name") or kind.get("display_name")
    return "" if kind is None else str(kind)


def all_artifacts_wanted(raw: Mapping[str, Any]) -> bool:
    """True when the batch comes from the incident's artifacts; conflicting inputs are an InputError."""
    if not i.flag(ALL_ARTIFACTS, raw.get(ALL_ARTIFACTS), False):
        return False
    given = [name for name in _EXCLUSIVE_WITH_ALL if i.text(raw.get(name))]
    if given:
        raise i.InputError(ALL_ARTIFACTS, f"takes every artifact of openc2_artifact_type; leave "
                                          f"{', '.join(given)} empty (or set {ALL_ARTIFACTS} to false)")
    if not i.text(raw.get("openc2_artifact_type")):
        raise i.InputError("openc2_artifact_type", f"required with {ALL_ARTIFACTS}: which artifact type to take")
    return True


def _artifact_targets(kind: str, artifacts: Sequence[Mapping[str, Any]],
                      incident_id: int | None) -> list[tuple[dict[str, Any], str]]:
    """Every artifact of ``kind`` (case-insensitive) in the incident, or PlanError naming each bad one."""
    wanted = kind.casefold()
    chosen = [a for a in artifacts if artifact_type_name(a).strip().casefold() == wanted]
    if not chosen:
        where = f"incident {incident_id}" if incident_id is not None else "the incident"
        raise i.InputError("openc2_artifact_type", f"{where} has no artifact of type {kind!r}")
    targets, issues = [], []
    for artifact in sorted(chosen, key=lambda a: (int(a.get("id") or 0))):
        value = artifact.get("value")
        label = f"artifact {artifact.get('id')} ({value})"
        try:
            targets.append((artifact_to_target(kind, value if isinstance(value, str) else str(value or "")),
                            f"{kind} {value} (artifact {artifact.get('id')})"))
        except ArtifactError as err:
            issues.append(f"{label}: {err}")
    if issues:
        raise PlanError(f"{len(issues)} of {len(chosen)} artifacts of type {kind!r} cannot become an OpenC2 "
                        "target; fix or delete them and run again", issues)
    return targets


def _targets(raw: Mapping[str, Any], attachment: tuple[str | None, bytes] | None,
             artifacts: Sequence[Mapping[str, Any]] | None = None,
             incident_id: int | None = None) -> list[tuple[dict[str, Any], str]]:
    """(target, source) pairs, from the first of: incident artifacts, target JSON, attachment, artifact values."""
    if artifacts is not None:
        return _artifact_targets(i.text(raw.get("openc2_artifact_type")), artifacts, incident_id)
    explicit = i.json_object("openc2_target_json", raw.get("openc2_target_json"))
    if explicit is not None:
        return [(explicit, "target JSON")]
    if attachment is not None:
        name, content = attachment
        return [(attachment_target(content, name), f"attachment {name or ''}".strip())]
    kind = i.text(raw.get("openc2_artifact_type"))
    values = split_values(i.text(raw.get("openc2_artifact_value")))
    if not kind and not values:
        raise i.InputError("openc2_artifact_value", "no target given: set an artifact type and value, "
                                                    "openc2_target_json, openc2_attachment_id or openc2_command_json")
    if not values:
        raise i.InputError("openc2_artifact_value", f"artifact type {kind!r} given without a value")
    if not kind:
        raise i.InputError("openc2_artifact_type", "artifact value given without its type")
    targets, issues = [], []
    for n, value in enumerate(values, start=1):
        try:
            targets.append((artifact_to_target(kind, value), f"{kind} {value}"))
        except ArtifactError as err:
            issues.append(f"value {n} ({value}): {err}" if len(values) > 1 else str(err))
    if issues:
        raise PlanError("The artifact cannot become an OpenC2 target", issues)
    return targets


def _unique(targets: list[tuple[dict[str, Any], str]], duplicates: list[str]) -> list[tuple[dict[str, Any], str]]:
    """One command per distinct target: a second deny of the same address would only add a second rule."""
    seen: dict[str, str] = {}
    out = []
    for target, source in targets:
        key = json.dumps(target, sort_keys=True)
        if key in seen:
            duplicates.append(f"{source} (same target as {seen[key]})")
            continue
        seen[key] = source
        out.append((target, source))
    return out


def plan_send(raw: Mapping[str, Any], incident_id: int | None,
              attachment: tuple[str | None, bytes] | None = None,
              artifacts: Sequence[Mapping[str, Any]] | None = None) -> SendPlan:
    """The commands for openc2_send_command; raises InputError or PlanError.

    ``artifacts`` (the incident's artifacts, as REST lists them) is given
    when ``openc2_all_artifacts`` is set; see ``all_artifacts_wanted``.
    """
    now = int(time.time() * 1000)
    plan = SendPlan(comment=i.text(raw.get("openc2_comment")))
    expert = i.json_object("openc2_command_json", raw.get("openc2_command_json"))
    if expert is not None:
        expert.setdefault("command_id", new_command_id(incident_id))
        try:
            model, _warnings = read_command(expert)
        except OpenC2ValidationError as err:
            raise PlanError("openc2_command_json is not a valid OpenC2 command", issue_lines(err)) from None
        doc = to_dict(model)
        plan.commands.append(Planned(doc, "command JSON", expires_of(doc.get("args"), now)))
        return plan
    action = i.text(raw.get("openc2_action")).lower()
    if not action:
        raise i.InputError("openc2_action", "required unless openc2_command_json gives the whole command")
    profile = i.text(raw.get("openc2_profile")) or None
    args = _args(raw, profile)
    issues: list[str] = []
    for target, source in _unique(_targets(raw, attachment, artifacts, incident_id), plan.duplicates):
        try:
            model = build_command(action, target, args=args or None, profile=profile,
                                  command_id=new_command_id(incident_id))
        except OpenC2ValidationError as err:
            issues.extend(f"{source}: {issue}" for issue in issue_lines(err))
            continue
        doc = to_dict(model)
        plan.commands.append(Planned(doc, source, expires_of(doc.get("args"), now)))
    if issues:
        raise PlanError("The command is not valid OpenC2", issues)
    return plan
