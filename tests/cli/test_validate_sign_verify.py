"""The real ``fn-openc2`` console script: validate, sign and verify on files in a tmp dir."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security.keyfiles import KeyFiles, write_key_files

SCRIPT = Path(sys.executable).with_name("fn-openc2")


def fn_openc2(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "fn_openc2.lib.cli.main"]
    return subprocess.run(
        [*command, *map(str, args)], input=stdin.decode() if stdin is not None else None,
        capture_output=True, text=True, timeout=60,
    )


GOOD_COMMAND = {
    "action": "deny",
    "target": {"ipv4_connection": {"src_addr": "10.1.2.3", "dst_port": 443, "protocol": "tcp"}},
    "args": {"duration": 3600000, "slpf": {"drop_process": "reject"}},
    "profile": "slpf",
}
GOOD_RESPONSE = {"status": 200, "status_text": "OK", "results": {"slpf": {"rule_number": 7}}}
GOOD_MESSAGE = {
    "headers": {"request_id": "d1ac0489-ed51-4345-9175-f3078f30afe5", "created": 1595268027000,
                "from": "soar@example.com", "to": ["fw1@example.com"]},
    "body": {"openc2": {"request": GOOD_COMMAND}},
}


def write(directory: Path, name: str, doc: object) -> Path:
    path = directory / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyFiles]:
    directory = tmp_path_factory.mktemp("clikeys")
    return {alg: write_key_files(directory, alg) for alg in ("ES256", "RS256", "EdDSA")}


# --- validate --------------------------------------------------------------------------------------


def test_validate_detects_kind_and_accepts_valid_files(tmp_path: Path) -> None:
    files = [write(tmp_path, "c.json", GOOD_COMMAND), write(tmp_path, "r.json", GOOD_RESPONSE),
             write(tmp_path, "m.json", GOOD_MESSAGE)]
    result = fn_openc2("validate", "-v", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{files[0]}: ok (command)" in result.stdout
    assert f"{files[1]}: ok (response)" in result.stdout
    assert f"{files[2]}: ok (message)" in result.stdout


def test_validate_reports_every_error_with_file_and_json_path(tmp_path: Path) -> None:
    bad = {**GOOD_COMMAND, "target": {"ipv4_connection": {"src_addr": "10.1.2.3", "dst_port": "443"}},
           "args": {"duration": -5}}
    good = write(tmp_path, "good.json", GOOD_COMMAND)
    path = write(tmp_path, "bad.json", bad)
    result = fn_openc2("validate", good, path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines, result.stderr
    assert all(line.startswith(f"{path}: ") for line in lines), lines
    assert any(line.startswith(f"{path}: target.ipv4_connection.dst_port: ") for line in lines), lines
    assert any(line.startswith(f"{path}: args.duration: ") for line in lines), lines
    assert not any(str(good) in line for line in lines)


def test_validate_message_paths_reach_into_the_body(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(GOOD_MESSAGE))
    doc["body"]["openc2"]["request"]["action"] = "obliterate"
    path = write(tmp_path, "m.json", doc)
    result = fn_openc2("validate", path)
    assert result.returncode == 1
    assert f"{path}: body.openc2.request.action: " in result.stdout


def test_validate_as_overrides_detection(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", GOOD_COMMAND)
    assert fn_openc2("validate", "--as", "command", path).returncode == 0
    result = fn_openc2("validate", "--as", "response", path)
    assert result.returncode == 1 and result.stdout.startswith(f"{path}: ")


def test_validate_undetectable_and_broken_json_are_invalid(tmp_path: Path) -> None:
    unknown = write(tmp_path, "u.json", {"hello": 1})
    broken = write(tmp_path, "b.json", '{"action": "deny",')
    duplicate = write(tmp_path, "d.json", '{"action": "deny", "action": "allow", "target": {"ipv4_net": "1.2.3.4"}}')
    result = fn_openc2("validate", unknown, broken, duplicate)
    assert result.returncode == 1
    assert f"{unknown}: (root): cannot tell the document kind" in result.stdout
    assert f"{broken}: " in result.stdout
    assert f"{duplicate}: " in result.stdout and "action" in result.stdout


def test_validate_reads_stdin() -> None:
    ok = fn_openc2("validate", "-", stdin=json.dumps(GOOD_RESPONSE).encode())
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = fn_openc2("validate", "-", stdin=b'{"status": "200"}')
    assert bad.returncode == 1 and bad.stdout.startswith("<stdin>: status: ")


def test_validate_usage_errors_exit_2(tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", GOOD_COMMAND)
    missing = fn_openc2("validate", good, tmp_path / "missing.json")
    assert missing.returncode == 2 and "missing.json: file not found" in missing.stderr
    assert fn_openc2("validate").returncode == 2
    assert fn_openc2("validate", "--as", "poem", good).returncode == 2


# --- sign / verify --------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_sign_then_verify(tmp_path: Path, keys: dict[str, KeyFiles], alg: str) -> None:
    message = write(tmp_path, "m.json", GOOD_MESSAGE)
    signed = fn_openc2("sign", "--key", keys[alg].private_pem, "--kid", "soar@example.com", message)
    assert signed.returncode == 0, signed.stderr
    doc = json.loads(signed.stdout)
    assert doc["signature"].count(".") == 2 and ".." in doc["signature"]
    assert {k: v for k, v in doc.items() if k != "signature"} == GOOD_MESSAGE
    signed_path = write(tmp_path, "signed.json", doc)
    for key in (keys[alg].public_pem, keys[alg].cert_pem):
        verified = fn_openc2("verify", "--key", key, signed_path)
        assert verified.returncode == 0, verified.stderr
        assert f"signature verified ({alg}, kid=soar@example.com)" in verified.stdout


def test_sign_explicit_alg_and_stdin(keys: dict[str, KeyFiles]) -> None:
    signed = fn_openc2("sign", "--key", keys["RS256"].private_pem, "--alg", "PS256", "-",
                       stdin=json.dumps(GOOD_MESSAGE).encode())
    assert signed.returncode == 0, signed.stderr
    verified = fn_openc2("verify", "--key", keys["RS256"].public_pem, "-", stdin=signed.stdout.encode())
    assert verified.returncode == 0 and "(PS256)" in verified.stdout


def test_verify_fails_on_tampered_message_with_reason(tmp_path: Path, keys: dict[str, KeyFiles]) -> None:
    signed = json.loads(fn_openc2("sign", "--key", keys["ES256"].private_pem, write(tmp_path, "m.json", GOOD_MESSAGE)).stdout)
    signed["body"]["openc2"]["request"]["action"] = "allow"
    result = fn_openc2("verify", "--key", keys["ES256"].public_pem, write(tmp_path, "t.json", signed))
    assert result.returncode == 1
    assert "signature NOT verified" in result.stderr and "does not match" in result.stderr


def test_verify_with_the_wrong_key_type_and_unsigned(tmp_path: Path, keys: dict[str, KeyFiles]) -> None:
    signed = fn_openc2("sign", "--key", keys["ES256"].private_pem, write(tmp_path, "m.json", GOOD_MESSAGE))
    path = write(tmp_path, "s.json", signed.stdout)
    wrong = fn_openc2("verify", "--key", keys["EdDSA"].public_pem, path)
    assert wrong.returncode == 1 and '"alg" ES256 does not fit the OKP Ed25519 public key' in wrong.stderr
    unsigned = fn_openc2("verify", "--key", keys["ES256"].public_pem, tmp_path / "m.json")
    assert unsigned.returncode == 1 and 'no "signature" field' in unsigned.stderr


def test_sign_and_verify_usage_errors_exit_2(tmp_path: Path, keys: dict[str, KeyFiles]) -> None:
    message = write(tmp_path, "m.json", GOOD_MESSAGE)
    public_as_private = fn_openc2("sign", "--key", keys["ES256"].public_pem, message)
    assert public_as_private.returncode == 2
    assert str(keys["ES256"].public_pem) in public_as_private.stderr and "not a PEM private key" in public_as_private.stderr
    assert "BEGIN" not in public_as_private.stderr
    wrong_alg = fn_openc2("sign", "--key", keys["ES256"].private_pem, "--alg", "RS256", message)
    assert wrong_alg.returncode == 2 and "does not fit" in wrong_alg.stderr
    assert fn_openc2("sign", message).returncode == 2  # --key is required
    missing_key = fn_openc2("verify", "--key", tmp_path / "nokey.pem", message)
    assert missing_key.returncode == 2 and "nokey.pem: key file not found" in missing_key.stderr
    missing_msg = fn_openc2("verify", "--key", keys["ES256"].public_pem, tmp_path / "nomsg.json")
    assert missing_msg.returncode == 2 and "nomsg.json: file not found" in missing_msg.stderr
    not_json = fn_openc2("verify", "--key", keys["ES256"].public_pem, write(tmp_path, "x.json", "[1, 2"))
    assert not_json.returncode == 2 and "x.json" in not_json.stderr
