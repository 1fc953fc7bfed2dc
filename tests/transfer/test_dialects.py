"""Dialect resolution, profile encodings and reply normalisation (pure functions)."""
from __future__ import annotations

import pytest

from fn_openc2.lib.transfer import TransferError, adapt_command, resolve_dialect
from fn_openc2.lib.transfer.dialects import encode_request, normalize_reply

SLPF = {"action": "deny", "target": {"ipv4_net": "192.0.2.0/24"}, "profile": "slpf"}


@pytest.mark.parametrize("encoding, expected", [
    ("string", {"profile": "slpf"}),
    ("object", {"profile": {"slpf": {}}}),
    ("actuator", {"actuator": {"slpf": {}}}),
])
def test_every_profile_encoding_from_every_input_form(encoding: str, expected: dict) -> None:
    base = {"action": "deny", "target": {"ipv4_net": "192.0.2.0/24"}}
    for form in ({"profile": "slpf"}, {"profile": {"slpf": {}}}, {"actuator": {"slpf": {}}}):
        assert adapt_command({**base, **form}, encoding) == {**base, **expected}


def test_actuator_specifiers_survive_object_and_actuator_forms() -> None:
    command = {"action": "deny", "target": {"ipv4_net": "192.0.2.0/24"}, "actuator": {"slpf": {"asset_id": "fw9"}}}
    assert adapt_command(command, "object")["profile"] == {"slpf": {"asset_id": "fw9"}}
    assert adapt_command(command, "actuator")["actuator"] == {"slpf": {"asset_id": "fw9"}}


def test_adapt_does_not_touch_the_input_and_none_keeps_it() -> None:
    original = dict(SLPF)
    assert adapt_command(SLPF, None) == original
    adapt_command(SLPF, "actuator")
    assert SLPF == original


def test_unknown_dialect_and_bad_overrides_name_the_key() -> None:
    with pytest.raises(TransferError, match="dialect = 'https-v9'") as err:
        resolve_dialect("https-v9")
    assert err.value.kind == "config"
    with pytest.raises(TransferError, match="envelope = 'half'"):
        resolve_dialect(envelope="half")
    with pytest.raises(TransferError, match="path = 'openc2'"):
        resolve_dialect(path="openc2")


def test_v10_preset_and_overrides() -> None:
    d = resolve_dialect("https-v1.0", path="/", envelope="full")
    assert (d.path, d.envelope, d.status_in, d.content_type) == (
        "/", "full", "http", "application/openc2-cmd+json;version=1.0")


def test_bare_encoding_sends_only_the_command() -> None:
    message = {"headers": {"request_id": "r1"}, "body": {"openc2": {"request": SLPF}}}
    body, extra = encode_request(message, resolve_dialect("https-v1.0"))
    assert body == b'{"action":"deny","target":{"ipv4_net":"192.0.2.0/24"},"profile":"slpf"}' and extra == {}


def test_x_request_id_fills_a_missing_request_id() -> None:
    reply = normalize_reply(b'{"status":200}', 200, {"x-request-id": "abc"}, resolve_dialect(), "mine", "fw")
    assert reply == {"headers": {"request_id": "abc"}, "body": {"openc2": {"response": {"status": 200}}}}


@pytest.mark.parametrize("status", [102, 400, 401, 403, 404, 500, 501, 503])
def test_openc2_status_in_http_line_with_openc2_body_is_a_reply(status: int) -> None:
    reply = normalize_reply(b'{"status_text":"x"}', status, {}, resolve_dialect(status_in="http"), "r", "fw")
    assert reply is not None and reply["body"]["openc2"]["response"]["status"] == status


@pytest.mark.parametrize("status_in", ["body", "http"])
@pytest.mark.parametrize("status", [102, 200, 204, 202])
def test_an_empty_1xx_or_2xx_answer_is_a_status_answer(status: int, status_in: str) -> None:
    """Issue 10.4: an ack (HTTP 102, empty body) is an answer whatever status_in says."""
    notes: list[str] = []
    reply = normalize_reply(b"", status, {}, resolve_dialect(status_in=status_in), "r", "fw", notes)
    assert reply == {"headers": {"request_id": "r"}, "body": {"openc2": {"response": {"status": status}}}}
    assert bool(notes) == (status == 202)          # 202 is no OpenC2 status code: read, but said so


@pytest.mark.parametrize("status_in", ["body", "http"])
def test_an_empty_404_is_read_as_the_consumers_404_with_a_warning_about_the_path(status_in: str) -> None:
    """Nothing tells an OpenC2 404 sent status-only from a server that routes to nothing: the
    answer stands as the consumer's 404, and the warning recorded with it says what else it may be."""
    notes: list[str] = []
    reply = normalize_reply(b"", 404, {}, resolve_dialect(status_in=status_in), "r", "fw", notes)
    assert reply == {"headers": {"request_id": "r"}, "body": {"openc2": {"response": {"status": 404}}}}
    assert len(notes) == 1 and "check the consumer's url and path keys" in notes[0], notes
    quiet: list[str] = []
    normalize_reply(b"", 400, {}, resolve_dialect(status_in=status_in), "r", "fw", quiet)
    assert quiet == []


def test_an_empty_non_openc2_error_is_a_transfer_error_naming_the_status() -> None:
    with pytest.raises(TransferError) as caught:
        normalize_reply(b"", 415, {}, resolve_dialect(), "r", "consumer fw")
    assert caught.value.kind == "http" and "HTTP 415 Unsupported Media Type with an empty body" in str(caught.value)


def test_a_plain_text_error_quotes_the_peer() -> None:
    with pytest.raises(TransferError) as caught:
        normalize_reply(b"unsupported\r\n<b>x</b>", 400, {}, resolve_dialect(), "r", "consumer fw")
    assert "HTTP 400 Bad Request: 'unsupported <b>x</b>'" in str(caught.value)


@pytest.mark.parametrize("status_in", ["body", "http"])
@pytest.mark.parametrize("body, content_type, quoted", [
    (b"404 page not found\n", "text/plain; charset=utf-8", "'404 page not found'"),            # Go net/http
    (b'{"detail":"Not Found"}', "application/json", "'{\"detail\":\"Not Found\"}'"),          # FastAPI
    (b"<h1>Not Found</h1>\r\n\x1b[31m" + b"x" * 500, None, "'<h1>Not Found</h1> [31m" + "x" * 177 + "…'"),
], ids=["go", "fastapi", "html-long"])
def test_a_404_that_is_not_an_openc2_response_is_a_wrong_path(status_in: str, body: bytes,
                                                              content_type: str | None, quoted: str) -> None:
    """Whatever status_in says, an HTTP 404 whose body is not OpenC2 is the web server's unknown
    route: the peer's status and text first (printable, bounded, cut marked), then what and where."""
    headers = {"Content-Type": content_type} if content_type else {}
    with pytest.raises(TransferError) as caught:
        normalize_reply(body, 404, headers, resolve_dialect(status_in=status_in), "r", "consumer fw at https://h/x")
    sent = f"{content_type}, " if content_type else ""
    assert (caught.value.kind, caught.value.http_status) == ("http", 404)
    assert caught.value.detail == (f"HTTP 404 Not Found: {quoted} ({sent}not an OpenC2 response) from consumer fw "
                                   "at https://h/x: no OpenC2 endpoint at this URL's path; check the consumer's "
                                   "url and path keys")


def test_an_openc2_404_is_still_the_consumers_answer() -> None:
    for status_in in ("body", "http"):
        reply = normalize_reply(b'{"status":404,"status_text":"rule 7 not found"}', 404,
                                {"Content-Type": "text/html"}, resolve_dialect(status_in=status_in), "r", "fw")
        assert reply["body"]["openc2"]["response"] == {"status": 404, "status_text": "rule 7 not found"}


@pytest.mark.parametrize("body,path", [(b'{"status":200,"status":400}', "status"),
                                        (b'{"status":200,"results":{"x":NaN}}', "results.x"),
                                        (b'{"status":200,"results":{"n":' + b"9" * 400 + b"}}", "results.n"),
                                        (b"[" * 5000 + b"]" * 5000, "")])
def test_answers_are_decoded_as_i_json(body: bytes, path: str) -> None:
    """Issue 12.7: duplicate keys, NaN, huge integers and deep nesting fail, naming the path."""
    with pytest.raises(TransferError) as caught:
        normalize_reply(body, 200, {}, resolve_dialect(), "r", "consumer fw")
    assert caught.value.kind == "decode" and "is not I-JSON" in str(caught.value)
    if path:
        assert f"{path}: " in str(caught.value)


def test_printable_is_the_one_log_line_helper() -> None:
    """A peer's control characters never reach a log line; the bound is exact, the cut marked
    (or not, for the consumer's hard cut); one_line folds white space (onboarding, peer_text)."""
    from fn_openc2.lib.transfer.dialects import printable

    assert printable("ok\r\nINJECTED\x1b[31m") == "ok  INJECTED [31m"
    assert printable("x" * 10, 5) == "xxxx…" and len(printable("y" * 400)) == 300
    assert printable("x" * 10, 5, mark="") == "xxxxx"
    assert printable(" a \n\t b ", one_line=True) == "a b"
    assert printable(12345, 3) == "12…"
