"""The app's settings: ``ProducerSettings``, ``ConsumerSettings`` and ``AppSettings`` (the producer and its consumers).

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from fn_openc2.lib.producer import parsers as p
from fn_openc2.lib.security.algorithms import ALGORITHMS, DEFAULT_ALGORITHM
from fn_openc2.lib.transfer.dialects import DIALECTS as _DIALECTS
from fn_openc2.lib.transfer.dialects import ENVELOPES, PROFILE_ENCODINGS, STATUS_PLACES
from fn_openc2.lib.transfer.https import mask_url
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
    client_auth_key_password: str | None = key(p.parse_secret, "password of client_auth_key, if it is encrypted",
                                               secret=True, sample="$OPENC2_FW1_KEY_PASSWORD")
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
    max_answers: int = key(p.parse_positive_int, "most answers counted for one command on an MQTT topic "
                           "(default: 1000, or twice the number of expected_responders when larger)",
                           MAX_ANSWERS, transports=_MQTT)
    response_verify_key: str | None = key(p.parse_file, "PEM public key: verify signed responses from this "
                                          "consumer", sample="/etc/rescircuits/<name>.pub")
    device_id: str | None = key(p.parse_text, "headers.to for this consumer (default: the section's name)",
                                sample="<name>.example.com")
    rate_limit: float | None = key(p.parse_rate, "most commands per minute sent to this consumer", sample="60")
    broker: str | None = key(p.parse_broker, "mqtts://host[:port] (TLS, 8883 by default); mqtt://host[:port] "
                             "and host[:port] are plain MQTT (1883) for test brokers, TLS when ca or "
                             "client_auth_cert is set", transports=_MQTT)
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
                value = mask_url(value)
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
            raise KeyError(f"unknown consumer {name!r} (known: {known_consumers(self.consumers)})") from None


def known_consumers(names: Iterable[str]) -> str:
    """The configured consumer names for an error message: sorted, or "none configured"."""
    return ", ".join(sorted(names)) or "none configured"


CONFIG_KEYS_PRODUCER: Mapping[str, KeySpec] = config_keys(ProducerSettings)
CONFIG_KEYS_CONSUMER: Mapping[str, KeySpec] = config_keys(ConsumerSettings)
