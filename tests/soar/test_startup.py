"""Start-up set-up in SOAR: the OpenC2 incident tab and the consumer choices of
the menu forms, done by the real components in resilient-circuits against the
offline SOAR (which knows the forms from export.res, as a server would after
the import), and left alone with ui_lock."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests

from fn_openc2.lib.offline_soar.runner import CircuitsApp
from fn_openc2.lib.offline_soar.ui import INCIDENT_LAYOUT_ID, ui_state
from fn_openc2.lib.soar.startup import (OpenC2Tab, consumer_choices, consumer_form_types, merged_values,
                                        update_consumer_choices)

ROOT = Path(__file__).resolve().parents[2]
EXPORT = json.loads((ROOT / "fn_openc2" / "util" / "data" / "export.res").read_text(encoding="utf-8"))

CONFIG = """
[fn_openc2]
producer_id = soar@example.com
default_consumers = fw1
{extra}
[fn_openc2:fw1]
url = https://127.0.0.1:9/.well-known/openc2
[fn_openc2:edr_fleet]
transport = mqtt
broker = mqtts://127.0.0.1:9
"""


def _labels(type_name: str) -> list[tuple[str, bool]]:
    field = ui_state().form_fields[(type_name, "openc2_consumers")]
    return [(v["label"], v["hidden"]) for v in field["values"]]


def _tabs() -> list[dict]:
    return [t for t in ui_state().layouts[INCIDENT_LAYOUT_ID]["content"] if t.get("predefined_uuid") == OpenC2Tab.UUID]


@pytest.fixture
def fresh_ui():
    ui_state().reset()
    yield ui_state()
    ui_state().reset()


def test_consumer_choices_are_default_auto_then_each_section() -> None:
    opts = {"fn_openc2": {}, "fn_openc2:fw1": {}, "integrations": {}, "fn_openc2:edr": {}, "fn_openc2x": {}}
    assert consumer_choices(opts) == ["default", "auto", "fw1", "edr"]


def test_every_form_with_a_consumer_select_is_found_in_the_export() -> None:
    expected = {pb["field_type_handle"] for pb in EXPORT["playbooks"]
                if "openc2_consumers" in pb["fields_type"]["fields"]}
    assert set(consumer_form_types()) == expected and len(expected) >= 6


def test_merged_values_keep_ids_add_new_hide_stale_and_say_when_nothing_changes() -> None:
    current = [{"label": "default", "value": 1, "hidden": False}, {"label": "auto", "value": 2, "hidden": False},
               {"label": "old_fw", "value": 3, "hidden": False}]
    merged = merged_values(current, ["default", "auto", "fw1"])
    assert merged[:2] == current[:2]
    assert merged[2] == {"label": "fw1", "enabled": True, "hidden": False, "default": False, "properties": None}
    assert merged[3] == {"label": "old_fw", "value": 3, "hidden": True}
    assert merged_values(merged, ["default", "auto", "fw1"]) is None


class _FailingClient:
    def get(self, uri):
        raise requests.ConnectionError("SOAR unreachable")


def test_a_failed_update_is_one_warning_naming_the_call(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        outcome = update_consumer_choices(_FailingClient(), {"fn_openc2:fw1": {}}, logging.getLogger("t"),
                                          types=["playbook_x"])
    assert outcome == {"playbook_x": "failed"}
    (line,) = caplog.messages
    assert "playbook_x" in line and "/types/playbook_x/fields/openc2_consumers" in line and "unreachable" in line


def test_start_up_fills_the_choices_and_creates_the_tab_once(fresh_ui) -> None:
    with CircuitsApp(CONFIG.format(extra="")):
        pass
    for type_name in consumer_form_types():
        assert _labels(type_name) == [("default", False), ("auto", False), ("fw1", False), ("edr_fleet", False)]
    (tab,) = _tabs()
    assert tab["step_label"] == "OpenC2"
    assert [(f["element"], f["content"]) for f in tab["fields"]] == [
        ("datatable", "openc2_commands"), ("datatable", "openc2_consumers")]
    field_puts = [p for p in fresh_ui.puts if "/fields/" in p]
    assert len(field_puts) == len(consumer_form_types())

    # a restart with the same consumers rewrites no field and adds no second tab
    with CircuitsApp(CONFIG.format(extra="")):
        pass
    assert [p for p in fresh_ui.puts if "/fields/" in p] == field_puts
    assert len(_tabs()) == 1

    # a consumer removed from app.config is hidden, not deleted (past runs may name it)
    with CircuitsApp(CONFIG.format(extra="").replace("[fn_openc2:edr_fleet]\ntransport = mqtt\n"
                                                     "broker = mqtts://127.0.0.1:9\n", "")):
        pass
    assert _labels(consumer_form_types()[0])[-1] == ("edr_fleet", True)


def test_ui_lock_leaves_the_ui_alone(fresh_ui) -> None:
    with CircuitsApp(CONFIG.format(extra="ui_lock = true")):
        pass
    assert fresh_ui.puts == []
    assert _tabs() == []
    assert _labels(consumer_form_types()[0]) == [("default", False), ("auto", False)]


def _client():
    import resilient
    from fn_openc2.lib.offline_soar.mock import MOCK_PATH
    opts = {"host": "offline-soar.invalid", "port": 443, "org": "Offline Org", "email": "offline@example.com",
            "password": "offline", "cafile": "false", "resilient_mock": MOCK_PATH}
    return resilient.get_client(opts, request_max_retries=1, request_retry_delay=0)


def test_offline_soar_rejects_what_a_server_would(fresh_ui) -> None:
    from resilient.co3 import SimpleHTTPException as BasicHTTPException
    client = _client()
    form = consumer_form_types()[0]
    uri = f"/types/{form}/fields/openc2_consumers?handle_format=names"
    field = client.get(uri)
    assert [v["label"] for v in field["values"]] == ["default", "auto"]
    with pytest.raises(BasicHTTPException, match="Not Found"):
        client.get(f"/types/{form}/fields/no_such_field")
    with pytest.raises(BasicHTTPException, match="Not Found"):
        client.get("/types/playbook_0000/fields/openc2_consumers")
    with pytest.raises(BasicHTTPException, match="not one of"):          # an id the field does not have
        client.put(uri, payload=dict(field, values=[{"label": "fw1", "value": 999999}]))
    with pytest.raises(BasicHTTPException, match="input_type"):
        client.put(uri, payload=dict(field, input_type="text"))
    with pytest.raises(BasicHTTPException, match="distinct"):
        client.put(uri, payload=dict(field, values=[{"label": "a"}, {"label": "a"}]))
    (layout,) = client.get("/layouts?type=1000")
    bad = dict(layout, content=layout["content"] + [{"element": "tab", "fields": [
        {"element": "datatable", "content": "no_such_table"}]}])
    with pytest.raises(BasicHTTPException, match="no_such_table"):
        client.put(f"/layouts/{layout['id']}", payload=bad)
    assert fresh_ui.puts == []
