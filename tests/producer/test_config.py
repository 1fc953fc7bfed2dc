"""AppSettings loading: every bad, missing or unknown key names its section and key."""
from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from fn_openc2.lib.producer.appconfig import load_settings, settings_from_file
from fn_openc2.lib.producer.settings import CONFIG_KEYS_CONSUMER, CONFIG_KEYS_PRODUCER, ConsumerSettings
from fn_openc2.lib.producer.errors import ConfigError


def _https(**extra: str) -> dict[str, str]:
    return {"url": "https://fw1.example.com/.well-known/openc2", **extra}


def test_minimal_registry_has_defaults() -> None:
    reg = load_settings({"fn_openc2": {"default_consumers": "fw1"}, "fn_openc2:fw1": _https()})
    fw1 = reg.consumers["fw1"]
    assert reg.producer.producer_id == "soar@example.com"
    assert reg.producer.default_consumers == ("fw1",)
    assert reg.producer.signing_alg == "ES256"
    assert fw1.transport == "https" and fw1.dialect == "https-v1.1" and fw1.verify is True
    assert fw1.timeout == 30.0 and fw1.recipient == "fw1" and fw1.host == "fw1.example.com"


def test_consumer_inherits_producer_defaults() -> None:
    reg = load_settings({"fn_openc2": {"timeout": "5", "retries": "0"},
                         "fn_openc2:fw1": _https(), "fn_openc2:fw2": _https(timeout="7.5")})
    assert reg.consumers["fw1"].timeout == 5.0 and reg.consumers["fw1"].retries == 0
    assert reg.consumers["fw2"].timeout == 7.5


def test_parsed_values(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    reg = load_settings({
        "fn_openc2": {"protected_networks": "10.0.0.0/8, 2001:db8::/32", "signing_alg": "EdDSA"},
        "fn_openc2:edge": {"transport": "mqtt", "broker": "mqtts://broker.example.com:8883",
                           "topic": "oc2/cmd/ap/slpf", "expected_responders": "fw-a, fw-b",
                           "collect_seconds": "2", "ca": str(ca), "rate_limit": "30"},
        "fn_openc2:fw1": _https(verify=str(ca), profiles="slpf, er", device_id="fw1@example.com"),
    })
    assert reg.producer.protected_networks == (ipaddress.ip_network("10.0.0.0/8"),
                                               ipaddress.ip_network("2001:db8::/32"))
    edge = reg.consumers["edge"]
    assert edge.expected_responders == ("fw-a", "fw-b") and edge.collect_seconds == 2.0
    assert edge.rate_limit == 30.0 and edge.ca == str(ca) and edge.host == "broker.example.com"
    fw1 = reg.consumers["fw1"]
    assert fw1.verify == str(ca) and fw1.profiles == ("slpf", "er") and fw1.recipient == "fw1@example.com"


BAD_VALUES = [
    ("fn_openc2:fw1", "timeout", "abc", "expected a number of seconds > 0, got 'abc'"),
    ("fn_openc2:fw1", "timeout", "0", "expected a number of seconds > 0"),
    ("fn_openc2:fw1", "retries", "-1", "expected an integer >= 0"),
    ("fn_openc2:fw1", "dialect", "https-v9", "expected one of https-v1.1, https-v1.0"),
    ("fn_openc2:fw1", "transport", "carrier-pigeon", "expected one of https, mqtt"),
    ("fn_openc2:fw1", "url", "ftp://x", "expected an https:// URL"),
    ("fn_openc2:fw1", "verify", "/no/such/ca.pem", "expected true, false or a readable CA bundle path"),
    ("fn_openc2:fw1", "client_auth_cert", "/no/such.crt", "does not exist"),
    ("fn_openc2:fw1", "response_verify_key", "/no/such.pem", "does not exist"),
    ("fn_openc2:fw1", "rate_limit", "fast", "expected a number of requests per minute > 0"),
    ("fn_openc2:fw1", "envelope", "wrapped", "expected one of full, bare, openc2-only"),
    ("fn_openc2:fw1", "path", "openc2", "starting with '/'"),
    ("fn_openc2:fw1", "profile_encoding", "xml", "expected one of string, object, actuator"),
    ("fn_openc2:fw1", "profiles", "slpf, slpf", "'slpf' appears twice"),
    ("fn_openc2", "protected_networks", "10.0.0.0/8, 10.0.0.999/8", "item 2 is '10.0.0.999/8'"),
    ("fn_openc2", "signing_alg", "HS256", "expected one of ES256, RS256, PS256, EdDSA"),
    ("fn_openc2", "signing_key", "/no/such/key.pem", "does not exist"),
    ("fn_openc2", "max_concurrency", "0", "expected an integer >= 1"),
    ("fn_openc2", "protect_consumer_addresses", "maybe", "expected true or false"),
    ("fn_openc2", "https_proxy", "proxy:3128", "expected a proxy URL"),
]


@pytest.mark.parametrize("section, key, value, expected", BAD_VALUES, ids=[f"{s}-{k}" for s, k, *_ in BAD_VALUES])
def test_bad_value_names_section_and_key(section: str, key: str, value: str, expected: str) -> None:
    sections: dict[str, dict[str, str]] = {"fn_openc2": {}, "fn_openc2:fw1": _https()}
    sections[section][key] = value
    with pytest.raises(ConfigError) as info:
        load_settings(sections)
    assert str(info.value).startswith(f"[{section}] {key}: ")
    assert expected in str(info.value)
    assert (info.value.section, info.value.key) == (section, key)


def test_unknown_key_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"^\[fn_openc2:fw1\] tiemout: unknown key"):
        load_settings({"fn_openc2:fw1": _https(tiemout="5")})
    with pytest.raises(ConfigError, match=r"^\[fn_openc2\] producerid: unknown key"):
        load_settings({"fn_openc2": {"producerid": "x"}})


def test_key_of_the_other_transport_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"^\[fn_openc2:fw1\] topic: not used with transport = https"):
        load_settings({"fn_openc2:fw1": _https(topic="oc2/cmd")})


@pytest.mark.parametrize("section, key", [
    ({"transport": "https"}, "url"),
    ({"transport": "mqtt"}, "broker"),
    (_https(client_auth_cert=__file__), "client_auth_key"),
    (_https(basic_auth_user="u"), "basic_auth_password"),
])
def test_missing_required_key(section: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"fn_openc2:fw1": section})
    assert info.value.key == key and "missing" in str(info.value)


def test_default_consumer_must_exist() -> None:
    with pytest.raises(ConfigError, match=r"\[fn_openc2\] default_consumers: names unknown consumer 'fw9' \(known: fw1\)"):
        load_settings({"fn_openc2": {"default_consumers": "fw9"}, "fn_openc2:fw1": _https()})


def test_secret_values_stay_out_of_errors() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"fn_openc2": {"https_proxy": "hunter2-secret"}})
    assert "hunter2" not in str(info.value)
    reg = load_settings({"fn_openc2:fw1": _https(bearer_token="tok-secret")})
    assert "tok-secret" not in repr(reg)


@pytest.mark.parametrize("key, value", [("url", "https://admin:pw-secret@fw1.example.com:99999/"),
                                        ("broker", "mqtts://admin:pw-secret@broker.example.com:8883/oc2")])
def test_url_credentials_stay_out_of_config_errors(key: str, value: str) -> None:
    section = {"url": value} if key == "url" else {"transport": "mqtt", "broker": value}
    with pytest.raises(ConfigError) as info:
        load_settings({"fn_openc2:fw1": section})
    assert info.value.key == key and "pw-secret" not in str(info.value) and "***@" in str(info.value)


def test_proxies_follow_resilient_lib_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    sections = {"integrations": {"https_proxy": "http://corp:3128"},
                "fn_openc2": {},
                "fn_openc2:a": _https(),
                "fn_openc2:b": _https(http_proxy="http://own:8080")}
    reg = load_settings(sections)
    assert reg.consumers["a"].proxies == {"http": None, "https": "http://corp:3128"}
    assert reg.consumers["b"].proxies == {"http": "http://own:8080", "https": None}
    sections["fn_openc2"] = {"https_proxy": "http://app:3128"}
    assert load_settings(sections).consumers["a"].proxies == {"http": None, "https": "http://app:3128"}


def test_empty_value_means_unset() -> None:
    reg = load_settings({"fn_openc2": {"signing_key": "", "timeout": ""}, "fn_openc2:fw1": _https()})
    assert reg.producer.signing_key is None and reg.producer.timeout == 30.0


def test_every_key_is_documented() -> None:
    for table in (CONFIG_KEYS_PRODUCER, CONFIG_KEYS_CONSUMER):
        for key, spec in table.items():
            assert spec.doc.strip(), key


def test_settings_from_file(tmp_path: Path) -> None:
    path = tmp_path / "app.config"
    path.write_text("[fn_openc2]\n; a comment line\nproducer_id = soar@test\n\n"
                    "[fn_openc2:fw1]\n# another\nurl = https://127.0.0.1:9/.well-known/openc2\ntimeout = 3\n")
    reg = settings_from_file(str(path))
    assert reg.producer.producer_id == "soar@test" and reg.consumers["fw1"].timeout == 3.0



def test_environment_proxy_is_resolved_for_the_consumer_url(monkeypatch):
    """The transport ignores the environment, so the registry must hand it the
    environment's proxy explicitly, honouring NO_PROXY."""
    from fn_openc2.lib.producer import load_settings
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", "fw2.example.com")
    registry = load_settings({
        "fn_openc2": {"producer_id": "soar@example.com"},
        "fn_openc2:fw1": {"url": "https://fw1.example.com"},
        "fn_openc2:fw2": {"url": "https://fw2.example.com"},
    })
    assert registry.consumers["fw1"].proxies["https"] == "http://proxy.corp.example:3128"
    assert not (registry.consumers["fw2"].proxies or {}).get("https")


def test_protected_network_with_host_bits_is_an_error() -> None:
    """10.0.0.1/8 is a typo for one host or for 10.0.0.0/8; the guard must not guess which."""
    with pytest.raises(ConfigError) as info:
        load_settings({"fn_openc2": {"protected_networks": "192.168.0.0/16, 10.0.0.1/8"},
                       "fn_openc2:fw1": _https()})
    assert (info.value.section, info.value.key) == ("fn_openc2", "protected_networks")
    assert "item 2 '10.0.0.1/8' has host bits set: write 10.0.0.0/8" in str(info.value)
    reg = load_settings({"fn_openc2": {"protected_networks": "10.0.0.1, 2001:DB8::/32"}, "fn_openc2:fw1": _https()})
    assert [str(n) for n in reg.producer.protected_networks] == ["10.0.0.1/32", "2001:db8::/32"]


@pytest.mark.parametrize("broker", ["mqtts://broker.example.com:8883/oc2", "mqtts://broker.example.com:8883?x=1"])
def test_broker_with_a_path_is_an_error(broker: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"fn_openc2:m": {"transport": "mqtt", "broker": broker}})
    assert (info.value.section, info.value.key) == ("fn_openc2:m", "broker")
    assert "without a path or query" in str(info.value)
    assert load_settings({"fn_openc2:m": {"transport": "mqtt", "broker": "mqtts://broker.example.com:8883/"}})


def test_consumer_names_differing_only_by_case_are_an_error() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"fn_openc2:fw1": _https(), "fn_openc2:FW1": _https(device_id="other@example.com")})
    assert info.value.section == "fn_openc2:FW1"
    assert "differs from [fn_openc2:fw1] only by case" in str(info.value)


# --- issue 12.8: no credentials in clear, none in reprs or errors ----------------------------------

@pytest.mark.parametrize("section, key", [
    ({"url": "http://fw1.example.com/openc2", "bearer_token": "tok-secret"}, "bearer_token"),
    ({"url": "http://fw1.example.com/openc2", "basic_auth_user": "soar", "basic_auth_password": "pw-secret"},
     "basic_auth_user"),
    ({"url": "http://admin:pw-secret@fw1.example.com/openc2"}, "url"),
    ({"url": "http://fw1.example.com/openc2?access_token=tok-secret"}, "url"),
    ({"transport": "mqtt", "broker": "mqtt://broker.example.com:1883", "username": "soar",
      "password": "pw-secret"}, "password"),
    ({"transport": "mqtt", "broker": "broker.example.com:1883", "username": "soar", "password": "pw-secret"},
     "password"),
    ({"transport": "mqtt", "broker": "mqtt://soar:pw-secret@broker.example.com:1883"}, "broker"),
])
def test_credentials_without_tls_are_refused_at_load(section: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"fn_openc2:fw1": section})
    assert (info.value.section, info.value.key) == ("fn_openc2:fw1", key)
    assert "in clear" in str(info.value) and "secret" not in str(info.value)


def test_credentials_with_tls_load(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    reg = load_settings({
        "fn_openc2:a": _https(bearer_token="tok"),
        "fn_openc2:b": {"url": "http://fw.example.com/openc2"},                  # a test consumer, no secret
        "fn_openc2:c": {"transport": "mqtt", "broker": "mqtts://broker.example.com", "username": "u",
                        "password": "p"},
        "fn_openc2:d": {"transport": "mqtt", "broker": "mqtt://broker.example.com:8883", "ca": str(ca),
                        "username": "u", "password": "p"},                       # TLS because a CA is given
        "fn_openc2:e": {"transport": "mqtt", "broker": "broker.example.com:8883", "verify": str(ca),
                        "username": "u", "password": "p"},                       # verify = <CA path> is the CA
    })
    assert set(reg.consumers) == {"a", "b", "c", "d", "e"}


def test_settings_repr_masks_url_credentials_and_query_values() -> None:
    reg = load_settings({"fn_openc2:fw1": {"url": "https://admin:pw-secret@fw1.example.com/oc2?token=tok-secret&v=2",
                                           "bearer_token": "bearer-secret"}})
    # load_settings refuses credentials in a broker URL; the repr masks them wherever settings come from
    broker = ConsumerSettings(name="m", transport="mqtt", broker="mqtts://u:pw-secret@b.example.com",
                              password="pw2-secret", username="u")
    shown = repr(reg) + repr(broker)
    assert "secret" not in shown
    assert "https://***@fw1.example.com/oc2?token=***&v=***" in shown and "mqtts://***@b.example.com" in shown
    assert reg.consumers["fw1"].url.endswith("token=tok-secret&v=2")     # the value itself is intact


def test_config_errors_mask_url_query_tokens() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"fn_openc2:fw1": {"url": "https://fw1.example.com:99999/oc2?token=tok-secret"}})
    assert "tok-secret" not in str(info.value) and "token=***" in str(info.value)


# --- issue 12.9: one reader of app.config, the app's ----------------------------------------------

TRICKY = """\ufeff[DEFAULT]
[fn_openc2]
; a comment line
# another comment line
protected_networks = 10.0.0.0/8 ; 172.16.0.0/12
producer_id = soar@example.com # not a comment
signing_kid = first
  continued
Write_Note = true
empty =

[fn_openc2:fw1]
url = https://fw1.example.com/openc2
bearer_token = $OPENC2_TEST_TOKEN
basic_auth_password = abc #def
device_id = ${OPENC2_TEST_TOKEN}-${OPENC2_TEST_UNSET}
profiles = slpf;er
path = /%(x)s/$notset
"""


def test_the_cli_reads_app_config_exactly_as_resilient_circuits_does(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The same file through resilient-circuits' own argument parser (what the app gets) and
    through the CLI's reader: every section, key and value equal, secrets resolved the same way."""
    from resilient_circuits.app_argument_parser import AppArgumentParser

    from fn_openc2.lib.producer.appconfig import read_app_config

    monkeypatch.setenv("OPENC2_TEST_TOKEN", "tok-from-env")
    monkeypatch.delenv("OPENC2_TEST_UNSET", raising=False)
    path = tmp_path / "app.config"
    path.write_text("[resilient]\nhost = soar.example.com\norg = x\napi_key_id = a\napi_key_secret = b\n\n"
                    + TRICKY.lstrip("\ufeff"), encoding="utf-8")
    bom = tmp_path / "bom.config"
    bom.write_text(path.read_text(encoding="utf-8").replace("[resilient]", "\ufeff[resilient]", 1), encoding="utf-8")
    for config in (path, bom):
        opts = AppArgumentParser(config_file=str(config)).parse_args(args=[])
        ours = read_app_config(str(config))
        for section in ("fn_openc2", "fn_openc2:fw1"):
            assert ours[section] == dict(opts[section]), section
    sections = read_app_config(str(path))
    assert sections["fn_openc2"]["protected_networks"] == "10.0.0.0/8 ; 172.16.0.0/12"
    assert sections["fn_openc2"]["signing_kid"] == "first\ncontinued"
    assert sections["fn_openc2:fw1"]["basic_auth_password"] == "abc #def"
    assert sections["fn_openc2:fw1"]["bearer_token"] == "tok-from-env"
    assert sections["fn_openc2:fw1"]["device_id"] == "tok-from-env-${OPENC2_TEST_UNSET}"


def test_an_inline_semicolon_is_a_loud_error_not_a_shorter_list(tmp_path: Path) -> None:
    path = tmp_path / "app.config"
    path.write_text("[fn_openc2]\nprotected_networks = 10.0.0.0/8 ; 172.16.0.0/12\n\n"
                    "[fn_openc2:fw1]\nurl = https://fw1.example.com/openc2\n")
    with pytest.raises(ConfigError) as info:
        settings_from_file(str(path))
    assert (info.value.section, info.value.key) == ("fn_openc2", "protected_networks")
    assert "'10.0.0.0/8 ; 172.16.0.0/12'" in str(info.value) and "only at the start of a line" in str(info.value)


def test_a_password_with_a_hash_is_kept_whole(tmp_path: Path) -> None:
    path = tmp_path / "app.config"
    path.write_text("[fn_openc2:fw1]\nurl = https://fw1.example.com/openc2\nbasic_auth_user = soar\n"
                    "basic_auth_password = abc #def\n")
    assert settings_from_file(str(path)).consumers["fw1"].basic_auth_password == "abc #def"


@pytest.mark.parametrize("text, expected", [
    ("[fn_openc2]\nproducer_id = a\nproducer_id = b\n", "is not an app.config: While reading"),
    ("producer_id = x\n[fn_openc2]\n", "line 1 comes before any [section] header"),
    ("[fn_openc2]\nthis line has no equals sign\n", "line 2 is not 'key = value'"),
])
def test_unreadable_files_are_config_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "app.config"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(expected)):
        settings_from_file(str(path))


def _fleet(size: int, **extra: str) -> dict[str, str]:
    return {"transport": "mqtt", "broker": "mqtts://broker.example.com:8883",
            "expected_responders": ",".join(f"ep{i}@fleet.example.com" for i in range(size)), **extra}


def test_the_answer_cap_follows_a_declared_fleet() -> None:
    """A fleet of 5,000 under the old fixed cap (1,000) ended collection after 1,000 answers and
    reported the other 4,000 as silent; unset, the cap leaves room for a 102 and a final answer each."""
    assert load_settings({"fn_openc2:edge": _fleet(2)}).consumers["edge"].max_answers == 1000
    assert load_settings({"fn_openc2:edge": _fleet(5000)}).consumers["edge"].max_answers == 10000
    assert load_settings({"fn_openc2:edge": _fleet(5000, max_answers="5000")}).consumers["edge"].max_answers == 5000


def test_an_answer_cap_below_the_declared_fleet_is_an_error() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"fn_openc2:edge": _fleet(1500, max_answers="1000")})
    assert (info.value.section, info.value.key) == ("fn_openc2:edge", "max_answers")
    assert "1000 is below the 1500 names in expected_responders" in str(info.value)


def test_credentials_in_a_tls_broker_url_are_an_error_not_dropped() -> None:
    """mqtts://user:pw@host used to connect without them (the client reads username/password keys only)."""
    with pytest.raises(ConfigError) as info:
        load_settings({"fn_openc2:edge": {"transport": "mqtt", "broker": "mqtts://soar:pw-secret@broker.example.com"}})
    assert (info.value.section, info.value.key) == ("fn_openc2:edge", "broker")
    assert "put them in the username and password keys" in str(info.value) and "pw-secret" not in str(info.value)
