"""Fuzz the SOAR artifact mapper: any artifact type and value either becomes a
target the language layer accepts in a command, or fails with ArtifactError
naming the artifact type; no other exception reaches the SOAR function."""
from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fn_openc2.lib.language import OpenC2ValidationError, parse_command
from fn_openc2.lib.soar.artifact_map import SUPPORTED_TYPES, ArtifactError, artifact_to_target
from tests.fuzz import strategies as s

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

types = st.sampled_from(SUPPORTED_TYPES) | st.sampled_from([t.upper() for t in SUPPORTED_TYPES]) \
    | st.sampled_from([f" {t.lower()} " for t in SUPPORTED_TYPES]) | st.text(max_size=20)

# Values close to what each type wants, plus noise, so both branches are exercised.
values = st.one_of(
    st.text(max_size=40),
    s.ipv4, s.ipv6, s.ipv4_net, s.domains,
    st.builds(lambda d: f"user@{d}", s.domains),
    st.builds(lambda d: f"https://{d}/x?y=1", s.domains),
    st.from_regex(r"([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}", fullmatch=True),
    st.from_regex(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}", fullmatch=True),
    st.builds(lambda p, proto: f"{p}{proto}", st.integers(-5, 70000), st.sampled_from(["", "/tcp", "/udp", "/x"])),
    st.builds(lambda parts: "/" + "/".join(parts), st.lists(s.labels, max_size=4)),
)


def check_mapping(artifact_type: Any, value: Any, content: bytes | None = None) -> None:
    try:
        target = artifact_to_target(artifact_type, value, content=content)
    except ArtifactError as exc:
        assert str(exc).strip(), "ArtifactError without a message"
        assert repr(exc.artifact_type).strip("'") in str(exc) or exc.artifact_type in str(exc)
        return
    assert isinstance(target, dict) and len(target) == 1, target
    try:
        parse_command({"action": "query" if "features" in target else "deny", "target": target})
    except OpenC2ValidationError as exc:  # the mapper promised a target; the language layer must agree
        raise AssertionError(f"{artifact_type!r} {value!r} -> {target} is not a valid target: {exc}") from None


@FAST
@given(types, values)
def test_text_artifacts(artifact_type: str, value: str) -> None:
    check_mapping(artifact_type, value)


@FAST
@given(types, st.none() | values, st.binary(max_size=64))
def test_attachments(artifact_type: str, value: str | None, content: bytes) -> None:
    check_mapping(artifact_type, value, content)


@settings(max_examples=150, deadline=None)
@given(s.json_values, s.json_values)
def test_wrong_python_types(artifact_type: Any, value: Any) -> None:
    """SOAR passes strings; anything else must still end as ArtifactError, not a crash."""
    check_mapping(artifact_type, value)
