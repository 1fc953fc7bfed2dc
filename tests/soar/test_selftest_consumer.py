"""selftest_function against the reference consumer over real HTTPS (mutual
TLS) and a consumer that is down: the real producer, no stubs."""
from __future__ import annotations

import socket

from fn_openc2.util.selftest import selftest_function


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _opts(consumer, pki, extra=None):
    opts = {"resilient": {"host": "soar.example.com"},
            "fn_openc2": {"producer_id": "soar@example.com", "retries": "0", "timeout": "3"},
            "fn_openc2:fw1": {"url": consumer.url, "verify": consumer.ca, "client_auth_cert": consumer.client_cert,
                              "client_auth_key": consumer.client_key, "response_verify_key": consumer.public_key}}
    opts.update(extra or {})
    return opts


def test_reachable_consumer(reference_consumer, pki):
    result = selftest_function(_opts(reference_consumer, pki))
    assert result == {"state": "success", "reason": "fw1: fw1@example.com reachable (versions: 2.0)"}
    assert reference_consumer.server.request_log.count == 1


def test_down_consumer_is_named(reference_consumer, pki):
    down = {"fn_openc2:down": {"url": f"https://127.0.0.1:{_free_port()}/.well-known/openc2", "verify": pki.ca_cert}}
    result = selftest_function(_opts(reference_consumer, pki, down))
    assert result["state"] == "failure"
    assert result["reason"].startswith("failing consumers: down. down: down unreachable or failing (connect: ")
    assert "fw1: fw1@example.com reachable (versions: 2.0)" in result["reason"]


def test_bad_config_names_section_and_key(reference_consumer, pki):
    result = selftest_function(_opts(reference_consumer, pki, {"fn_openc2:fw2": {"url": "ftp://x"}}))
    assert result["state"] == "failure"
    assert result["reason"].startswith("app.config is not valid: [fn_openc2:fw2] url: ")
