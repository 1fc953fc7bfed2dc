"""The same OfflineSoar under pytest-resilient-circuits' own harness
(``circuits_app`` fixture, ``SubmitTestFunction``): the recipe the app's
component tests follow (see the docstring of fn_openc2.lib.offline_soar.mock)."""
from __future__ import annotations

from importlib.metadata import entry_points

from resilient_circuits import FunctionResult, SubmitTestFunction

from fn_openc2.lib.offline_soar.mock import OFFLINE_RESILIENT_SECTION

from .conftest import INCIDENT_ID, PROBE_DIR

# Only the probe component: the installed app's own components stay out of this test.
_INSTALLED = ",".join(ep.name for ep in entry_points(group="resilient.circuits.components"))

config_data = (OFFLINE_RESILIENT_SECTION
               + f"componentsdir = {PROBE_DIR}\n"
               + (f"noload = {_INSTALLED}\n" if _INSTALLED else "")
               + "\n[offline_soar_probe]\nmarker = under-the-fixture\n")
resilient_mock = "fn_openc2.lib.offline_soar.mock.OfflineSoar"


def call_function(circuits, name, inputs, timeout=30):
    evt = SubmitTestFunction(name, inputs)
    circuits.manager.fire(evt)
    event = circuits.watcher.wait(f"{name}_result", parent=evt, timeout=timeout)
    assert event, f"{name} gave no result"
    assert isinstance(event.kwargs["result"], FunctionResult)
    return event.kwargs["result"].value


class TestUnderCircuitsAppFixture:

    def test_probe_writes_are_recorded(self, circuits_app, probe_store):
        inputs = {"incident_id": INCIDENT_ID, "artifact_id": 11, "attachment_id": 21, "file_artifact_id": 12}
        result = call_function(circuits_app, "offline_soar_probe", inputs)

        assert result["success"] is True
        assert result["content"]["config_marker"] == "under-the-fixture"
        assert result["content"]["attachment_text"] == "198.51.100.7\n"
        assert result["content"]["file_content"] == "evil bytes\n"

        assert probe_store.notes(INCIDENT_ID)[0] == (
            "<p><b>probe</b> saw 203.0.113.9 in Phishing from 203.0.113.9; attachment says 198.51.100.7</p>")
        first = probe_store.rows(INCIDENT_ID, "probe_table")[0]
        assert first["artifact_value"] == "203.0.113.9"
        assert first["status"] == 200
        assert first["ok"] is True
        assert first["detail"] is None
