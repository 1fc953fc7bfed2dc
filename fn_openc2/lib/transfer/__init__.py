"""Transfer layer: moves Message envelopes over HTTPS and MQTT v5."""
from __future__ import annotations

from fn_openc2.lib.transfer.dialects import DIALECTS, Dialect, adapt_command, resolve_dialect
from fn_openc2.lib.transfer.https import HttpsSettings, HttpsTransport
from fn_openc2.lib.transfer.model import Collected, Delivery, Reply, TransferError
from fn_openc2.lib.transfer.mqtt import MqttSettings, MqttTransport

__all__ = ["DIALECTS", "Collected", "Delivery", "Dialect", "HttpsSettings", "HttpsTransport", "MqttSettings",
           "MqttTransport", "Reply", "TransferError", "adapt_command", "resolve_dialect"]
