"""artifact_to_target: every supported SOAR artifact type, good and bad values."""
from __future__ import annotations

import hashlib

import pytest

from fn_openc2.lib.soar import SUPPORTED_TYPES, ArtifactError, artifact_to_target, split_values

GOOD = [
    ("IP Address", "192.0.2.7", {"ipv4_net": "192.0.2.7"}),
    ("IP Address", "  198.51.100.1 \n", {"ipv4_net": "198.51.100.1"}),
    ("IP Address", "2001:DB8:0:0:0:0:0:1", {"ipv6_net": "2001:db8::1"}),
    ("IP Address", "2001:db8:0:0:1:0:0:1", {"ipv6_net": "2001:db8::1:0:0:1"}),
    ("Network CIDR Range", "10.0.0.0/8", {"ipv4_net": "10.0.0.0/8"}),
    ("Network CIDR Range", "10.1.2.3", {"ipv4_net": "10.1.2.3/32"}),
    ("Network CIDR Range", "2001:DB8::/32", {"ipv6_net": "2001:db8::/32"}),
    ("DNS Name", "Evil.Example.COM.", {"domain_name": "evil.example.com"}),
    ("DNS Name", "xn--bcher-kva.example", {"domain_name": "xn--bcher-kva.example"}),
    ("DNS Name", "bücher.example", {"idn_domain_name": "bücher.example"}),
    ("URL", "https://evil.example.com/a?b=c", {"uri": "https://evil.example.com/a?b=c"}),
    ("URL", "https://例え.jp/パス", {"iri": "https://例え.jp/パス"}),
    ("URL", "mailto:x@example.com", {"uri": "mailto:x@example.com"}),
    ("Email Sender", "bad@evil.example.com", {"email_addr": "bad@evil.example.com"}),
    ("Email Sender", "Bad Guy <bad@evil.example.com>", {"email_addr": "bad@evil.example.com"}),
    ("Email Recipient", "用户@例子.广告", {"idn_email_addr": "用户@例子.广告"}),
    ("Email Recipient", "josé@example.com", {"idn_email_addr": "josé@example.com"}),
    ("Email Sender", "x@[192.0.2.1]", {"email_addr": "x@[192.0.2.1]"}),   # a domain literal, as the language reads it
    ("MAC Address", "AA-BB-CC-DD-EE-FF", {"mac_addr": "aa:bb:cc:dd:ee:ff"}),
    ("MAC Address", "aabb.ccdd.eeff", {"mac_addr": "aa:bb:cc:dd:ee:ff"}),
    ("MAC Address", "0011223344556677", {"mac_addr": "00:11:22:33:44:55:66:77"}),
    ("Malware MD5 Hash", "d41d8cd98f00b204e9800998ecf8427e",
     {"file": {"hashes": {"md5": "D41D8CD98F00B204E9800998ECF8427E"}}}),
    ("Malware SHA-1 Hash", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
     {"file": {"hashes": {"sha1": "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"}}}),
    ("Malware SHA-256 Hash", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     {"file": {"hashes": {"sha256": "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}}}),
    ("File Name", "invoice.pdf.exe", {"file": {"name": "invoice.pdf.exe"}}),
    ("File Path", "/tmp/x/evil.sh", {"file": {"path": "/tmp/x/evil.sh"}}),
    ("File Path", "C:\\Users\\a\\evil.exe", {"file": {"path": "C:\\Users\\a\\evil.exe"}}),
    ("File Path", "\\\\server\\share\\evil.exe", {"file": {"path": "\\\\server\\share\\evil.exe"}}),
    ("System Name", "WS-042.corp.example", {"device": {"hostname": "ws-042.corp.example"}}),
    ("System Name", "PC-42", {"device": {"hostname": "pc-42"}}),
    ("System Name", "rechner-müller", {"device": {"idn_hostname": "rechner-müller"}}),
    ("Process Name", "mimikatz.exe", {"process": {"name": "mimikatz.exe"}}),
    ("Port", "3389", {"ipv4_connection": {"dst_port": 3389}}),
    ("Port", "53/UDP", {"ipv4_connection": {"dst_port": 53, "protocol": "udp"}}),
    ("Port", "0", {"ipv4_connection": {"dst_port": 0}}),
    ("ip address", "192.0.2.1", {"ipv4_net": "192.0.2.1"}),  # type names match case-insensitively
]

BAD = [
    ("IP Address", "", "empty"),
    ("IP Address", "256.1.1.1", "not an IPv4 or IPv6 address"),
    ("IP Address", "010.1.1.1", "not an IPv4 or IPv6 address"),
    ("IP Address", "10.0.0.0/8", "Network CIDR Range"),
    ("IP Address", "fe80::1%eth0", "zone index"),
    ("Network CIDR Range", "10.0.0.1/8", "host bits set; the network is 10.0.0.0/8"),
    ("Network CIDR Range", "10.0.0.0/33", "not an IPv4 or IPv6 CIDR range"),
    ("DNS Name", "evil..example.com", "empty label"),
    ("DNS Name", "-evil.example.com", "label '-evil'"),
    ("DNS Name", "under_score.example", "label 'under_score'"),
    ("DNS Name", "a" * 64 + ".example", "at most 63"),
    ("DNS Name", ".".join(["abcdefghi"] * 26), "at most 253"),
    ("DNS Name", "1.2.3.4", "looks like an IP address"),
    ("URL", "evil.example.com/path", "no scheme"),
    ("URL", "https:///path", "no host"),
    ("URL", "https://evil.example.com/a b", "white space"),
    ("URL", "https://evil.example.com/a<b>", "must be percent-encoded"),     # the language's RFC 3986 rule
    ("Email Sender", "no-at-sign.example.com", "local-part@domain"),
    ("Email Sender", "@example.com", "local-part@domain"),
    ("Email Sender", "x@exa mple.com", "white space"),
    ("Email Sender", "x@bad..domain", "domain of"),
    ("Email Recipient", "a" * 65 + "@example.com", "longer than 64"),
    ("Email Sender", "a..b@example.com", "local part 'a..b' is not valid"),   # the language's RFC 5322 rule
    ("MAC Address", "aa:bb:cc:dd:ee", "not a MAC address"),
    ("MAC Address", "gg:bb:cc:dd:ee:ff", "not a MAC address"),
    ("MAC Address", "aa:bb-cc:dd:ee:ff", "mixes separators"),
    ("Malware MD5 Hash", "d41d8cd98f00b204e9800998ecf8427", "not 32 hexadecimal digits"),
    ("Malware SHA-1 Hash", "z" * 40, "not 40 hexadecimal digits"),
    ("Malware SHA-256 Hash", "e3b0c442", "not 64 hexadecimal digits"),
    ("File Name", "dir/evil.exe", "File Path"),
    ("File Name", "evil\x00.exe", "control character"),
    ("File Path", "relative/evil.sh", "not an absolute path"),
    ("System Name", "host name", "label 'host name'"),
    ("Process Name", "   ", "empty"),
    ("Port", "65536", "outside 0..65535"),
    ("Port", "http", "not a port number"),
    ("Port", "-1", "not a port number"),
    ("Port", "80/icmp", "has no ports"),
]


@pytest.mark.parametrize("artifact_type, value, expected", GOOD)
def test_good_value_maps_to_target(artifact_type: str, value: str, expected: dict) -> None:
    assert artifact_to_target(artifact_type, value) == expected


@pytest.mark.parametrize("artifact_type, value, fragment", BAD)
def test_bad_value_is_refused_naming_type_and_problem(artifact_type: str, value: str, fragment: str) -> None:
    with pytest.raises(ArtifactError) as caught:
        artifact_to_target(artifact_type, value)
    message = str(caught.value)
    assert artifact_type.casefold() in message.casefold()
    assert fragment in message


def test_every_text_type_has_a_good_case() -> None:
    covered = {t.casefold() for t, _, _ in GOOD}
    text_types = [t for t in SUPPORTED_TYPES if t not in ("Malware Sample", "Other File", "Email Attachment",
                                                          "Log File", "RFC 822 Email Message File",
                                                          "X509 Certificate File")]
    assert [t for t in text_types if t.casefold() not in covered] == []


def test_unsupported_type_lists_supported_types() -> None:
    with pytest.raises(ArtifactError) as caught:
        artifact_to_target("Registry Key", r"HKLM\Software\Evil")
    message = str(caught.value)
    assert "'Registry Key' has no OpenC2 target" in message
    for supported in ("IP Address", "DNS Name", "Malware SHA-256 Hash", "Port"):
        assert supported in message
    assert caught.value.artifact_type == "Registry Key"


def test_attachment_content_gives_file_target_with_hashes() -> None:
    content = b"%PDF-1.7 not really a pdf"
    target = artifact_to_target("Malware Sample", "invoice.pdf", content=content)
    assert target == {"file": {
        "hashes": {"md5": hashlib.md5(content).hexdigest().upper(),
                   "sha1": hashlib.sha1(content).hexdigest().upper(),
                   "sha256": hashlib.sha256(content).hexdigest().upper()}}}


def test_attachment_target_is_one_a_bundled_profile_can_deny_and_contain() -> None:
    from fn_openc2.lib.language.profiles import get_profile
    (target,) = artifact_to_target("Other File", "blob.unknownext", content=b"")
    assert get_profile("er").allows("deny", target) and get_profile("er").allows("contain", target)


def test_file_type_without_content_is_refused() -> None:
    with pytest.raises(ArtifactError, match="'Malware Sample' needs the attachment content"):
        artifact_to_target("Malware Sample", "evil.exe")


def test_split_values_one_per_line() -> None:
    assert split_values(" 10.0.0.1 \n\n10.0.0.2\r\n  ") == ["10.0.0.1", "10.0.0.2"]
    assert split_values(None) == []


def test_idn_names_follow_the_languages_rule() -> None:
    """'¡' passes Python's IDNA2003 codec but not IDNA2008 (RFC 5890), which the language checks:
    the mapper refuses it up front (found by tests/fuzz/test_fuzz_artifact_map.py)."""
    for kind in ("System Name", "DNS Name"):
        with pytest.raises(ArtifactError, match="not a valid internationalized domain name"):
            artifact_to_target(kind, "¡")
    assert artifact_to_target("DNS Name", "bücher.example") == {"idn_domain_name": "bücher.example"}
