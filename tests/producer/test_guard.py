"""Policy guard: deny/contain of protected addresses is refused, with the reason."""
from __future__ import annotations

import ipaddress
from typing import Any

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
    target = {"pf": {"advanced_connection": {"src_addr": "10.0.0.5", "protocol": "tcp"}}}
    reason = GUARD.check(_cmd(target))
    assert reason is not None and "target.pf.advanced_connection.src_addr" in reason and "10.0.0.0/8" in reason


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


_EMBEDDINGS = [(ipaddress.ip_network("::ffff:0:0/96"), 0), (ipaddress.ip_network("::/96"), 0),
               (ipaddress.ip_network("64:ff9b::/96"), 0), (ipaddress.ip_network("2002::/16"), 80)]


def _images(net: Any) -> list[Any]:
    """IPv4 networks an IPv6 network reaches through embedded IPv4, computed by prefix arithmetic
    (the guard computes by integer ranges)."""
    if net.version == 4:
        return []
    out = []
    for region, shift in _EMBEDDINGS:
        if net.subnet_of(region):
            length = min(32, net.prefixlen - (128 - 32 - shift))
            value = (int(net.network_address) >> shift) & 0xFFFFFFFF
            out.append(ipaddress.ip_network((value, length), strict=False))
        elif net.supernet_of(region):
            out.append(ipaddress.ip_network("0.0.0.0/0"))
    return out


def _reference(guard: PolicyGuard, text: str) -> str | None:
    """The guard's answer computed the plain way: every protected network in order, its own family
    first, then through embedded IPv4 on either side."""
    net = ipaddress.ip_network(text, strict=False)
    for protected in guard.protected:
        if protected.network.version == net.version and protected.network.overlaps(net):
            return f"it overlaps {protected.label}"
    mine = [net] if net.version == 4 else _images(net)
    for protected in guard.protected:
        theirs = [protected.network] if protected.network.version == 4 else _images(protected.network)
        if any(a.overlaps(b) for a in mine for b in theirs):
            return f"it overlaps {protected.label}"
    return None


def _reason(guard: PolicyGuard, text: str) -> str | None:
    reason = guard.check(_cmd({"ipv6_net" if ":" in text else "ipv4_net": text}))
    return None if reason is None else reason.split(": ", 1)[1]


def test_range_index_agrees_with_a_plain_scan() -> None:
    """The bisect index must refuse exactly what the one-by-one overlap scan refuses,
    naming the same network, nested networks and every embedded-IPv4 form included."""
    import random

    rng = random.Random(6)
    guard = PolicyGuard(["10.0.0.0/8", "10.1.0.0/16", "172.16.0.0/12", "192.168.7.0/24", "2001:db8:1::/48",
                         "::ffff:100.64.0.0/106", "2001:db8::/32", "198.18.200.0/22", "64:ff9b::c633:6400/120",
                         "2002:cb00:7100::/40"], {"fw": "192.0.2.10"})
    wide = PolicyGuard(["::/0"], protect_special=False)   # a supernet of every embedding range
    probes = ["10.1.2.3", "11.0.0.0/7", "0.0.0.0/0", "::/0", "::ffff:10.1.2.3", "::ffff:0:0/96", "::ffff:0:0/95",
              "100.64.1.1", "::ffff:100.64.0.0/112", "2001:db8:1:2::/64", "2001:db8::/31", "192.0.2.10/32",
              "198.18.199.255", "198.18.200.0", "198.18.203.255/32", "198.18.204.0", "198.51.100.7",
              "203.0.113.0/24", "2002::/15", "2002:c000:20a::/48", "64:ff9b::/64"]
    bases = [0, int(ipaddress.IPv6Address("::ffff:0:0")), int(ipaddress.IPv6Address("2001:db8::")),
             int(ipaddress.IPv6Address("fe80::")), int(ipaddress.IPv6Address("64:ff9b::")),
             int(ipaddress.IPv6Address("2002::"))]
    for _ in range(3000):
        if rng.random() < 0.4:
            address = ipaddress.IPv4Address(rng.getrandbits(32))
            probes.append(f"{address}/{rng.randint(0, 32)}" if rng.random() < 0.5 else str(address))
        else:
            base = rng.choice(bases)
            bits = 112 if base == bases[-1] else rng.choice([16, 32, 64, 96])
            address = ipaddress.IPv6Address(base | rng.getrandbits(bits))
            probes.append(f"{address}/{rng.randint(0, 128)}" if rng.random() < 0.5 else str(address))
    for text in probes:
        for g in (guard, wide):
            assert _reason(g, text) == _reference(g, text), text


# --- issue 16.2: profiles declare where their addresses are ---------------------------------------

def test_a_toy_profile_declares_a_new_address_field_and_the_guard_protects_it() -> None:
    """A profile with an address field of a name the guard has never seen ("rendezvous"): without an
    addresses hook nothing says it is an address; with one, the unchanged guard refuses it."""
    from pathlib import Path
    from typing import ClassVar

    from pydantic import Field

    from fn_openc2.lib.language import parse_command
    from fn_openc2.lib.language.addresses import Address
    from fn_openc2.lib.language.base import ChoiceModel
    from fn_openc2.lib.language.profiles import Profile, register_profile, unregister_profile
    from fn_openc2.lib.language.types import IPv4Net
    import fn_openc2.lib.producer.guard as guard_module

    class MeetTarget(ChoiceModel):
        type_name: ClassVar[str] = "x-meet:Target"
        rendezvous: IPv4Net = Field(None)

    def meet_addresses(command: Any) -> list[Address]:
        value = ((command.get("target") or {}).get("x-meet") or {}).get("rendezvous")
        return [Address("target.x-meet.rendezvous", "net", value, 4)] if isinstance(value, str) else []

    assert "rendezvous" not in Path(guard_module.__file__).read_text()
    doc = _cmd({"x-meet": {"rendezvous": "10.7.7.7"}})
    plain = Profile(nsid="x-meet", title="Meeting point", pairs={"deny": ("x-meet:rendezvous",)},
                    target_model=MeetTarget)
    register_profile(plain)
    try:
        assert GUARD.check(parse_command(doc)) is None            # nobody said it is an address
        register_profile(Profile(nsid="x-meet", title="Meeting point", pairs={"deny": ("x-meet:rendezvous",)},
                                 target_model=MeetTarget, addresses=meet_addresses), replace=True)
        command = parse_command(doc)
        assert [a.path for a in command.addresses()] == ["target.x-meet.rendezvous"]
        for form in (command, doc):
            reason = GUARD.check(form)
            assert reason == ("refused deny of 10.7.7.7 (target.x-meet.rendezvous): "
                              "it overlaps protected network 10.0.0.0/8")
        assert GUARD.check(_cmd({"x-meet": {"rendezvous": "198.51.100.1"}})) is None
    finally:
        unregister_profile("x-meet")


def test_shipped_profiles_declare_their_address_fields() -> None:
    from fn_openc2.lib.language import parse_command

    pf = parse_command(_cmd({"pf": {"advanced_connection": {"src_addr": {"net_tag": "web"},
                                                            "dst_addr": {"v6addr": "2001:db8::1"},
                                                            "network": "dmz"}}}))
    assert [(a.path, a.kind, a.value) for a in pf.addresses()] == [
        ("target.pf.advanced_connection.src_addr.net_tag", "tag", "web"),
        ("target.pf.advanced_connection.dst_addr.v6addr", "net", "2001:db8::1"),
        ("target.pf.advanced_connection.network", "tag", "dmz")]
    er = parse_command({"action": "contain", "target": {"device": {"hostname": "pc-17.example.com"}},
                        "args": {"er": {"device_containment": "network_isolation",
                                        "permitted_addresses": {"ipv4_net": ["192.0.2.0/24"]},
                                        "downstream_device": {"devices": [{"device_id": "agent-9"}],
                                                              "device_groups": ["kiosks"]}}}})
    assert [(a.path, a.on_device, a.opens) for a in er.addresses()] == [
        ("target.device.hostname", False, False),
        ("args.er.downstream_device.devices[0].device_id", True, False),
        ("args.er.downstream_device.device_groups[0]", True, False),
        ("args.er.permitted_addresses.ipv4_net[0]", False, True)]


# --- issue 12.2: an omitted address is every address ----------------------------------------------

@pytest.mark.parametrize("target", [
    {"ipv4_connection": {"protocol": "tcp"}},
    {"ipv4_connection": {"dst_port": 8443}},
    {"ipv6_connection": {"protocol": "tcp"}},
    {"ipv4_connection": {"src_addr": "0.0.0.0/0"}},
    {"pf": {"advanced_connection": {"protocol": "tcp"}}},
    {"pf": {"advanced_connection": {"application": "ssh", "dst_port": 22}}},
])
def test_omitted_addresses_mean_every_address(target: dict) -> None:
    reason = GUARD.check(_cmd(target))
    assert reason is not None and ("omitted" in reason or "0.0.0.0/0" in reason)
    assert "reaches protected space too" in reason
    # with nothing protected at all, every address is not refused
    assert PolicyGuard(protect_special=False).check(_cmd(target)) is None


def test_a_connection_is_refused_only_when_every_end_reaches_protected_space() -> None:
    """As `deny ipv4_net X` (X to or from anywhere) is refused only when X is protected, a connection
    is refused when both of its ends are (an omitted end being every address)."""
    ok = [{"src_addr": "203.0.113.9"}, {"dst_addr": "203.0.113.9", "dst_port": 443},
          {"src_addr": "203.0.113.9", "dst_addr": "10.0.0.5"}, {"src_addr": "10.0.0.5", "dst_addr": "203.0.113.9"}]
    for connection in ok:
        assert GUARD.check(_cmd({"ipv4_connection": connection})) is None, connection
    refused = [{"src_addr": "10.0.0.5"}, {"dst_addr": "10.0.0.0/16", "dst_port": 22},
               {"src_addr": "10.0.0.5", "dst_addr": "127.0.0.1"}]
    for connection in refused:
        assert GUARD.check(_cmd({"ipv4_connection": connection})) is not None, connection


# --- issue 12.3 / 17.1: normalise before judging --------------------------------------------------

NAMED = PolicyGuard(["10.0.0.0/8", "2001:db8:1::/48"], {"fw1": "fw1.example.test", "fw3": "192.0.2.10"},
                    resolver=lambda host: [])


@pytest.mark.parametrize("name", ["fw1。example。test", "ＦＷ１．ｅｘａｍｐｌｅ．ｔｅｓｔ", "FW1.Example.Test.",
                                  "fw1｡example｡test", "fw1"])
def test_consumer_names_in_any_unicode_form_are_protected(name: str) -> None:
    for target in ({"domain_name": name}, {"idn_domain_name": name}, {"device": {"hostname": name}},
                   {"uri": f"https://{name}/x"}):
        reason = NAMED.check(_cmd(target))
        assert reason is not None and "consumer 'fw1'" in reason, target
    assert NAMED.check(_cmd({"domain_name": "fw1.example.org"})) is None


@pytest.mark.parametrize("url", ["http://127.1/", "http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/",
                                 "http://0x7f000001/", "http://127.0.0.1./", "http://[::ffff:127.0.0.1]/",
                                 "http://%31%32%37.0.0.1/", "http://127.0.0.1\\@evil.example/",
                                 "http://user@127.1:8080/x", "https://１２７.０.０.１/", "http://loc\talhost/"])
def test_url_hosts_in_resolver_forms_are_normalised(url: str) -> None:
    reason = NAMED.check(_cmd({"uri": url}))
    assert reason is not None and "loopback" in reason, url


@pytest.mark.parametrize("address", ["010.0.0.1", "012.0.0.1", "0x0a.0.0.1", "167772161", "10.1"])
def test_ipv4_written_as_inet_aton_reads_it_is_judged_every_way(address: str) -> None:
    """010.0.0.1 is 10.0.0.1 to one reader and 8.0.0.1 (octal) to inet_aton: both readings are judged."""
    for target in ({"ipv4_net": address}, {"ipv4_connection": {"dst_addr": address}}, {"domain_name": address}):
        reason = NAMED.check(_cmd(target))
        assert reason is not None and "10.0.0.0/8" in reason, target


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "2002:7f00:1::", "::7f00:1", "::ffff:7f00:1",
                                     "64:ff9b::a00:5", "2002:a00:5::1/48", "::10.1.2.3"])
def test_ipv4_embedded_in_ipv6_is_judged_as_ipv4(address: str) -> None:
    reason = NAMED.check(_cmd({"ipv6_net": address}))
    assert reason is not None and ("127.0.0.0/8" in reason or "10.0.0.0/8" in reason), address


@pytest.mark.parametrize("address", ["2001:DB8:1:0:0:0:0:5", "2001:0db8:0001::5/128", "2001:db8:1::192.0.2.1",
                                     "2001:DB8:0001:0000::/64", "2001:db8:0:0:0:0:0:0/31"])
def test_non_canonical_ipv6_of_a_protected_address_is_refused(address: str) -> None:
    """Issue 17: RFC 4291 allows every one of these forms; the guard judges the value, not the text."""
    reason = NAMED.check(_cmd({"ipv6_net": address}))
    assert reason is not None and "2001:db8:1::/48" in reason
    reason = NAMED.check(_cmd({"ipv6_connection": {"src_addr": address}}))
    assert reason is not None and "2001:db8:1::/48" in reason


@pytest.mark.parametrize("name", ["localhost", "LOCALHOST.", "api.localhost", "ｌｏｃａｌｈｏｓｔ",
                                  "localhost.localdomain", "ip6-localhost"])
def test_localhost_names_are_loopback(name: str) -> None:
    reason = NAMED.check(_cmd({"domain_name": name}))
    assert reason is not None and "loopback" in reason
    assert PolicyGuard(protect_special=False).check(_cmd({"domain_name": name})) is None


@pytest.mark.parametrize("target", [{"domain_name": "a..b"}, {"domain_name": "bad name.example"},
                                    {"domain_name": "999.1.1.1"}, {"uri": "http://[::1/"},
                                    {"uri": "http://:80/"}, {"ipv4_net": "10.0.0.0/40"},
                                    {"ipv4_connection": {"src_addr": "not-an-address"}}])
def test_what_the_guard_cannot_understand_is_refused(target: dict) -> None:
    reason = NAMED.check(_cmd(target))
    assert reason is not None and "cannot understand" in reason


# --- issue 12.4: every action that can cut off, stop or open, every field naming where ------------

FLEET = PolicyGuard(["10.0.0.0/8"], {"fw1": "192.0.2.10", "edr": "edr.example.test"},
                    consumer_ids={"fw1": ("fw1@example.com",), "edr": ("edr-mgr",)}, resolver=lambda host: [])


@pytest.mark.parametrize("command", [
    {"action": "stop", "target": {"device": {"device_id": "fw1"}}},
    {"action": "stop", "target": {"device": {"device_id": "FW1@example.com"}}},
    {"action": "stop", "target": {"device": {"hostname": "10.2.2.2"}}},
    {"action": "restart", "target": {"device": {"hostname": "edr.example.test"}}},
    {"action": "set", "target": {"ipv4_net": "192.0.2.10"}},
    {"action": "contain", "target": {"device": {"device_id": "pc-17"}},
     "args": {"er": {"device_containment": "network_isolation",
                     "downstream_device": {"devices": [{"hostname": "edr.example.test"}]}}}},
    {"action": "contain", "target": {"device": {"device_id": "pc-17"}},
     "args": {"er": {"device_containment": "network_isolation", "downstream_device": {"device_groups": ["all"]}}}},
    {"action": "deny", "target": {"pf": {"advanced_connection": {"src_addr": {"net_tag": "mgmt"}}}}},
    {"action": "deny", "target": {"pf": {"advanced_connection": {"src_addr": "mgmt"}}}},
    {"action": "deny", "target": {"pf": {"advanced_connection": {"network": "mgmt"}}}},
    {"action": "redirect", "target": {"ipv4_net": "10.9.9.9"}},
    {"action": "delete", "target": {"ipv4_connection": {"dst_addr": "10.9.9.9"}}},
])
def test_cutting_actions_are_judged_on_every_field(command: dict) -> None:
    assert FLEET.check(command) is not None, command


@pytest.mark.parametrize("command", [
    {"action": "deny", "target": {"pf": {"advanced_connection": {"src_addr": {"net_tag": "mgmt"},
                                                                 "dst_addr": "203.0.113.9"}}}},
    {"action": "deny", "target": {"pf": {"advanced_connection": {"src_addr": "203.0.113.9", "network": "dmz"}}}},
    # the devices a deny runs on are where it is enforced, not what it cuts off
    {"action": "deny", "target": {"ipv4_net": "203.0.113.9"},
     "args": {"er": {"downstream_device": {"devices": [{"hostname": "edr.example.test"}]}}}},
    {"action": "query", "target": {"device": {"device_id": "fw1"}}},
    {"action": "scan", "target": {"device": {"hostname": "edr.example.test"}}},
    {"action": "stop", "target": {"device": {"hostname": "pc-17.example.test"}}},
    {"action": "contain", "target": {"device": {"device_id": "pc-17"}}},
])
def test_what_cuts_nothing_protected_passes(command: dict) -> None:
    assert FLEET.check(command) is None, command


@pytest.mark.parametrize("command", [
    {"action": "allow", "target": {"ipv4_net": "0.0.0.0/0"}},
    {"action": "allow", "target": {"ipv4_net": "10.0.0.0/7"}},
    {"action": "allow", "target": {"ipv6_net": "::/0"}},
    {"action": "allow", "target": {"ipv6_net": "2001:db8::/31"}},
    {"action": "allow", "target": {"ipv4_connection": {"protocol": "tcp"}}},
    {"action": "allow", "target": {"ipv4_connection": {"src_addr": "0.0.0.0/1", "dst_addr": "128.0.0.0/1"}}},
    {"action": "allow", "target": {"pf": {"advanced_connection": {"dst_port": 22}}}},
    {"action": "contain", "target": {"device": {"device_id": "pc-17"}},
     "args": {"er": {"device_containment": "network_isolation",
                     "permitted_addresses": {"ipv4_net": ["0.0.0.0/0"]}}}},
])
def test_over_broad_allows_are_refused_unless_configured(command: dict) -> None:
    reason = FLEET.check(command)
    assert reason is not None and "allow_min_prefix_ipv" in reason and "wider than" in reason
    assert PolicyGuard(allow_min_prefix=(0, 0), protect_special=False).check(command) is None


@pytest.mark.parametrize("command", [
    {"action": "allow", "target": {"ipv4_net": "10.0.0.0/8"}},
    {"action": "allow", "target": {"ipv4_connection": {"dst_addr": "198.51.100.5", "dst_port": 443}}},
    {"action": "allow", "target": {"domain_name": "updates.example.com"}},
    {"action": "allow", "target": {"ipv6_net": "2001:db8::/32"}},
])
def test_narrow_allows_pass(command: dict) -> None:
    assert FLEET.check(command) is None


# --- issue 12.11: consumer DNS is re-resolved, failures are loud ----------------------------------

def test_consumer_names_are_re_resolved_and_failures_logged(caplog: pytest.LogCaptureFixture) -> None:
    answers: dict[str, list[str]] = {"fw.example.test": []}
    calls: list[str] = []

    def resolver(host: str) -> list[str]:
        calls.append(host)
        if not answers[host]:
            raise OSError("Name or service not known")
        return answers[host]

    deny = _cmd({"ipv4_net": "198.51.100.20"})
    with caplog.at_level("ERROR", logger="fn_openc2.lib.producer.guard"):
        guard = PolicyGuard(consumer_hosts={"fw": "fw.example.test"}, resolver=resolver)
    assert "cannot resolve fw.example.test" in caplog.text and "NOT protected" in caplog.text
    assert guard.check(deny) is None
    answers["fw.example.test"] = ["198.51.100.20"]
    assert guard.refresh() == []
    assert "consumer 'fw'" in (guard.check(deny) or "")
    answers["fw.example.test"] = []
    caplog.clear()
    with caplog.at_level("ERROR", logger="fn_openc2.lib.producer.guard"):
        assert guard.refresh() == ["fw.example.test"]
    assert "still protecting its last known addresses 198.51.100.20" in caplog.text
    assert guard.check(deny) is not None


def test_re_resolution_runs_on_a_schedule() -> None:
    import threading

    seen = threading.Event()
    count = [0]

    def resolver(host: str) -> list[str]:
        count[0] += 1
        if count[0] >= 3:
            seen.set()
        return ["198.51.100.30"]

    guard = PolicyGuard(consumer_hosts={"fw": "fw.example.test"}, resolver=resolver)
    guard.start_refresh(0.01)
    try:
        assert seen.wait(10), "the guard did not re-resolve on its schedule"
    finally:
        guard.close()


# --- end to end: a refused command never reaches the consumer --------------------------------------

def test_refused_attacks_send_nothing_to_a_real_consumer(reference_consumer: Any) -> None:
    from fn_openc2.lib.producer import Producer
    from tests.producer.helpers import https_section, registry

    log = reference_consumer.server.request_log
    reg = registry({"protected_networks": "10.0.0.0/8"}, fw1=https_section(reference_consumer))
    attacks = [{"action": "deny", "target": {"ipv4_connection": {"protocol": "tcp"}}},
               {"action": "deny", "target": {"uri": "http://0x7f.1/"}},
               {"action": "deny", "target": {"ipv6_net": "64:ff9b::a00:1"}},
               {"action": "deny", "target": {"domain_name": "localhost"}},
               {"action": "allow", "target": {"ipv4_net": "0.0.0.0/0"}},
               {"action": "stop", "target": {"device": {"device_id": "fw1"}}}]
    with Producer(reg) as producer:
        outcomes = [producer.send(attack, "fw1") for attack in attacks]
    for attack, outcome in zip(attacks, outcomes):
        assert outcome.refused and outcome.answers == [], attack
    assert log.count == 0


def test_the_guard_never_raises_on_malformed_documents() -> None:
    """The guard may see a document before or without validation: whatever its shape, it answers."""
    from hypothesis import given, settings, strategies as st

    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                       st.text(max_size=12), st.sampled_from(["10.0.0.1", "::1", "http://127.1/", "fw1", "a..b",
                                                             "0x7f.1", "[::1", "ｌｏｃａｌｈｏｓｔ"]))
    keys = st.sampled_from(["ipv4_net", "ipv6_net", "ipv4_connection", "ipv6_connection", "src_addr", "dst_addr",
                            "device", "hostname", "device_id", "idn_hostname", "domain_name", "uri", "iri", "pf",
                            "advanced_connection", "v4addr", "v6addr", "net_tag", "network", "er",
                            "downstream_device", "devices", "device_groups", "tenant_id", "permitted_addresses"])
    json = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(keys, inner, max_size=3)), max_leaves=12)

    @settings(max_examples=400, deadline=None)
    @given(action=st.sampled_from(["deny", "allow", "contain", "stop", "query", 7, None]), target=json, args=json)
    def probe(action: Any, target: Any, args: Any) -> None:
        answer = NAMED.check({"action": action, "target": target, "args": args})
        assert answer is None or isinstance(answer, str)

    probe()


def test_the_producer_starts_and_stops_the_re_resolution(caplog: pytest.LogCaptureFixture) -> None:
    import threading

    from fn_openc2.lib.producer import Producer
    from fn_openc2.lib.producer.appconfig import load_settings

    reg = load_settings({"fn_openc2": {"consumer_dns_refresh": "60"},
                         "fn_openc2:fw": {"url": "https://fw.example.invalid/openc2"}})
    with caplog.at_level("ERROR", logger="fn_openc2.lib.producer.guard"):
        producer = Producer(reg)
    mine = [t for t in threading.enumerate() if t is producer.guard._timer]
    try:
        assert "cannot resolve fw.example.invalid" in caplog.text
        assert mine and mine[0].name == "openc2-guard-dns" and mine[0].is_alive()
        assert "consumer 'fw'" in (producer.guard.check(_cmd({"domain_name": "FW.example.invalid"})) or "")
    finally:
        producer.close()
    assert not mine[0].is_alive()
