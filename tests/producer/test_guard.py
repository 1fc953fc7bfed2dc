"""Policy guard: deny/contain of protected addresses is refused, with the reason."""
from __future__ import annotations

import pytest

from fn_openc2.lib.producer.guard import PolicyGuard


def _cmd(target: dict, action: str = "deny") -> dict:
    return {"action": action, "target": target}


GUARD = PolicyGuard(["10.0.0.0/8", "2001:db8:1::/48"], {"fw1": "127.0.0.1", "fw2": "fw2.example.invalid",
                                                        "fw3": "192.0.2.10"})


@pytest.mark.parametrize("address, label", [
    ("127.0.0.1", "loopback network 127.0.0.0/8"),
    ("::1", "loopback network ::1/128"),
    ("169.254.10.1/32", "link-local network 169.254.0.0/16"),
    ("fe80::1", "link-local network fe80::/10"),
    ("239.1.2.3", "multicast network 224.0.0.0/4"),
    ("ff02::1", "multicast network ff00::/8"),
    ("0.0.0.0", "unspecified network 0.0.0.0/32"),
    ("::", "unspecified network ::/128"),
])
def test_special_ranges_are_protected_by_default(address: str, label: str) -> None:
    kind = "ipv6_net" if ":" in address else "ipv4_net"
    reason = PolicyGuard().check(_cmd({kind: address}))
    assert reason is not None and address in reason and label in reason


def test_special_ranges_can_be_unprotected() -> None:
    assert PolicyGuard(protect_special=False).check(_cmd({"ipv4_net": "127.0.0.1"})) is None


def test_protected_network_containment_and_overlap() -> None:
    inside = GUARD.check(_cmd({"ipv4_net": "10.1.2.3"}))
    assert inside == "refused deny of 10.1.2.3 (target.ipv4_net): it overlaps protected network 10.0.0.0/8"
    wider = GUARD.check(_cmd({"ipv4_net": "10.0.0.0/7"}))
    assert wider is not None and "10.0.0.0/7" in wider and "10.0.0.0/8" in wider
    assert GUARD.check(_cmd({"ipv4_net": "0.0.0.0/0"})) is not None
    assert GUARD.check(_cmd({"ipv6_net": "2001:db8::/32"})) is not None
    assert GUARD.check(_cmd({"ipv4_net": "11.0.0.0/8"})) is None
    assert GUARD.check(_cmd({"ipv4_net": "198.51.100.7/32"})) is None


def test_ipv4_mapped_ipv6_is_checked_against_ipv4_networks() -> None:
    reason = GUARD.check(_cmd({"ipv6_net": "::ffff:10.9.9.9"}))
    assert reason is not None and "10.0.0.0/8" in reason


@pytest.mark.parametrize("field", ["src_addr", "dst_addr"])
def test_connections_are_checked_on_both_ends(field: str) -> None:
    target = {"ipv4_connection": {field: "10.20.30.0/24", "protocol": "tcp"}}
    reason = GUARD.check(_cmd(target))
    assert reason is not None and f"target.ipv4_connection.{field}" in reason
    reason6 = GUARD.check(_cmd({"ipv6_connection": {field: "2001:db8:1::5"}}))
    assert reason6 is not None and f"target.ipv6_connection.{field}" in reason6
    assert GUARD.check(_cmd({"ipv4_connection": {field: "198.51.100.0/24"}})) is None


def test_contain_is_guarded_allow_and_query_are_not() -> None:
    assert GUARD.check(_cmd({"ipv4_net": "10.0.0.1"}, "contain")) is not None
    assert GUARD.check(_cmd({"ipv4_net": "10.0.0.1"}, "allow")) is None
    assert GUARD.check(_cmd({"features": []}, "query")) is None


def test_consumer_addresses_are_protected() -> None:
    reason = GUARD.check(_cmd({"ipv4_net": "192.0.2.10/32"}))
    assert reason is not None and "consumer 'fw3'" in reason and "192.0.2.10" in reason
    assert GUARD.check(_cmd({"ipv4_net": "192.0.2.0/24"})) is not None
    assert GUARD.check(_cmd({"ipv4_net": "192.0.2.11/32"})) is None


def test_consumer_host_names_are_protected() -> None:
    for target in ({"device": {"hostname": "FW2.example.invalid."}}, {"domain_name": "fw2.example.invalid"},
                   {"uri": "https://fw2.example.invalid/x"}):
        reason = GUARD.check(_cmd(target))
        assert reason is not None and "consumer 'fw2'" in reason
    assert GUARD.check(_cmd({"domain_name": "evil.example.com"})) is None


def test_ip_literal_hostnames_are_checked_as_addresses() -> None:
    reason = GUARD.check(_cmd({"device": {"hostname": "10.3.3.3"}}))
    assert reason is not None and "10.0.0.0/8" in reason


def test_profile_targets_with_address_fields_are_checked() -> None:
    target = {"pf": {"advanced_connection": {"src_addr": "10.0.0.5", "dst_addr": "198.51.100.1"}}}
    reason = GUARD.check(_cmd(target))
    assert reason is not None and "target.pf.advanced_connection.src_addr" in reason


@pytest.mark.parametrize("addr, where", [({"v4addr": "10.0.0.5/32"}, "dst_addr.v4addr"),
                                         ({"v6addr": "::ffff:10.0.0.5"}, "dst_addr.v6addr")])
def test_pf_advanced_connection_choice_form_is_checked(addr: dict, where: str) -> None:
    """pf:Adv-Addr may be an object {"v4addr"|"v6addr"|"net_tag"}, not only a bare string."""
    from fn_openc2.lib.language import parse_command

    command = parse_command(_cmd({"pf": {"advanced_connection": {"src_addr": {"net_tag": "web"}, "dst_addr": addr}}}))
    reason = GUARD.check(command)
    assert reason is not None and f"target.pf.advanced_connection.{where}" in reason and "10.0.0.0/8" in reason
    assert GUARD.check(_cmd({"pf": {"advanced_connection": {"dst_addr": {"v4addr": "198.51.100.1"}}}})) is None


def test_language_command_models_are_checked() -> None:
    from fn_openc2.lib.language import build_command

    command = build_command("deny", {"ipv4_connection": {"dst_addr": "10.1.0.0/16", "protocol": "tcp"}})
    reason = GUARD.check(command)
    assert reason is not None and "target.ipv4_connection.dst_addr" in reason and "10.0.0.0/8" in reason
    assert GUARD.check(build_command("deny", {"ipv4_net": "198.51.100.0/24"})) is None


def _reference(guard: PolicyGuard, text: str) -> str | None:
    """The guard's answer computed the plain way: every protected network in order."""
    from fn_openc2.lib.producer.guard import _network, _overlaps

    net = _network(text)
    if net is None:
        return None
    for protected in guard.protected:
        if _overlaps(net, protected.network):
            return f"it overlaps {protected.label}"
    return None


def test_range_index_agrees_with_a_plain_scan() -> None:
    """The bisect index must refuse exactly what the one-by-one overlap scan refuses,
    naming the same (first configured) network, mapped IPv6 and nested networks included."""
    import ipaddress
    import random

    rng = random.Random(6)
    guard = PolicyGuard(["10.0.0.0/8", "10.1.0.0/16", "172.16.0.0/12", "192.168.7.0/24", "2001:db8:1::/48",
                         "::ffff:100.64.0.0/106", "2001:db8::/32", "198.18.200.0/22"], {"fw": "192.0.2.10"})
    wide = PolicyGuard(["::/0"], protect_special=False)   # a supernet of the IPv4-mapped range
    probes = ["10.1.2.3", "11.0.0.0/7", "0.0.0.0/0", "::/0", "::ffff:10.1.2.3", "::ffff:0:0/96", "::ffff:0:0/95",
              "100.64.1.1", "::ffff:100.64.0.0/112", "2001:db8:1:2::/64", "2001:db8::/31", "192.0.2.10/32",
              "198.18.199.255", "198.18.200.0", "198.18.203.255/32", "198.18.204.0", " 10.0.0.1 ", "10.0.0.0/255.0.0.0",
              "fe80::1%eth0", "not-an-address", "10.0.0.01", "10.0.0.1/33", "10.0.0.1/08"]
    for _ in range(3000):
        if rng.random() < 0.5:
            address = ipaddress.IPv4Address(rng.getrandbits(32))
            probes.append(f"{address}/{rng.randint(0, 32)}" if rng.random() < 0.5 else str(address))
        else:
            base = rng.choice([0, int(ipaddress.IPv6Address("::ffff:0:0")), int(ipaddress.IPv6Address("2001:db8::")),
                               int(ipaddress.IPv6Address("fe80::"))])
            address = ipaddress.IPv6Address(base | rng.getrandbits(rng.choice([16, 32, 64, 96])))
            probes.append(f"{address}/{rng.randint(0, 128)}" if rng.random() < 0.5 else str(address))
    for text in probes:
        for g in (guard, wide):
            assert g._check_one("net", text) == _reference(g, text.strip()), text
