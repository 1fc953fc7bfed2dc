"""app.config is checked when the app loads (issue 11.12): one log line per
bad key, each naming section and key, no secret in the log; a good file
gives one OK line. Checked through the real loader, and at a real
resilient-circuits start (CircuitsApp against the offline SOAR)."""
from __future__ import annotations

import logging

import pytest

from fn_openc2.lib.offline_soar.runner import CircuitsApp
from fn_openc2.lib.soar.config_check import check_app_config, config_problems, forget_checked

GOOD = {
    "fn_openc2": {"producer_id": "soar@example.com", "default_consumers": "fw1"},
    "fn_openc2:fw1": {"transport": "https", "url": "https://fw1.example.com/.well-known/openc2"},
}


def bad_config() -> dict:
    return {
        "fn_openc2": {"producer_id": "soar@example.com", "default_consumers": "fw1, fw2, edge",
                      "timeout": "soon", "colour": "red"},
        "fn_openc2:fw1": {"transport": "https", "url": "ftp://fw1", "retries": "-1"},
        "fn_openc2:fw2": {"transport": "https", "url": "https://fw2.example.com/x",
                          "basic_auth_password": "s3cr3t-value"},
        "fn_openc2:edge": {"transport": "mqtt", "broker": "mqtts://broker.example.com:8883"},
        "other_app": {"timeout": "not ours"},
    }


@pytest.fixture(autouse=True)
def fresh():
    forget_checked()
    yield
    forget_checked()


def test_every_bad_key_once_and_nothing_else():
    problems = config_problems(bad_config())
    assert [(p.section, p.key) for p in problems] == [
        ("fn_openc2", "timeout"), ("fn_openc2", "colour"),
        ("fn_openc2:fw1", "url"), ("fn_openc2:fw1", "retries"),
        ("fn_openc2:fw2", "basic_auth_user")]
    assert "got 'soon'" in str(problems[0]) and "unknown key" in str(problems[1])
    assert config_problems(GOOD) == []


def test_a_missing_key_file_is_found_at_load(tmp_path):
    opts = {"fn_openc2": dict(GOOD["fn_openc2"], signing_key=str(tmp_path / "gone.pem")),
            "fn_openc2:fw1": dict(GOOD["fn_openc2:fw1"], response_verify_key=str(tmp_path / "fw1.pub"))}
    assert [(p.section, p.key) for p in config_problems(opts)] == [
        ("fn_openc2", "signing_key"), ("fn_openc2:fw1", "response_verify_key")]


def test_logged_once_per_content_one_line_per_key_no_secret(caplog):
    log = logging.getLogger("test-config-check")
    with caplog.at_level(logging.INFO, logger="test-config-check"):
        check_app_config(bad_config(), log)
        check_app_config(bad_config(), log)         # the second component loading the same file
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR and r.name == log.name]
    assert len(errors) == 5 and all(m.startswith("fn_openc2 app.config: [fn_openc2") for m in errors)
    assert "s3cr3t-value" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="test-config-check"):
        check_app_config(GOOD, log)
    assert [r.getMessage() for r in caplog.records if r.name == log.name] == [
        "fn_openc2 app.config: OK, consumers: fw1"]


def test_checked_when_resilient_circuits_loads_the_app(caplog):
    config = """
[fn_openc2]
producer_id = soar@example.com
default_consumers = fw1
timeout = soon

[fn_openc2:fw1]
transport = https
url = https://fw1.example.com/.well-known/openc2
colour = blue
"""
    with caplog.at_level(logging.INFO):
        with CircuitsApp(config) as app:
            assert "openc2_send_command" in app.function_names()    # a bad file does not stop loading
    # (filter on the format string: a resilient-circuits record of its own does not format)
    lines = [r.getMessage() for r in caplog.records if str(r.msg).startswith("fn_openc2 app.config")]
    assert lines == ["fn_openc2 app.config: [fn_openc2] timeout: expected a number of seconds > 0, got 'soon'",
                     lines[1]]
    assert lines[1].startswith("fn_openc2 app.config: [fn_openc2:fw1] colour: unknown key")
