"""Semantic checks of each type: good values pass, bad ones fail at their path."""
from __future__ import annotations

import pytest

from fn_openc2.lib.language import check_command, parse_command, to_dict

from .helpers import deny, issues_of


def _ok(target: dict) -> None:
    assert check_command(deny(target)) == [], target


def _bad(target: dict, path: str, fragment: str = "") -> None:
    issues = issues_of(parse_command, deny(target))
    assert [p for p, _ in issues] == [path], issues
    assert fragment in issues[0][1], issues


@pytest.mark.parametrize("value", ["1.2.3.4", "0.0.0.0/0", "255.255.255.255/32", "10.0.0.0/8"])
def test_ipv4_net_good(value: str) -> None:
    _ok({"ipv4_net": value})


@pytest.mark.parametrize("value,fragment", [
    ("1.2.3.256", "dotted-quad"), ("1.2.3", "dotted-quad"), ("01.2.3.4", "dotted-quad"),
    ("1.2.3.4/33", "0..32"), ("1.2.3.4/", "0..32"), ("1.2.3.4/08", "0..32"), (" 1.2.3.4", "dotted-quad"),
])
def test_ipv4_net_bad(value: str, fragment: str) -> None:
    _bad({"ipv4_net": value}, "target.ipv4_net", fragment)


@pytest.mark.parametrize("value", ["2001:db8::1", "::", "::1/128", "2001:db8::/32", "::ffff:192.0.2.1", "fe80::1:0:0:1"])
def test_ipv6_net_good(value: str) -> None:
    _ok({"ipv6_net": value})


@pytest.mark.parametrize("value,canonical", [
    ("2001:DB8::1", "2001:db8::1"),                          # upper case
    ("2001:db8:0:0:0:0:0:1", "2001:db8::1"),                 # uncompressed
    ("2001:0db8::1/64", "2001:db8::1/64"),                   # leading zeros, with a prefix
    ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),           # the first of two equal zero runs is compressed
    ("2001:db8::0:1", "2001:db8::1"),                        # "::" not over the whole zero run
    ("0:0:0:0:0:FFFF:C000:0201", "::ffff:192.0.2.1"),        # IPv4-mapped in hex keeps the dotted quad
    ("::FFFF:192.0.2.1/128", "::ffff:192.0.2.1/128"),
    ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),            # embedded IPv4 elsewhere is written in hex
])
def test_ipv6_every_rfc4291_form_is_read_and_kept_canonical(value: str, canonical: str) -> None:
    assert to_dict(parse_command(deny({"ipv6_net": value}))) == deny({"ipv6_net": canonical})
    connection = to_dict(parse_command(deny({"ipv6_connection": {"src_addr": value, "dst_addr": value}})))
    assert connection["target"]["ipv6_connection"] == {"src_addr": canonical, "dst_addr": canonical}


@pytest.mark.parametrize("value", ["2001:db8::1/129", "2001:db8::g", "1.2.3.4", "fe80::1%eth0", "::1/01"])
def test_ipv6_net_bad(value: str) -> None:
    _bad({"ipv6_net": value}, "target.ipv6_net")


def test_connection_ports_and_protocol() -> None:
    _ok({"ipv4_connection": {"src_port": 0, "dst_port": 65535, "protocol": "sctp"}})
    _bad({"ipv4_connection": {"src_port": "80"}}, "target.ipv4_connection.src_port",
         "expected an integer 0..65535, got '80' (string)")
    _bad({"ipv4_connection": {"dst_port": 65536}}, "target.ipv4_connection.dst_port", "0..65535")
    _bad({"ipv4_connection": {"dst_port": True}}, "target.ipv4_connection.dst_port", "true (boolean)")
    _bad({"ipv4_connection": {"dst_port": 80.0}}, "target.ipv4_connection.dst_port", "80.0 (number)")
    _bad({"ipv6_connection": {"protocol": "TCP"}}, "target.ipv6_connection.protocol", "icmp, tcp")
    _bad({"ipv6_connection": {"src_addr": "10.0.0.1"}}, "target.ipv6_connection.src_addr")


@pytest.mark.parametrize("value", ["00:1b:63:84:45:e6", "00:1B:63:84:45:E6", "00:1b:63:84:45:e6:00:01"])
def test_mac_good(value: str) -> None:
    _ok({"mac_addr": value})


@pytest.mark.parametrize("value", ["00-1b-63-84-45-e6", "001b638445e6", "00:1b:63:84:45", "00:1b:63:84:45:e6:00"])
def test_mac_bad(value: str) -> None:
    _bad({"mac_addr": value}, "target.mac_addr", "EUI-48 or EUI-64")


@pytest.mark.parametrize("value", ["example.com", "a", "1.example.com", "xn--bcher-kva.example"])
def test_hostname_good(value: str) -> None:
    _ok({"domain_name": value})


@pytest.mark.parametrize("value", ["-a.com", "a-.com", "a..com", "exa mple.com", "bücher.de", "a" * 64 + ".com", "a.com."])
def test_hostname_bad(value: str) -> None:
    _bad({"domain_name": value}, "target.domain_name", "hostname")


@pytest.mark.parametrize("value", ["bücher.example", "例え.テスト", "example.com"])
def test_idn_hostname_good(value: str) -> None:
    _ok({"idn_domain_name": value})


@pytest.mark.parametrize("value", ["", "a..b", "-x.example", "Bücher.example\u200d"])
def test_idn_hostname_bad(value: str) -> None:
    _bad({"idn_domain_name": value}, "target.idn_domain_name", "internationalized hostname")


@pytest.mark.parametrize("value", ["user@example.com", "first.last+tag@sub.example.org", '"a b"@example.com', "x@[192.0.2.1]"])
def test_email_good(value: str) -> None:
    _ok({"email_addr": value})


@pytest.mark.parametrize("value", ["user", "@example.com", "user@", "a..b@example.com", "ü@example.com", "a@-x.com"])
def test_email_bad(value: str) -> None:
    _bad({"email_addr": value}, "target.email_addr", "email address")


def test_idn_email() -> None:
    _ok({"idn_email_addr": "用户@例子.广告"})
    _ok({"idn_email_addr": "ü@bücher.example"})
    _bad({"idn_email_addr": "no-at-sign"}, "target.idn_email_addr", "internationalized email")
    _bad({"idn_email_addr": "a b@example.com"}, "target.idn_email_addr", "local part")


@pytest.mark.parametrize("value", ["http://www.example.com", "https://u@h:8443/p?q=1#f", "urn:isbn:0451450523",
                                   "http://[2001:db8::1]/x", "mailto:a@example.com", "https://x/%C3%BC"])
def test_uri_good(value: str) -> None:
    _ok({"uri": value})


@pytest.mark.parametrize("value", ["www.example.com", "/relative/path", "http://exa mple.com", "http://x/ü",
                                   "http://x/%zz", "1http://x", "http://x/#a#b", "http://x/[y]"])
def test_uri_bad(value: str) -> None:
    _bad({"uri": value}, "target.uri", "URI")


def test_iri() -> None:
    _ok({"iri": "https://bücher.example/straße?q=ü"})
    _bad({"iri": "bücher.example"}, "target.iri", "IRI")
    _bad({"iri": "https://x/a b"}, "target.iri", "IRI")


def test_hashes_exact_hex_length() -> None:
    good = {"md5": "0" * 32, "sha1": "A" * 40, "sha256": "f" * 64}
    _ok({"file": {"hashes": good}})
    _bad({"file": {"hashes": {"md5": "0" * 31}}}, "target.file.hashes.md5", "32 hex digits")
    _bad({"file": {"hashes": {"sha1": "g" * 40}}}, "target.file.hashes.sha1", "40 hex digits")
    _bad({"file": {"hashes": {"sha256": "0" * 65}}}, "target.file.hashes.sha256", "64 hex digits")
    _bad({"file": {"hashes": {"sha512": "0" * 128}}}, "target.file.hashes.sha512", "unknown property")


def test_artifact_payload_is_a_choice_of_base64url_or_url() -> None:
    _ok({"artifact": {"media_type": "text/plain", "payload": {"bin": "aGVsbG8"}}})
    _ok({"artifact": {"payload": {"url": "https://example.com/x.bin"}, "hashes": {"md5": "0" * 32}}})
    _bad({"artifact": {"payload": {"bin": "a+b/"}}}, "target.artifact.payload.bin", "base64url")
    _bad({"artifact": {"payload": {"bin": "aGVsbG8", "url": "https://x"}}}, "target.artifact.payload", "exactly one")


def test_process_nests_parent_and_executable() -> None:
    doc = {"action": "stop", "target": {"process": {
        "pid": 42, "name": "evil", "cwd": "/tmp", "command_line": "evil -x",
        "executable": {"path": "/tmp/evil", "hashes": {"sha256": "a" * 64}},
        "parent": {"pid": 1, "parent": {"name": "init"}}}}}
    assert to_dict(parse_command(doc)) == doc
    doc["target"]["process"]["parent"]["parent"]["pid"] = -1
    assert [p for p, _ in issues_of(parse_command, doc)] == ["target.process.parent.parent.pid"]


def test_command_id_target_and_field() -> None:
    assert check_command({"action": "cancel", "target": {"command": "abc-123"}, "command_id": "x"}) == []
    issues = issues_of(parse_command, {"action": "cancel", "target": {"command": "has space"}, "command_id": "y" * 37})
    assert [p for p, _ in issues] == ["target.command", "command_id"]


def test_features_enum_and_limit() -> None:
    assert [p for p, _ in issues_of(parse_command, {"action": "query", "target": {"features": ["colour"]}})] == [
        "target.features[0]"]
    many = {"action": "query", "target": {"features": ["versions"] * 11}}
    paths = [p for p, _ in issues_of(parse_command, many)]
    assert paths[0] == "target.features"


def test_device() -> None:
    _ok({"device": {"hostname": "ws-1", "idn_hostname": "bücher", "device_id": "9BCE"}})
    _bad({"device": {"hostname": "ws_1"}}, "target.device.hostname", "hostname")


def test_args_types() -> None:
    ok = deny({"ipv4_net": "1.2.3.4"}, args={"start_time": 0, "duration": 0, "response_requested": "status",
                                             "comment": "why"})
    assert check_command(ok) == []
    bad = deny({"ipv4_net": "1.2.3.4"}, args={"start_time": -1, "duration": "5", "response_requested": "all"})
    assert [p for p, _ in issues_of(parse_command, bad)] == ["args.start_time", "args.duration",
                                                              "args.response_requested"]


def test_results_types() -> None:
    from fn_openc2.lib.language import check_response
    good = {"status": 200, "results": {"versions": ["2.0"], "profiles": ["slpf", "x-lock"], "rate_limit": 0.5,
                                       "pairs": {"deny": ["ipv4_net", "slpf:rule_number"], "query": ["features"]}}}
    assert check_response(good) == []
    bad = {"status": 200, "results": {"profiles": ["a" * 17], "pairs": {"deny": []}, "versions": []}}
    assert sorted(i.path for i in check_response(bad)) == ["results.pairs.deny", "results.profiles[0]",
                                                           "results.versions"]


def test_results_uniqueness_and_non_empty_maps() -> None:
    from fn_openc2.lib.language import check_message, check_response
    doc = {"status": 200, "results": {"versions": ["2.0", "1.0", "2.0"], "profiles": ["slpf", "slpf"],
                                      "pairs": {"deny": ["ipv4_net", "ipv4_net"]}}}
    assert [i.path for i in check_response(doc)] == ["results.versions[2]", "results.pairs.deny[1]"]
    assert [i.path for i in check_response({"status": 200, "results": {}})] == ["results"]
    assert [i.path for i in check_response({"status": 200, "results": {"pairs": {}}})] == ["results.pairs"]
    body = {"openc2": {"response": {"status": 200}}}
    assert [i.path for i in check_message({"headers": {}, "body": body})] == ["headers"]
    assert [i.path for i in check_message({"headers": {"to": []}, "body": body})] == ["headers.to"]


def test_rate_limit_number_union_gives_one_issue() -> None:
    from fn_openc2.lib.language import check_response
    issues = check_response({"status": 200, "results": {"rate_limit": "10"}})
    assert [(i.path, i.message) for i in issues] == [
        ("results.rate_limit", "expected a finite number >= 0, got '10' (string)")]
    assert [i.path for i in check_response({"status": 200, "results": {"rate_limit": -0.5}})] == ["results.rate_limit"]
    assert check_response({"status": 200, "results": {"rate_limit": 0.5}}) == []


def test_start_stop_duration_and_response_requested() -> None:
    net = {"ipv4_net": "1.2.3.4"}
    assert check_command(deny(net, args={"start_time": 5, "duration": 10})) == []
    assert check_command(deny(net, args={"stop_time": 5, "duration": 10})) == []
    assert [p for p, _ in issues_of(parse_command, deny(net, args={"start_time": 9, "stop_time": 5}))] == [
        "args.stop_time"]
    for value in ("none", "ack", "status", "complete"):
        assert check_command(deny(net, args={"response_requested": value})) == []
    assert [p for p, _ in issues_of(parse_command, deny(net, args={"response_requested": "Complete"}))] == [
        "args.response_requested"]


def test_nsid_and_profile_field() -> None:
    from fn_openc2.lib.language import check_response
    assert [p for p, _ in issues_of(parse_command, deny({"ipv4_net": "1.2.3.4"}, profile=""))] == ["profile"]
    assert [i.path for i in check_response({"status": 200, "results": {"profiles": [""]}})] == [
        "results.profiles[0]"]
