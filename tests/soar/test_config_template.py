"""The app.config template: only known keys, every key explained, and it loads."""
from __future__ import annotations

import configparser
import re

import pytest

from fn_openc2.lib.producer.appconfig import load_settings
from fn_openc2.lib.producer.settings import CONFIG_KEYS_CONSUMER, CONFIG_KEYS_PRODUCER
from fn_openc2.util.config import config_section_data

KEY_LINE = re.compile(r"^#?([a-z_][a-z0-9_]*)\s*=")


def _sections_with_lines() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in config_section_data().splitlines():
        header = re.match(r"^\[(.+)\]$", line)
        if header:
            current = header.group(1)
            sections[current] = []
        elif current is not None and line.strip():
            sections[current].append(line)
    return sections


def _table(section: str):
    return CONFIG_KEYS_PRODUCER if section == "fn_openc2" else CONFIG_KEYS_CONSUMER


def test_sections() -> None:
    assert list(_sections_with_lines()) == ["fn_openc2", "fn_openc2:fw1", "fn_openc2:edge"]


@pytest.mark.parametrize("section", ["fn_openc2", "fn_openc2:fw1", "fn_openc2:edge"])
def test_every_key_active_or_commented_is_known(section: str) -> None:
    keys = [m.group(1) for line in _sections_with_lines()[section] if (m := KEY_LINE.match(line))]
    assert keys, section
    assert [k for k in keys if k not in _table(section)] == []


@pytest.mark.parametrize("section", ["fn_openc2", "fn_openc2:fw1", "fn_openc2:edge"])
def test_every_key_has_an_explaining_comment_above(section: str) -> None:
    explained = False
    for line in _sections_with_lines()[section]:
        if KEY_LINE.match(line):
            assert explained, f"[{section}] {line!r} has no comment line above it"
        else:
            assert line.startswith("#"), f"[{section}] {line!r} is neither key nor comment"
            explained = True


def test_producer_template_covers_every_producer_key() -> None:
    keys = {m.group(1) for line in _sections_with_lines()["fn_openc2"] if (m := KEY_LINE.match(line))}
    assert keys == set(CONFIG_KEYS_PRODUCER)


def test_template_loads_into_a_registry() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(config_section_data())
    registry = load_settings({name: dict(parser.items(name)) for name in parser.sections()})
    assert registry.producer.default_consumers == ("fw1",)
    assert registry.consumers["fw1"].transport == "https"
    assert registry.consumers["fw1"].url == "https://fw1.example.com/.well-known/openc2"
    assert registry.consumers["edge"].transport == "mqtt"
    assert registry.consumers["edge"].expected_responders == ("fw-a", "fw-b")


def test_file_paths_point_where_app_host_mounts_uploads() -> None:
    """App Host puts files uploaded in the configuration tab in /etc/rescircuits (issue 11.12)."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for text in (config_section_data(), readme):
        paths = [p for p in re.findall(r"=\s*(/[\w.-]+/[\w./-]+)", text) if not p.startswith("/.well-known")]   # not files
        assert paths, "no file path found"
        assert [p for p in paths if not p.startswith("/etc/rescircuits/")] == []
