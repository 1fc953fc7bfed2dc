"""The reference consumer: an honest SLPF/ER actuator simulator over HTTPS and MQTT."""
from __future__ import annotations

from fn_openc2.lib.consumer.actuator import Actuator
from fn_openc2.lib.consumer.https_server import HttpsConsumerServer, RequestLog

# pylint: disable-next=undefined-all-variable  # MqttConsumer, Fleet: provided by the module __getattr__ (loaded on first use)
__all__ = ["Actuator", "HttpsConsumerServer", "RequestLog", "MqttConsumer", "Fleet"]


def __getattr__(name: str) -> object:
    """MQTT pieces load paho only when asked for."""
    if name in ("MqttConsumer", "Fleet"):
        from fn_openc2.lib.consumer import mqtt_consumer
        return getattr(mqtt_consumer, name)
    raise AttributeError(name)
