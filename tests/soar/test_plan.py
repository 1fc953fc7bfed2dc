"""Function inputs -> commands: durations, times, JSON positions, several values,
expert JSON, and that every problem is found before anything could be sent."""
from __future__ import annotations

import pytest

from fn_openc2.lib.soar import inputs as i
from fn_openc2.lib.soar.plan import PlanError, all_artifacts_wanted, expires_of, plan_send


@pytest.mark.parametrize("text, ms", [("90s", 90_000), ("30m", 1_800_000), ("1h", 3_600_000),
                                      ("2d", 172_800_000), ("1w", 604_800_000), ("1h30m", 5_400_000),
                                      ("250", 250), (250, 250), ("500ms", 500), (" 2 H ", 7_200_000)])
def test_durations(text, ms):
    assert i.duration_ms("openc2_duration", text) == ms


@pytest.mark.parametrize("text", ["soon", "1x", "h1", "-5", "0", "1.5h"])
def test_bad_durations_name_the_input(text):
    with pytest.raises(i.InputError) as err:
        i.duration_ms("openc2_duration", text)
    assert str(err.value).startswith("openc2_duration: ")


def test_times():
    assert i.epoch_ms("openc2_start_time", 1_700_000_000_000) == 1_700_000_000_000
    assert i.epoch_ms("openc2_start_time", "2023-11-14T22:13:20Z") == 1_700_000_000_000
    with pytest.raises(i.InputError, match="no time zone"):
        i.epoch_ms("openc2_start_time", "2023-11-14T22:13:20")


def test_json_error_position():
    with pytest.raises(i.InputError) as err:
        i.json_object("openc2_target_json", '{"ipv4_net":\n  "1.2.3.4",}')
    assert str(err.value) == ("openc2_target_json: not valid JSON: Expecting property name enclosed in double "
                              "quotes at line 2 column 13 (character 25)")


def test_several_values_and_args():
    plan = plan_send({"openc2_action": "deny", "openc2_artifact_type": "ip address",
                      "openc2_artifact_value": "203.0.113.7\n2001:DB8::1", "openc2_duration": "1h",
                      "openc2_start_time": 1_700_000_000_000, "openc2_response_requested": "ack",
                      "openc2_profile": "slpf", "openc2_profile_args": '{"drop_process": "reject"}'}, 7)
    docs = [p.command for p in plan.commands]
    assert [d["target"] for d in docs] == [{"ipv4_net": "203.0.113.7"}, {"ipv6_net": "2001:db8::1"}]
    assert docs[0]["args"] == {"duration": 3_600_000, "start_time": 1_700_000_000_000, "response_requested": "ack",
                               "slpf": {"drop_process": "reject"}}
    assert docs[0]["command_id"] != docs[1]["command_id"]
    assert plan.commands[0].expires_ms == 1_700_003_600_000


def test_every_bad_value_is_listed():
    with pytest.raises(PlanError) as err:
        plan_send({"openc2_action": "deny", "openc2_artifact_type": "IP Address",
                   "openc2_artifact_value": "203.0.113.7\n300.1.1.1\nexample.com"}, 7)
    assert [x.split(":")[0] for x in err.value.lines] == ["value 2 (300.1.1.1)", "value 3 (example.com)"]


def test_language_errors_carry_json_paths():
    with pytest.raises(PlanError) as err:
        plan_send({"openc2_action": "deny", "openc2_target_json": '{"ipv4_connection": {"dst_port": "80"}}'}, 7)
    assert any("target.ipv4_connection.dst_port" in issue for issue in err.value.lines)


def test_expert_json_keeps_its_command_id_or_gets_one():
    plan = plan_send({"openc2_command_json": '{"action": "query", "target": {"features": []}}'}, 9)
    assert plan.commands[0].command["command_id"].startswith("soar-9-")
    plan = plan_send({"openc2_command_json":
                      '{"action": "deny", "target": {"ipv4_net": "203.0.113.7"}, "command_id": "mine"}'}, 9)
    assert plan.commands[0].command["command_id"] == "mine"


def test_expires():
    assert expires_of({"stop_time": 5}, 1) == 5
    assert expires_of({"duration": 10}, 100) == 110
    assert expires_of({"duration": 10, "start_time": 50}, 100) == 60
    assert expires_of({}, 100) is None


def test_no_target_at_all():
    with pytest.raises(i.InputError, match="no target given"):
        plan_send({"openc2_action": "deny"}, 1)


def test_duplicate_values_make_one_command():
    plan = plan_send({"openc2_action": "deny", "openc2_artifact_type": "IP Address",
                      "openc2_artifact_value": "203.0.113.7\n2001:db8::1\n 203.0.113.7\n2001:DB8:0::1"}, 7)
    assert [p.command["target"] for p in plan.commands] == [{"ipv4_net": "203.0.113.7"}, {"ipv6_net": "2001:db8::1"}]
    assert plan.duplicates == ["IP Address 203.0.113.7 (same target as IP Address 203.0.113.7)",
                               "IP Address 2001:DB8:0::1 (same target as IP Address 2001:db8::1)"]


ARTIFACTS = [{"id": 3, "type": "IP Address", "value": "203.0.113.9"},
             {"id": 1, "type": "ip address", "value": "203.0.113.8"},
             {"id": 2, "type": "DNS Name", "value": "evil.example"},
             {"id": 4, "type": {"name": "IP Address"}, "value": "203.0.113.8"}]


def test_all_artifacts_of_a_type_in_id_order_deduplicated():
    raw = {"openc2_action": "deny", "openc2_artifact_type": "IP ADDRESS", "openc2_all_artifacts": True}
    assert all_artifacts_wanted(raw) is True
    plan = plan_send(raw, 7, artifacts=ARTIFACTS)
    assert [p.source for p in plan.commands] == ["IP ADDRESS 203.0.113.8 (artifact 1)",
                                                 "IP ADDRESS 203.0.113.9 (artifact 3)"]
    assert plan.duplicates == ["IP ADDRESS 203.0.113.8 (artifact 4) (same target as IP ADDRESS 203.0.113.8 "
                               "(artifact 1))"]


def test_all_artifacts_one_bad_artifact_refuses_all():
    raw = {"openc2_action": "deny", "openc2_artifact_type": "IP Address", "openc2_all_artifacts": True}
    with pytest.raises(PlanError) as err:
        plan_send(raw, 7, artifacts=ARTIFACTS + [{"id": 9, "type": "IP Address", "value": "1.2.3"},
                                                 {"id": 10, "type": "IP Address", "value": None}])
    assert err.value.reason.startswith("2 of 5 artifacts of type 'IP Address' cannot become an OpenC2 target")
    assert [x.split(":")[0] for x in err.value.lines] == ["artifact 9 (1.2.3)", "artifact 10 (None)"]


@pytest.mark.parametrize("extra, field", [
    ({"openc2_target_json": '{"ipv4_net": "203.0.113.1"}'}, "openc2_all_artifacts"),
    ({"openc2_attachment_id": 21}, "openc2_all_artifacts"),
    ({"openc2_artifact_type": " "}, "openc2_artifact_type"),
    ({"openc2_all_artifacts": "maybe"}, "openc2_all_artifacts")])
def test_all_artifacts_conflicts(extra, field):
    with pytest.raises(i.InputError) as err:
        all_artifacts_wanted(dict({"openc2_artifact_type": "IP Address", "openc2_all_artifacts": True}, **extra))
    assert err.value.field == field
    assert all_artifacts_wanted({"openc2_all_artifacts": False, "openc2_artifact_value": "x"}) is False
