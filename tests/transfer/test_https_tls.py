"""TLS: verification against the consumer's CA, refusal of strangers, mutual TLS."""
from __future__ import annotations

import pytest

from fn_openc2.lib.transfer import HttpsSettings, HttpsTransport, TransferError
from fn_openc2.lib.transfer.devpki import Pki
from tests.transfer.conftest import envelope
from tests.transfer.oc2server import Answer

OK = Answer(200, {"status": 200})


def _send(url: str, **kw: object) -> list:
    transport = HttpsTransport(HttpsSettings(url=url, retries=0, timeout=5, **kw), "fw1")  # type: ignore[arg-type]
    try:
        return transport.send(envelope())
    finally:
        transport.close()


def test_verification_with_the_consumer_ca_succeeds(pki: Pki, peer) -> None:
    server = peer(lambda req: OK)
    assert _send(server.url, verify=pki.ca_cert)[0].message["body"]["openc2"]["response"]["status"] == 200


def test_default_verification_refuses_a_certificate_from_an_unknown_ca(pki: Pki, peer) -> None:
    """verify=True uses the system store, which does not know the dev CA."""
    server = peer(lambda req: OK)
    with pytest.raises(TransferError) as err:
        _send(server.url)
    assert err.value.kind == "tls"
    assert server.seen == []


def test_untrusted_server_certificate_is_refused(pki: Pki, peer) -> None:
    server = peer(lambda req: OK, cert=pki.other_server_cert, key=pki.other_server_key)
    with pytest.raises(TransferError) as err:
        _send(server.url, verify=pki.ca_cert)
    assert err.value.kind == "tls"
    assert "fw1" in err.value.detail and server.url in err.value.detail
    assert server.seen == []


def test_mutual_tls_works_with_the_client_certificate(pki: Pki, peer) -> None:
    server = peer(lambda req: OK, client_ca=pki.ca_cert)
    replies = _send(server.url, verify=pki.ca_cert, client_cert=pki.client_cert, client_key=pki.client_key)
    assert replies[0].message["body"]["openc2"]["response"]["status"] == 200


def test_mutual_tls_fails_without_the_client_certificate(pki: Pki, peer) -> None:
    server = peer(lambda req: OK, client_ca=pki.ca_cert)
    with pytest.raises(TransferError) as err:
        _send(server.url, verify=pki.ca_cert)
    assert err.value.kind in ("tls", "reset")  # TLS 1.3 reports the refusal after the handshake
    assert server.seen == []


def test_bearer_token_is_sent_and_never_in_error_text(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(200, b"<html>oops</html>"))
    with pytest.raises(TransferError) as err:
        _send(server.url, verify=pki.ca_cert, bearer_token="s3cr3t-token")
    assert server.seen[0].headers["Authorization"] == "Bearer s3cr3t-token"
    assert "s3cr3t" not in str(err.value)
