"""The whole loop outside pytest's harness: CircuitsApp starts the real
resilient-circuits App against OfflineSoar, a real component writes through
the REST client, and the store records it."""
from __future__ import annotations

import pytest

from fn_openc2.lib.offline_soar.runner import CircuitsApp, CircuitsAppError, FunctionFailed

from .conftest import INCIDENT_ID, PROBE_DIR, seed_probe_incident

CONFIG = """
[offline_soar_probe]
marker = from-app-config
"""

PROBE_INPUTS = {"incident_id": INCIDENT_ID, "artifact_id": 11, "attachment_id": 21, "file_artifact_id": 12}


@pytest.fixture(scope="module")
def app():
    def seed(store):
        store.reset()
        seed_probe_incident(store)

    with CircuitsApp(CONFIG, componentsdir=PROBE_DIR, load_installed=False, seed=seed) as running:
        yield running


def test_probe_function_reads_and_writes_through_the_offline_soar(app):
    run = app.invoke("offline_soar_probe", PROBE_INPUTS, timeout=30)
    payload = run.result

    # the decorator's standard payload around the component's dict
    assert payload["version"] == 2.0
    assert payload["success"] is True
    assert payload["reason"] is None
    assert payload["inputs"] == PROBE_INPUTS
    assert set(payload["metrics"]) >= {"execution_time_ms", "timestamp"}
    content = payload["content"]
    assert content["incident_name"] == "Phishing from 203.0.113.9"
    assert content["artifact_count"] == 2
    assert content["attachment_text"] == "198.51.100.7\n"
    assert content["file_name"] == "dropper.txt"
    assert content["file_content"] == "evil bytes\n"
    assert content["table_row_count"] == 2
    assert content["note_count"] == 2
    assert content["config_marker"] == "from-app-config"
    assert run.status_messages == ["read artifact 11"]

    notes = app.store.notes(INCIDENT_ID)
    assert notes == [
        "<p><b>probe</b> saw 203.0.113.9 in Phishing from 203.0.113.9; attachment says 198.51.100.7</p>",
        "plain & simple",
    ]
    formats = [n["format"] for n in app.store.note_objects(INCIDENT_ID)]
    assert formats == ["html", "text"]

    rows = app.store.rows(INCIDENT_ID, "probe_table")
    assert len(rows) == 2
    first, second = rows
    assert first["artifact_value"] == "203.0.113.9"
    assert first["status"] == 200
    assert first["ok"] is True
    assert first["detail"] is None
    assert second == {"artifact_value": "second", "status": 501}   # PUT merged the new status
    assert app.store.row_ids(INCIDENT_ID, "probe_table")[1] == content["second_row_id"]
    assert app.store.unhandled_requests() == []


def test_component_exception_is_reported_not_waited_for(app):
    with pytest.raises(FunctionFailed) as info:
        app.run_function("offline_soar_probe_fail", {"incident_id": 4242}, timeout=30)
    assert info.value.function == "offline_soar_probe_fail"
    assert "no incident 4242" in info.value.message


def test_unknown_function_is_refused_with_the_known_ones(app):
    with pytest.raises(CircuitsAppError, match="offline_soar_probe"):
        app.run_function("openc2_no_such_function", {}, timeout=5)


def test_only_one_app_per_process(app):
    with pytest.raises(CircuitsAppError, match="another CircuitsApp"):
        CircuitsApp("").start()


def test_build_config_completes_resilient_and_keeps_app_sections(tmp_path):
    import configparser

    from fn_openc2.lib.offline_soar.runner import build_config

    text = build_config("[fn_openc2]\nprotected_networks = 10.0.0.0/8,\n  192.168.0.0/16\n"
                        "[resilient]\ntest_actions = False\nloglevel = DEBUG\n",
                        workdir=str(tmp_path), noload=["a", "b"])
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read_string(text)
    res = parsed["resilient"]
    assert res["resilient_mock"] == "fn_openc2.lib.offline_soar.mock.OfflineSoar"
    assert res["test_actions"] == "True"          # forced: functions are submitted as test actions
    assert res["loglevel"] == "DEBUG"             # the caller's keys win otherwise
    from fn_openc2.lib.offline_soar import store
    assert res["org"] == store.DEFAULT_ORG        # "Offline Org", or the org pytest was given (tests/conftest.py)
    assert res["noload"] == "a,b"
    assert parsed["fn_openc2"]["protected_networks"] == "10.0.0.0/8,\n192.168.0.0/16"
