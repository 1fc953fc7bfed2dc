"""``fn-openc2 validate`` warnings that are not errors, and --lenient-profiles."""
from __future__ import annotations

from pathlib import Path

from tests.cli.test_validate_sign_verify import fn_openc2, write


def test_non_canonical_ipv6_is_a_warning_and_the_file_is_valid(tmp_path: Path) -> None:
    path = write(tmp_path, "v6.json", {"action": "deny", "target": {"ipv6_net": "2001:DB8:0:0:0:0:2:1"}})
    result = fn_openc2("validate", "-v", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{path}: target.ipv6_net: warning: " in result.stdout
    assert "'2001:db8::2:1'" in result.stdout and f"{path}: ok (command)" in result.stdout


def test_spec_named_profile_is_an_error_unless_lenient(tmp_path: Path) -> None:
    doc = {"action": "query", "target": {"sbom": {"content": "cyclonedx"}}, "profile": "sbom"}
    path = write(tmp_path, "sbom.json", doc)
    strict = fn_openc2("validate", path)
    assert strict.returncode == 1
    assert (f"{path}: target.sbom: profile 'sbom' is defined in LS v2.0 §3.3.1.3 "
            "but this validator has no schema for it") in strict.stdout.splitlines()

    lenient = fn_openc2("validate", "--lenient-profiles", path)
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    assert f"{path}: target.sbom: warning: contents not checked: profile 'sbom'" in lenient.stdout


def test_lenient_profiles_still_reports_everything_else(tmp_path: Path) -> None:
    doc = {"action": "query", "target": {"sbom": {}}, "args": {"pac": {}, "duration": -1}}
    path = write(tmp_path, "mixed.json", doc)
    result = fn_openc2("validate", "--lenient-profiles", path)
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if ": warning: " not in line]
    assert [line.split(": ")[1] for line in errors] == ["args.duration"], result.stdout
