# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then written against real consumers.
"""Function 'openc2_check_consumer' in the real resilient-circuits runtime: the
reference consumer's grade table lands in an incident note; a hostile consumer's
words reach the note escaped, and its failures fail the function, clause by clause."""
from __future__ import annotations

import json

import pytest

from tests.soar import harness
from tests.soar.harness import INCIDENT_ID, call, soar  # noqa: F401  (fixture used by name)
from tests.transfer.oc2server import Answer, Oc2Peer, Seen

HOSTILE_TEXT = "<img src=x onerror=alert(1)>&amp;"

FUNCTION_NAME = "openc2_check_consumer"

config_data = ""            # written by the fw fixture before circuits_app starts
resilient_mock = harness.RESILIENT_MOCK


def _hostile(seen: Seen) -> Answer:
    """200 to everything, its own request_id, and HTML in every text it sends."""
    request_id = json.loads(seen.body)["headers"]["request_id"]
    response = {"status": 200, "status_text": HOSTILE_TEXT, "results": {"versions": [HOSTILE_TEXT],
                                                                          "pairs": {"deny": ["ipv4_net"]}}}
    return Answer(200, {"headers": {"request_id": request_id, "from": HOSTILE_TEXT},
                        "body": {"openc2": {"response": response}}})


@pytest.fixture(scope="module", autouse=True)
def fw(request, pki, consumer_signing_key):
    hostile = Oc2Peer(_hostile, cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca_cert).start()
    setup = harness.module_setup(request, pki, consumer_signing_key)
    firewall = next(setup)
    request.module.config_data += f"""
[fn_openc2:hostile]
url = {hostile.url}
verify = {pki.ca_cert}
client_auth_cert = {pki.client_cert}
client_auth_key = {pki.client_key}
timeout = 5
retries = 0
"""
    try:
        yield firewall
    finally:
        setup.close()
        hostile.stop()


class TestCheckConsumer:

    def test_reference_consumer_passes_and_the_table_is_a_note(self, circuits_app, soar, fw):
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_consumers": "fw1"})
        assert result["success"] is True, result["reason"]
        grade = result["content"]["grade"]
        assert grade["passed"] is True and grade["counts"]["fail"] == 0
        assert fw.rules() == []                                   # read-only: nothing changed on the device
        note = soar.notes(INCIDENT_ID)[-1]
        assert "OpenC2 check of consumer fw1: passed" in note
        assert "<table>" in note and "LS v2.0 §4.1" in note and "query features with no features is answered 200" in note
        assert note.count("<tr>") == len(grade["checks"]) + 1

    def test_hostile_consumer_fails_by_clause_and_its_words_are_escaped(self, circuits_app, soar):
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_consumers": "hostile"})
        assert result["success"] is False
        failed = {c["title"] for c in result["content"]["grade"]["checks"] if c["verdict"] == "fail"}
        assert "a pair the consumer does not list is answered 501, not 200" in failed
        assert "each version is \"Major.Minor\"" in failed
        assert "LS v2.0 §3.4.2.18 (MUST)" in result["reason"]
        note = soar.notes(INCIDENT_ID)[-1]
        assert "OpenC2 check of consumer hostile: failed" in note
        assert "<img" not in note and "&lt;img src=x onerror=alert(1)&gt;" in note

    @pytest.mark.parametrize("consumers", ["fw1, down", "default", "nope"])
    def test_one_named_consumer_or_nothing_is_sent(self, circuits_app, soar, fw, consumers):
        before = fw.request_count
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_consumers": consumers})
        assert result["success"] is False
        assert result["content"]["error"]["field"] == "openc2_consumers"
        assert fw.request_count == before
        assert "input rejected" in soar.notes(INCIDENT_ID)[-1]
