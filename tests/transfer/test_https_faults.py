"""Transport faults end in a TransferError of the right kind; retries reuse the request id."""
from __future__ import annotations

import socket

import pytest

from fn_openc2.lib.transfer import HttpsSettings, HttpsTransport, TransferError
from fn_openc2.lib.transfer.broker import free_port
from fn_openc2.lib.transfer.devpki import Pki
from tests.transfer.conftest import envelope
from tests.transfer.oc2server import Answer, Seen


def _transport(pki: Pki, url: str, **kw: object) -> HttpsTransport:
    options: dict[str, object] = {"verify": pki.ca_cert, "retries": 2, "backoff": 0.01, "timeout": 5.0}
    options.update(kw)
    return HttpsTransport(HttpsSettings(url=url, **options), "fw1")  # type: ignore[arg-type]


def test_consumer_down_is_a_connect_error_after_retries(pki: Pki) -> None:
    url = f"https://127.0.0.1:{free_port()}"
    with pytest.raises(TransferError) as err:
        _transport(pki, url).send(envelope())
    assert err.value.kind == "connect"
    assert "3 attempt" in err.value.detail and url in err.value.detail


def test_503_then_success_resends_same_request_id_and_body(pki: Pki, peer) -> None:
    effects: list[str] = []

    def behave(req: Seen) -> Answer:
        if len(server.seen) == 1:
            return Answer(503, b"busy")
        effects.append(req.headers["X-Request-ID"])
        return Answer(200, {"status": 200})
    server = peer(behave)
    message = envelope()
    replies = _transport(pki, server.url).send(message).replies
    assert [s.headers["X-Request-ID"] for s in server.seen] == [message["headers"]["request_id"]] * 2
    assert server.seen[0].body == server.seen[1].body
    assert effects == [message["headers"]["request_id"]]
    assert replies[0].attempts == 2


def test_503_that_persists_ends_in_http_error(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(503, b"busy"))
    with pytest.raises(TransferError) as err:
        _transport(pki, server.url, retries=1).send(envelope())
    assert err.value.kind == "http" and "503" in err.value.detail
    assert len(server.seen) == 2


def test_openc2_503_answer_is_a_reply_once_retries_are_spent(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(503, {"status": 503, "status_text": "overloaded"}))
    replies = _transport(pki, server.url, retries=1).send(envelope()).replies
    assert replies[0].message["body"]["openc2"]["response"]["status"] == 503
    assert replies[0].attempts == 2


def test_stalled_consumer_times_out(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(action="stall"))
    with pytest.raises(TransferError) as err:
        _transport(pki, server.url, retries=0, timeout=0.3).send(envelope())
    assert err.value.kind == "timeout"


def test_connection_reset_is_reported_as_reset(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(action="reset"))
    with pytest.raises(TransferError) as err:
        _transport(pki, server.url, retries=1).send(envelope())
    assert err.value.kind == "reset"
    assert len(server.seen) == 2  # retried once, same request id
    assert server.seen[0].headers["X-Request-ID"] == server.seen[1].headers["X-Request-ID"]


def test_non_json_body_is_a_decode_error(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(200, b"<html>hello</html>"))
    with pytest.raises(TransferError) as err:
        _transport(pki, server.url).send(envelope())
    assert err.value.kind == "decode"
    assert len(server.seen) == 1  # not retried


def test_http_status_that_is_not_openc2_is_an_http_error(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(502, b"bad gateway"))
    with pytest.raises(TransferError) as err:
        _transport(pki, server.url).send(envelope())
    assert err.value.kind == "http" and "502" in err.value.detail


def test_plain_http_url_warns(pki: Pki, peer, caplog: pytest.LogCaptureFixture) -> None:
    server = peer(lambda req: Answer(200, {"status": 200}), cert=None, key=None)
    with caplog.at_level("WARNING"):
        replies = _transport(pki, server.url).send(envelope()).replies
    assert "plain HTTP" in caplog.text
    assert replies[0].message["body"]["openc2"]["response"]["status"] == 200


def test_free_port_is_really_free() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_http_102_processing_is_a_reply_and_the_next_send_still_works(pki: Pki, peer) -> None:
    answers = iter([Answer(102, b""), Answer(200, {"status": 200})])
    server = peer(lambda req: next(answers), cert=pki.server_cert, key=pki.server_key)
    transport = _transport(pki, server.url, status_in="http")
    first = transport.send(envelope()).replies
    assert first[0].message["body"]["openc2"]["response"]["status"] == 102
    assert transport.send(envelope()).replies[0].message["body"]["openc2"]["response"]["status"] == 200


@pytest.mark.parametrize("answer, kind", [
    (Answer(200, {"status": 400, "status_text": "bad target"}), None),       # OpenC2 error in the body
    (Answer(400, {"status": 400}), None),                                     # OpenC2 error in the status line
    (Answer(500, {"status": 500, "status_text": "kaputt"}), None),
    (Answer(501, {"status": 501}), None),
    (Answer(502, b"bad gateway"), "http"),
    (Answer(404, b"<html>nope</html>"), "http"),
    (Answer(200, b"<html>maintenance</html>"), "decode"),
], ids=["oc2-400-body", "oc2-400-line", "oc2-500", "oc2-501", "http-502", "http-404", "non-json"])
def test_answers_are_never_retried(pki: Pki, peer, answer: Answer, kind: str | None) -> None:
    """Only transport failures and 503 are retried: anything the consumer answered stands."""
    server = peer(lambda req: answer)
    transport = _transport(pki, server.url, retries=3)
    if kind is None:
        replies = transport.send(envelope()).replies
        assert replies[0].attempts == 1
    else:
        with pytest.raises(TransferError) as err:
            transport.send(envelope())
        assert err.value.kind == kind
    assert len(server.seen) == 1


def test_timeout_is_retried_with_the_same_request_id(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(action="stall"))
    message = envelope()
    with pytest.raises(TransferError) as err:
        _transport(pki, server.url, retries=1, timeout=0.3).send(message)
    assert err.value.kind == "timeout" and "2 attempt" in err.value.detail
    assert [s.headers["X-Request-ID"] for s in server.seen] == [message["headers"]["request_id"]] * 2


def test_untrusted_certificate_is_not_retried(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(200, {"status": 200}), cert=pki.other_server_cert, key=pki.other_server_key)
    with pytest.raises(TransferError) as err:
        _transport(pki, server.url, retries=3).send(envelope())
    assert err.value.kind == "tls" and "1 attempt" in err.value.detail
