"""HttpsTransport prepares each consumer's request once and sends through its
urllib3 pool: what reaches the consumer must be what requests' Session.post sends."""
from __future__ import annotations

import base64

import pytest
import requests

from fn_openc2.lib.transfer import HttpsSettings, HttpsTransport, TransferError
from fn_openc2.lib.transfer.devpki import Pki
from tests.transfer.conftest import envelope
from tests.transfer.oc2server import Answer

OK = {"headers": {"from": "fw1"}, "body": {"openc2": {"response": {"status": 200}}}}
VOLATILE = {"date", "x-request-id", "content-length"}


def _wire(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in VOLATILE}


def test_headers_are_those_a_session_post_sends(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(200, OK))
    with HttpsTransport(HttpsSettings(url=server.url, verify=pki.ca_cert, bearer_token="t0k"), "fw1") as transport:
        message = envelope()
        transport.send(message)
        with requests.Session() as session:
            session.trust_env = False
            session.post(transport.url, data=server.seen[0].body, verify=pki.ca_cert,
                         headers={"Content-Type": transport.dialect.content_type, "Accept": transport.dialect.accept,
                                  "Cache-Control": "no-cache", "Authorization": "Bearer t0k",
                                  "X-Request-ID": "x", "Date": "x"})
    ours, reference = server.seen
    assert _wire(ours.headers) == _wire(reference.headers)
    assert ours.headers["X-Request-ID"] == message["headers"]["request_id"]
    assert ours.headers["Content-Length"] == str(len(ours.body))
    assert ours.headers["Date"].endswith(" GMT")


@pytest.mark.parametrize("where", ["settings", "url"])
def test_basic_auth_from_settings_or_url(pki: Pki, peer, where: str) -> None:
    server = peer(lambda req: Answer(200, OK))
    url = server.url.replace("https://", "https://u%40x:p%3Aw@") if where == "url" else server.url
    settings = HttpsSettings(url=url, verify=pki.ca_cert, basic_auth=("u@x", "p:w") if where == "settings" else None)
    with HttpsTransport(settings, "fw1") as transport:
        transport.send(envelope())
    expected = "Basic " + base64.b64encode(b"u@x:p:w").decode()
    assert server.seen[0].headers["Authorization"] == expected


def test_cookies_set_by_the_consumer_are_sent_back(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(200, OK, headers={"Set-Cookie": "lb=node-2; Path=/"}))
    with HttpsTransport(HttpsSettings(url=server.url, verify=pki.ca_cert), "fw1") as transport:
        transport.send(envelope())
        transport.send(envelope())
    assert "Cookie" not in server.seen[0].headers
    assert server.seen[1].headers["Cookie"] == "lb=node-2"


def test_a_request_id_that_would_split_headers_is_refused_unsent(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(200, OK))
    with HttpsTransport(HttpsSettings(url=server.url, verify=pki.ca_cert), "fw1") as transport:
        with pytest.raises(TransferError) as err:
            transport.send(envelope(request_id="abc\r\nX-Evil: 1"))
    assert err.value.kind == "config" and "X-Request-ID" in str(err.value)
    assert server.seen == []


def test_a_body_cut_short_is_a_reset_and_is_retried(pki: Pki) -> None:
    """The body is read inside the retry loop: a connection closed in mid-body is a
    transfer failure ("reset"), retried with the same request, not an unclassified crash."""
    import socket
    import ssl
    import threading

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    requests_seen: list[bytes] = []

    def serve() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            with context.wrap_socket(conn, server_side=True) as tls:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += tls.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                while len(rest) < length:
                    rest += tls.recv(65536)
                requests_seen.append(head)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"st")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    settings = HttpsSettings(url=f"https://127.0.0.1:{port}", verify=pki.ca_cert, retries=1, backoff=0)
    try:
        with HttpsTransport(settings, "fw1") as transport:
            with pytest.raises(TransferError) as err:
                transport.send(envelope())
    finally:
        listener.close()
        thread.join(5)
    assert err.value.kind == "reset" and "after 2 attempt(s)" in str(err.value)
    assert len(requests_seen) == 2
