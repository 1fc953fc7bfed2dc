"""The reference actuator over its Python API: rule table semantics, expiry,
insert_rule, delete, cancel, containment, errors with paths, truthful features."""
from __future__ import annotations

import pytest

from fn_openc2.lib.consumer import Actuator

T0 = 1_700_000_000.0   # seconds, the injected clock's start


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def msg(command: dict, request_id: str = "req-1", sender: str = "soar@example.com") -> dict:
    return {"headers": {"request_id": request_id, "created": int(T0 * 1000), "from": sender},
            "body": {"openc2": {"request": command}}}


def response(envelope: dict | None) -> dict:
    assert envelope is not None
    return envelope["body"]["openc2"]["response"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def actuator(clock: Clock) -> Actuator:
    return Actuator("fw1@example.com", clock=clock)


DENY_CONN = {"action": "deny", "target": {"ipv4_connection": {"src_addr": "198.51.100.7", "dst_port": 443,
                                                              "protocol": "tcp"}}}


def test_deny_answers_rule_number_and_envelope_headers(actuator: Actuator) -> None:
    out = actuator.handle(msg(DENY_CONN, "abc"))
    assert out is not None
    assert out["headers"]["request_id"] == "abc"
    assert out["headers"]["from"] == "fw1@example.com"
    assert out["headers"]["to"] == ["soar@example.com"]
    assert out["headers"]["created"] == int(T0 * 1000)
    assert response(out) == {"status": 200, "results": {"slpf": {"rule_number": 1}}}
    rule, = actuator.snapshot()["rules"]
    assert rule["rule_number"] == 1 and rule["action"] == "deny" and rule["state"] == "active"
    assert rule["target"] == {"ipv4_connection": {"src_addr": "198.51.100.7/32", "dst_port": 443,
                                                  "protocol": "tcp"}}
    assert rule["direction"] == "both" and rule["persistent"] is True and rule["drop_process"] == "none"


def test_rule_numbers_are_distinct(actuator: Actuator) -> None:
    numbers = [response(actuator.handle(msg({"action": "allow", "target": {"ipv4_net": f"10.0.{i}.0/24"}},
                                            f"r{i}")))["results"]["slpf"]["rule_number"] for i in range(5)]
    assert len(set(numbers)) == 5


def test_duration_expires_rule_from_table(actuator: Actuator, clock: Clock) -> None:
    actuator.handle(msg({**DENY_CONN, "args": {"duration": 60_000}}))
    rule, = actuator.snapshot()["rules"]
    assert rule["stop_time"] == int(T0 * 1000) + 60_000
    clock.now += 59.999
    assert len(actuator.snapshot()["rules"]) == 1
    clock.now += 0.001
    assert actuator.snapshot()["rules"] == []


def test_start_time_in_future_is_pending_until_then(actuator: Actuator, clock: Clock) -> None:
    start = int(T0 * 1000) + 10_000
    actuator.handle(msg({**DENY_CONN, "args": {"start_time": start, "duration": 5_000}}))
    rule, = actuator.snapshot()["rules"]
    assert rule["state"] == "pending" and rule["stop_time"] == start + 5_000
    clock.now += 10
    assert actuator.snapshot()["rules"][0]["state"] == "active"
    clock.now += 5
    assert actuator.snapshot()["rules"] == []


def test_all_three_time_args_rejected(actuator: Actuator) -> None:
    now = int(T0 * 1000)
    out = response(actuator.handle(msg({**DENY_CONN, "args": {"start_time": now, "stop_time": now + 5,
                                                               "duration": 5}})))
    assert out["status"] == 400 and "args" in out["status_text"]
    assert actuator.snapshot()["rules"] == []


def test_stop_time_in_past_rejected(actuator: Actuator) -> None:
    out = response(actuator.handle(msg({**DENY_CONN, "args": {"stop_time": int(T0 * 1000) - 1}})))
    assert out["status"] == 400 and "args.stop_time" in out["status_text"]


def test_insert_rule_uses_number_and_refuses_when_in_use(actuator: Actuator) -> None:
    cmd = {**DENY_CONN, "args": {"slpf": {"insert_rule": 42}}}
    assert response(actuator.handle(msg(cmd, "a")))["results"] == {"slpf": {"rule_number": 42}}
    out = response(actuator.handle(msg(cmd, "b")))
    assert out == {"status": 400, "status_text": "rule number 42 in use"}
    assert [r["rule_number"] for r in actuator.snapshot()["rules"]] == [42]


def test_slpf_args_recorded(actuator: Actuator) -> None:
    cmd = {**DENY_CONN, "args": {"slpf": {"direction": "ingress", "persistent": False, "drop_process": "reject"}}}
    assert response(actuator.handle(msg(cmd)))["status"] == 200
    rule, = actuator.snapshot()["rules"]
    assert (rule["direction"], rule["persistent"], rule["drop_process"]) == ("ingress", False, "reject")


def test_drop_process_only_with_deny(actuator: Actuator) -> None:
    cmd = {"action": "allow", "target": {"ipv4_net": "10.1.0.0/16"}, "args": {"slpf": {"drop_process": "reject"}}}
    out = response(actuator.handle(msg(cmd)))
    assert out["status"] == 400 and "drop_process" in out["status_text"]


def test_delete_rule_number(actuator: Actuator) -> None:
    actuator.handle(msg(DENY_CONN, "a"))
    delete = {"action": "delete", "target": {"slpf": {"rule_number": 1}}}
    assert response(actuator.handle(msg(delete, "d1")))["status"] == 200
    assert actuator.snapshot()["rules"] == []
    out = response(actuator.handle(msg(delete, "d2")))
    assert out["status"] == 404 and "1" in out["status_text"]


def test_cancel_removes_what_the_command_created(actuator: Actuator) -> None:
    actuator.handle(msg({**DENY_CONN, "command_id": "cmd-7"}, "req-a"))
    actuator.handle(msg({"action": "allow", "target": {"ipv6_net": "2001:db8::/32"}}, "req-b"))
    cancel = {"action": "cancel", "target": {"command": "cmd-7"}}
    assert response(actuator.handle(msg(cancel, "c1")))["status"] == 200
    assert [r["command_id"] for r in actuator.snapshot()["rules"]] == ["req-b"]
    # the request_id stands in for a missing command_id (LS 3.3.1)
    assert response(actuator.handle(msg({"action": "cancel", "target": {"command": "req-b"}}, "c2")))["status"] == 200
    assert actuator.snapshot()["rules"] == []
    assert response(actuator.handle(msg({"action": "cancel", "target": {"command": "nope"}}, "c3")))["status"] == 404


def test_contain_and_allow_device(actuator: Actuator) -> None:
    contain = {"action": "contain", "target": {"device": {"hostname": "ws-17", "device_id": "D17"}},
               "args": {"er": {"device_containment": "network_isolation"}}}
    assert response(actuator.handle(msg(contain, "c")))["status"] == 200
    dev, = actuator.snapshot()["contained_devices"]
    assert dev["device"]["hostname"] == "ws-17" and dev["device_containment"] == "network_isolation"
    allow = {"action": "allow", "target": {"device": {"hostname": "ws-17", "device_id": "D17"}}}
    assert response(actuator.handle(msg(allow, "a")))["status"] == 200
    assert actuator.snapshot()["contained_devices"] == []


def test_deny_file_by_hash_and_file_without_hash_is_501(actuator: Actuator) -> None:
    sha = "a" * 64
    ok = {"action": "deny", "target": {"file": {"hashes": {"sha256": sha}}}}
    assert response(actuator.handle(msg(ok, "f1")))["status"] == 200
    assert actuator.snapshot()["blocked_files"][0]["file"] == {"hashes": {"sha256": sha}}
    by_name = {"action": "deny", "target": {"file": {"name": "evil.exe"}}}
    assert response(actuator.handle(msg(by_name, "f2")))["status"] == 501


def test_invalid_command_gets_400_naming_paths(actuator: Actuator) -> None:
    bad = {"action": "deny", "target": {"ipv4_connection": {"src_port": "80"}}, "args": {"duration": "5"}}
    out = response(actuator.handle(msg(bad)))
    assert out["status"] == 400
    assert "args.duration" in out["status_text"]


def test_message_without_request_gets_400_with_path(actuator: Actuator) -> None:
    out = actuator.handle({"headers": {"request_id": "x", "from": "p"}, "body": {"openc2": {"response": {"status": 200}}}})
    assert response(out)["status"] == 400
    assert "body.openc2.request" in response(out)["status_text"]
    assert out["headers"]["request_id"] == "x"


def test_unsupported_pair_and_profile_get_501(actuator: Actuator) -> None:
    assert response(actuator.handle(msg({"action": "scan", "target": {"ipv4_net": "10.0.0.0/8"}})))["status"] == 501
    out = response(actuator.handle(msg({"action": "deny", "target": {"ipv4_net": "10.0.0.0/8"}, "profile": "pf"})))
    assert out["status"] == 501 and "profile" in out["status_text"]
    # er does not filter packets: addressing a net deny to the er profile is not implemented here
    out = response(actuator.handle(msg({"action": "deny", "target": {"ipv4_net": "10.0.0.0/8"}, "profile": "er"})))
    assert out["status"] == 501


def test_response_requested_none_ack_status(actuator: Actuator) -> None:
    assert actuator.handle(msg({**DENY_CONN, "args": {"response_requested": "none"}}, "n")) is None
    assert len(actuator.snapshot()["rules"]) == 1
    assert response(actuator.handle(msg({**DENY_CONN, "args": {"response_requested": "ack"}}, "a"))) == {"status": 102}
    assert len(actuator.snapshot()["rules"]) == 2
    assert response(actuator.handle(msg({**DENY_CONN, "args": {"response_requested": "status"}}, "s"))) == {"status": 200}
    # an error is reported even when no response was requested
    bad = {"action": "delete", "target": {"slpf": {"rule_number": 999}}, "args": {"response_requested": "none"}}
    assert response(actuator.handle(msg(bad, "e")))["status"] == 404


def test_retry_with_same_request_id_acts_once(actuator: Actuator) -> None:
    first = response(actuator.handle(msg(DENY_CONN, "same")))
    again = response(actuator.handle(msg(DENY_CONN, "same")))
    assert first == again
    assert len(actuator.snapshot()["rules"]) == 1


def test_v1_actuator_and_profile_object_forms(actuator: Actuator) -> None:
    v10 = {"action": "deny", "target": {"ipv4_net": "192.0.2.0/24"}, "actuator": {"slpf": {}}}
    obj = {"action": "deny", "target": {"ipv4_net": "192.0.2.0/25"}, "profile": {"slpf": {}}}
    assert response(actuator.handle(msg(v10, "v10")))["status"] == 200
    assert response(actuator.handle(msg(obj, "obj")))["status"] == 200
    assert len(actuator.snapshot()["rules"]) == 2


def test_query_features(actuator: Actuator) -> None:
    out = response(actuator.handle(msg({"action": "query", "target": {"features": ["versions", "profiles"]}})))
    assert out == {"status": 200, "results": {"versions": ["2.0"], "profiles": ["slpf", "er"]}}
    assert response(actuator.handle(msg({"action": "query", "target": {"features": []}}, "hb"))) == {"status": 200}
    bad = {"action": "query", "target": {"features": []}, "args": {"duration": 5}}
    assert response(actuator.handle(msg(bad, "q3")))["status"] == 400


def test_rate_limit_advertised_and_enforced(clock: Clock) -> None:
    act = Actuator("fw2", rate_limit=2, clock=clock)
    q = {"action": "query", "target": {"features": ["rate_limit"]}}
    assert response(act.handle(msg(q, "1")))["results"] == {"rate_limit": 2}
    assert response(act.handle(msg(q, "2")))["status"] == 200
    assert response(act.handle(msg(q, "3")))["status"] == 503
    clock.now += 60
    assert response(act.handle(msg(q, "4")))["status"] == 200


SAMPLE_TARGETS = {
    "ipv4_net": "203.0.113.0/24", "ipv6_net": "2001:db8::/48",
    "ipv4_connection": {"dst_addr": "203.0.113.9", "dst_port": 22, "protocol": "tcp"},
    "ipv6_connection": {"src_addr": "2001:db8::1", "protocol": "udp"},
    "device": {"hostname": "host-1"}, "file": {"hashes": {"sha256": "b" * 64}},
    "features": ["pairs"], "slpf": {"rule_number": 1}, "command": "seed",
}


@pytest.mark.parametrize("profiles", [("slpf", "er"), ("slpf",), ("er",)])
def test_advertised_pairs_are_all_accepted(clock: Clock, profiles: tuple[str, ...]) -> None:
    act = Actuator("fwx", profiles=profiles, clock=clock)
    pairs = response(act.handle(msg({"action": "query", "target": {"features": ["pairs"]}})))["results"]["pairs"]
    assert set(pairs) >= {"query", "cancel"}
    for action, targets in pairs.items():
        for target in targets:
            seed = ({"action": "allow", "target": {"ipv4_net": "10.9.9.0/24"}} if "slpf" in profiles
                    else {"action": "contain", "target": {"device": {"hostname": "seed"}}})
            act.handle(msg({**seed, "args": {"slpf": {"insert_rule": 1}}} if "slpf" in profiles else seed, "seed"))
            out = response(act.handle(msg({"action": action, "target": {target: SAMPLE_TARGETS[target]}},
                                          f"{action}-{target}")))
            assert out["status"] == 200, (action, target, out)
            act = Actuator("fwx", profiles=profiles, clock=clock)


@pytest.mark.parametrize("profiles", [("slpf",), ("er",)])
def test_pairs_not_advertised_get_501(clock: Clock, profiles: tuple[str, ...]) -> None:
    act = Actuator("fwy", profiles=profiles, clock=clock)
    pairs = response(act.handle(msg({"action": "query", "target": {"features": ["pairs"]}})))["results"]["pairs"]
    for action in ("allow", "deny", "contain", "delete"):
        for target, value in SAMPLE_TARGETS.items():
            if target in pairs.get(action, ()) or target in ("features", "command"):
                continue
            out = response(act.handle(msg({"action": action, "target": {target: value}}, f"{action}-{target}")))
            assert out["status"] == 501, (action, target, out)
