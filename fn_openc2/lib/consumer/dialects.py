"""The HTTPS wire dialects the reference consumer can speak.

The HTTPS transfer spec changed between v1.0 and v1.1 and deployed consumers
mix the two, so the consumer must be able to play any of them for a producer
to rehearse against. Every knob has the name of the producer's app.config key
that copes with it (``path``, ``content_type``, ``accept``, ``envelope``,
``status_in``, ``profile_encoding``), plus the consumer-side habits real
consumers show (a required profile, error answers without request_id).
``KNOBS`` lists them once, for the command line and for tools that drive it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fn_openc2.lib.transfer.dialects import ENVELOPES, PROFILE_ENCODINGS, STATUS_PLACES, resolve_dialect


@dataclass(frozen=True)
class Dialect:
    """The server's view of one wire form.

    request_type: media type (without parameters) a command must carry, unless
    exact_type is set: then the Content-Type must be exactly that string (a
    real consumer rejects even a space before ``version``)."""

    name: str
    path: str                    # the one path commands are POSTed to
    request_type: str            # media type (without parameters) of a command
    response_type: str           # full Content-Type of an answer
    envelope: str                # "full" (LS 3.2 Message), "bare" (v1.0) or "openc2-only"
    status_in_line: bool         # OpenC2 status carried as the HTTP status
    exact_type: str | None = None

    @property
    def expected_type(self) -> str:
        return self.exact_type or f"{self.request_type};version=1.0"


@dataclass(frozen=True)
class Knob:
    """One rehearsal setting: its name (an app.config key where the producer has one), flag and meaning."""

    name: str
    help: str
    choices: tuple[str, ...] | None = None
    flag_only: bool = False      # a switch without a value
    wire: bool = True            # True: the HTTPS dialect; False: the actuator's habit (any transport)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


KNOBS: tuple[Knob, ...] = (
    Knob("path", "the one path commands are POSTed to (producer key: path)"),
    Knob("content_type", "accept only this exact Content-Type string (producer key: content_type)"),
    Knob("accept", "Content-Type of the answers (producer key: accept)"),
    Knob("envelope", "body form: full LS Message, bare command/response, or {\"openc2\": ...} with the headers "
                     "as HTTP headers (producer key: envelope)", ENVELOPES),
    Knob("status_in", "where the OpenC2 status goes: the body (HTTP 200) or the HTTP status line "
                      "(producer key: status_in)", STATUS_PLACES),
    Knob("profile_encoding", "accept the profile only in this form: string, object ({\"slpf\": {}}) or actuator "
                             "(LS v1.0); others get 400 (producer key: profile_encoding)", PROFILE_ENCODINGS,
         wire=False),
    Knob("require_profile", "refuse commands without a profile, query features included, with 400 Missing "
                            "profile (producer key: query_profile)", flag_only=True, wire=False),
    Knob("omit_error_request_id", "leave request_id out of error answers, as one real consumer does (the "
                                  "producer matches them by the exchange, or by sender over MQTT)",
         flag_only=True, wire=False),
)

_PRESETS = {
    "https-v1.1": ("https-v1.1", {}),
    # a v1.1 consumer that puts the OpenC2 status in the HTTP status line (seen in the wild)
    "https-v1.1-status": ("https-v1.1", {"status_in": "http"}),
    # v1.0 names no path; its examples use /openc2
    "https-v1.0": ("https-v1.0", {"path": "/openc2"}),
}


def build_dialect(name: str = "https-v1.1", **knobs: Any) -> Dialect:
    """A preset with rehearsal knobs applied (None / False keep the preset's value)."""
    try:
        preset, base = _PRESETS[name]
    except KeyError:
        raise ValueError(f"dialect: {name!r} is not known (known: {', '.join(_PRESETS)})") from None
    unknown = sorted(set(knobs) - {k.name for k in KNOBS if k.wire})
    if unknown:
        raise ValueError(f"unknown consumer knob {unknown[0]!r}")
    for knob in KNOBS:
        value = knobs.get(knob.name)
        if value is not None and knob.choices and value not in knob.choices:
            raise ValueError(f"{knob.flag}: {value!r} is not one of {', '.join(knob.choices)}")
    path = knobs.get("path") or base.get("path")
    if path is not None and not str(path).startswith("/"):
        raise ValueError(f"--path: {path!r} must start with '/'")
    wire = resolve_dialect(preset, path=path, accept=knobs.get("accept"),
                           envelope=knobs.get("envelope"), status_in=knobs.get("status_in") or base.get("status_in"))
    exact = knobs.get("content_type")
    request_type = (exact or wire.content_type).split(";", 1)[0].strip().lower()
    return Dialect(name, wire.path, request_type, wire.accept, wire.envelope, wire.status_in == "http", exact)


DIALECTS: dict[str, Dialect] = {name: build_dialect(name) for name in _PRESETS}


def get_dialect(name: str) -> Dialect:
    return build_dialect(name)


def content_type_ok(header: str | None, dialect: Dialect) -> bool:
    """Exact string when the dialect names one; else the media type must match and a
    version parameter, when present, must be 1.0."""
    if not header:
        return False
    if dialect.exact_type is not None:
        return header == dialect.exact_type
    parts = [p.strip().lower() for p in header.split(";")]
    if parts[0] != dialect.request_type:
        return False
    for param in parts[1:]:
        name, _, value = param.partition("=")
        if name.strip() == "version" and value.strip().strip('"') != "1.0":
            return False
    return True


def profile_refusal(command: Any, wanted: str | None, required: bool) -> str | None:
    """Why a consumer with these habits refuses the command's profile form (None: accepted)."""
    if not isinstance(command, dict):
        return None
    profile, actuator = command.get("profile"), command.get("actuator")
    if profile is None and actuator is None:
        return "Missing profile" if required else None
    if wanted is None:
        return None
    if wanted == "string" and not isinstance(profile, str):
        return "profile: expected the LS v2.0 string form, e.g. \"profile\": \"slpf\""
    if wanted == "object" and not isinstance(profile, dict):
        return "profile: expected an object, e.g. \"profile\": {\"slpf\": {}}"
    if wanted == "actuator" and not isinstance(actuator, dict):
        return "actuator: expected the LS v1.0 form, e.g. \"actuator\": {\"slpf\": {}}"
    return None
