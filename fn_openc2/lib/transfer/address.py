"""MQTT broker addresses: one grammar for the app's config, the MQTT transport and the CLI.

Three readers of the same value used to apply three slightly different rules
(one took ``tcp://``, one a bare host without a port, one neither); what the
config check accepted is now exactly what the transport connects to. Reasons
never repeat the value: it may carry a password, and each caller shows it
masked in its own way.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fn_openc2.lib.transfer.https import mask_url

BROKER_FORMS = "mqtts://HOST[:PORT], mqtt://HOST[:PORT] or HOST[:PORT]"
PLAIN_PORT = 1883   # IANA "mqtt"
TLS_PORT = 8883     # IANA "secure-mqtt"


@dataclass(frozen=True)
class BrokerAddress:
    """Where a broker listens and whether the connection is TLS."""

    host: str
    port: int
    tls: bool
    credentials: bool = False   # a user name or password was written into the address

    @property
    def url(self) -> str:
        """mqtts://host:port or mqtt://host:port (IPv6 bracketed): how messages name the broker."""
        return broker_url(self.host, self.port, self.tls)


def shown_broker(raw: str) -> str:
    """The address as given, for messages, with a user name or password written into it masked
    (with or without a scheme: ``mask_url`` alone misses ``user:pw@host:1883``)."""
    value = raw.strip()
    if "://" in value:
        return mask_url(value)
    return mask_url(f"mqtt://{value}").removeprefix("mqtt://")


def broker_url(host: str, port: int, tls: bool) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{'mqtts' if tls else 'mqtt'}://{shown}:{port}"


def broker_address(raw: str, *, tls_hint: bool = False) -> BrokerAddress:
    """Parse a broker address; ValueError(reason) otherwise.

    ``mqtts://`` is TLS; ``mqtt://`` and ``HOST[:PORT]`` are TLS when ``tls_hint``
    says TLS settings (a CA, a client certificate) came with them. No port: 8883
    with TLS, 1883 without.
    """
    value = raw.strip()
    parts = urlsplit(value if "://" in value else f"mqtt://{value}")
    try:
        port = parts.port
    except ValueError:          # not a number, or beyond 65535
        raise ValueError(f"expected {BROKER_FORMS} (a port is a number from 1 to 65535)") from None
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"expected {BROKER_FORMS}")
    if port == 0:
        raise ValueError(f"expected {BROKER_FORMS} (a port is a number from 1 to 65535)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"expected {BROKER_FORMS} without a path or query (MQTT has no URL path; "
                         "the topic is its own key)")
    tls = parts.scheme == "mqtts" or tls_hint
    return BrokerAddress(host=parts.hostname, port=port or (TLS_PORT if tls else PLAIN_PORT), tls=tls,
                         credentials=parts.username is not None or parts.password is not None)
