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
        return transport.send(envelope()).replies
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


def test_a_certificate_for_another_name_is_refused(pki: Pki, peer) -> None:
    """The certificate must name the host in the URL: a trusted certificate for
    localhost/127.0.0.1 does not vouch for "127.1" (same address, other name)."""
    server = peer(lambda req: OK)
    url = server.url.replace("127.0.0.1", "127.1")
    assert url != server.url
    with pytest.raises(TransferError) as err:
        _send(url, verify=pki.ca_cert)
    assert err.value.kind == "tls" and "not valid for '127.1'" in err.value.detail, err.value.detail
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


# --- TLS 1.2 floor ------------------------------------------------------------------

def _tls11_only_server(pki: Pki):
    """A bare TLS 1.1-only listener (old ciphers need OpenSSL security level 0)."""
    import socket
    import ssl
    import threading
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    listener = socket.create_server(("127.0.0.1", 0))
    handshakes: list[str] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    handshakes.append(str(tls.version()))
                    tls.recv(65536)
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n{\"status\": 200}")
            except (OSError, ssl.SSLError) as exc:
                handshakes.append(f"refused: {type(exc).__name__}")
    threading.Thread(target=serve, daemon=True).start()
    return listener, handshakes


def test_tls_1_1_only_consumer_is_refused(pki: Pki) -> None:
    import socket
    import ssl
    import warnings

    listener, handshakes = _tls11_only_server(pki)
    port = listener.getsockname()[1]
    try:
        # control: the server really works for a client that still allows TLS 1.1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            old.set_ciphers("DEFAULT:@SECLEVEL=0")
            old.minimum_version = ssl.TLSVersion.TLSv1_1
            old.load_verify_locations(pki.ca_cert)
        with old.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                             server_hostname="127.0.0.1") as tls:
            assert tls.version() == "TLSv1.1"
            tls.sendall(b"x")
        with pytest.raises(TransferError) as err:
            _send(f"https://127.0.0.1:{port}", verify=pki.ca_cert)
    finally:
        listener.close()
    assert err.value.kind == "tls"
    assert "1 attempt" in err.value.detail                       # a TLS refusal is not retried


@pytest.mark.parametrize("proxies", [None, {"https": "http://127.0.0.1:3128"}])
def test_the_pool_pins_tls_1_2_as_the_minimum(pki: Pki, proxies: dict[str, str] | None) -> None:
    import ssl

    transport = HttpsTransport(HttpsSettings(url="https://127.0.0.1:9", verify=pki.ca_cert, retries=0,
                                             proxies=proxies), "fw1")
    try:
        transport._pool()   # made on first use
        manager = transport._shared.manager
        context = manager.connection_pool_kw["ssl_context"]
        assert context.minimum_version == ssl.TLSVersion.TLSv1_2
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert type(manager).__name__ == ("ProxyManager" if proxies else "PoolManager")
    finally:
        transport.close()


def test_a_missing_ca_file_is_a_config_error_at_send(tmp_path) -> None:
    transport = HttpsTransport(HttpsSettings(url="https://127.0.0.1:9", verify=str(tmp_path / "nope.pem"),
                                             retries=0), "fw1")
    try:
        with pytest.raises(TransferError) as err:
            transport.send(envelope())
    finally:
        transport.close()
    assert err.value.kind == "config" and "could not be loaded" in err.value.detail


# --- proxies (tests/fixtures/proxy.py) --------------------------------------------------------------------------

def test_https_goes_through_the_configured_proxy_with_mutual_tls(pki: Pki, peer) -> None:
    server = peer(lambda req: OK, client_ca=pki.ca_cert)
    from tests.fixtures.proxy import ConnectProxy

    proxy = ConnectProxy()
    try:
        replies = _send(server.url, verify=pki.ca_cert, client_cert=pki.client_cert, client_key=pki.client_key,
                        proxies={"https": proxy.url})
    finally:
        proxy.close()
    host_port = server.url.split("//", 1)[1]
    assert proxy.tunnels == [host_port]                            # the request went through the tunnel
    assert len(server.seen) == 1
    assert replies[0].message["body"]["openc2"]["response"]["status"] == 200


def test_unreachable_proxy_is_a_connect_error_naming_no_credentials(pki: Pki, peer) -> None:
    from fn_openc2.lib.transfer.broker import free_port

    server = peer(lambda req: OK)
    with pytest.raises(TransferError) as err:
        _send(server.url, verify=pki.ca_cert, proxies={"https": f"http://user:s3cret@127.0.0.1:{free_port()}"})
    assert err.value.kind == "connect" and "s3cret" not in str(err.value)
    assert server.seen == []


def test_proxy_credentials_go_to_the_proxy_only(pki: Pki, peer) -> None:
    """user:password in the proxy URL becomes Proxy-Authorization on the CONNECT (RFC 9110
    section 11.7.2), percent-decoded; the consumer never sees it."""
    import base64

    from tests.fixtures.proxy import ConnectProxy

    server = peer(lambda req: OK)
    proxy = ConnectProxy()
    try:
        _send(server.url, verify=pki.ca_cert, proxies={"https": proxy.url.replace("http://", "http://u%40x:p%3Aw@")})
    finally:
        proxy.close()
    (head,) = proxy.heads
    expected = b"Proxy-Authorization: Basic " + base64.b64encode(b"u@x:p:w")
    assert expected.lower() in head.lower()
    assert not any(k.lower().startswith("proxy-") for k in server.seen[0].headers)
    assert "Authorization" not in server.seen[0].headers


def test_plain_http_consumer_goes_through_a_forwarding_proxy(peer) -> None:
    """A plain-http consumer (test consumers only) behind an HTTP proxy: the request goes in
    absolute form to the proxy with Proxy-Authorization (RFC 9112 section 3.2.2, RFC 9110
    section 11.7.2) and no Authorization header, so nothing of the proxy's reaches the consumer."""
    import base64

    from tests.fixtures.proxy import ConnectProxy

    server = peer(lambda req: OK, cert=None, key=None)
    assert server.url.startswith("http://")
    proxy = ConnectProxy()
    try:
        replies = _send(server.url + "/.well-known/openc2",
                        proxies={"http": proxy.url.replace("http://", "http://u%40x:p%3Aw@")})
    finally:
        proxy.close()
    assert proxy.forwards == [server.url + "/.well-known/openc2"] and proxy.tunnels == []
    (head,) = proxy.heads
    assert (b"Proxy-Authorization: Basic " + base64.b64encode(b"u@x:p:w")).lower() in head.lower()
    # the proxy's credentials travel only as Proxy-Authorization (which a proxy consumes, as ours
    # does), never as an Authorization header that would be passed on to the consumer
    assert b"\r\nauthorization:" not in head.lower()
    (seen,) = server.seen
    assert "Authorization" not in seen.headers
    assert replies[0].message["body"]["openc2"]["response"]["status"] == 200
