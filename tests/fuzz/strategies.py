"""Hypothesis strategies for the fuzz tests: arbitrary JSON-ish values, documents
shaped enough like OpenC2 to reach deep validators, and strictly valid commands."""
from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import strategies as st

from fn_openc2.lib.language import ACTIONS, TARGETS

_MAX_INT = 2 ** 53 - 1

scalars = (st.none() | st.booleans()
           | st.integers(min_value=-(2 ** 64), max_value=2 ** 64)
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=20))

keys = st.text(max_size=12) | st.sampled_from(
    ["action", "target", "args", "profile", "command_id", "status", "status_text", "results",
     "headers", "body", "openc2", "request", "response", "signature", "slpf", "er", "pf",
     "request_id", "from", "to", "created", "response_requested", "duration", "features"])

json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)


def _one(key_strategy: st.SearchStrategy[str]) -> st.SearchStrategy[dict]:
    return st.dictionaries(key_strategy, json_values, min_size=1, max_size=1)


# Documents with the right top-level keys but random content, so validation gets past the root.
command_like = st.fixed_dictionaries(
    {"action": st.sampled_from(ACTIONS) | json_values,
     "target": _one(st.sampled_from(TARGETS) | st.text(max_size=10)) | json_values},
    optional={"args": st.dictionaries(keys, json_values, max_size=4) | json_values,
              "profile": st.sampled_from(["slpf", "er", "pf", "x-unknown"]) | json_values,
              "command_id": st.text(max_size=10) | json_values})

response_like = st.fixed_dictionaries(
    {"status": st.sampled_from([102, 200, 400, 404, 500, 501, 503]) | json_values},
    optional={"status_text": st.text(max_size=20) | json_values,
              "results": st.dictionaries(keys, json_values, max_size=4) | json_values})

message_like = st.fixed_dictionaries(
    {"headers": st.dictionaries(keys, json_values, max_size=4) | json_values,
     "body": st.fixed_dictionaries({"openc2": st.one_of(
         st.fixed_dictionaries({"request": command_like}),
         st.fixed_dictionaries({"response": response_like}),
         json_values)}) | json_values},
    optional={"signature": st.text(max_size=30) | json_values})

# --- valid commands --------------------------------------------------------------

ipv4 = st.builds(lambda n: str(ipaddress.IPv4Address(n)), st.integers(0, 2 ** 32 - 1))
ipv6 = st.builds(lambda n: ipaddress.IPv6Address(n).compressed, st.integers(0, 2 ** 128 - 1))
ipv4_net = st.one_of(ipv4, st.builds(lambda a, p: str(ipaddress.IPv4Network(f"{a}/{p}", strict=False)),
                                     ipv4, st.integers(0, 32)))
ipv6_net = st.one_of(ipv6, st.builds(lambda a, p: ipaddress.IPv6Network(f"{a}/{p}", strict=False).compressed,
                                     ipv6, st.integers(0, 128)))
ports = st.integers(0, 65535)
protocols = st.sampled_from(["tcp", "udp", "icmp", "sctp"])
labels = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True)
domains = st.builds(lambda parts: ".".join(parts), st.lists(labels, min_size=2, max_size=4))


def _connection(addr: st.SearchStrategy[str]) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({}, optional={"src_addr": addr, "src_port": ports, "dst_addr": addr,
                                               "dst_port": ports, "protocol": protocols}).filter(bool)


network_targets = st.one_of(
    st.builds(lambda v: {"ipv4_net": v}, ipv4_net),
    st.builds(lambda v: {"ipv6_net": v}, ipv6_net),
    st.builds(lambda v: {"ipv4_connection": v}, _connection(ipv4_net)),
    st.builds(lambda v: {"ipv6_connection": v}, _connection(ipv6_net)),
)

_common_args = st.fixed_dictionaries({}, optional={
    "duration": st.integers(1, _MAX_INT),
    "response_requested": st.sampled_from(["none", "ack", "status", "complete"]),
})


@st.composite
def filter_commands(draw: st.DrawFn) -> dict[str, Any]:
    """SLPF allow/deny of a network target, with common and slpf args that fit together."""
    action = draw(st.sampled_from(["deny", "allow"]))
    doc: dict[str, Any] = {"action": action, "target": draw(network_targets)}
    args = draw(_common_args)
    slpf: dict[str, Any] = draw(st.fixed_dictionaries({}, optional={
        "direction": st.sampled_from(["both", "ingress", "egress"]), "persistent": st.booleans()}))
    if action == "deny" and draw(st.booleans()):
        slpf["drop_process"] = draw(st.sampled_from(["none", "reject", "false_ack"]))
    if draw(st.booleans()):
        slpf["insert_rule"] = draw(st.integers(1, 65535))
        args["response_requested"] = "complete"
    if slpf:
        args["slpf"] = slpf
    if args:
        doc["args"] = args
    if slpf or draw(st.booleans()):
        doc["profile"] = "slpf"
    return doc


query_commands = st.builds(
    lambda features: {"action": "query", "target": {"features": features}},
    st.lists(st.sampled_from(["versions", "profiles", "pairs", "rate_limit"]), unique=True))

domain_commands = st.builds(lambda d, a: {"action": a, "target": {"domain_name": d}},
                            domains, st.sampled_from(["deny", "allow"]))

valid_commands = st.one_of(filter_commands(), query_commands, domain_commands)
