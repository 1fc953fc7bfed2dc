"""The demo's story as data: one phishing incident, its artifacts, what the
analyst asks the app to do with each, and what must come out of it.

Kept free of code so the story can be read (and changed) in one place; the
orchestration in ``run.py`` and the checks in ``checks.py`` only interpret it.
"""
from __future__ import annotations

from typing import Any

from dataclasses import dataclass, field

INCIDENT_ID = 2301
INCIDENT = {
    "id": INCIDENT_ID,
    "name": "Phishing wave: dropper calling home to 203.0.113.77",
    "description": "Sample incident seeded by `fn-openc2 demo`.",
}

PROTECTED_NETWORKS = ("10.0.0.0/8", "198.51.100.0/24")
"""198.51.100.0/24 is a documentation range (RFC 5737) playing 'our own DMZ'."""

DURATION = "1h"
FW = "fw1"
EDGE = "edge"
EDGE_AGENTS = ("edr-ws-01@example.com", "edr-ws-02@example.com", "edr-ws-03@example.com")


@dataclass(frozen=True)
class Artifact:
    """One seeded artifact."""

    id: int
    type: str
    value: str


ARTIFACTS: tuple[Artifact, ...] = (
    Artifact(11, "IP Address", "203.0.113.77"),
    Artifact(12, "IP Address", "2001:db8::bad:1"),
    Artifact(13, "DNS Name", "updates.evil-cdn.example"),
    Artifact(14, "URL", "https://updates.evil-cdn.example/stage2.bin"),
    Artifact(15, "Malware SHA-256 Hash",
             "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
    Artifact(16, "System Name", "ws-0042.corp.example"),
    Artifact(17, "IP Address", "198.51.100.20"),
    Artifact(18, "IP Address", "300.1.2.3"),
)


@dataclass(frozen=True)
class Expect:
    """What one step must produce.

    kind: "answered"  every consumer row has one of ``statuses`` (and, for the
                      fleet, one row from each agent);
          "refused"   the app refused before sending: a note names the value and
                      contains one of ``reason_words``, and no row says it was sent.
    """

    kind: str
    statuses: tuple[int, ...] = (200,)
    reason_words: tuple[str, ...] = ()
    why: str = ""


@dataclass(frozen=True)
class Step:
    """One function call the demo makes, as an analyst's rule would."""

    title: str
    function: str
    inputs: dict[str, Any]
    expect: Expect
    artifact: Artifact | None = None
    consumer: str | None = None
    needs_mqtt: bool = False
    cancels: int | None = None            # artifact id whose earlier deny this step cancels
    extra: dict[str, Any] = field(default_factory=dict)


def _by_id(art_id: int) -> Artifact:
    return next(a for a in ARTIFACTS if a.id == art_id)


def _act(action: str, art_id: int, consumer: str, profile: str | None, expect: Expect,
         profile_args: str | None = None) -> Step:
    art = _by_id(art_id)
    inputs = {"incident_id": INCIDENT_ID, "openc2_action": action, "openc2_artifact_type": art.type,
              "openc2_artifact_value": art.value, "openc2_consumers": consumer,
              "openc2_duration": DURATION, "openc2_comment": "fn-openc2 demo"}
    if profile:
        inputs["openc2_profile"] = profile
    if profile_args:
        inputs["openc2_profile_args"] = profile_args
    return Step(f"{action} {art.type} {art.value} -> {consumer}", "openc2_send_command", inputs, expect,
                artifact=art, consumer=consumer, needs_mqtt=consumer == EDGE)


OK = Expect("answered", (200,), why="the consumer applied it")
NOT_IMPLEMENTED = Expect("answered", (501,),
                         why="a packet filter (SLPF) blocks addresses, not names: it honestly answers 501")
PROTECTED = Expect("refused", reason_words=("protected",),
                   why="198.51.100.0/24 is in protected_networks: never denied")
MALFORMED = Expect("refused", reason_words=("not valid", "not an ipv4", "invalid", "malformed"),
                   why="300.1.2.3 is no IPv4 address: refused before anything is sent")

QUERY = Step("query features -> fw1, edge", "openc2_query_features",
             {"incident_id": INCIDENT_ID, "openc2_consumers": f"{FW}, {EDGE}"}, OK)
QUERY_FW_ONLY = Step("query features -> fw1", "openc2_query_features",
                     {"incident_id": INCIDENT_ID, "openc2_consumers": FW}, OK)

ACTIONS: tuple[Step, ...] = (
    _act("deny", 11, FW, "slpf", OK),
    _act("deny", 12, FW, "slpf", OK),
    _act("deny", 13, FW, None, NOT_IMPLEMENTED),
    _act("deny", 14, FW, None, NOT_IMPLEMENTED),
    _act("deny", 15, EDGE, "er", OK),
    _act("contain", 16, EDGE, "er", OK, '{"er": {"device_containment": "network_isolation"}}'),
    _act("deny", 17, FW, "slpf", PROTECTED),
    _act("deny", 18, FW, "slpf", MALFORMED),
)

CANCEL_OF = 11
"""The deny of this artifact is cancelled at the end; its rule must be gone."""
KEPT_ON_FW = 12
"""...while the deny of this one must still be in the firewall's rule table."""


def cancel_step(command_id: str) -> Step:
    """The cancel step, once the command_id of the earlier deny is known."""
    return Step(f"cancel {command_id} (deny {_by_id(CANCEL_OF).value}) -> {FW}", "openc2_cancel_command",
                {"incident_id": INCIDENT_ID, "openc2_command_id": command_id, "openc2_consumers": FW}, OK,
                artifact=_by_id(CANCEL_OF), consumer=FW, cancels=CANCEL_OF)
