"""Builders and encoders: the producer side of the language layer, plus the
tolerant reader for commands written in the LS v1.0 style."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from .codec import loads
from .command import Command, Target
from .errors import Issue, OpenC2ValidationError
from .response import Response
from .validate import parse_command, parse_response


def to_dict(model: BaseModel) -> dict[str, Any]:
    """JSON-ready dict holding only what was set, so decode -> to_dict round-trips."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


#: Kinds whose validated models hold None exactly where a field is absent: optional
#: fields refuse JSON null and their extension members are objects (profile maps), so
#: "leave out None" (cheaper for pydantic-core) writes what "leave out unset" would.
#: Headers and Events may carry any additional member, null included: not here.
_NULL_FREE = (Command, Response)


def encode(model: BaseModel) -> bytes:
    """Compact UTF-8 JSON of :func:`to_dict` (serialized by pydantic-core)."""
    if type(model) in _NULL_FREE:
        return model.__pydantic_serializer__.to_json(model, by_alias=True, exclude_none=True)
    return model.__pydantic_serializer__.to_json(model, by_alias=True, exclude_unset=True)


def _plain(value: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    return to_dict(value) if isinstance(value, BaseModel) else dict(value)


def build_command(action: str, target: Mapping[str, Any] | Target, *, args: Mapping[str, Any] | None = None,
                  profile: str | None = None, command_id: str | None = None) -> Command:
    """A validated Command; raises OpenC2ValidationError naming each bad part."""
    doc: dict[str, Any] = {"action": action, "target": _plain(target)}
    if args is not None:
        doc["args"] = _plain(args)
    if profile is not None:
        doc["profile"] = profile
    if command_id is not None:
        doc["command_id"] = command_id
    return parse_command(doc)


def build_response(status: int, status_text: str | None = None,
                   results: Mapping[str, Any] | None = None) -> Response:
    """A validated Response."""
    doc: dict[str, Any] = {"status": status}
    if status_text is not None:
        doc["status_text"] = status_text
    if results is not None:
        doc["results"] = _plain(results)
    return parse_response(doc)


def query_features(*features: str) -> Command:
    """``query features [...]``; no features makes the heartbeat form (LS 3.4.1.5)."""
    return build_command("query", {"features": list(features)})


def read_command(doc: Mapping[str, Any] | bytes | str) -> tuple[Command, list[str]]:
    """Accept the LS v1.0 spellings still seen in the field, emit v2.0.

    - ``"actuator": {"slpf": {...}}`` becomes ``"profile": "slpf"`` (specifiers dropped, with a warning);
    - ``"profile": {"slpf": {}}`` becomes ``"profile": "slpf"``;
    - a target ``{"slpf:rule_number": 5}`` becomes ``{"slpf": {"rule_number": 5}}``.
    """
    data = loads(doc) if isinstance(doc, (bytes, bytearray, str)) else doc
    if not isinstance(data, Mapping):
        raise OpenC2ValidationError("command", [Issue("", "expected a JSON object for the command")])
    data = dict(data)
    warnings: list[str] = []
    actuator = data.get("actuator")
    if isinstance(actuator, dict) and len(actuator) == 1:
        nsid, spec = next(iter(actuator.items()))
        del data["actuator"]
        note = f'LS v1.0 "actuator" read as "profile": "{nsid}"'
        if isinstance(spec, dict) and spec:
            note += f" (actuator specifiers {', '.join(sorted(spec))} dropped: v2.0 has no place for them)"
        if "profile" in data and data["profile"] != nsid and data["profile"] != {nsid: {}}:
            data["actuator"] = actuator  # conflicting: leave it to fail validation
        else:
            data.setdefault("profile", nsid)
            warnings.append(note)
    profile = data.get("profile")
    if isinstance(profile, dict) and len(profile) == 1:
        nsid = next(iter(profile))
        data["profile"] = nsid
        warnings.append(f'"profile": {{"{nsid}": {{...}}}} read as the v2.0 form "profile": "{nsid}"')
    target = data.get("target")
    if isinstance(target, dict) and len(target) == 1:
        key, value = next(iter(target.items()))
        nsid, colon, name = key.partition(":")
        if colon and nsid and name:
            data["target"] = {nsid: {name: value}}
            warnings.append(f'target "{key}" read as the v2.0 form {{"{nsid}": {{"{name}": ...}}}}')
    return parse_command(data), warnings
