"""One error family (issue 16.6): every deliberate error is an OpenC2Error with
``issues`` saying what and where, and keeps its old name and builtin base."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import fn_openc2.lib
from fn_openc2.lib.errors import Issue, OpenC2Error
from fn_openc2.lib.language import OpenC2ValidationError, parse_command
from fn_openc2.lib.producer.appconfig import load_settings
from fn_openc2.lib.producer.settings import AppSettings
from fn_openc2.lib.producer.errors import ConfigError
from fn_openc2.lib.producer.outcome import CommandOutcome, ConsumerAnswer
from fn_openc2.lib.soar.inputs import InputError

_SKIP = ("fn_openc2.lib.demo",)   # needs the demo extra
_SIGNALS = {"Rewritten"}           # language/rules.py: a control-flow signal inside one rule pass, never raised out


def _library_exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(fn_openc2.lib.__path__, "fn_openc2.lib."):
        if info.name.startswith(_SKIP):
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            own = obj.__module__ == module.__name__ and not obj.__name__.startswith("_")
            if own and issubclass(obj, BaseException) and obj.__name__ not in _SIGNALS:
                found.append(obj)
    return found


def test_every_library_exception_is_an_openc2_error() -> None:
    classes = _library_exceptions()
    assert len(classes) >= 20, [c.__name__ for c in classes]
    assert [c.__qualname__ for c in classes if not issubclass(c, OpenC2Error)] == []


def test_exception_names_are_unique() -> None:
    names = [c.__name__ for c in _library_exceptions()]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_validation_error_keeps_its_issues_and_its_base() -> None:
    with pytest.raises(OpenC2Error) as caught:
        parse_command({"action": "bogus", "target": {"ipv4_net": 12345}})
    assert isinstance(caught.value, OpenC2ValidationError) and isinstance(caught.value, ValueError)
    assert [i.path for i in caught.value.issues] == ["action", "target.ipv4_net"]
    assert all(isinstance(i, Issue) for i in caught.value.issues)


def test_config_error_says_section_and_key() -> None:
    with pytest.raises(OpenC2Error) as caught:
        load_settings({"fn_openc2": {"timeout": "soon"}})
    assert isinstance(caught.value, ConfigError)
    assert caught.value.issues[0].path == "[fn_openc2] timeout"


def test_input_error_names_the_input_and_a_plain_error_its_message() -> None:
    assert InputError("openc2_action", "required").issues == [Issue("openc2_action", "required")]
    assert OpenC2Error("broke").issues == [Issue("", "broke")]


def test_the_app_settings_have_one_name() -> None:
    """16.6: the config "registry" is AppSettings everywhere; the former names and shim modules are gone."""
    import importlib

    import fn_openc2.lib.producer as producer
    assert producer.AppSettings is AppSettings and producer.load_settings is load_settings
    assert [n for n in ("Registry", "load_registry", "registry_from_file") if hasattr(producer, n)] == []
    for shim in ("fn_openc2.lib.producer.config", "fn_openc2.lib.producer.cliutil"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(shim)


def test_one_meaning_of_success_per_question() -> None:
    refused = ConsumerAnswer("fw1", "fw1", "r1", status=400, status_text="no", signature="verified")
    failed = ConsumerAnswer("fw1", None, "r1", error="timeout: no answer")
    assert (refused.delivered, refused.succeeded, refused.signature_verdict) == (True, False, "verified")
    assert (failed.delivered, failed.succeeded) == (False, False)
    assert refused.ok is refused.delivered and failed.ok is failed.delivered
    outcome = CommandOutcome({"action": "deny"}, "r1", answers=[refused])
    assert (outcome.delivered, outcome.succeeded, outcome.to_dict()["ok"]) == (True, False, True)
