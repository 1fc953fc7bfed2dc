"""The app's settings (``AppSettings``: the producer and its consumers), loaded from app.config sections.

``[fn_openc2]`` holds producer-wide settings and defaults; each
``[fn_openc2:<name>]`` section describes one consumer. The accepted keys live
in exactly one place, the fields of ``ProducerSettings`` / ``ConsumerSettings``
(``CONFIG_KEYS_PRODUCER`` / ``CONFIG_KEYS_CONSUMER`` are derived from them, and
tools/make_config_doc.py writes the README tables and the app.config template
from those), and every bad, missing or unknown key fails at load time with the
section and key named.
"""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from requests.utils import get_environ_proxies

from fn_openc2.lib.producer import parsers as p
from fn_openc2.lib.producer.errors import ConfigError
from fn_openc2.lib.security.algorithms import ALGORITHMS, DEFAULT_ALGORITHM
from fn_openc2.lib.transfer.dialects import DIALECTS as _DIALECTS
from fn_openc2.lib.transfer.dialects import ENVELOPES, PROFILE_ENCODINGS, STATUS_PLACES
from fn_openc2.lib.transfer.https import url_path_conflict
from fn_openc2.lib.transfer.model import COMMAND_TOPIC, MAX_ANSWER_BYTES, MAX_ANSWERS, PRODUCER_ID

SECTION = "fn_openc2"
CONSUMER_PREFIX = "fn_openc2:"
INTEGRATIONS = "integrations"

SIGNING_ALGORITHMS = ALGORITHMS
DIALECTS = tuple(_DIALECTS)
TRANSPORTS = ("https", "mqtt")


@dataclass(frozen=True)
class KeySpec:
    """One app.config key: how to parse it, its default, and what it means."""

    parser: p.Parser
    doc: str
    default: Any = None
    secret: bool = False
    transports: tuple[str, ...] = TRANSPORTS  # consumer keys only: where the key applies
    sample: str | None = None  # a value the config template shows (commented out unless the key has no default)


_HTTPS = ("https",)
_MQTT = ("mqtt",)
_KEY = "fn_openc2.key"


def key(parser: p.Parser, doc: str, default: Any = None, *, secret: bool = False,
        transports: tuple[str, ...] = TRANSPORTS, inherited: Any = None, sample: str | None = None) -> Any:
    """A settings field that is also an app.config key: the dataclass is the one source of the key's
    name, parser, default and meaning (CONFIG_KEYS_* , the README tables and the config template are
    derived from it). ``inherited``: the field's default comes from [fn_openc2] (the key has none)."""
    spec = KeySpec(parser, doc, default, secret, transports, sample)
    value = default if inherited is None else inherited
    return field(default=value, repr=not secret, metadata={_KEY: spec})  # pylint: disable=invalid-field-call  # a field factory: only called as a dataclass field default


def config_keys(settings: type) -> Mapping[str, KeySpec]:
    """The app.config keys of a settings dataclass, in field order."""
    return MappingProxyType({f.name: f.metadata[_KEY] for f in fields(settings) if _KEY in f.metadata})


Network = ipaddress.IPv4Network | ipaddress.IPv6Network  # pylint: disable=unsupported-binary-operation  # runtime union: the app needs Python 3.11 (python_requires); the SDK's pylintrc assumes py-version 3.6


@dataclass(frozen=True)
class ProducerSettings:
    """Producer-wide settings and the defaults consumers inherit ([fn_openc2])."""

    producer_id: str = key(p.parse_text, "headers.from of every command (and the MQTT oc2/rsp/<producer_id> topic)",
                           PRODUCER_ID)
    default_consumers: tuple[str, ...] = key(p.parse_list, "comma list of consumer names used when a function "
                                             "names none", (), sample="fw1")
    protected_networks: tuple[Network, ...] = key(p.parse_networks, "comma list of CIDR networks that are never "
                                                  "denied, contained, stopped or otherwise cut off", (),
                                                  sample="10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16")
    protect_special_addresses: bool = key(p.parse_bool, "refuse cutting off loopback (and localhost names), "
                                          "link-local, multicast and unspecified addresses", True)
    protect_consumer_addresses: bool = key(p.parse_bool, "refuse cutting off the configured consumers' own "
                                           "addresses, names and device ids", True)
    allow_min_prefix_ipv4: int = key(p.prefix_length(32), "allow (and ER permitted_addresses) of an IPv4 range "
                                     "wider than this prefix length is refused; 0 permits everything", 8)
    allow_min_prefix_ipv6: int = key(p.prefix_length(128), "allow of an IPv6 range wider than this prefix length "
                                     "is refused; 0 permits everything", 32)
    consumer_dns_refresh: float = key(p.parse_seconds_or_off, "seconds between re-resolving the consumers' host "
                                      "names for the guard (0: never; failures are logged as errors)", 300.0)
    signing_key: str | None = key(p.parse_file, "PEM private key: sign every command (JWS detached over JCS)",
                                  sample="/etc/rescircuits/producer.pem")
    signing_key_password: str | None = key(p.parse_secret, "password of signing_key, if it is encrypted",
                                           secret=True, sample="$OPENC2_SIGNING_PASSWORD")
    signing_alg: str = key(p.choice_exact(*SIGNING_ALGORITHMS), "JWS algorithm for signing_key", DEFAULT_ALGORITHM)
    signing_kid: str | None = key(p.parse_text, "optional JWS kid header naming the signing key",
                                  sample="soar-2025")
    max_concurrency: int = key(p.parse_positive_int, "most messages in flight at once (single and bulk sends)", 8)
    timeout: float = key(p.parse_seconds, "default per-request timeout in seconds for consumers", 30.0)
    retries: int = key(p.parse_count, "default number of HTTPS retries (same request_id)", 2)
    collect_seconds: float = key(p.parse_seconds, "default MQTT response collection window in seconds", 10.0)
    http_proxy: str | None = key(p.parse_proxy, "default proxy for http:// consumers (overrides [integrations])",
                                 secret=True, sample="http://proxy.example.com:3128")
    https_proxy: str | None = key(p.parse_proxy, "default proxy for https:// consumers (overrides [integrations])",
                                  secret=True, sample="http://proxy.example.com:3128")
    write_note: bool = key(p.parse_bool, "write one incident note per command", True)
    write_table: bool = key(p.parse_bool, "write one openc2_commands data-table row per consumer answer", True)
    ui_lock: bool = key(p.parse_bool, "leave the SOAR UI alone at start-up: no OpenC2 incident tab, no consumer "
                                      "choices in the menu forms (resilient-lib's switch)", False)
    soar_timeout: float = key(p.parse_seconds, "timeout in seconds of every SOAR REST call the app makes", 30.0)
    writeback_budget: float = key(p.parse_seconds, "seconds one function may spend retrying failed SOAR writes "
                                  "(with backoff); what is still unwritten then is reported", 120.0)
    rows_per_command: int = key(p.parse_positive_int, "openc2_commands rows per (command, consumer), one per "
                                "responder; beyond it one summary row", 50)


_INHERIT = ProducerSettings()  # the defaults a consumer takes from [fn_openc2] when neither section sets them


@dataclass(frozen=True)
class ConsumerSettings:
    """One consumer as configured ([fn_openc2:<name>]); transports are built from this."""

    name: str
    transport: str = key(p.choice(*TRANSPORTS), "https or mqtt", "https")
    url: str | None = key(p.parse_https_url, "consumer endpoint, e.g. https://fw1.example.com/.well-known/openc2",
                          transports=_HTTPS)
    dialect: str = key(p.choice(*DIALECTS), "HTTPS transfer dialect", "https-v1.1", transports=_HTTPS)
    path: str | None = key(p.parse_path, "override the dialect's request path", transports=_HTTPS,
                           sample="/.well-known/openc2")
    content_type: str | None = key(p.parse_text, "override the dialect's Content-Type", transports=_HTTPS,
                                   sample="application/openc2+json;version=1.0")
    accept: str | None = key(p.parse_text, "override the dialect's Accept header", transports=_HTTPS,
                             sample="application/openc2+json;version=1.0")
    envelope: str | None = key(p.choice(*ENVELOPES), "override the body form: full (LS Message), bare (Command "
                               "alone) or openc2-only ({\"openc2\": ...} with headers as HTTP headers)",
                               transports=_HTTPS, sample="full")
    status_in: str | None = key(p.choice(*STATUS_PLACES), "override where the OpenC2 status is read: body or http",
                                transports=_HTTPS, sample="body")
    profile_encoding: str | None = key(p.choice(*PROFILE_ENCODINGS), "how the command's profile is encoded: "
                                       "string (v2.0 \"slpf\"), object ({\"slpf\": {}}) or actuator (LS v1.0)",
                                       sample="string")
    verify: bool | str = key(p.parse_verify, "true, false or a CA bundle path to verify the consumer's certificate",
                             True)
    client_auth_cert: str | None = key(p.parse_file, "PEM client certificate for mutual TLS",
                                       sample="/etc/rescircuits/soar.crt")
    client_auth_key: str | None = key(p.parse_file, "PEM private key of client_auth_cert",
                                      sample="/etc/rescircuits/soar.key")
    bearer_token: str | None = key(p.parse_secret, "HTTP bearer token", secret=True, transports=_HTTPS,
                                   sample="$OPENC2_FW1_TOKEN")
    basic_auth_user: str | None = key(p.parse_text, "HTTP basic auth user (with basic_auth_password)",
                                      transports=_HTTPS, sample="soar")
    basic_auth_password: str | None = key(p.parse_secret, "HTTP basic auth password", secret=True,
                                          transports=_HTTPS, sample="$OPENC2_FW1_PASSWORD")
    http_proxy: str | None = key(p.parse_proxy, "proxy for http:// (overrides [fn_openc2])", secret=True,
                                 transports=_HTTPS, sample="http://proxy.example.com:3128")
    https_proxy: str | None = key(p.parse_proxy, "proxy for https:// (overrides [fn_openc2])", secret=True,
                                  transports=_HTTPS, sample="http://proxy.example.com:3128")
    timeout: float = key(p.parse_seconds, "per-request timeout in seconds (default: [fn_openc2] timeout)",
                         inherited=_INHERIT.timeout)
    retries: int = key(p.parse_count, "HTTPS retries reusing the request_id (default: [fn_openc2] retries)",
                       transports=_HTTPS, inherited=_INHERIT.retries)
    profiles: tuple[str, ...] = key(p.parse_list, "comma list of actuator profiles this consumer serves", (),
                                    sample="slpf")
    query_profile: str | None = key(p.parse_text, "profile that query features carries, in this consumer's "
                                    "profile_encoding (default: the first of profiles; none: no profile)",
                                    sample="none")
    max_answer_bytes: int = key(p.parse_positive_int, "largest answer read, in bytes once decoded (larger or "
                                "compression bombs are refused)", MAX_ANSWER_BYTES)
    max_answers: int = key(p.parse_positive_int, "most answers counted for one command on an MQTT topic",
                           MAX_ANSWERS, transports=_MQTT)
    response_verify_key: str | None = key(p.parse_file, "PEM public key: verify signed responses from this "
                                          "consumer", sample="/etc/rescircuits/<name>.pub")
    device_id: str | None = key(p.parse_text, "headers.to for this consumer (default: the section's name)",
                                sample="<name>.example.com")
    rate_limit: float | None = key(p.parse_rate, "most commands per minute sent to this consumer", sample="60")
    broker: str | None = key(p.parse_broker, "mqtts://host:port (mqtt://host:port for tests)", transports=_MQTT)
    topic: str = key(p.parse_topic, "command topic", COMMAND_TOPIC, transports=_MQTT)
    expected_responders: tuple[str, ...] = key(p.parse_list, "comma list of headers.from values expected to "
                                               "answer", (), transports=_MQTT)
    collect_seconds: float = key(p.parse_seconds, "response collection window (default: [fn_openc2])",
                                 transports=_MQTT, inherited=_INHERIT.collect_seconds)
    username: str | None = key(p.parse_text, "MQTT user name", transports=_MQTT, sample="soar")
    password: str | None = key(p.parse_secret, "MQTT password", secret=True, transports=_MQTT,
                               sample="$OPENC2_MQTT_PASSWORD")
    ca: str | None = key(p.parse_file, "PEM CA bundle for the broker's certificate", transports=_MQTT,
                         sample="/etc/rescircuits/broker-ca.pem")
    client_id: str | None = key(p.parse_text, "MQTT client id (default: generated)", transports=_MQTT,
                                sample="soar-openc2")
    proxies: dict[str, str | None] | None = field(default=None, repr=False)  # resolved from the three layers

    @property
    def features_profile(self) -> str | None:
        """The profile ``query features`` carries to this consumer (None: none)."""
        if self.query_profile is not None:
            return None if self.query_profile.lower() == "none" else self.query_profile
        return self.profiles[0] if self.profiles else None

    def __repr__(self) -> str:
        """Every field but the secrets; URLs with their user:password@ and query values masked."""
        shown = []
        for item in fields(self):
            if not item.repr:
                continue
            value = getattr(self, item.name)
            if item.name in ("url", "broker") and isinstance(value, str):
                value = p.mask_url(value)
            shown.append(f"{item.name}={value!r}")
        return f"ConsumerSettings({', '.join(shown)})"

    @property
    def recipient(self) -> str:
        """The headers.to value: the device id when configured, else the name."""
        return self.device_id or self.name

    @property
    def host(self) -> str:
        """Host name or IP literal this consumer is reached at."""
        return p.host_of_url(self.url or self.broker or "")


@dataclass(frozen=True)
class AppSettings:
    """What app.config says: the producer's settings and every configured consumer by name."""

    producer: ProducerSettings
    consumers: dict[str, ConsumerSettings]

    def consumer(self, name: str) -> ConsumerSettings:
        try:
            return self.consumers[name]
        except KeyError:
            known = ", ".join(sorted(self.consumers)) or "none configured"
            raise KeyError(f"unknown consumer {name!r} (known: {known})") from None


CONFIG_KEYS_PRODUCER: Mapping[str, KeySpec] = config_keys(ProducerSettings)
CONFIG_KEYS_CONSUMER: Mapping[str, KeySpec] = config_keys(ConsumerSettings)


def _parse_section(section: str, raw: Mapping[str, Any], table: Mapping[str, KeySpec],
                   transport: str | None = None) -> dict[str, Any]:
    """Typed values for the keys present in one section; unknown keys fail."""
    values: dict[str, Any] = {}
    for key, text in raw.items():
        spec = table.get(key)
        if spec is None:
            raise ConfigError(section, key, f"unknown key (expected one of: {', '.join(sorted(table))})")
        text = "" if text is None else str(text)
        if text.strip() == "":
            continue  # "key =" with no value means unset: the default applies, required keys fail later
        if transport is not None and transport not in spec.transports:
            raise ConfigError(section, key, f"not used with transport = {transport} "
                                            f"(only with {' or '.join(spec.transports)})")
        try:
            values[key] = spec.parser(text)
        except ValueError as exc:
            hint = ""
            if not spec.secret and (" ;" in text or " #" in text):
                hint = " (in app.config ';' and '#' start a comment only at the start of a line)"
            raise ConfigError(section, key, f"{exc}{hint}") from None
    return values


def _proxies(url: str | None, *layers: Mapping[str, Any]) -> dict[str, str | None] | None:
    """resilient-lib's RequestsCommon.get_proxies rule: environment proxies win,
    else the most specific section that sets either proxy supplies both.

    The environment is resolved here, for this consumer's URL (NO_PROXY
    honoured), because the transport's sessions do not read the environment:
    there REQUESTS_CA_BUNDLE would silently replace the consumer's CA."""
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")):
        return dict(get_environ_proxies(url)) if url else None
    chosen: dict[str, str | None] | None = None
    for layer in layers:  # least specific first
        if layer.get("http_proxy") or layer.get("https_proxy"):
            chosen = {"http": layer.get("http_proxy"), "https": layer.get("https_proxy")}
    return chosen


def _load_producer(sections: Mapping[str, Mapping[str, Any]]) -> ProducerSettings:
    values = _parse_section(SECTION, sections.get(SECTION, {}), CONFIG_KEYS_PRODUCER)
    if "signing_key_password" in values and "signing_key" not in values:
        raise ConfigError(SECTION, "signing_key_password", "set without signing_key")
    return ProducerSettings(**values)


def _require(section: str, values: Mapping[str, Any], key: str, why: str) -> None:
    if key not in values:
        raise ConfigError(section, key, f"missing: required {why}")


def _load_consumer(section: str, raw: Mapping[str, Any], producer: ProducerSettings,
                   integrations: Mapping[str, Any]) -> ConsumerSettings:
    name = section[len(CONSUMER_PREFIX):].strip()
    if not name:
        raise ConfigError(section, None, "consumer section needs a name after 'fn_openc2:'")
    transport_raw = raw.get("transport", "https")
    try:
        transport = str(CONFIG_KEYS_CONSUMER["transport"].parser(transport_raw or "https"))
    except ValueError as exc:
        raise ConfigError(section, "transport", str(exc)) from None
    values = _parse_section(section, raw, CONFIG_KEYS_CONSUMER, transport)
    values["transport"] = transport
    if transport == "https":
        _require(section, values, "url", "for transport = https (the consumer's https:// URL)")
        conflict = url_path_conflict(values["url"], values.get("path"))
        if conflict:
            raise ConfigError(section, "path", conflict)
    else:
        _require(section, values, "broker", "for transport = mqtt (mqtts://host:port)")
    if ("client_auth_cert" in values) != ("client_auth_key" in values):
        missing = "client_auth_key" if "client_auth_cert" in values else "client_auth_cert"
        raise ConfigError(section, missing, "missing: client_auth_cert and client_auth_key go together")
    if ("basic_auth_user" in values) != ("basic_auth_password" in values):
        missing = "basic_auth_password" if "basic_auth_user" in values else "basic_auth_user"
        raise ConfigError(section, missing, "missing: basic_auth_user and basic_auth_password go together")
    if "bearer_token" in values and "basic_auth_user" in values:
        raise ConfigError(section, "bearer_token", "set together with basic_auth_user: choose one")
    if ("username" in values) != ("password" in values) and "password" in values:
        raise ConfigError(section, "username", "missing: password is set without username")
    if transport == "mqtt" and "verify" in values and isinstance(values["verify"], str):
        values.setdefault("ca", values["verify"])
        values["verify"] = True
    _refuse_credentials_in_clear(section, transport, values)
    values.setdefault("timeout", producer.timeout)
    values.setdefault("retries", producer.retries)
    values.setdefault("collect_seconds", producer.collect_seconds)
    proxies = _proxies(values.get("url"), integrations,
                       {"http_proxy": producer.http_proxy, "https_proxy": producer.https_proxy},
                       {"http_proxy": values.get("http_proxy"), "https_proxy": values.get("https_proxy")})
    if transport == "https":
        values["proxies"] = proxies
    return ConsumerSettings(name=name, **values)


#: Query parameters that carry a credential (sent in clear over http://).
_CREDENTIAL_PARAMS = frozenset({"token", "access_token", "api_key", "apikey", "key", "secret", "password", "pass",
                                "pwd", "auth", "sig", "signature", "code", "client_secret"})


def _refuse_credentials_in_clear(section: str, transport: str, values: Mapping[str, Any]) -> None:
    """A secret sent without TLS is a secret given away: refuse the combination at load time."""
    if transport == "https":
        parts = urlsplit(values["url"])
        if parts.scheme != "http":
            return
        for key in ("bearer_token", "basic_auth_user", "basic_auth_password"):
            if key in values:
                raise ConfigError(section, key, f"would be sent in clear to {p.mask_url(values['url'])}: "
                                                "use an https:// url (plain http:// is for test consumers only)")
        if parts.username is not None or parts.password is not None:
            raise ConfigError(section, "url", f"{p.mask_url(values['url'])} carries credentials that would be sent "
                                              "in clear: use https://")
        names = {name.lower() for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
        if names & _CREDENTIAL_PARAMS:
            raise ConfigError(section, "url", f"{p.mask_url(values['url'])} carries a credential "
                                              f"({', '.join(sorted(names & _CREDENTIAL_PARAMS))}) that would be "
                                              "sent in clear: use https://")
        return
    broker = values["broker"]
    parts = urlsplit(broker if "://" in broker else f"mqtt://{broker}")
    tls = parts.scheme == "mqtts" or "ca" in values or "client_auth_cert" in values
    if tls:
        return
    for key in ("password", "username"):
        if key in values:
            raise ConfigError(section, key, f"would be sent in clear to {p.mask_url(broker)} (MQTT without TLS): "
                                            "use mqtts:// (plain mqtt:// is for test brokers only)")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(section, "broker", f"{p.mask_url(broker)} carries credentials that would be sent in "
                                             "clear: use mqtts://")


def load_settings(sections: Mapping[str, Mapping[str, Any]]) -> AppSettings:
    """The app's settings from app.config sections ({section: {key: str}})."""
    producer = _load_producer(sections)
    integrations = sections.get(INTEGRATIONS) or {}
    consumers: dict[str, ConsumerSettings] = {}
    recipients: dict[str, str] = {}
    for section in sections:
        if not section.startswith(CONSUMER_PREFIX):
            continue
        consumer = _load_consumer(section, sections[section], producer, integrations)
        if consumer.name in consumers:
            raise ConfigError(section, None, f"consumer {consumer.name!r} is configured twice")
        same = [n for n in consumers if n.casefold() == consumer.name.casefold()]
        if same:  # a playbook naming "FW1" would reach the one and silently miss the other
            raise ConfigError(section, None, f"consumer {consumer.name!r} differs from [fn_openc2:{same[0]}] "
                                             "only by case: rename one")
        if consumer.recipient in recipients:
            raise ConfigError(section, "device_id", f"{consumer.recipient!r} is already the id of "
                                                    f"[fn_openc2:{recipients[consumer.recipient]}]")
        consumers[consumer.name] = consumer
        recipients[consumer.recipient] = consumer.name
    for name in producer.default_consumers:
        if name not in consumers:
            known = ", ".join(sorted(consumers)) or "none configured"
            raise ConfigError(SECTION, "default_consumers", f"names unknown consumer {name!r} (known: {known})")
    return AppSettings(producer=producer, consumers=consumers)


def settings_from_file(path: str) -> AppSettings:
    """Read an app.config file as the app does (``appconfig.read_app_config``) and load it (for the CLI)."""
    from fn_openc2.lib.producer.appconfig import read_app_config

    sections = read_app_config(path)
    if SECTION not in sections and not any(s.startswith(CONSUMER_PREFIX) for s in sections):
        raise ConfigError(SECTION, None, f"no [fn_openc2] or [fn_openc2:<name>] section in {path}")
    return load_settings(sections)


#: Former names, kept for the many call sites and scripts ("registry" also names the profile registry).
Registry = AppSettings
load_registry = load_settings
registry_from_file = settings_from_file
